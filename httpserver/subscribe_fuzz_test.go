package httpserver

import (
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/config"
)

var subscribeSeeds = []string{
	"email=ada%40example.org&lang=fr&scope=all",
	"email=ada%40example.org&lang=en&scope=some&service=1&service=1&service=2",
	"email=Ada%40EXAMPLE.org&lang=en&scope=some&service=-1",
	"email=ada%40example.org%0d%0aBcc%3a+x%40example.org&lang=en&scope=all",
	"email=%22a+b%22%40example.org&lang=en&scope=all",
	"email=Ada+%3cada%40example.org%3e&lang=en&scope=all",
	"email=a%40b%2cc%40d.org&lang=en&scope=all",
	"email=ada%40localhost&lang=en&scope=all",
	"email=ada%40example.org&lang=de&scope=all",
	"email=ada%40example.org&lang=en&scope=some",
	"email=ada%40example.org&lang=en&scope=some&service=99999999999999999999",
	"email=%c3%a9l%c3%a8ve%40%c3%a9cole.fr&lang=fr&scope=all",
	"email=%ff%40example.org&lang=en&scope=all",
	"email=&lang=&scope=",
	"email=ada%40example.org&email=bob%40example.org&lang=en&scope=all",
	"%zz",
	"",
}

// FuzzParseSubscribeForm decodes arbitrary form bodies: it never panics,
// refuses with EINVALID only, and whatever it accepts is one bare address
// (no display name, no header-breaking character, at most 254 bytes) in
// lower case, a supported language, and either all services or a sorted
// set of positive service IDs.
func FuzzParseSubscribeForm(f *testing.F) {
	for _, s := range subscribeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		_, req, err := parseSubscribeForm(form)
		if err != nil {
			if tocsin.ErrorCode(err) != tocsin.EINVALID {
				t.Fatalf("error %v is not EINVALID", err)
			}
			return
		}
		a, perr := mail.ParseAddress(req.Email)
		if perr != nil || a.Name != "" || a.Address != req.Email || len(req.Email) > tocsin.MaxEmailBytes ||
			strings.ContainsAny(req.Email, "\r\n,;<> ") || strings.ToLower(req.Email) != req.Email {
			t.Fatalf("accepted address %q", req.Email)
		}
		if again, err := tocsin.NormalizeSubscriberEmail(req.Email); err != nil || again != req.Email {
			t.Fatalf("normalizing %q again gives %q, %v", req.Email, again, err)
		}
		if req.Lang != "fr" && req.Lang != "en" {
			t.Fatalf("accepted language %q", req.Lang)
		}
		if req.AllServices == (len(req.ServiceIDs) > 0) || !slices.IsSorted(req.ServiceIDs) ||
			len(slices.Compact(slices.Clone(req.ServiceIDs))) != len(req.ServiceIDs) {
			t.Fatalf("accepted services all=%v %v", req.AllServices, req.ServiceIDs)
		}
		for _, id := range req.ServiceIDs {
			if id <= 0 {
				t.Fatalf("accepted service %d", id)
			}
		}
	})
}

// FuzzSubscribeEndpoint posts arbitrary bodies to the real /subscribe with
// a valid CSRF token: the answer is never a server error, bad input is a
// 400 that writes nothing, and every mail queued has one valid recipient.
func FuzzSubscribeEndpoint(f *testing.F) {
	for _, s := range subscribeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		// A server of its own per input (about 0.1 s): nothing carries over.
		// Fuzz subtests' names hold '#', which SQLite paths may not.
		dir, err := os.MkdirTemp("", "tocsin-fuzz-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		e := newTestEnv(t, func(c *config.Config) { c.DataDir = dir })
		svc := &tocsin.Service{Name: "Mail"}
		if err := e.store.CreateService(e.ctx, tocsin.CLI, svc); err != nil {
			t.Fatal(err)
		}
		b := e.browser("127.0.0.1")
		b.get("/subscribe")
		before, _ := e.store.CountSubscribers(e.ctx, "")
		if body != "" {
			body += "&"
		}
		r := b.postRaw("/subscribe", body+"csrf="+b.token())
		after, _ := e.store.CountSubscribers(e.ctx, "")
		switch r.Status {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if after != before {
				t.Fatalf("a refused request (%d) wrote a subscriber", r.Status)
			}
		default:
			t.Fatalf("POST /subscribe %q = %d\n%s", body, r.Status, r.Body)
		}
		for _, m := range e.messages() {
			if a, err := mail.ParseAddress(m.To); err != nil || a.Address != m.To || strings.ContainsAny(m.Subject, "\r\n") {
				t.Fatalf("queued message to %q", m.To)
			}
		}
	})
}
