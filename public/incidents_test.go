package public

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/tocsin-org/tocsin"
)

// incidentSnapshot is snapshot() plus an open incident with a backdated
// update and hostile Markdown, a resolved one, and a draft.
func incidentSnapshot() Snapshot {
	s := snapshot()
	now := s.Now
	pub := func(t time.Time) *time.Time { return &t }
	open := &tocsin.Incident{
		ID: 1, Title: "Peertube uploads fail & <slow>", Status: tocsin.IncidentMonitoring, Impact: tocsin.ImpactMajor,
		Services:    []tocsin.ServiceImpact{{ServiceID: 2, Status: tocsin.StatusPartialOutage}},
		PublishedAt: pub(now.Add(-3 * time.Hour)), CreatedAt: now.Add(-3 * time.Hour), UpdatedAt: now,
		Updates: []*tocsin.Update{ // newest first, as the store returns them
			{ID: 13, IncidentID: 1, Status: tocsin.IncidentMonitoring, Body: "Fix deployed, **watching**.",
				DisplayAt: now.Add(-30 * time.Minute), CreatedAt: now}, // written 30 minutes later: backdated
			{ID: 12, IncidentID: 1, Status: tocsin.IncidentIdentified,
				Body:      "Cause found <script>alert('x')</script> [see](javascript:alert(1))",
				DisplayAt: now.Add(-time.Hour), CreatedAt: now.Add(-time.Hour),
				Revisions: []tocsin.UpdateRevision{{Body: "Cause fund", EditedAt: now.Add(-50 * time.Minute)}}},
			{ID: 11, IncidentID: 1, Status: tocsin.IncidentInvestigating, Body: "We are *looking*.",
				DisplayAt: now.Add(-3 * time.Hour), CreatedAt: now.Add(-3 * time.Hour)},
		},
	}
	resolvedAt := now.AddDate(0, 0, -10).Add(2 * time.Hour)
	closed := &tocsin.Incident{
		ID: 2, Title: "Mail delayed", Status: tocsin.IncidentResolved, Impact: tocsin.ImpactMinor,
		Services:    []tocsin.ServiceImpact{{ServiceID: 3, Status: tocsin.StatusDegraded}},
		PublishedAt: pub(now.AddDate(0, 0, -10)), ResolvedAt: &resolvedAt,
		CreatedAt: now.AddDate(0, 0, -10), UpdatedAt: resolvedAt,
		Updates: []*tocsin.Update{
			{ID: 22, IncidentID: 2, Status: tocsin.IncidentResolved, Body: "Delivered.", DisplayAt: resolvedAt, CreatedAt: resolvedAt},
			{ID: 21, IncidentID: 2, Status: tocsin.IncidentInvestigating, Body: "Mail is slow.", DisplayAt: now.AddDate(0, 0, -10), CreatedAt: now.AddDate(0, 0, -10)},
		},
	}
	draft := &tocsin.Incident{
		ID: 3, Title: "Secret draft", Status: tocsin.IncidentInvestigating, Impact: tocsin.ImpactCritical,
		Services:  []tocsin.ServiceImpact{{ServiceID: 1, Status: tocsin.StatusMajorOutage}},
		CreatedAt: now.Add(-time.Minute), UpdatedAt: now.Add(-time.Minute),
		Updates: []*tocsin.Update{{ID: 31, IncidentID: 3, Status: tocsin.IncidentInvestigating, Body: "Draft body",
			DisplayAt: now.Add(-time.Minute), CreatedAt: now.Add(-time.Minute)}},
	}
	s.Incidents = []*tocsin.Incident{draft, open, closed}
	return s
}

