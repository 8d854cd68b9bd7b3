package public

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/andybalholm/brotli"
	"github.com/tocsin-org/tocsin"
)

var paris, _ = time.LoadLocation("Europe/Paris")

func snapshot() Snapshot {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	created := now.AddDate(0, 0, -100)
	svcs := []*tocsin.Service{
		{ID: 1, Name: "Mastodon", Group: "Social", Description: "Our Mastodon instance", Status: tocsin.StatusOperational, CreatedAt: created, UpdatedAt: created},
		{ID: 2, Name: "Peertube <script>alert(1)</script>", Group: "Social", Status: tocsin.StatusPartialOutage, CreatedAt: created, UpdatedAt: now},
		{ID: 3, Name: "Mail", Group: "Communication", Status: tocsin.StatusOperational, CreatedAt: created, UpdatedAt: created},
	}
	var history []tocsin.StatusChange
	for _, s := range svcs {
		history = append(history, tocsin.StatusChange{ServiceID: s.ID, Status: tocsin.StatusOperational, At: created})
	}
	history = append(history, tocsin.StatusChange{ServiceID: 2, Status: tocsin.StatusPartialOutage, At: now.Add(-6 * time.Hour)})
	return Snapshot{Title: "Example Host status", URL: "https://status.example.org", Contact: "support@example.org",
		Lang: "fr", Location: paris, Now: now, Services: svcs, History: history}
}

func build(t *testing.T) *Site {
	t.Helper()
	site, err := Build(snapshot())
	if err != nil {
		t.Fatal(err)
	}
	return site
}

func TestPagesInBothLanguages(t *testing.T) {
	site := build(t)
	tests := []struct {
		path, accept string
		want         []string
	}{
		{"/", "fr-FR,fr;q=0.9", []string{`<html lang="fr">`, "Certains services rencontrent des problèmes", "Panne partielle", "Heures affichées en Europe/Paris", "Signaler un problème", `href="mailto:support@example.org"`}},
		{"/", "en-GB", []string{`<html lang="en">`, "Some services have problems", "Partial outage", "Times shown in Europe/Paris"}},
		{"/", "de", []string{`<html lang="fr">`}}, // the page's default language
		{"/en/", "fr", []string{`<html lang="en">`, `href="/fr/"`}},
		{"/fr/index.html", "", []string{`<html lang="fr">`, `href="/en/"`}},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.accept, func(t *testing.T) {
			r, ok := site.Lookup(tt.path, tt.accept, "fr")
			if !ok {
				t.Fatalf("no resource for %s", tt.path)
			}
			for _, w := range tt.want {
				if !bytes.Contains(r.Body, []byte(w)) {
					t.Errorf("%s lacks %q", tt.path, w)
				}
			}
			if bytes.Contains(r.Body, []byte("<script>alert")) {
				t.Error("a service name was not escaped")
			}
		})
	}
}

func TestStatuspageJSON(t *testing.T) {
	site := build(t)
	var summary struct {
		Page struct {
			ID, Name, URL string
			TimeZone      string `json:"time_zone"`
		}
		Status     struct{ Indicator, Description string }
		Components []struct {
			ID, Name, Status string
			Group            bool
			GroupID          *string `json:"group_id"`
			Components       []string
			Position         int
		}
		Incidents             []any `json:"incidents"`
		ScheduledMaintenances []any `json:"scheduled_maintenances"`
	}
	r := site.Resources["/api/v2/summary.json"]
	if r == nil || !r.CORS || r.ContentType != "application/json; charset=utf-8" {
		t.Fatalf("summary.json: %+v", r)
	}
	if err := json.Unmarshal(r.Body, &summary); err != nil {
		t.Fatal(err)
	}
	if summary.Page.Name != "Example Host status" || summary.Page.URL != "https://status.example.org" || summary.Page.TimeZone != "Europe/Paris" || summary.Page.ID == "" {
		t.Errorf("page: %+v", summary.Page)
	}
	if summary.Status.Indicator != "major" || summary.Incidents == nil || summary.ScheduledMaintenances == nil {
		t.Errorf("status %+v, incidents %v, maintenances %v", summary.Status, summary.Incidents, summary.ScheduledMaintenances)
	}
	if len(summary.Components) != 5 { // 2 groups + 3 services
		t.Fatalf("components: %+v", summary.Components)
	}
	social := summary.Components[0]
	if !social.Group || social.Name != "Social" || social.Status != "partial_outage" || len(social.Components) != 2 {
		t.Errorf("group component: %+v", social)
	}
	masto := summary.Components[1]
	if masto.Group || masto.GroupID == nil || *masto.GroupID != social.ID || masto.Status != "operational" {
		t.Errorf("service component: %+v", masto)
	}
	for i, c := range summary.Components {
		if c.Position != i+1 {
			t.Errorf("positions not in order: %+v", summary.Components)
		}
	}
	for _, path := range []string{"/api/v2/status.json", "/api/v2/components.json"} {
		if r := site.Resources[path]; r == nil || !json.Valid(r.Body) || !r.CORS {
			t.Errorf("%s missing, invalid or without CORS", path)
		}
	}
	if site.Resources["/fr/"].CORS {
		t.Error("pages must not carry Access-Control-Allow-Origin")
	}
}

