package httpserver

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// onlyMaintenance returns the one maintenance of the store.
func (e *testEnv) onlyMaintenance() *tocsin.Incident {
	e.t.Helper()
	yes := true
	list, err := e.store.Incidents(e.ctx, tocsin.IncidentFilter{Maintenance: &yes})
	if err != nil || len(list) != 1 {
		e.t.Fatalf("maintenances %v, %v", list, err)
	}
	return list[0]
}

// TestConsoleMaintenance: a communicator schedules a maintenance with its
// window typed in the host's zone (the form names it); it is announced on
// the public page, in the JSON and in the calendar; its own page takes the
// maintenance's statuses; an update in progress moves its service.
func TestConsoleMaintenance(t *testing.T) {
	e := newTestEnv(t) // host zone: Europe/Paris
	svc := e.addService("Mail", "")
	viewer := e.signedIn(e.createUser("view@example.org", tocsin.RoleViewer), "127.0.0.1")
	if r := viewer.get("/console/maintenance"); r.Status != http.StatusOK || !strings.Contains(r.Text, i18n.T("en", "maintenance.empty")) ||
		strings.Contains(r.Body, `action="/console/maintenance"`) || !strings.Contains(r.Body, `<a href="/console/maintenance" aria-current="page">`) {
		t.Fatalf("viewer's list: %d\n%s", r.Status, r.Body)
	}
	b := e.signedIn(e.createUser("comm@example.org", tocsin.RoleCommunicator), "127.0.0.1")
	if r := b.get("/console/maintenance"); !strings.Contains(r.Text, i18n.T("en", "maintenance.window_help", "Europe/Paris")) ||
		!strings.Contains(r.Text, i18n.T("en", "maintenance.intro", "1 h")) {
		t.Fatalf("the form does not name the zone:\n%s", r.Text)
	}

	form := url.Values{
		"title": {"Mail server upgrade"}, "scheduled_for": {"2030-01-02T22:00"}, "scheduled_until": {"2030-01-03T01:30"},
		"service": {fmt.Sprint(svc.ID)}, "body": {"Mail is **queued**, not lost."}, "publish": {"1"},
	}
	wantFlash(t, b.post("/console/maintenance", form), i18n.T("en", "maintenance.created", "Mail server upgrade"))
	m := e.onlyMaintenance()
	if !m.ScheduledFor.Equal(time.Date(2030, 1, 2, 21, 0, 0, 0, time.UTC)) || !m.ScheduledUntil.Equal(time.Date(2030, 1, 3, 0, 30, 0, 0, time.UTC)) ||
		!m.Published() || m.Status != tocsin.MaintenanceScheduled || m.Impact != tocsin.ImpactMaintenance ||
		len(m.Services) != 1 || m.Services[0] != (tocsin.ServiceImpact{ServiceID: svc.ID, Status: tocsin.StatusMaintenance}) {
		t.Fatalf("stored %+v", m)
	}
	if list := b.get("/console/maintenance"); !strings.Contains(list.Text, "Mail server upgrade") || !strings.Contains(list.Text, "2030-01-02 22:00 CET – 2030-01-03 01:30 CET") {
		t.Errorf("the list lacks the maintenance or its window:\n%s", list.Text)
	}
	if list := b.get("/console/incidents"); strings.Contains(list.Text, "Mail server upgrade") {
		t.Error("a maintenance is listed among incidents")
	}
	for path, want := range map[string]string{
		"/en/": "From 2 January 2030, 22:00 CET to 3 January 2030, 01:30 CET (Europe/Paris)",
		"/fr/": "Du 2 janvier 2030 à 22:00 CET au 3 janvier 2030 à 01:30 CET (Europe/Paris)",
		"/api/v2/scheduled-maintenances/upcoming.json": `"scheduled_for":"2030-01-02T21:00:00Z"`,
		"/maintenance.ics":                     "DTSTART:20300102T210000Z",
		"/api/v2/summary.json":                 `"name":"Mail server upgrade"`,
		fmt.Sprintf("/en/incidents/%d/", m.ID): "Mail server upgrade",
	} {
		if p := e.publicPage(path); !strings.Contains(p, want) {
			t.Errorf("%s lacks %q", path, want)
		}
	}
	if strings.Contains(e.publicPage("/api/v2/incidents.json"), "Mail server upgrade") {
		t.Error("incidents.json lists a maintenance")
	}

	detail := b.get(incidentPath(m.ID, ""))
	for _, w := range []string{`<option value="in_progress"`, `name="scheduled_for" type="datetime-local" required value="2030-01-02T22:00"`,
		`href="/console/maintenance"`, html.EscapeString(i18n.T("en", "maintenance.cancel_help"))} {
		if !strings.Contains(detail.Body, w) {
			t.Errorf("the maintenance's page lacks %s", w)
		}
	}
	if strings.Contains(detail.Body, `<option value="investigating"`) {
		t.Error("the maintenance's page offers an incident's statuses")
	}

	t.Run("moved in the settings form", func(t *testing.T) {
		wantFlash(t, b.post(incidentPath(m.ID, "edit"), url.Values{
			"title": {"Mail server upgrade"}, "scheduled_for": {"2030-01-09T22:00"}, "scheduled_until": {"2030-01-09T23:00"},
			"service": {fmt.Sprint(svc.ID)},
		}), i18n.T("en", "incidents.saved"))
		if got := e.onlyMaintenance(); !got.ScheduledFor.Equal(time.Date(2030, 1, 9, 21, 0, 0, 0, time.UTC)) {
			t.Errorf("window now %v", got.ScheduledFor)
		}
		before := e.incidentState()
		wantError(t, b.post(incidentPath(m.ID, "edit"), url.Values{
			"title": {"Mail server upgrade"}, "scheduled_for": {"2030-01-09T22:00"}, "scheduled_until": {"2030-01-09T21:00"},
		}), http.StatusBadRequest, i18n.T("en", "maintenance.window_order"))
		if e.incidentState() != before {
			t.Error("a refused edit wrote")
		}
	})

	t.Run("started by hand", func(t *testing.T) {
		wantFlash(t, b.post(incidentPath(m.ID, "updates"), url.Values{"status": {"in_progress"}, "body": {"Starting early."}}),
			i18n.T("en", "incidents.update_added"))
		got, err := e.store.Service(e.ctx, svc.ID)
		if err != nil || got.Status != tocsin.StatusMaintenance {
			t.Fatalf("service %+v %v", got, err)
		}
		if p := e.publicPage("/en/"); !strings.Contains(p, "banner-under_maintenance") || !strings.Contains(p, i18n.T("en", "public.active_maintenance")) {
			t.Error("the public page does not show the maintenance in progress")
		}
		if !strings.Contains(e.publicPage("/api/v2/scheduled-maintenances/active.json"), "Mail server upgrade") {
			t.Error("active.json lacks it")
		}
		before := e.incidentState()
		wantError(t, b.post(incidentPath(m.ID, "updates"), url.Values{"status": {"resolved"}, "body": {"x"}}),
			http.StatusBadRequest, i18n.T("en", "maintenance.status_invalid", "resolved"))
		if e.incidentState() != before {
			t.Error("a refused update wrote")
		}
	})
}

