package tocsin

import (
	"strings"
	"testing"
	"unicode"
)

func TestParseMatrixRoom(t *testing.T) {
	v12 := "!" + strings.Repeat("aB3-_", 8) + "xyz" // 43 base64url characters
	tests := []struct {
		name, in string
		alias    bool
		ok       bool
	}{
		{"room ID", "!abc:example.org", false, true},
		{"room ID with port", "!abc:example.org:8448", false, true},
		{"room ID on IPv4", "!abc:127.0.0.1:8008", false, true},
		{"room ID on IPv6", "!abc:[::1]:8008", false, true},
		{"room ID on IPv6 without port", "!abc:[2001:db8::1]", false, true},
		{"room version 12 ID", v12, false, true},
		{"alias", "#ops:example.org", true, true},
		{"non-ASCII alias", "#équipe:example.org", true, true},
		{"empty", "", false, false},
		{"no sigil", "abc:example.org", false, false},
		{"user ID", "@alice:example.org", false, false},
		{"no local part", "!:example.org", false, false},
		{"no server", "!abc", false, false},
		{"alias without server", "#ops", false, false},
		{"empty server", "!abc:", false, false},
		{"space", "!a b:example.org", false, false},
		{"line break", "!abc:example.org\n", false, false},
		{"control character", "#o\x01ps:example.org", false, false},
		{"bad server character", "!abc:exa_mple.org", false, false},
		{"slash in server", "!abc:example.org/x", false, false},
		{"port zero", "!abc:example.org:0", false, false},
		{"port too big", "!abc:example.org:65536", false, false},
		{"empty port", "!abc:example.org:", false, false},
		{"IPv4 in brackets", "!abc:[127.0.0.1]", false, false},
		{"unclosed bracket", "!abc:[::1", false, false},
		{"junk after bracket", "!abc:[::1]x", false, false},
		{"version 12 ID too short", v12[:40], false, false},
		{"version 12 ID bad character", v12[:42] + "+", false, false},
		{"invalid UTF-8", "#\xff:example.org", false, false},
		{"too long", "!" + strings.Repeat("a", 250) + ":example.org", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			alias, err := ParseMatrixRoom(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseMatrixRoom(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil {
				if ErrorCode(err) != EINVALID || err.(*Error).Key != "matrix.room_invalid" {
					t.Errorf("error %v: want EINVALID with the key matrix.room_invalid", err)
				}
				return
			}
			if alias != tt.alias {
				t.Errorf("ParseMatrixRoom(%q) alias = %v, want %v", tt.in, alias, tt.alias)
			}
		})
	}
}

// FuzzParseMatrixRoom: whatever is accepted is a room or an alias of at
// most 255 bytes, with a server name after the first colon (or none, for a
// version 12 room ID) and no space or control character anywhere.
func FuzzParseMatrixRoom(f *testing.F) {
	for _, s := range []string{"!abc:example.org", "#ops:example.org:8448", "!abc:[::1]:8008", "!" + strings.Repeat("A", 43), "!a b:x", "#\xff:x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		alias, err := ParseMatrixRoom(s)
		if err != nil {
			return
		}
		if len(s) > 255 || (s[0] != '!' && s[0] != '#') || alias != (s[0] == '#') {
			t.Fatalf("accepted %q (alias %v)", s, alias)
		}
		if _, server, ok := strings.Cut(s, ":"); ok && strings.ContainsAny(server, "/?#@ ") {
			t.Fatalf("accepted %q with a URL character in its server name", s)
		}
		if strings.IndexFunc(s, func(r rune) bool { return r == ' ' || unicode.IsControl(r) }) >= 0 {
			t.Fatalf("accepted %q with a space or control character", s)
		}
		if !strings.Contains(s, ":") && (alias || len(s) != 44) {
			t.Fatalf("accepted %q without a server name", s)
		}
	})
}
