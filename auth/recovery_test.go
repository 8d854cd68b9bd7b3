package auth

import (
	"math"
	"regexp"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
)

func TestRecoveryAlphabet(t *testing.T) {
	if len(recoveryAlphabet) != 32 {
		t.Fatalf("alphabet has %d symbols, want 32 (5 bits each, no modulo bias)", len(recoveryAlphabet))
	}
	if bits := float64(recoveryGroups*recoveryGroupLen) * math.Log2(float64(len(recoveryAlphabet))); bits < 60 {
		t.Fatalf("a code has %.1f bits, want at least 60", bits)
	}
	for _, c := range "ilou" {
		if strings.ContainsRune(recoveryAlphabet, c) {
			t.Errorf("ambiguous %q in the alphabet", c)
		}
	}
}

func TestNewRecoveryCodes(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}$`)
	codes, hashes, err := NewRecoveryCodes(RecoveryCodeCount)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 || len(hashes) != 10 {
		t.Fatalf("got %d codes and %d hashes, want 10 and 10", len(codes), len(hashes))
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if !re.MatchString(c) {
			t.Errorf("code %q does not match %s", c, re)
		}
		if hashes[i] != HashRecoveryCode(c) {
			t.Errorf("hash %d is not HashRecoveryCode(%q)", i, c)
		}
		if seen[c] {
			t.Errorf("code %q twice", c)
		}
		seen[c] = true
	}
	for _, n := range []int{0, -1, 101} {
		if _, _, err := NewRecoveryCodes(n); tocsin.ErrorCode(err) != tocsin.EINVALID {
			t.Errorf("NewRecoveryCodes(%d): err = %v, want EINVALID", n, err)
		}
	}
}

func TestHashRecoveryCode(t *testing.T) {
	want := HashRecoveryCode("k7f3-9xq2-mm10")
	tests := []struct {
		code string
		same bool
	}{
		{"k7f3-9xq2-mm10", true},
		{"K7F3-9XQ2-MM10", true},
		{"k7f39xq2mm10", true},
		{" k7f3 9xq2 mm10 ", true},
		{"k7f3-9xq2-mmlo", true}, // l read as 1, o as 0
		{"k7f3-9xq2-mmIO", true},
		{"k7f3-9xq2-mm11", false},
		{"k7f3-9xq2-mm1", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			if got := HashRecoveryCode(tt.code) == want; got != tt.same {
				t.Fatalf("HashRecoveryCode(%q) == HashRecoveryCode(k7f3-9xq2-mm10) is %v, want %v", tt.code, got, tt.same)
			}
		})
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(want) {
		t.Fatalf("hash %q is not hex SHA-256", want)
	}
}