// TestConsoleMaintenanceBadInput: each refusal says why, in the reader's
// language, keeps what was typed, and writes nothing.
func TestConsoleMaintenanceBadInput(t *testing.T) {
	e := newTestEnv(t)
	svc := e.addService("Mail", "")
	b := e.signedIn(e.createUser("comm@example.org", tocsin.RoleCommunicator), "127.0.0.1")
	valid := func(change map[string]string) url.Values {
		v := url.Values{"title": {"Upgrade"}, "scheduled_for": {"2030-01-02T22:00"}, "scheduled_until": {"2030-01-03T01:00"},
			"service": {fmt.Sprint(svc.ID)}, "body": {"Planned."}}
		for k, x := range change {
			v.Set(k, x)
		}
		return v
	}
	tests := []struct {
		name   string
		form   url.Values
		lang   string
		msg    string
		status int
	}{
		{"ends before it starts", valid(map[string]string{"scheduled_until": "2030-01-02T21:00"}), "en", i18n.T("en", "maintenance.window_order"), 400},
		{"ends when it starts", valid(map[string]string{"scheduled_until": "2030-01-02T22:00"}), "fr", i18n.T("fr", "maintenance.window_order"), 400},
		{"no end", valid(map[string]string{"scheduled_until": ""}), "en", i18n.T("en", "maintenance.window_missing"), 400},
		{"no window at all", valid(map[string]string{"scheduled_for": "", "scheduled_until": ""}), "fr", i18n.T("fr", "maintenance.window_missing"), 400},
		{"not a date", valid(map[string]string{"scheduled_for": "tomorrow evening"}), "en", i18n.T("en", "incidents.date_invalid", "tomorrow evening"), 400},
		{"unknown service", valid(map[string]string{"service": "999999"}), "en", i18n.T("en", "incidents.service_unknown", 999999), 400},
		{"no message", valid(map[string]string{"body": " "}), "en", i18n.T("en", "incidents.body_empty"), 400},
		{"too long", valid(map[string]string{"scheduled_until": "2030-03-02T22:00"}), "en", i18n.T("en", "maintenance.window_long", 31), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := b.post("/console/account/lang", url.Values{"lang": {tt.lang}}); r.Status >= 400 {
				t.Fatalf("language: %d", r.Status)
			}
			before := e.incidentState()
			r := b.post("/console/maintenance", tt.form)
			wantError(t, r, tt.status, tt.msg)
			if !strings.Contains(r.Body, `value="`+html.EscapeString(tt.form.Get("scheduled_for"))+`"`) {
				t.Error("the form did not keep what was typed")
			}
			if e.incidentState() != before {
				t.Error("a refused form wrote")
			}
		})
	}
}

