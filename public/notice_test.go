package public

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin"
)

func readNotice(t *testing.T, site *Site) noticeDoc {
	t.Helper()
	r, ok := site.Resources["/notice.json"]
	if !ok {
		t.Fatal("no /notice.json")
	}
	var doc noticeDoc
	if err := json.Unmarshal(r.Body, &doc); err != nil {
		t.Fatalf("notice.json: %v\n%s", err, r.Body)
	}
	return doc
}

func TestNoticeListsOpenIncidentsShownOnSites(t *testing.T) {
	tests := []struct {
		name string
		mark func(s Snapshot) // changes the snapshot's incidents
		want []string         // notice IDs
	}{
		{"nothing marked", func(Snapshot) {}, nil},
		{"open and marked", func(s Snapshot) { byID(s, 1).ShowOnSites = true }, []string{"inc1"}},
		{"resolved, though marked", func(s Snapshot) { byID(s, 2).ShowOnSites = true }, nil},
		{"draft, though marked", func(s Snapshot) { byID(s, 3).ShowOnSites = true }, nil},
		{"all marked", func(s Snapshot) {
			for _, inc := range s.Incidents {
				inc.ShowOnSites = true
			}
		}, []string{"inc1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := incidentSnapshot()
			tt.mark(s)
			site, err := Build(s)
			if err != nil {
				t.Fatal(err)
			}
			doc := readNotice(t, site)
			var got []string
			for _, n := range doc.Notices {
				got = append(got, n.ID)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("notices %v, want %v", got, tt.want)
			}
			if doc.Active != (len(tt.want) > 0) {
				t.Errorf("active = %v with %d notices", doc.Active, len(got))
			}
			if doc.Notices == nil {
				t.Error("notices is null; widgets expect a list")
			}
			for _, lang := range []string{"en", "fr"} {
				if doc.Labels[lang].Incident == "" || doc.Labels[lang].More == "" {
					t.Errorf("labels for %s missing: %+v", lang, doc.Labels[lang])
				}
			}
		})
	}
}

func byID(s Snapshot, id int64) *tocsin.Incident {
	for _, inc := range s.Incidents {
		if inc.ID == id {
			return inc
		}
	}
	panic("no incident")
}

func TestNoticeContent(t *testing.T) {
	s := incidentSnapshot()
	s.URL = "https://status.example.org"
	byID(s, 1).ShowOnSites = true
	site, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	n := readNotice(t, site).Notices[0]
	if n.Title != "Peertube uploads fail & <slow>" || n.Status != "monitoring" || n.Impact != "major" || n.Kind != "incident" {
		t.Errorf("notice %+v", n)
	}
	if n.Message != "Fix deployed, watching." {
		t.Errorf("message %q: want the latest update as plain text", n.Message)
	}
	if n.URL != "https://status.example.org/incidents/1/" || n.URLs["fr"] != "https://status.example.org/fr/incidents/1/" {
		t.Errorf("urls %q %v", n.URL, n.URLs)
	}
	if n.StatusLabel["fr"] == "" || n.StatusLabel["fr"] == n.StatusLabel["en"] {
		t.Errorf("status labels %v", n.StatusLabel)
	}

	for _, lang := range []string{"en", "fr"} {
		body := string(site.Resources["/"+lang+"/notice.html"].Body)
		if !strings.Contains(body, "Peertube uploads fail &amp; &lt;slow&gt;") || strings.Contains(body, "<slow>") {
			t.Errorf("%s notice.html does not escape the title:\n%s", lang, body)
		}
		if !strings.Contains(body, `href="https://status.example.org/`+lang+`/incidents/1/"`) || !strings.Contains(body, `lang="`+lang+`"`) {
			t.Errorf("%s notice.html links elsewhere:\n%s", lang, body)
		}
	}
}

func TestNoticeTextIsOneBoundedLine(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{"markdown stripped", "## Cause\n\nThe *disk* is [full](https://example.org).", "Cause The disk is full (https://example.org)."},
		{"html shown as text", "<script>alert(1)</script> fixed", "<script>alert(1)</script> fixed"},
		{"long", strings.Repeat("word ", 100), strings.TrimSpace(strings.Repeat("word ", 56)) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := noticeText(tt.body)
			if utf8.RuneCountInString(got) > noticeMessageRunes || strings.Contains(got, "\n") {
				t.Fatalf("%q: %d runes or several lines", got, utf8.RuneCountInString(got))
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNoticeHeaders(t *testing.T) {
	site := buildIncidents(t)
	tests := []struct {
		path        string
		cors, frame bool
		cache       string
	}{
		{"/notice.json", true, false, "max-age=15"},
		{"/notice.js", true, false, "max-age=3600"},
		{"/en/notice.html", false, true, "max-age=15"},
		{"/fr/notice.html", false, true, "max-age=15"},
		{"/en/", false, false, "max-age=30"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, ok := site.Lookup(tt.path, "", "en")
			if !ok {
				t.Fatal("missing")
			}
			w := httptest.NewRecorder()
			w.Header().Set("Content-Security-Policy", "frame-ancestors 'none'") // as the middleware sets it
			w.Header().Set("X-Frame-Options", "DENY")
			res.Serve(w, httptest.NewRequest(http.MethodGet, tt.path, nil), Negotiated(tt.path))
			h := w.Result().Header
			if got := h.Get("Access-Control-Allow-Origin") == "*"; got != tt.cors {
				t.Errorf("CORS %v, want %v", got, tt.cors)
			}
			framed := strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors *") && h.Get("X-Frame-Options") == ""
			if framed != tt.frame {
				t.Errorf("frameable %v, want %v (CSP %q)", framed, tt.frame, h.Get("Content-Security-Policy"))
			}
			if tt.frame && strings.Contains(h.Get("Content-Security-Policy"), "script-src") {
				t.Error("a framed notice must run no script")
			}
			if !strings.Contains(h.Get("Cache-Control"), tt.cache) {
				t.Errorf("Cache-Control %q, want %s", h.Get("Cache-Control"), tt.cache)
			}
		})
	}
	if r, ok := site.Lookup("/notice.html", "fr-FR,fr;q=0.9", "en"); !ok || !strings.Contains(string(r.Body), `lang="fr"`) {
		t.Error("/notice.html is not negotiated by Accept-Language")
	}
}