func TestServeConditionalAndCompressed(t *testing.T) {
	site := build(t)
	res := site.Resources["/fr/"]
	do := func(h map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/fr/", nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		res.Serve(w, req, true)
		return w
	}
	w := do(nil)
	if w.Code != 200 || w.Header().Get("ETag") == "" || w.Header().Get("Last-Modified") == "" || !strings.Contains(w.Header().Get("Cache-Control"), "max-age") {
		t.Fatalf("plain GET: %d %v", w.Code, w.Header())
	}
	if w := do(map[string]string{"If-None-Match": res.ETag}); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
		t.Errorf("If-None-Match: %d", w.Code)
	}
	if w := do(map[string]string{"If-None-Match": `"other"`}); w.Code != 200 {
		t.Errorf("other ETag: %d", w.Code)
	}
	if w := do(map[string]string{"If-Modified-Since": res.ModTime.Add(time.Hour).Format(http.TimeFormat)}); w.Code != http.StatusNotModified {
		t.Errorf("If-Modified-Since: %d", w.Code)
	}
	// Content coding: brotli when taken at least as willingly as gzip.
	tests := []struct {
		accept, want string
	}{
		{"", ""},
		{"br, gzip", "br"},
		{"gzip, deflate, br, zstd", "br"},
		{"gzip", "gzip"},
		{"br;q=0.5, gzip", "gzip"},
		{"br;q=0, gzip;q=0", ""},
		{"gzip;q=0", ""},
		{"*", "br"},
		{"*;q=0.1, gzip", "gzip"},
		{"identity", ""},
		{"BR", "br"},
	}
	for _, tt := range tests {
		t.Run("Accept-Encoding "+tt.accept, func(t *testing.T) {
			w := do(map[string]string{"Accept-Encoding": tt.accept})
			if got := w.Header().Get("Content-Encoding"); got != tt.want {
				t.Fatalf("Content-Encoding %q, want %q", got, tt.want)
			}
			if !strings.Contains(w.Header().Get("Vary"), "Accept-Encoding") || !strings.Contains(w.Header().Get("Vary"), "Accept-Language") {
				t.Errorf("Vary %q", w.Header().Get("Vary"))
			}
			if w.Header().Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
				t.Errorf("Content-Length %q for %d bytes", w.Header().Get("Content-Length"), w.Body.Len())
			}
			var rd io.Reader = w.Body
			switch tt.want {
			case "gzip":
				zr, err := gzip.NewReader(w.Body)
				if err != nil {
					t.Fatal(err)
				}
				rd = zr
			case "br":
				rd = brotli.NewReader(w.Body)
			}
			plain, _ := io.ReadAll(rd)
			if !bytes.Equal(plain, res.Body) {
				t.Error("decoded body differs from the page")
			}
			// Each coding has its own ETag, and revalidating with it
			// gives 304 with no body.
			etag := w.Header().Get("ETag")
			if (tt.want == "") != (etag == res.ETag) {
				t.Errorf("ETag %q for coding %q (plain %q)", etag, tt.want, res.ETag)
			}
			c := do(map[string]string{"Accept-Encoding": tt.accept, "If-None-Match": etag})
			if c.Code != http.StatusNotModified || c.Body.Len() != 0 || c.Header().Get("ETag") != etag {
				t.Errorf("revalidation: %d, ETag %q", c.Code, c.Header().Get("ETag"))
			}
		})
	}
	if w := do(map[string]string{"Accept-Encoding": "br", "If-None-Match": `W/` + res.ETag + `, "x"`}); w.Code != http.StatusNotModified {
		t.Errorf("weak If-None-Match in a list: %d", w.Code)
	}
}

// Small resources are sent plain: compressing them does not pay.
func TestSmallResourcesUncompressed(t *testing.T) {
	r := newResource([]byte(`{"ok":true}`), "application/json", pageCache, true, time.Now())
	req := httptest.NewRequest(http.MethodGet, "/x.json", nil)
	req.Header.Set("Accept-Encoding", "br, gzip")
	w := httptest.NewRecorder()
	r.Serve(w, req, false)
	if w.Header().Get("Content-Encoding") != "" || w.Body.String() != `{"ok":true}` || w.Header().Get("Vary") != "Accept-Encoding" ||
		w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("small resource: %v %q", w.Header(), w.Body)
	}
}

