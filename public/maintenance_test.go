package public

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/tocsin-org/tocsin"
)

// maintenanceSnapshot has every service operational but Mastodon, under
// maintenance by maintenance 5 (in progress); maintenance 6 is upcoming
// with a title full of what iCalendar escapes, 7 was cancelled, 8 is a
// draft, and incident 1 is open on no service.
func maintenanceSnapshot() Snapshot {
	s := snapshot()
	now := s.Now
	s.Services[1].Status = tocsin.StatusOperational
	s.Services[0].Status = tocsin.StatusMaintenance
	at := func(t time.Time) *time.Time { return &t }
	upd := func(id, inc int64, st tocsin.IncidentStatus, body string, t time.Time) *tocsin.Update {
		return &tocsin.Update{ID: id, IncidentID: inc, Status: st, Body: body, DisplayAt: t, CreatedAt: t}
	}
	maint := func(id int64, title string, st tocsin.IncidentStatus, from, until time.Time, svc int64, ups ...*tocsin.Update) *tocsin.Incident {
		m := &tocsin.Incident{ID: id, Title: title, Status: st, Impact: tocsin.ImpactMaintenance,
			ScheduledFor: at(from), ScheduledUntil: at(until), PublishedAt: at(now.Add(-72 * time.Hour)),
			CreatedAt: now.Add(time.Duration(-100+id) * time.Hour), UpdatedAt: now.Add(-time.Hour), Updates: ups}
		if svc != 0 {
			m.Services = []tocsin.ServiceImpact{{ServiceID: svc, Status: tocsin.StatusMaintenance}}
		}
		if st.Closed() {
			m.ResolvedAt = at(now.Add(-time.Hour))
		}
		return m
	}
	upcomingFrom := time.Date(2026, 12, 2, 21, 0, 0, 0, time.UTC) // 22:00 in Paris
	s.Incidents = []*tocsin.Incident{
		{ID: 1, Title: "Slow pages", Status: tocsin.IncidentInvestigating, Impact: tocsin.ImpactNone, PublishedAt: at(now),
			CreatedAt: now, UpdatedAt: now, Updates: []*tocsin.Update{upd(11, 1, tocsin.IncidentInvestigating, "Looking.", now)}},
		maint(5, "Mastodon upgrade", tocsin.MaintenanceInProgress, now.Add(-time.Hour), now.Add(time.Hour), 1,
			upd(52, 5, tocsin.MaintenanceInProgress, "Started.", now.Add(-time.Hour)),
			upd(51, 5, tocsin.MaintenanceScheduled, "Planned.", now.Add(-72*time.Hour))),
		maint(6, `Mail, DNS; backup \ move`, tocsin.MaintenanceScheduled, upcomingFrom, upcomingFrom.Add(3*time.Hour), 3,
			upd(61, 6, tocsin.MaintenanceScheduled, "Mail will be **queued**, not lost; we move the servers to the new data centre, which is why the window is long — très long, même.\nSecond line.", now.Add(-72*time.Hour))),
		maint(7, "Cancelled move", tocsin.MaintenanceCompleted, upcomingFrom, upcomingFrom.Add(time.Hour), 2,
			upd(72, 7, tocsin.MaintenanceCompleted, "Cancelled.", now.Add(-time.Hour)),
			upd(71, 7, tocsin.MaintenanceScheduled, "Planned.", now.Add(-72*time.Hour))),
		maint(8, "Secret draft maintenance", tocsin.MaintenanceScheduled, upcomingFrom, upcomingFrom.Add(time.Hour), 0,
			upd(81, 8, tocsin.MaintenanceScheduled, "Draft.", now.Add(-time.Hour))),
	}
	s.Incidents[4].PublishedAt = nil
	return s
}

