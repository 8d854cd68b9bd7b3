package httpserver

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin/config"
)

var reportSeeds = []string{
	"subject=Bucket+listable&body=https%3A%2F%2Fmedia.example.org%2F+lists+its+files&contact=finder%40example.net",
	"subject=%3Cscript%3Ealert(1)%3C%2Fscript%3E&body=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E&contact=%22%3E%3Cscript%3E",
	"subject=&body=&contact=",
	"subject=a%0d%0aBcc%3a+x%40example.org&body=b&contact=c%0d%0ad",
	"subject=%ff%fe&body=%00&contact=",
	"subject=" + strings.Repeat("s", 300) + "&body=b",
	"subject=s&body=" + strings.Repeat("b", 70000),
	"subject=s&subject=t&body=b&body=c",
	"%zz",
	"",
}

// FuzzReportEndpoint posts arbitrary bodies to the real /report with a
// valid CSRF token: the answer is never a server error, a refusal writes
// no signal, and nothing typed comes back as markup.
func FuzzReportEndpoint(f *testing.F) {
	for _, s := range reportSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		dir, err := os.MkdirTemp("", "tocsin-fuzz-") // fuzz names hold '#', which SQLite paths may not
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		e := newTestEnv(t, func(c *config.Config) { c.DataDir = dir })
		b := e.browser("127.0.0.1")
		b.get("/report")
		if body != "" {
			body += "&"
		}
		r := b.postRaw("/report", body+"csrf="+b.token())
		n := len(e.signals())
		switch r.Status {
		case http.StatusOK:
			if n != 1 {
				t.Fatalf("an accepted report stored %d signals", n)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
			if n != 0 {
				t.Fatalf("a refused report (%d) stored %d signals", r.Status, n)
			}
		default:
			t.Fatalf("POST /report %q = %d\n%s", body, r.Status, r.Body)
		}
		if strings.Contains(r.Body, "<script>alert") || strings.Contains(r.Body, "<img src=x") {
			t.Fatalf("typed markup came back unescaped:\n%s", r.Body)
		}
	})
}
