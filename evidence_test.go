package tocsin

import (
	"strings"
	"testing"
	"time"
)

func TestParseSHA256(t *testing.T) {
	sum := strings.Repeat("0123456789abcdef", 4)
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{sum, sum, true},
		{strings.ToUpper(sum), sum, true},
		{"sha256:" + sum, sum, true},
		{" SHA256 " + sum + "\n", sum, true},
		{"SHA-256:" + sum, sum, true},
		{sum[:63], "", false},
		{sum + "0", "", false},
		{strings.Repeat("g", 64), "", false},
		{"", "", false},
		{strings.Repeat("é", 32), "", false},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSHA256(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("ParseSHA256(%q) = %q, %v", tc.in, got, err)
			}
			if err != nil && ErrorCode(err) != EINVALID {
				t.Fatalf("code %s", ErrorCode(err))
			}
		})
	}
}

func TestEvidenceEarliest(t *testing.T) {
	created := time.Date(2026, 11, 21, 12, 4, 0, 0, time.UTC)
	reported := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
	inc := &SecurityIncident{CreatedAt: created}
	if got := EvidenceEarliest(inc); !got.Equal(created) {
		t.Errorf("without moments: %v", got)
	}
	inc.Moments.Reported = &reported
	if got := EvidenceEarliest(inc); !got.Equal(reported) {
		t.Errorf("with the signal's receipt: %v, want %v", got, reported)
	}
}

func TestCleanFilenameAndDeniedContent(t *testing.T) {
	for in, want := range map[string]string{"../../etc/passwd": "passwd", `a"b\c.txt`: "abc.txt", "": "evidence", "..": "evidence", "dir/": "dir", "x\x00y": "xy"} {
		if got := CleanFilename(in); got != want {
			t.Errorf("CleanFilename(%q) = %q, want %q", in, got, want)
		}
	}
	for head, want := range map[string]string{"MZ\x90\x00": "Windows executable", "\x7fELF": "ELF executable", "\xcf\xfa\xed\xfe": "Mach-O executable", "%PDF-1.7": "", "PK\x03\x04": ""} {
		if got := DeniedContent([]byte(head)); got != want {
			t.Errorf("DeniedContent(%q) = %q, want %q", head, got, want)
		}
	}
}

// FuzzParseSHA256 checks that whatever is accepted is 64 lowercase hex
// digits, and that parsing is idempotent.
func FuzzParseSHA256(f *testing.F) {
	for _, s := range []string{strings.Repeat("a", 64), "sha256:" + strings.Repeat("F", 64), "abc", "", "sha256:sha256:" + strings.Repeat("0", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSHA256(s)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("code %s", ErrorCode(err))
			}
			return
		}
		if len(got) != 64 || strings.Trim(got, "0123456789abcdef") != "" {
			t.Fatalf("accepted %q as %q", s, got)
		}
		if again, err := ParseSHA256(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q, %v", again, err)
		}
	})
}