func TestMaintenanceOnPages(t *testing.T) {
	site, err := Build(maintenanceSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		lang  string
		parts []string // in this order on /
	}{
		{"en", []string{`banner-under_maintenance`, "Maintenance in progress", "Slow pages",
			"Maintenance in progress", "Mastodon upgrade", "In progress",
			"Upcoming maintenance", `Mail, DNS; backup \ move`, "Scheduled",
			"From 2 December 2026, 22:00 CET to 3 December 2026, 01:00 CET (Europe/Paris)", "Mail will be <strong>queued</strong>",
			`href="/maintenance.ics"`}},
		{"fr", []string{`banner-under_maintenance`, "Maintenance en cours", "Slow pages",
			"Maintenance en cours", "Mastodon upgrade", "En cours",
			"Maintenances prévues", `Mail, DNS; backup \ move`, "Programmée",
			"Du 2 décembre 2026 à 22:00 CET au 3 décembre 2026 à 01:00 CET (Europe/Paris)",
			`href="/maintenance.ics"`}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			body := site.Resources["/"+tt.lang+"/"].Body
			if !inOrder(body, tt.parts...) {
				t.Errorf("/%s/ lacks, or misorders, %q:\n%s", tt.lang, tt.parts, body)
			}
			if bytes.Contains(body, []byte("Cancelled move")) || bytes.Contains(body, []byte("Secret draft")) {
				t.Error("a cancelled maintenance or a draft is announced")
			}
			page := site.Resources["/"+tt.lang+"/incidents/6/"]
			if page == nil || !bytes.Contains(page.Body, []byte("(Europe/Paris)")) {
				t.Fatalf("maintenance page missing or without its window")
			}
			cancelled := string(site.Resources["/"+tt.lang+"/incidents/7/"].Body)
			if !strings.Contains(cancelled, map[string]string{"en": "Cancelled", "fr": "Annulée"}[tt.lang]) {
				t.Error("the cancelled maintenance's page does not say so")
			}
			if site.Resources["/"+tt.lang+"/incidents/8/"] != nil {
				t.Error("a draft maintenance has a page")
			}
		})
	}
}

func TestMaintenanceBanner(t *testing.T) {
	tests := []struct {
		name      string
		mastodon  tocsin.ServiceStatus
		other     tocsin.ServiceStatus
		underway  bool
		banner    string
		indicator string
	}{
		{"maintenance alone", tocsin.StatusMaintenance, tocsin.StatusOperational, true, "under_maintenance", "maintenance"},
		{"under way on no service", tocsin.StatusOperational, tocsin.StatusOperational, true, "under_maintenance", "maintenance"},
		{"something worse", tocsin.StatusMaintenance, tocsin.StatusMajorOutage, true, "major_outage", "critical"},
		{"degraded beats maintenance", tocsin.StatusMaintenance, tocsin.StatusDegraded, true, "degraded_performance", "minor"},
		{"only upcoming", tocsin.StatusOperational, tocsin.StatusOperational, false, "operational", "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := maintenanceSnapshot()
			s.Services[0].Status, s.Services[2].Status = tt.mastodon, tt.other
			if !tt.underway {
				s.Incidents = append(s.Incidents[:1:1], s.Incidents[2:]...)
			}
			site, err := Build(s)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(site.Resources["/en/"].Body, []byte("banner-"+tt.banner)) {
				t.Errorf("banner is not %s", tt.banner)
			}
			var status struct{ Status struct{ Indicator string } }
			if err := json.Unmarshal(site.Resources["/api/v2/status.json"].Body, &status); err != nil || status.Status.Indicator != tt.indicator {
				t.Errorf("indicator %q (%v), want %s", status.Status.Indicator, err, tt.indicator)
			}
		})
	}
}

// wantShape checks that a decoded JSON object has the fields of
// Statuspage's documented shape, each of the JSON type given ("string",
// "string|null", "array", "object", "bool", "number").
func wantShape(t *testing.T, what string, obj map[string]any, shape map[string]string) {
	t.Helper()
	for field, typ := range shape {
		v, ok := obj[field]
		if !ok {
			t.Errorf("%s: no field %q", what, field)
			continue
		}
		got := "object"
		switch v.(type) {
		case nil:
			got = "null"
		case string:
			got = "string"
		case []any:
			got = "array"
		case bool:
			got = "bool"
		case float64:
			got = "number"
		}
		if !strings.Contains("|"+typ+"|", "|"+got+"|") {
			t.Errorf("%s: %s is %s, want %s", what, field, got, typ)
		}
	}
}

