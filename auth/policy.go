package auth

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin"
)

// MinPasswordRunes is the shortest password accepted, in characters.
const MinPasswordRunes = 12

// commonPasswordsText is one lower-case password a line. It is Openwall's
// password.lst (Solar Designer, 1996–2011, public domain) as shipped by
// Debian's john-data package in /usr/share/john/password.lst, with its
// "#!comment" lines removed, lower-cased and de-duplicated (3410 entries,
// most common first). See README.md.
//
//go:embed common-passwords.txt
var commonPasswordsText string

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 4096)
	for line := range strings.Lines(commonPasswordsText) {
		if w := strings.TrimRight(line, "\r\n"); w != "" {
			m[w] = struct{}{}
		}
	}
	return m
})

// CheckPassword returns an EINVALID error whose message tells the person
// what is wrong with password, or nil. It refuses passwords that are shorter
// than 12 characters, longer than 1024 bytes, not UTF-8, common (alone or
// with a change of case, digits and symbols around it, or letters replaced
// by look-alike digits), the same characters repeated, a run of the
// alphabet, the digits or a keyboard row (alone or with digits and symbols
// around it), or that contain one of
// the context strings (the user's e-mail address and name, the site name)
// or a word of 4 characters or more of them, compared without regard to
// case. Context strings shorter than 3 characters are ignored.
func CheckPassword(password string, context ...string) error {
	if !utf8.ValidString(password) {
		return tocsin.Errorf(tocsin.EINVALID, "The password contains bytes that are not text (invalid UTF-8).").WithKey("policy.not_utf8")
	}
	if len(password) > MaxPasswordBytes {
		return tocsin.Errorf(tocsin.EINVALID, "The password is too long: at most %d bytes are accepted.", MaxPasswordBytes).WithKey("policy.too_long", MaxPasswordBytes)
	}
	if n := utf8.RuneCountInString(password); n < MinPasswordRunes {
		return tocsin.Errorf(tocsin.EINVALID, "The password must have at least %d characters (this one has %d). A few unrelated words make a good one.", MinPasswordRunes, n).
			WithKey("policy.too_short", MinPasswordRunes, n)
	}
	lower := strings.ToLower(password)
	for _, c := range contextWords(context) {
		if strings.Contains(lower, c) {
			return tocsin.Errorf(tocsin.EINVALID, "The password must not contain %q: choose something unrelated to your name, your e-mail address or this site.", c).
				WithKey("policy.contains", c)
		}
	}
	if isCommon(lower) {
		return tocsin.Errorf(tocsin.EINVALID, "This password is one of the most common ones, which attackers try first. Choose another.").WithKey("policy.common")
	}
	core := strings.TrimFunc(lower, isDecoration)
	for _, s := range []string{lower, core} {
		if utf8.RuneCountInString(s) < 4 {
			continue
		}
		if isSequence(s) {
			return tocsin.Errorf(tocsin.EINVALID, "The password is a run of letters, digits or keys in order, which attackers try first. Choose another.").
				WithKey("policy.sequence")
		}
		if unit := repeatedUnit(s); unit != s {
			return tocsin.Errorf(tocsin.EINVALID, "The password repeats the same characters over and over, which attackers try first. Choose another.").
				WithKey("policy.repeated")
		}
		if isCommon(s) || isCommon(unleet(s, 'i')) || isCommon(unleet(s, 'l')) {
			return tocsin.Errorf(tocsin.EINVALID, "The password is a common one with a few changes (case, digits or symbols), which attackers try first. Choose another.").
				WithKey("policy.decorated")
		}
	}
	return nil
}

func isCommon(s string) bool {
	_, ok := commonPasswords()[s]
	return ok
}

// contextWords returns the lower-cased context strings worth refusing in a
// password: each string of 3 characters or more, the local part of an
// e-mail address, and their words of 4 characters or more
// ("jean.dupont@example.org" gives "jean.dupont@example.org",
// "jean.dupont", "jean" and "dupont"; "Acme Hosting" gives "acme hosting",
// "acme" and "hosting").
func contextWords(context []string) []string {
	var out []string
	add := func(s string, minRunes int) {
		if utf8.RuneCountInString(s) >= minRunes {
			out = append(out, s)
		}
	}
	for _, c := range context {
		c = strings.ToLower(strings.TrimSpace(c))
		add(c, 3)
		local, _, isEmail := strings.Cut(c, "@")
		if isEmail {
			add(local, 3)
		}
		for piece := range strings.FieldsFuncSeq(local, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			if piece != local {
				add(piece, 4)
			}
		}
	}
	return out
}

// isDecoration reports whether r is what people add around a common word to
// pass a policy: digits, punctuation, symbols and spaces.
func isDecoration(r rune) bool {
	return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
}

// repeatedUnit returns the shortest u such that s is u repeated ("abab"
// gives "ab"), or s itself.
func repeatedUnit(s string) string {
	r := []rune(s)
	for k := 1; k <= len(r)/2; k++ {
		if len(r)%k != 0 {
			continue
		}
		unit := string(r[:k])
		if strings.Repeat(unit, len(r)/k) == s {
			return unit
		}
	}
	return s
}

// sequences are the runs people type in order, each repeated so that a
// run can wrap around ("890123"), forwards and backwards.
var sequences = sync.OnceValue(func() []string {
	var out []string
	for _, base := range []string{
		"abcdefghijklmnopqrstuvwxyz",
		"0123456789",
		"qwertyuiopasdfghjklzxcvbnm", // QWERTY rows, left to right
		"azertyuiopqsdfghjklmwxcvbn", // AZERTY rows
		"qwertzuiopasdfghjklyxcvbnm", // QWERTZ rows
		"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/",
		"!@#$%^&*()",
	} {
		rev := []rune(base)
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		n := (MaxPasswordBytes+len(base))/len(base) + 1
		out = append(out, strings.Repeat(base, n), strings.Repeat(string(rev), n))
	}
	return out
})

// isSequence reports whether s is a run of one of the sequences.
func isSequence(s string) bool {
	for _, seq := range sequences() {
		if strings.Contains(seq, s) {
			return true
		}
	}
	return false
}

// unleet undoes the usual look-alike substitutions ("p@ssw0rd" gives
// "password"); one stands for i or l, so the caller tries both.
func unleet(s string, one rune) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '0':
			return 'o'
		case '1', '!', '|':
			return one
		case '3':
			return 'e'
		case '4', '@':
			return 'a'
		case '5', '$':
			return 's'
		case '7', '+':
			return 't'
		case '8':
			return 'b'
		case '9':
			return 'g'
		}
		return r
	}, s)
}