func buildIncidents(t *testing.T) *Site {
	t.Helper()
	site, err := Build(incidentSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	return site
}

// inOrder reports whether the parts appear in body in this order.
func inOrder(body []byte, parts ...string) bool {
	at := 0
	for _, p := range parts {
		i := bytes.Index(body[at:], []byte(p))
		if i < 0 {
			return false
		}
		at += i + len(p)
	}
	return true
}

func TestIncidentsOnPublicPages(t *testing.T) {
	site := buildIncidents(t)
	tests := []struct {
		name, path, accept  string
		want, order, absent []string
	}{
		{name: "fr page: open incident on top, latest update only",
			path: "/fr/",
			want: []string{`href="/fr/incidents/1/"`, "Peertube uploads fail &amp; &lt;slow&gt;", "Impact : majeur",
				"antidaté : écrit le 24 novembre 2026 à 13:00 CET", "<strong>watching</strong>", "Touché par :", "Les 3 mises à jour"},
			order:  []string{"Incidents en cours", "Sous surveillance", "24 novembre 2026 à 12:30 CET", "Social"},
			absent: []string{"Secret draft", "Draft body", "<em>looking</em>", "Cause found"}},
		{name: "en page", path: "/en/",
			want:   []string{"Current incidents", "Impact: major", "backdated: written 24 November 2026, 13:00 CET", "Affected by:", `href="/en/incidents/1/"`, `href="/en/feed.atom"`},
			absent: []string{"Secret draft"}},
		{name: "fr incident page: every update, newest first", path: "/fr/incidents/1/",
			want: []string{`<html lang="fr">`, "<h1 class=\"incident-title\">Peertube uploads fail &amp; &lt;slow&gt;</h1>", "Services touchés",
				"Peertube &lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(", `href="/en/incidents/1/"`, "antidaté"},
			order:  []string{"<strong>watching</strong>", "Cause found", "<em>looking</em>"},
			absent: []string{"javascript:"}},
		{name: "en incident page", path: "/en/incidents/1/",
			want:  []string{`<html lang="en">`, "Affected services", "Partial outage", `href="/fr/incidents/1/"`},
			order: []string{"Monitoring", "Identified", "Investigating"}},
		{name: "negotiated incident page", path: "/incidents/2/", accept: "en-US",
			want: []string{`<html lang="en">`, "Mail delayed", "Resolved", "Delivered."}, absent: []string{"backdated"}},
		{name: "negotiated, default language", path: "/incidents/2/index.html", accept: "de",
			want: []string{`<html lang="fr">`, "Résolu"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := site.Lookup(tt.path, tt.accept, "fr")
			if !ok {
				t.Fatalf("no resource for %s", tt.path)
			}
			for _, w := range tt.want {
				if !bytes.Contains(r.Body, []byte(w)) {
					t.Errorf("%s lacks %q", tt.path, w)
				}
			}
			if len(tt.order) > 0 && !inOrder(r.Body, tt.order...) {
				t.Errorf("%s: %q not in this order", tt.path, tt.order)
			}
			for _, a := range append(tt.absent, "<script>") {
				if bytes.Contains(r.Body, []byte(a)) {
					t.Errorf("%s has %q", tt.path, a)
				}
			}
		})
	}
	for _, p := range []string{"/fr/incidents/3/", "/en/incidents/3/"} {
		if _, ok := site.Resources[p]; ok {
			t.Errorf("the draft has a page at %s", p)
		}
	}
}

// Statuspage's incident, field by field (names and types as its public API
// documents them).
type spTestIncident struct {
	ID              string     `json:"id"`
	Name            string     `json:"name"`
	Status          string     `json:"status"`
	Impact          string     `json:"impact"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	MonitoringAt    *time.Time `json:"monitoring_at"`
	ResolvedAt      *time.Time `json:"resolved_at"`
	Shortlink       string     `json:"shortlink"`
	StartedAt       time.Time  `json:"started_at"`
	PageID          string     `json:"page_id"`
	IncidentUpdates []struct {
		ID                   string    `json:"id"`
		Status               string    `json:"status"`
		Body                 string    `json:"body"`
		IncidentID           string    `json:"incident_id"`
		CreatedAt            time.Time `json:"created_at"`
		UpdatedAt            time.Time `json:"updated_at"`
		DisplayAt            time.Time `json:"display_at"`
		AffectedComponents   *[]any    `json:"affected_components"`
		DeliverNotifications bool      `json:"deliver_notifications"`
		CustomTweet          *string   `json:"custom_tweet"`
		TweetID              *string   `json:"tweet_id"`
	} `json:"incident_updates"`
	Components []struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Status string `json:"status"`
	} `json:"components"`
}

func decodeIncidents(t *testing.T, site *Site, path string) []spTestIncident {
	t.Helper()
	r := site.Resources[path]
	if r == nil || !r.CORS || r.ContentType != "application/json; charset=utf-8" {
		t.Fatalf("%s: %+v", path, r)
	}
	var doc struct {
		Page      json.RawMessage  `json:"page"`
		Incidents []spTestIncident `json:"incidents"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	// Every field is one Statuspage has, and every one it has is there.
	var raw struct {
		Incidents []map[string]json.RawMessage `json:"incidents"`
	}
	json.Unmarshal(r.Body, &raw)
	fields := []string{"id", "name", "status", "impact", "created_at", "updated_at", "monitoring_at", "resolved_at",
		"shortlink", "started_at", "page_id", "incident_updates", "components"}
	for _, inc := range raw.Incidents {
		if len(inc) != len(fields) {
			t.Errorf("%s: incident has %d fields, want %d", path, len(inc), len(fields))
		}
		for _, f := range fields {
			if _, ok := inc[f]; !ok {
				t.Errorf("%s: incident lacks %q", path, f)
			}
		}
	}
	return doc.Incidents
}

func TestIncidentsJSON(t *testing.T) {
	site := buildIncidents(t)
	all := decodeIncidents(t, site, "/api/v2/incidents.json")
	unresolved := decodeIncidents(t, site, "/api/v2/incidents/unresolved.json")
	summary := decodeIncidents(t, site, "/api/v2/summary.json")
	if len(all) != 2 || all[0].ID != "inc1" || all[1].ID != "inc2" {
		t.Fatalf("incidents.json: %+v (the draft must be absent, newest first)", all)
	}
	if len(unresolved) != 1 || unresolved[0].ID != "inc1" || len(summary) != 1 || summary[0].ID != "inc1" {
		t.Fatalf("unresolved %+v, summary %+v", unresolved, summary)
	}
	open, closed := all[0], all[1]
	now := incidentSnapshot().Now
	statuses := map[string]bool{"investigating": true, "identified": true, "monitoring": true, "resolved": true, "postmortem": true}
	impacts := map[string]bool{"none": true, "minor": true, "major": true, "critical": true}
	for _, inc := range all {
		if !statuses[inc.Status] || !impacts[inc.Impact] || inc.PageID == "" {
			t.Errorf("%s: status %q, impact %q, page %q", inc.ID, inc.Status, inc.Impact, inc.PageID)
		}
		for _, u := range inc.IncidentUpdates {
			if !statuses[u.Status] || u.IncidentID != inc.ID || !strings.HasPrefix(u.ID, "upd") || u.AffectedComponents != nil ||
				!u.DeliverNotifications || u.CustomTweet != nil || u.TweetID != nil {
				t.Errorf("%s: update %+v", inc.ID, u)
			}
		}
	}
	if open.Name != "Peertube uploads fail & <slow>" || open.Status != "monitoring" || open.Impact != "major" ||
		open.Shortlink != "https://status.example.org/incidents/1/" || open.ResolvedAt != nil ||
		open.MonitoringAt == nil || !open.MonitoringAt.Equal(now.Add(-30*time.Minute)) ||
		!open.StartedAt.Equal(now.Add(-3*time.Hour)) || !open.UpdatedAt.Equal(now) {
		t.Errorf("open incident: %+v", open)
	}
	if len(open.IncidentUpdates) != 3 || open.IncidentUpdates[0].ID != "upd13" || open.IncidentUpdates[2].ID != "upd11" {
		t.Fatalf("updates not newest first: %+v", open.IncidentUpdates)
	}
	u := open.IncidentUpdates[1]
	if !strings.Contains(u.Body, "<script>") || !u.UpdatedAt.Equal(now.Add(-50*time.Minute)) || !u.DisplayAt.Equal(now.Add(-time.Hour)) {
		t.Errorf("update: the body is the Markdown as typed, updated_at its last edit: %+v", u)
	}
	if b := open.IncidentUpdates[0]; !b.CreatedAt.Equal(now) || !b.DisplayAt.Equal(now.Add(-30*time.Minute)) {
		t.Errorf("backdated update: %+v", b)
	}
	if len(open.Components) != 1 || open.Components[0].ID != "svc2" || open.Components[0].Status != "partial_outage" {
		t.Errorf("components: %+v", open.Components)
	}
	if closed.ResolvedAt == nil || closed.MonitoringAt != nil || closed.Status != "resolved" || closed.Impact != "minor" {
		t.Errorf("closed incident: %+v", closed)
	}
	// RFC 3339 on the wire, null where Statuspage has null.
	body := string(site.Resources["/api/v2/incidents.json"].Body)
	for _, w := range []string{`"monitoring_at":null`, `"affected_components":null`, `"custom_tweet":null`, `"created_at":"2026-11-24T09:00:00Z"`} {
		if !strings.Contains(body, w) {
			t.Errorf("incidents.json lacks %s", w)
		}
	}
}

func TestAtomFeed(t *testing.T) {
	site := buildIncidents(t)
	now := incidentSnapshot().Now
	for _, tt := range []struct {
		path, accept, lang, firstTitle string
	}{
		{"/en/feed.atom", "", "en", "Peertube uploads fail & <slow> — Monitoring"},
		{"/fr/feed.atom", "", "fr", "Peertube uploads fail & <slow> — Sous surveillance"},
		{"/feed.atom", "en", "en", "Peertube uploads fail & <slow> — Monitoring"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			r, ok := site.Lookup(tt.path, tt.accept, "fr")
			if !ok || r.ContentType != "application/atom+xml; charset=utf-8" || !r.CORS {
				t.Fatalf("%s: %+v", tt.path, r)
			}
			if bytes.Contains(r.Body, []byte("<slow>")) || !bytes.Contains(r.Body, []byte("fail &amp; &lt;slow&gt;")) {
				t.Error("the title is not escaped as XML")
			}
			feed, err := gofeed.NewParser().Parse(bytes.NewReader(r.Body))
			if err != nil {
				t.Fatal(err)
			}
			if feed.FeedType != "atom" || feed.Language != tt.lang || feed.UpdatedParsed == nil ||
				!feed.UpdatedParsed.Equal(now.Add(-30*time.Minute)) || feed.FeedLink != "https://status.example.org/"+tt.lang+"/feed.atom" {
				t.Errorf("feed: type %s, lang %s, updated %v, self %s", feed.FeedType, feed.Language, feed.UpdatedParsed, feed.FeedLink)
			}
			if len(feed.Items) != 5 { // 3 + 2 updates; not the draft's
				t.Fatalf("%d entries, want 5", len(feed.Items))
			}
			first := feed.Items[0]
			if first.Title != tt.firstTitle || first.Link != "https://status.example.org/"+tt.lang+"/incidents/1/#update-13" ||
				first.GUID != "https://status.example.org/incidents/1/#update-13" ||
				first.UpdatedParsed == nil || !first.UpdatedParsed.Equal(now.Add(-30*time.Minute)) ||
				!strings.Contains(first.Content, "<strong>watching</strong>") {
				t.Errorf("first entry: %q %q %q %v %q", first.Title, first.Link, first.GUID, first.UpdatedParsed, first.Content)
			}
			hostile := feed.Items[1]
			if strings.Contains(hostile.Content, "<script") || strings.Contains(hostile.Content, "javascript:") {
				t.Errorf("hostile content passed: %q", hostile.Content)
			}
			last := feed.Items[4]
			if last.Title != "Mail delayed — "+map[string]string{"en": "Investigating", "fr": "Analyse en cours"}[tt.lang] ||
				!last.UpdatedParsed.Equal(now.AddDate(0, 0, -10)) {
				t.Errorf("last entry: %q %v", last.Title, last.UpdatedParsed)
			}
			for _, it := range feed.Items {
				if strings.Contains(it.Title, "Secret") {
					t.Error("the draft is in the feed")
				}
			}
		})
	}
}

func TestExportWritesIncidentsAndFeeds(t *testing.T) {
	dir := t.TempDir()
	if _, err := buildIncidents(t).WriteDir(dir, "fr"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"fr/incidents/1/index.html", "en/incidents/2/index.html", "incidents/1/index.html", "feed.atom", "fr/feed.atom", "api/v2/incidents/unresolved.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "incidents/1/index.html")); !bytes.Contains(b, []byte(`<html lang="fr">`)) {
		t.Error("incidents/1/index.html is not the default language's page")
	}
}
