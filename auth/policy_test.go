package auth

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin"
)

func TestCommonPasswordList(t *testing.T) {
	list := commonPasswords()
	if len(list) < 3000 {
		t.Fatalf("the embedded list has %d entries, want the ~3400 of john's password.lst", len(list))
	}
	for _, w := range []string{"password", "123456", "qwerty", "letmein", "iloveyou", "trustno1"} {
		if _, ok := list[w]; !ok {
			t.Errorf("%q is missing from the list", w)
		}
	}
	for w := range list {
		if strings.HasPrefix(w, "#!comment") || w != strings.ToLower(w) || strings.TrimSpace(w) != w {
			t.Errorf("entry %q is a comment, not lower-case or has spaces around it", w)
		}
	}
	if n := strings.Count(commonPasswordsText, "\n"); n != len(list) {
		t.Errorf("the file has %d lines but %d distinct entries: it is not de-duplicated", n, len(list))
	}
}

func TestCheckPassword(t *testing.T) {
	ctx := []string{"alice.martin@example.org", "Alice Martin", "tocsin"}
	tests := []struct {
		name     string
		password string
		wantMsg  string // "" when accepted
	}{
		{"passphrase", "correct horse battery staple", ""},
		{"mixed", "Tr0ub4dor&3xyz", ""},
		{"unicode 12 runes", "çàéèùâêîôûëï", ""},
		{"accented words", "ma-Vie-à-Montréal-2024", ""},
		{"digit groups", "8302-1947-5521", ""},
		{"exactly 1024 bytes", strings.Repeat("horse battery staple ", 48) + "abcdefghijklmnop"[:1024-48*21], ""},
		{"short name in e-mail ignored", "Yacht-Crew-Sings-4", ""},

		{"empty", "", "at least 12 characters (this one has 0)"},
		{"11", "Xk9$mQ2!vLp", "at least 12 characters (this one has 11)"},
		{"11 runes, 22 bytes", "ééééééééééé", "at least 12 characters (this one has 11)"},
		{"too long", strings.Repeat("horse battery staple ", 49), "at most 1024 bytes"},
		{"invalid utf-8", "correct horse \xff battery", "invalid UTF-8"},
		{"common", "passwordpassword", "repeats"},
		{"common long", "winniethepooh", "most common"},
		{"common upper", "WINNIETHEPOOH", "most common"},
		{"decorated", "Password1234!", "common one with a few changes"},
		{"decorated both sides", "!!2024Dragon2024!!", "common one with a few changes"},
		{"leet", "P@ssw0rd2024!", "common one with a few changes"},
		{"leet o", "F00tball!!!!", "common one with a few changes"},
		{"leet l", "2024He11o!!!", "common one with a few changes"},
		{"keyboard with digits", "qwertyuiop123", "in order"},
		{"keyboard", "QWERTYUIOPASDF", "in order"},
		{"azerty", "azertyuiop12", "in order"},
		{"keyboard columns", "1qaz2wsx3edc", "in order"},
		{"repeated char", "aaaaaaaaaaaa", "repeats"},
		{"repeated symbol", "************", "repeats"},
		{"repeated pattern", "abcabcabcabc", "repeats"},
		{"repeated pair", "ababababababab", "repeats"},
		{"digits", "123456789012", "in order"},
		{"digits down", "987654321098", "in order"},
		{"alphabet", "abcdefghijkl", "in order"},
		{"alphabet down", "zyxwvutsrqpo", "in order"},
		{"alphabet decorated", "2024-abcdefghij!", "in order"},
		{"email local part", "Alice.Martin-Rocks", `must not contain "alice.martin"`},
		{"surname", "SunnyMartin-Rocks", `must not contain "martin"`},
		{"site name", "MyTocsinPassword", `must not contain "tocsin"`},
		{"full email", "x alice.martin@example.org", `must not contain "alice.martin@example.org"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.password, ctx...)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("CheckPassword(%q) = %v, want nil", tt.password, err)
				}
				return
			}
			if tocsin.ErrorCode(err) != tocsin.EINVALID || !strings.Contains(tocsin.ErrorMessage(err), tt.wantMsg) {
				t.Fatalf("CheckPassword(%q) = %v, want EINVALID containing %q", tt.password, err, tt.wantMsg)
			}
		})
	}
}

func TestCheckPasswordContext(t *testing.T) {
	tests := []struct {
		name     string
		password string
		context  []string
		wantErr  bool
	}{
		{"no context", "jo-likes-tocsin-a-lot", nil, false},
		{"short context ignored", "jo-likes-green-tea", []string{"jo"}, false},
		{"short local part ignored", "jo-likes-green-tea", []string{"jo@example.org"}, false},
		{"3-rune context", "Bob-likes-green-tea", []string{"bob"}, true},
		{"case-insensitive context", "i-like-TOCSIN-a-lot", []string{"ToCsIn"}, true},
		{"e-mail piece", "the-dupont-family-1", []string{"jean.dupont@example.org"}, true},
		{"short e-mail piece ignored", "jean-is-fine-here", []string{"al.dupont@example.org"}, false},
		{"context words", "Ahoy-Acme-Rocks-1", []string{"  Acme Hosting "}, true},
		{"short context words ignored", "Ahoy-ACM-Rocks-1", []string{"ACM Hosting"}, false},
		{"context word", "Ahoy-acme hosting-1", []string{"acme hosting"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.password, tt.context...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("CheckPassword(%q, %q) = %v, want error %v", tt.password, tt.context, err, tt.wantErr)
			}
		})
	}
}

func FuzzCheckPassword(f *testing.F) {
	f.Add("correct horse battery staple", "tocsin")
	f.Add("Password1234!", "alice@example.org")
	f.Add("\xff\xfe", "")
	f.Add("ééééééééééé", "é")
	f.Fuzz(func(t *testing.T, password, context string) {
		err := CheckPassword(password, context)
		if err == nil && (!utf8.ValidString(password) || len(password) > MaxPasswordBytes || utf8.RuneCountInString(password) < MinPasswordRunes) {
			t.Fatalf("CheckPassword accepted %q", password)
		}
		if err != nil && tocsin.ErrorCode(err) != tocsin.EINVALID {
			t.Fatalf("CheckPassword(%q) = %v, want EINVALID", password, err)
		}
	})
}
