package public

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCalendarText: whatever the text, its content line is folded to at
// most 75 octets, ends with CRLF, never splits a UTF-8 sequence, and
// unfolds and unescapes back to the text (line breaks as LF, other control
// characters dropped).
func FuzzCalendarText(f *testing.F) {
	for _, s := range []string{"", "Mail, DNS; backup \\ move", "line\r\nbreak\rand\nmore", strings.Repeat("é", 60), "tab\there\x00\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip()
		}
		var c calendar
		c.text("DESCRIPTION", s)
		out := c.b.String()
		if !strings.HasSuffix(out, "\r\n") {
			t.Fatalf("no CRLF at the end: %q", out)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
		for i, l := range lines {
			if len(l) > 75 || !utf8.ValidString(l) || (i > 0 && !strings.HasPrefix(l, " ")) || strings.ContainsAny(l, "\r\n") {
				t.Fatalf("bad line %d %q", i, l)
			}
		}
		value := strings.TrimPrefix(strings.ReplaceAll(strings.TrimSuffix(out, "\r\n"), "\r\n ", ""), "DESCRIPTION:")
		unescaped := strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\;`, `;`, `\,`, `,`).Replace(value)
		want := strings.Map(func(r rune) rune {
			if r < 0x20 && r != '\t' && r != '\n' || r == 0x7f {
				return -1
			}
			return r
		}, strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s))
		if unescaped != want {
			t.Fatalf("round trip: %q → %q, want %q", s, unescaped, want)
		}
	})
}
