package markdown

import (
	"errors"
	"fmt"
	"testing"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin"
)

// FuzzRender checks that no input makes Render or Text panic, that every
// HTML Render returns passes checkDOM, that the output does not depend on
// the run, and that only the documented inputs are refused.
func FuzzRender(f *testing.F) {
	for _, p := range owaspPayloads {
		f.Add(p.src)
		f.Add(fmt.Sprintf("[x](%s)", p.src))
	}
	for _, p := range markdownPayloads {
		f.Add(p.src)
	}
	f.Add(typicalUpdate)
	f.Add("| a | b |\n|:-|-:|\n| 1 |\n\n> - [x](https://example.org) ![i](/i.png)\n>\n> ~~s~~ www.example.org a@b.org")
	f.Fuzz(func(t *testing.T, src string) {
		out, err := Render(src)
		txt, terr := Text(src)
		if (err == nil) != (terr == nil) {
			t.Fatalf("Render error %v but Text error %v", err, terr)
		}
		if err != nil {
			var e *tocsin.Error
			if !errors.As(err, &e) || e.Code != tocsin.EINVALID {
				t.Fatalf("Render(%q): %v is not EINVALID", src, err)
			}
			want := "markdown.too_complex"
			switch {
			case len(src) > MaxBytes:
				want = "markdown.too_long"
			case !utf8.ValidString(src):
				want = "markdown.not_utf8"
			}
			if e.Key != want {
				t.Fatalf("Render(%q): key %s, want %s", src, e.Key, want)
			}
			return
		}
		if err := checkDOM(string(out)); err != nil {
			t.Fatalf("Render(%q) = %q\nunsafe: %v", src, out, err)
		}
		if !utf8.ValidString(txt) || len(txt) > MaxTextBytes {
			t.Fatalf("Text(%q) is %d bytes, valid UTF-8 %v", src, len(txt), utf8.ValidString(txt))
		}
		again, _ := Render(src)
		if again != out {
			t.Fatalf("Render(%q) not deterministic:\n%q\n%q", src, out, again)
		}
	})
}