func TestDailyUptime(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	day := func(d int) time.Time { return time.Date(2026, 11, 24+d, 0, 0, 0, 0, time.UTC) }
	changes := []tocsin.StatusChange{
		{ServiceID: 1, Status: tocsin.StatusOperational, At: day(-3)},
		{ServiceID: 1, Status: tocsin.StatusMajorOutage, At: day(-2).Add(18 * time.Hour)}, // 6 h down on day -2
		{ServiceID: 1, Status: tocsin.StatusOperational, At: day(-1)},                     // back at midnight
		{ServiceID: 1, Status: tocsin.StatusMaintenance, At: day(-1).Add(2 * time.Hour)},  // maintenance is not downtime
		{ServiceID: 1, Status: tocsin.StatusOperational, At: day(-1).Add(3 * time.Hour)},
		{ServiceID: 2, Status: tocsin.StatusMajorOutage, At: day(-10)}, // another service
	}
	days := DailyUptime(changes, 1, 5, now, time.UTC)
	want := []struct {
		known  bool
		uptime float64
		worst  tocsin.ServiceStatus
	}{
		{false, 0, tocsin.StatusOperational},
		{true, 1, tocsin.StatusOperational},
		{true, 0.75, tocsin.StatusMajorOutage},
		{true, 1, tocsin.StatusMaintenance},
		{true, 1, tocsin.StatusOperational}, // today, so far
	}
	for i, w := range want {
		d := days[i]
		if d.Known != w.known || (d.Known && (d.Uptime != w.uptime || d.Worst != w.worst)) {
			t.Errorf("day %d: %+v, want %+v", i, d, w)
		}
	}
	if up, ok := Uptime(days); !ok || up != (1+0.75+1+1)/4 {
		t.Errorf("Uptime = %v %v", up, ok)
	}
}

func TestBadges(t *testing.T) {
	site := build(t)
	tests := []struct {
		path string
		want []string
	}{
		{"/badges/1.svg", []string{"Mastodon", "Opérationnel", "#1f7a34"}},
		{"/badges/mastodon.svg", []string{"Mastodon"}},
		{"/badges/2.svg", []string{"Peertube &lt;script&gt;", "Panne partielle", "#a34a00"}},
		{"/badges/peertube-script-alert-1-script.svg", []string{"Peertube"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := site.Resources[tt.path]
			if r == nil {
				t.Fatalf("no badge at %s", tt.path)
			}
			if r.ContentType != "image/svg+xml" || !r.CORS {
				t.Errorf("content type %q, CORS %v", r.ContentType, r.CORS)
			}
			// Well-formed XML, whatever the service is called.
			dec := xml.NewDecoder(bytes.NewReader(r.Body))
			for {
				if _, err := dec.Token(); err == io.EOF {
					break
				} else if err != nil {
					t.Fatalf("badge is not well-formed XML: %v\n%s", err, r.Body)
				}
			}
			for _, w := range tt.want {
				if !bytes.Contains(r.Body, []byte(w)) {
					t.Errorf("%s lacks %q:\n%s", tt.path, w, r.Body)
				}
			}
			if bytes.Contains(r.Body, []byte("<script")) {
				t.Error("markup from a service name reached the SVG")
			}
		})
	}
	if got := slug("Mail & IMAP"); got != "mail-imap" {
		t.Errorf("slug = %q", got)
	}
}

func TestSpans(t *testing.T) {
	d := func(i int, known bool, up float64, w tocsin.ServiceStatus) Day {
		return Day{Date: time.Date(2026, 11, 1+i, 0, 0, 0, 0, time.UTC), Known: known, Uptime: up, Worst: w}
	}
	days := []Day{
		d(0, false, 0, tocsin.StatusOperational), d(1, false, 0, tocsin.StatusOperational),
		d(2, true, 1, tocsin.StatusOperational), d(3, true, 1, tocsin.StatusOperational), d(4, true, 1, tocsin.StatusOperational),
		d(5, true, 0.75, tocsin.StatusMajorOutage),
		d(6, true, 1, tocsin.StatusOperational),
	}
	spans := Spans(days)
	want := []struct{ start, days int }{{0, 2}, {2, 3}, {5, 1}, {6, 1}}
	if len(spans) != len(want) {
		t.Fatalf("spans = %+v", spans)
	}
	total := 0
	for i, w := range want {
		if spans[i].Start != w.start || spans[i].Days != w.days {
			t.Errorf("span %d = start %d, %d days; want %+v", i, spans[i].Start, spans[i].Days, w)
		}
		total += spans[i].Days
	}
	if total != len(days) || !spans[1].To.Equal(days[4].Date) {
		t.Errorf("spans do not cover the days exactly: %+v", spans)
	}
}
