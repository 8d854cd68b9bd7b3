package notify

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestRedactKeepsTheTextAroundTheAddress: the recipient's address is
// replaced in any case, and the rest of the text is kept byte for byte,
// whatever the server replied: non-ASCII text whose lower case is longer
// or shorter than itself, or bytes that are not UTF-8.
func TestRedactKeepsTheTextAroundTheAddress(t *testing.T) {
	const addr = "Bob.Smith@Example.org"
	tests := []struct {
		name, text, want string
	}{
		{"ASCII, other case", "550 <bob.smith@EXAMPLE.ORG> unknown", "550 <…@example.org> unknown"},
		{"twice", "bob.smith@example.org, BOB.SMITH@example.org", "…@example.org, …@example.org"},
		{"absent", "421 try again later", "421 try again later"},
		// "İ" (two bytes) lowers to three bytes, the Kelvin sign (three) to
		// one: positions found in a lower-cased copy are not the original's.
		{"dotted capital I before", "550 İİİ <bob.smith@example.org> inconnu", "550 İİİ <…@example.org> inconnu"},
		{"Kelvin sign before", "550 \u212A\u212A\u212A <bob.smith@example.org> unknown", "550 \u212A\u212A\u212A <…@example.org> unknown"},
		{"accented text after", "550 <bob.smith@example.org> adresse refusée, réessayez", "550 <…@example.org> adresse refusée, réessayez"},
		// Each byte that is not UTF-8 lowers to a three-byte U+FFFD: this
		// one sliced past the end of the text and panicked.
		{"invalid UTF-8 before", "550 \xff\xff\xff\xff <bob.smith@example.org>", "550 \xff\xff\xff\xff <…@example.org>"},
		{"invalid UTF-8 after", "550 <bob.smith@example.org> \xfe\xc3", "550 <…@example.org> \xfe\xc3"},
		{"invalid UTF-8 inside is not the address", "550 <bob.smi\xffth@example.org>", "550 <bob.smi\xffth@example.org>"},
		{"cut short", "550 <bob.smith@exam", "550 <bob.smith@exam"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact(errors.New(tt.text), addr); got != tt.want {
				t.Errorf("redact(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
	for _, tt := range []struct{ name, text, addr, want string }{
		{"non-ASCII address", "550 <ÉLISE@exemple.fr> inconnue", "élise@exemple.fr", "550 <…@exemple.fr> inconnue"},
		{"Kelvin sign folds to k", "550 <\u212Aim@example.org>", "kim@example.org", "550 <…@example.org>"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := redact(errors.New(tt.text), tt.addr); got != tt.want {
				t.Errorf("redact(%q, %q) = %q, want %q", tt.text, tt.addr, got, tt.want)
			}
		})
	}
}

// TestErrTextIsStorableText: what the outbox keeps is valid UTF-8 without
// NUL (PostgreSQL refuses both), at most maxErrText bytes and an ellipsis,
// cut between characters.
func TestErrTextIsStorableText(t *testing.T) {
	long := strings.Repeat("é", 600) // 1200 bytes; byte 1000 starts a rune
	odd := "x" + long                // byte 1000 is in the middle of an é
	tests := []struct {
		name, text, want string
	}{
		{"short", "421 try again", "421 try again"},
		{"invalid UTF-8", "550 \xff\xfe refus\xe9", "550 \uFFFD refus\uFFFD"},
		{"NUL", "550 a\x00b", "550 a\uFFFDb"},
		{"long, cut on a rune start", long, strings.Repeat("é", 500) + "…"},
		{"long, cut inside a rune", odd, "x" + strings.Repeat("é", 499) + "…"},
		{"long and invalid", strings.Repeat("\xffa", 1000), strings.Repeat("\uFFFDa", 250) + "…"},
		{"exactly the limit", strings.Repeat("a", maxErrText), strings.Repeat("a", maxErrText)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errText(errors.New(tt.text))
			if got != tt.want {
				t.Errorf("errText(%q) = %q, want %q", tt.text, got, tt.want)
			}
			if !utf8.ValidString(got) || strings.ContainsRune(got, 0) {
				t.Errorf("errText(%q) = %q: not storable text", tt.text, got)
			}
			if len(strings.TrimSuffix(got, "…")) > maxErrText {
				t.Errorf("errText(%q) keeps %d bytes", tt.text, len(got))
			}
		})
	}
}

// FuzzRedact: redact never panics, keeps valid text valid, changes
// nothing where the address does not appear, and agrees on ASCII text with
// the plain lower-case search (correct there, as ASCII keeps its length).
func FuzzRedact(f *testing.F) {
	for _, seed := range [][2]string{
		{"550 <bob@example.org> unknown", "Bob@Example.org"},
		{"550 \xff\xff\xff\xff <bob@example.org>", "bob@example.org"},
		{"550 İİİ <bob@example.org>", "bob@example.org"},
		{"550 \u212A\u212A\u212A <bob@example.org>", "bob@example.org"},
		{"bob@example.orgbob@example.org", "bob@example.org"},
		{"", "bob@example.org"},
		{"text", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, text, addr string) {
		got := redact(errors.New(text), addr)
		if utf8.ValidString(text) && utf8.ValidString(addr) && !utf8.ValidString(got) {
			t.Fatalf("redact(%q, %q) = %q: not valid UTF-8", text, addr, got)
		}
		if addr == "" || !containsFold(text, addr) {
			if got != text {
				t.Fatalf("redact(%q, %q) = %q, want it unchanged", text, addr, got)
			}
		}
		if isASCII(text) && isASCII(addr) && addr != "" {
			if want := redactASCII(text, addr); got != want {
				t.Fatalf("redact(%q, %q) = %q, want %q", text, addr, got, want)
			}
		}
	})
}

func containsFold(s, sub string) bool {
	for i := range s {
		if _, ok := hasPrefixFold(s[i:], sub); ok {
			return true
		}
	}
	return false
}

// redactASCII is the search on a lower-cased copy, which is right when
// lowering keeps every byte in place: ASCII text.
func redactASCII(s, addr string) string {
	lower, needle := strings.ToLower(s), strings.ToLower(addr)
	repl := "…@" + recipientDomain(addr)
	var b strings.Builder
	for {
		i := strings.Index(lower, needle)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(repl)
		s, lower = s[i+len(needle):], lower[i+len(needle):]
	}
}