// TestAPIMaintenance: the incident routes take a window; refused input is
// a 400 with a message and nothing written.
func TestAPIMaintenance(t *testing.T) {
	e := newTestEnv(t)
	comm, _ := e.createToken("comm", tocsin.RoleCommunicator)
	viewerTok, _ := e.createToken("viewer", tocsin.RoleViewer)
	svc := e.addService("Mail", "")

	r := e.call(http.MethodPost, "/api/v1/incidents", comm, fmt.Sprintf(
		`{"title":"Upgrade","services":[{"id":%d}],"scheduled_for":"2030-01-02T22:00:00+01:00","scheduled_until":"2030-01-03T01:00:00+01:00","body":"Planned.","publish":true}`, svc.ID))
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	m := decodeAs[incidentJSON](t, r)
	if m.ScheduledFor == nil || !m.ScheduledFor.Equal(time.Date(2030, 1, 2, 21, 0, 0, 0, time.UTC)) || m.Status != "scheduled" ||
		m.Impact != "maintenance" || len(m.Services) != 1 || m.Services[0].Status != "under_maintenance" || m.RemindedAt != nil {
		t.Errorf("created %+v", m)
	}
	if !strings.Contains(r.Body, `"scheduled_for":"2030-01-02T21:00:00Z"`) {
		t.Errorf("window not in UTC: %s", r.Body)
	}
	for q, want := range map[string]int{"?maintenance=true": 1, "?maintenance=false": 0, "": 1} {
		var list struct{ Incidents []incidentJSON }
		r := e.call(http.MethodGet, "/api/v1/incidents"+q, viewerTok, "")
		list = decodeAs[struct{ Incidents []incidentJSON }](t, r)
		if len(list.Incidents) != want {
			t.Errorf("%s: %d", q, len(list.Incidents))
		}
	}
	one := fmt.Sprintf("/api/v1/incidents/%d", m.ID)
	if r := e.call(http.MethodPut, one, comm, `{"title":"Upgrade","scheduled_for":"2030-01-09T22:00:00Z","scheduled_until":"2030-01-09T23:00:00Z"}`); r.Status != 200 ||
		!strings.Contains(r.Body, `"scheduled_for":"2030-01-09T22:00:00Z"`) {
		t.Errorf("move: %d %s", r.Status, r.Body)
	}

	tests := []struct {
		name, method, path, token, body string
		status                          int
		code                            string
	}{
		{"window backwards", "POST", "/api/v1/incidents", comm, `{"title":"x","scheduled_for":"2030-01-02T22:00:00Z","scheduled_until":"2030-01-02T21:00:00Z","body":"x"}`, 400, tocsin.EINVALID},
		{"window empty", "POST", "/api/v1/incidents", comm, `{"title":"x","scheduled_for":"2030-01-02T22:00:00Z","scheduled_until":"2030-01-02T22:00:00Z","body":"x"}`, 400, tocsin.EINVALID},
		{"no end", "POST", "/api/v1/incidents", comm, `{"title":"x","scheduled_for":"2030-01-02T22:00:00Z","body":"x"}`, 400, tocsin.EINVALID},
		{"bad time", "POST", "/api/v1/incidents", comm, `{"title":"x","scheduled_for":"2030-01-02 22:00","scheduled_until":"2030-01-02T23:00:00Z","body":"x"}`, 400, tocsin.EINVALID},
		{"time as a number", "POST", "/api/v1/incidents", comm, `{"title":"x","scheduled_for":1893621600,"scheduled_until":"2030-01-02T23:00:00Z","body":"x"}`, 400, tocsin.EINVALID},
		{"unknown service", "POST", "/api/v1/incidents", comm, `{"title":"x","services":[{"id":999999}],"scheduled_for":"2030-01-02T22:00:00Z","scheduled_until":"2030-01-02T23:00:00Z","body":"x"}`, 400, tocsin.EINVALID},
		{"incident status", "POST", "/api/v1/incidents", comm, `{"title":"x","status":"investigating","scheduled_for":"2030-01-02T22:00:00Z","scheduled_until":"2030-01-02T23:00:00Z","body":"x"}`, 400, tocsin.EINVALID},
		{"maintenance status on an incident", "POST", "/api/v1/incidents", comm, `{"title":"x","status":"in_progress","body":"x"}`, 400, tocsin.EINVALID},
		{"viewer", "POST", "/api/v1/incidents", viewerTok, `{"title":"x","scheduled_for":"2030-01-02T22:00:00Z","scheduled_until":"2030-01-02T23:00:00Z","body":"x"}`, 403, tocsin.EFORBIDDEN},
		{"moved backwards", "PUT", one, comm, `{"title":"x","scheduled_for":"2030-01-02T22:00:00Z","scheduled_until":"2030-01-01T23:00:00Z"}`, 400, tocsin.EINVALID},
		{"made an incident", "PUT", one, comm, `{"title":"x"}`, 400, tocsin.EINVALID},
		{"incident status update", "POST", one + "/updates", comm, `{"status":"identified","body":"x"}`, 400, tocsin.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.incidentState()
			apiError(t, e.call(tt.method, tt.path, tt.token, tt.body), tt.status, tt.code)
			if e.incidentState() != before {
				t.Error("a refused request wrote")
			}
		})
	}
	r = e.call(http.MethodPost, "/api/v1/incidents", comm, `{"title":"x","scheduled_for":"2030-01-02T22:00:00Z","scheduled_until":"2030-01-02T21:00:00Z","body":"x"}`)
	if !strings.Contains(r.Body, "the maintenance window ends (2030-01-02T21:00:00Z) before or when it starts (2030-01-02T22:00:00Z)") {
		t.Errorf("the message does not say what is wrong: %s", r.Body)
	}
	r = e.call(http.MethodPost, "/api/v1/incidents", comm, `{"title":"x","scheduled_for":"tomorrow","scheduled_until":"2030-01-02T21:00:00Z","body":"x"}`)
	if !strings.Contains(r.Body, `\"tomorrow\" is not a date and time in RFC 3339 form`) {
		t.Errorf("the message does not name the bad time: %s", r.Body)
	}
}