func TestScheduledMaintenancesJSON(t *testing.T) {
	site, err := Build(maintenanceSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	// Statuspage's public API v2, scheduled maintenances and their updates.
	maintShape := map[string]string{
		"id": "string", "name": "string", "status": "string", "impact": "string", "page_id": "string", "shortlink": "string",
		"created_at": "string", "updated_at": "string", "monitoring_at": "string|null", "resolved_at": "string|null",
		"started_at": "string", "scheduled_for": "string", "scheduled_until": "string",
		"incident_updates": "array", "components": "array",
	}
	updateShape := map[string]string{
		"id": "string", "status": "string", "body": "string", "incident_id": "string",
		"created_at": "string", "updated_at": "string", "display_at": "string", "affected_components": "null",
	}
	ids := func(path string) []string {
		t.Helper()
		r := site.Resources[path]
		if r == nil || !r.CORS || r.ContentType != "application/json; charset=utf-8" {
			t.Fatalf("%s: %+v", path, r)
		}
		var doc struct {
			Page                  map[string]any   `json:"page"`
			ScheduledMaintenances []map[string]any `json:"scheduled_maintenances"`
		}
		if err := json.Unmarshal(r.Body, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.ScheduledMaintenances == nil || doc.Page["id"] != "tocsin" {
			t.Fatalf("%s: %s", path, r.Body)
		}
		var out []string
		for _, m := range doc.ScheduledMaintenances {
			wantShape(t, path, m, maintShape)
			for _, u := range m["incident_updates"].([]any) {
				wantShape(t, path+" update", u.(map[string]any), updateShape)
				if st := u.(map[string]any)["status"]; st != "scheduled" && st != "in_progress" && st != "verifying" && st != "completed" {
					t.Errorf("%s: update status %v", path, st)
				}
			}
			if m["impact"] != "maintenance" {
				t.Errorf("%s: impact %v", path, m["impact"])
			}
			for _, f := range []string{"scheduled_for", "scheduled_until", "created_at"} {
				if _, err := time.Parse(time.RFC3339, m[f].(string)); err != nil {
					t.Errorf("%s: %s %v", path, f, err)
				}
			}
			out = append(out, m["id"].(string)+":"+m["status"].(string))
		}
		return out
	}
	for _, tt := range []struct {
		path string
		want string
	}{
		{"/api/v2/scheduled-maintenances.json", "[inc7:completed inc6:scheduled inc5:in_progress]"},
		{"/api/v2/scheduled-maintenances/upcoming.json", "[inc6:scheduled]"},
		{"/api/v2/scheduled-maintenances/active.json", "[inc5:in_progress]"},
		{"/api/v2/summary.json", "[inc5:in_progress inc6:scheduled]"},
	} {
		t.Run(tt.path, func(t *testing.T) {
			if got := strings.Join(ids(tt.path), " "); "["+got+"]" != tt.want {
				t.Errorf("got [%s], want %s", got, tt.want)
			}
		})
	}
	body := string(site.Resources["/api/v2/scheduled-maintenances/upcoming.json"].Body)
	for _, w := range []string{`"scheduled_for":"2026-12-02T21:00:00Z"`, `"scheduled_until":"2026-12-03T00:00:00Z"`,
		`"shortlink":"https://status.example.org/incidents/6/"`, `"components":[{"id":"svc3"`} {
		if !strings.Contains(body, w) {
			t.Errorf("upcoming.json lacks %s", w)
		}
	}
	for _, path := range []string{"/api/v2/incidents.json", "/api/v2/incidents/unresolved.json"} {
		if got := decodeIncidents(t, site, path); len(got) != 1 || got[0].ID != "inc1" {
			t.Errorf("%s holds %+v: incidents only", path, got)
		}
	}
}

func TestMaintenanceCalendar(t *testing.T) {
	site, err := Build(maintenanceSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	r := site.Resources["/maintenance.ics"]
	if r == nil || !r.CORS || r.ContentType != "text/calendar; charset=utf-8" {
		t.Fatalf("/maintenance.ics: %+v", r)
	}
	raw := string(r.Body)
	if !strings.HasSuffix(raw, "END:VCALENDAR\r\n") || strings.Contains(strings.ReplaceAll(raw, "\r\n", ""), "\n") {
		t.Error("lines must end with CRLF, and only there")
	}
	folded := false
	for _, line := range strings.Split(strings.TrimSuffix(raw, "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line of %d octets: %q", len(line), line)
		}
		folded = folded || strings.HasPrefix(line, " ")
	}
	if !folded {
		t.Error("the long description was not folded")
	}
	for _, w := range []string{`SUMMARY:Mail\, DNS\; backup \\ move`, "DTSTART:20261202T210000Z", "DTEND:20261203T000000Z"} {
		if !strings.Contains(raw, w) {
			t.Errorf("raw calendar lacks %q", w)
		}
	}

	cal, err := ics.ParseCalendar(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("a real parser refuses the calendar: %v", err)
	}
	events := map[string]*ics.VEvent{}
	for _, e := range cal.Events() {
		events[e.Id()] = e
	}
	if len(events) != 3 || events["maintenance-8@status.example.org"] != nil {
		t.Fatalf("events %v: want the three published maintenances", events)
	}
	prop := func(e *ics.VEvent, p ics.ComponentProperty) string {
		if v := e.GetProperty(p); v != nil {
			return v.Value
		}
		return ""
	}
	tests := []struct {
		uid, summary, status string
		from, until          time.Time
	}{
		{"maintenance-6@status.example.org", `Mail, DNS; backup \ move`, "CONFIRMED",
			time.Date(2026, 12, 2, 21, 0, 0, 0, time.UTC), time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)},
		{"maintenance-7@status.example.org", "Cancelled move", "CANCELLED",
			time.Date(2026, 12, 2, 21, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 22, 0, 0, 0, time.UTC)},
		{"maintenance-5@status.example.org", "Mastodon upgrade", "CONFIRMED",
			time.Date(2026, 11, 24, 11, 0, 0, 0, time.UTC), time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.uid, func(t *testing.T) {
			e := events[tt.uid]
			if e == nil {
				t.Fatal("missing")
			}
			from, err1 := e.GetStartAt()
			until, err2 := e.GetEndAt()
			stamp, err3 := e.GetDtStampTime()
			if err1 != nil || err2 != nil || err3 != nil || !from.Equal(tt.from) || !until.Equal(tt.until) || from.Location() != time.UTC || stamp.IsZero() {
				t.Errorf("window %v–%v stamp %v (%v %v %v)", from, until, stamp, err1, err2, err3)
			}
			if got := prop(e, ics.ComponentPropertySummary); got != tt.summary {
				t.Errorf("SUMMARY %q, want %q", got, tt.summary)
			}
			if got := prop(e, ics.ComponentPropertyStatus); got != tt.status {
				t.Errorf("STATUS %q, want %s", got, tt.status)
			}
			if got := prop(e, ics.ComponentPropertyUrl); !strings.HasPrefix(got, "https://status.example.org/fr/incidents/") {
				t.Errorf("URL %q", got)
			}
		})
	}
	desc := prop(events["maintenance-6@status.example.org"], ics.ComponentPropertyDescription)
	if !strings.Contains(desc, "Mail") || !strings.Contains(desc, "très long, même.\nSecond line.") || strings.Contains(desc, "**") {
		t.Errorf("DESCRIPTION %q: services and the latest update as plain text, unfolded and unescaped", desc)
	}
}

// TestMaintenanceInHistoryAndNotice: the history lists the maintenances
// that ran, in the month of their window; the site notice shows one under
// way that is marked "show on sites", not one to come.
func TestMaintenanceInHistoryAndNotice(t *testing.T) {
	s := maintenanceSnapshot()
	s.Incidents[1].ShowOnSites, s.Incidents[2].ShowOnSites = true, true // in progress, upcoming
	site, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	var history strings.Builder
	for path, r := range site.Resources {
		if strings.HasPrefix(path, "/en/history/") {
			history.Write(r.Body)
		}
	}
	if h := history.String(); !strings.Contains(h, "Mastodon upgrade") || strings.Contains(h, "Mail, DNS") || strings.Contains(h, "Cancelled move") {
		t.Errorf("history: want the maintenance that ran only:\n%s", h)
	}
	if site.Resources["/en/history/2026-12/"] != nil {
		t.Error("a month of the future in the history")
	}
	var notice struct {
		Notices []struct{ ID, Kind string } `json:"notices"`
	}
	if err := json.Unmarshal(site.Resources["/notice.json"].Body, &notice); err != nil {
		t.Fatal(err)
	}
	var shown []string
	for _, n := range notice.Notices {
		shown = append(shown, n.ID+":"+n.Kind)
	}
	if got := strings.Join(shown, " "); got != "inc5:maintenance" {
		t.Errorf("notice lists %q, want the maintenance under way", got)
	}
}
