package httpserver

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// incidentState is what a refused request must leave unchanged: every
// incident with its updates and revisions, and the length of the audit log.
func (e *testEnv) incidentState() string {
	e.t.Helper()
	list, err := e.store.Incidents(e.ctx, tocsin.IncidentFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	b, err := json.Marshal(list)
	if err != nil {
		e.t.Fatal(err)
	}
	return fmt.Sprintf("%s audit=%d", b, e.counts().Audit)
}

func incidentPath(id int64, action string) string {
	if action == "" {
		return fmt.Sprintf("/console/incidents/%d", id)
	}
	return fmt.Sprintf("/console/incidents/%d/%s", id, action)
}

// onlyIncident returns the one incident of the store.
func (e *testEnv) onlyIncident() *tocsin.Incident {
	e.t.Helper()
	list, err := e.store.Incidents(e.ctx, tocsin.IncidentFilter{})
	if err != nil || len(list) != 1 {
		e.t.Fatalf("incidents %v, %v", list, err)
	}
	return list[0]
}

func wantError(t *testing.T, r *response, status int, msg string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("status %d, want %d", r.Status, status)
	}
	if !strings.Contains(r.Text, `<p class="error" role="alert">`+msg+`</p>`) {
		t.Errorf("message %q not shown:\n%s", msg, r.Text)
	}
}

// TestConsoleIncidentLifecycle: a draft stays off the public site until it
// is published; updates, backdated ones and corrections reach it at once;
// a resolved incident takes no more updates but a post-mortem note.
func TestConsoleIncidentLifecycle(t *testing.T) {
	e := newTestEnv(t)
	svc := e.addService("Mastodon", "Social")
	e.addService("Mail", "")
	staff := e.createUser("comm@example.org", tocsin.RoleCommunicator)
	b := e.signedIn(staff, "127.0.0.1")
	if r := b.get("/console/incidents"); r.Status != http.StatusOK || !strings.Contains(r.Text, i18n.T("en", "incidents.empty")) {
		t.Fatalf("empty list: %d %s", r.Status, r.Text)
	}

	r := b.post("/console/incidents", url.Values{
		"title": {"Timelines slow"}, "impact": {"major"}, "status": {"investigating"},
		"body":    {"We are looking into **slow timelines**."},
		"service": {fmt.Sprint(svc.ID)}, "service_status_" + fmt.Sprint(svc.ID): {"degraded_performance"},
	})
	wantFlash(t, r, i18n.T("en", "incidents.created_draft", "Timelines slow"))
	inc := e.onlyIncident()
	if inc.Published() || inc.Impact != tocsin.ImpactMajor || len(inc.Services) != 1 || inc.Services[0] != (tocsin.ServiceImpact{ServiceID: svc.ID, Status: tocsin.StatusDegraded}) {
		t.Errorf("stored %+v", inc)
	}
	// The layout sees the detail page, not the POST address: the language
	// switch comes back to it.
	for _, w := range []string{`name="next" value="` + incidentPath(inc.ID, "") + `"`, "<strong>slow timelines</strong>", `class="badge draft"`} {
		if !strings.Contains(r.Body, w) {
			t.Errorf("the detail page lacks %s", w)
		}
	}
	if r := b.get("/console/incidents"); !strings.Contains(r.Text, "Timelines slow") || !strings.Contains(r.Body, `class="badge draft"`) ||
		!strings.Contains(r.Body, `<a href="/console/incidents" aria-current="page">`) {
		t.Errorf("the list does not show the draft:\n%s", r.Body)
	}
	if strings.Contains(e.publicPage("/en/"), "Timelines slow") || strings.Contains(e.publicPage("/api/v2/incidents.json"), "Timelines slow") {
		t.Fatal("the draft is on the public site")
	}

	wantFlash(t, b.post(incidentPath(inc.ID, "publish"), nil), i18n.T("en", "incidents.published"))
	if !strings.Contains(e.publicPage("/en/"), "Timelines slow") || !strings.Contains(e.publicPage("/api/v2/incidents.json"), "Timelines slow") {
		t.Fatal("the published incident is not on the public site")
	}
	wantError(t, b.post(incidentPath(inc.ID, "publish"), nil), http.StatusConflict, i18n.T("en", "incidents.already_published"))

	t.Run("the latest update is on top", func(t *testing.T) {
		wantFlash(t, b.post(incidentPath(inc.ID, "updates"), url.Values{"status": {"identified"}, "body": {"Found: a **full disk**."}}),
			i18n.T("en", "incidents.update_added"))
		// The public page shows the latest update; the incident's page
		// all of them, latest first.
		if p := e.publicPage("/en/"); !strings.Contains(p, "<strong>full disk</strong>") || strings.Contains(p, "slow timelines") {
			t.Error("the public page does not show the latest update alone")
		}
		p := e.publicPage(fmt.Sprintf("/en/incidents/%d/", inc.ID))
		newer, older := strings.Index(p, "full disk"), strings.Index(p, "slow timelines")
		if newer < 0 || older < 0 || newer > older {
			t.Errorf("order on the incident page: newer at %d, older at %d", newer, older)
		}
		if got := e.onlyIncident().Status; got != tocsin.IncidentIdentified {
			t.Errorf("status %s", got)
		}
	})

	t.Run("preview writes nothing", func(t *testing.T) {
		before := e.incidentState()
		r := b.post(incidentPath(inc.ID, "updates"), url.Values{"status": {"identified"}, "body": {"Some *emphasis*"}, "preview": {"1"}})
		if r.Status != http.StatusOK || !strings.Contains(r.Body, "<em>emphasis</em>") || !strings.Contains(r.Body, ">Some *emphasis*</textarea>") {
			t.Errorf("preview: %d %s", r.Status, r.Body)
		}
		if e.incidentState() != before {
			t.Error("a preview wrote")
		}
	})

	t.Run("backdated", func(t *testing.T) {
		at := time.Now().Add(-2 * time.Hour).In(e.srv.loc).Format(dateTimeLocal)
		r := b.post(incidentPath(inc.ID, "updates"), url.Values{"status": {"investigating"}, "body": {"Alerts fired."}, "display_at": {at}})
		wantFlash(t, r, i18n.T("en", "incidents.update_added"))
		if !strings.Contains(r.Body, `class="badge backdated"`) {
			t.Error("the console does not mark the backdated update")
		}
		if !strings.Contains(e.publicPage(fmt.Sprintf("/en/incidents/%d/", inc.ID)), "backdated: written") {
			t.Error("the public page does not mark the backdated update")
		}
		// Dated before the others, it does not change the status.
		if got := e.onlyIncident().Status; got != tocsin.IncidentIdentified {
			t.Errorf("status %s after a backdated update", got)
		}
	})

	t.Run("a correction keeps the previous text", func(t *testing.T) {
		cur := e.onlyIncident()
		first := cur.Updates[len(cur.Updates)-2] // before it: the backdated one
		if !strings.Contains(first.Body, "slow timelines") {
			t.Fatalf("first update %+v", first)
		}
		r := b.post(incidentPath(inc.ID, fmt.Sprintf("updates/%d", first.ID)), url.Values{"body": {"We are looking into slow timelines and uploads."}})
		wantFlash(t, r, i18n.T("en", "incidents.update_edited"))
		for _, w := range []string{"<pre>We are looking into **slow timelines**.</pre>", i18n.T("en", "incidents.revisions", 1), "slow timelines and uploads"} {
			if !strings.Contains(r.Text, w) {
				t.Errorf("the detail page lacks %q", w)
			}
		}
		if p := e.publicPage(fmt.Sprintf("/en/incidents/%d/", inc.ID)); !strings.Contains(p, "slow timelines and uploads") || strings.Contains(p, "<strong>slow timelines</strong>") {
			t.Error("the public page does not show the corrected text alone")
		}
		// Viewers see the history too.
		v := e.signedIn(e.createUser("viewer@example.org", tocsin.RoleViewer), "127.0.0.2")
		if r := v.get(incidentPath(inc.ID, "")); !strings.Contains(r.Text, "<pre>We are looking into **slow timelines**.</pre>") {
			t.Error("a viewer does not see the edit history")
		}
		// An update of another incident is not reachable through this one.
		if r := b.post(incidentPath(inc.ID, "updates/999999"), url.Values{"body": {"x"}}); r.Status != http.StatusNotFound {
			t.Errorf("foreign update: %d", r.Status)
		}
	})

	t.Run("settings", func(t *testing.T) {
		r := b.post(incidentPath(inc.ID, "edit"), url.Values{"title": {"Timelines and uploads slow"}, "impact": {"critical"}, "show_on_sites": {"1"}})
		wantFlash(t, r, i18n.T("en", "incidents.saved"))
		got := e.onlyIncident()
		if got.Title != "Timelines and uploads slow" || got.Impact != tocsin.ImpactCritical || !got.ShowOnSites || len(got.Services) != 0 {
			t.Errorf("stored %+v", got)
		}
		if !strings.Contains(e.publicPage("/en/"), "Timelines and uploads slow") {
			t.Error("the public page does not show the new title")
		}
	})

	t.Run("resolved takes no more updates", func(t *testing.T) {
		wantFlash(t, b.post(incidentPath(inc.ID, "updates"), url.Values{"status": {"resolved"}, "body": {"Fixed."}}), i18n.T("en", "incidents.update_added"))
		before := e.incidentState()
		r := b.post(incidentPath(inc.ID, "updates"), url.Values{"status": {"monitoring"}, "body": {"Back again?"}})
		wantError(t, r, http.StatusConflict, i18n.T("en", "incidents.closed"))
		if !strings.Contains(r.Text, ">Back again?</textarea>") {
			t.Error("the refused update is not shown again")
		}
		if e.incidentState() != before {
			t.Error("a refused update wrote")
		}
		wantFlash(t, b.post(incidentPath(inc.ID, "updates"), url.Values{"status": {"postmortem"}, "body": {"What happened."}}), i18n.T("en", "incidents.update_added"))
		if r := b.get("/console/incidents"); !strings.Contains(r.Body, `class="closed"`) {
			t.Error("the list does not mark the closed incident")
		}
	})

	t.Run("published at creation", func(t *testing.T) {
		r := b.post("/console/incidents", url.Values{"title": {"Mail delayed"}, "status": {"investigating"}, "body": {"Queues are long."}, "publish": {"1"}})
		wantFlash(t, r, i18n.T("en", "incidents.created_published", "Mail delayed"))
		if !strings.Contains(e.publicPage("/en/"), "Mail delayed") {
			t.Error("not on the public page")
		}
		// Open incidents come first in the list.
		l := b.get("/console/incidents").Text
		if i, j := strings.Index(l, "Mail delayed"), strings.Index(l, "Timelines and uploads slow"); i < 0 || j < 0 || i > j {
			t.Errorf("open incident not first: %d %d", i, j)
		}
	})
}

// TestConsoleIncidentErrors: refusals are shown in the reader's language,
// with what was typed, and write nothing.
func TestConsoleIncidentErrors(t *testing.T) {
	e := newTestEnv(t)
	svc := e.addService("Mail", "")
	inc := &tocsin.Incident{Title: "Mail slow"}
	if err := e.store.CreateIncident(e.ctx, tocsin.CLI, inc, &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "Looking."}, nil); err != nil {
		t.Fatal(err)
	}
	closed := &tocsin.Incident{Title: "Old"}
	if err := e.store.CreateIncident(e.ctx, tocsin.CLI, closed, &tocsin.Update{Status: tocsin.IncidentResolved, Body: "Done."}, nil); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(48 * time.Hour).In(e.srv.loc).Format(dateTimeLocal)
	ok := url.Values{"title": {"Wiki down"}, "status": {"investigating"}, "body": {"Looking."}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range ok {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name   string
		path   string
		form   url.Values
		status int
		key    string
		args   []any
		typed  string
	}{
		{"unknown service", "/console/incidents", with("service", "999999", "service_status_999999", "major_outage"), 400, "incidents.service_unknown", []any{999999}, `value="Wiki down"`},
		{"bad service status", "/console/incidents", with("service", fmt.Sprint(svc.ID), "service_status_"+fmt.Sprint(svc.ID), "down"), 400, "services.status_unknown", []any{"down"}, ""},
		{"no title", "/console/incidents", with("title", " "), 400, "incidents.title_invalid", nil, ">Looking.</textarea>"},
		{"no body", "/console/incidents", with("body", ""), 400, "incidents.body_empty", nil, `value="Wiki down"`},
		{"bad impact", "/console/incidents", with("impact", "huge"), 400, "incidents.impact_unknown", []any{"huge"}, ""},
		{"bad status", "/console/incidents", with("status", "fixed"), 400, "incidents.status_unknown", []any{"fixed"}, ""},
		{"bad date", "/console/incidents", with("display_at", "yesterday"), 400, "incidents.date_invalid", []any{"yesterday"}, ""},
		{"future date", "/console/incidents", with("display_at", future), 400, "incidents.future", nil, ""},
		{"update: no body", incidentPath(inc.ID, "updates"), url.Values{"status": {"identified"}}, 400, "incidents.body_empty", nil, ""},
		{"update: resolved", incidentPath(closed.ID, "updates"), url.Values{"status": {"investigating"}, "body": {"Again"}}, 409, "incidents.closed", nil, ">Again</textarea>"},
		{"edit: empty", incidentPath(inc.ID, fmt.Sprintf("updates/%d", inc.Updates[0].ID)), url.Values{"body": {" "}}, 400, "incidents.body_empty", nil, ""},
		{"settings: unknown service", incidentPath(inc.ID, "edit"), url.Values{"title": {"Mail slow"}, "service": {"999999"}, "service_status_999999": {"major_outage"}}, 400, "incidents.service_unknown", []any{999999}, ""},
		{"settings: no title", incidentPath(inc.ID, "edit"), url.Values{"title": {""}}, 400, "incidents.title_invalid", nil, ""},
	}
	staff := e.createUser("comm@example.org", tocsin.RoleCommunicator)
	for _, lang := range []string{"en", "fr"} {
		b := e.signedIn(staff, "127.0.0.1")
		b.get("/console/incidents")
		if r := b.post("/lang", url.Values{"lang": {lang}, "next": {"/console/incidents"}}); r.Status != http.StatusSeeOther {
			t.Fatalf("language switch: %d", r.Status)
		}
		for _, tt := range tests {
			t.Run(lang+" "+tt.name, func(t *testing.T) {
				before := e.incidentState()
				r := b.post(tt.path, maps.Clone(tt.form)) // post adds this browser's CSRF token
				wantError(t, r, tt.status, i18n.T(lang, tt.key, tt.args...))
				if !strings.Contains(r.Body, `<html lang="`+lang+`">`) {
					t.Errorf("page not in %s", lang)
				}
				if tt.typed != "" && !strings.Contains(r.Text, tt.typed) {
					t.Errorf("the form does not show %s again", tt.typed)
				}
				if e.incidentState() != before {
					t.Error("a refused form wrote")
				}
			})
		}
	}
	if got := i18n.T("fr", "incidents.closed"); !strings.Contains(got, "résolu") {
		t.Errorf("fr incidents.closed = %q", got)
	}

	t.Run("unknown incident", func(t *testing.T) {
		b := e.signedIn(staff, "127.0.0.1")
		for _, path := range []string{incidentPath(999999, ""), incidentPath(999999, "publish"), incidentPath(999999, "updates"), incidentPath(999999, "edit"), "/console/incidents/abc"} {
			before := e.incidentState()
			var r *response
			if strings.HasSuffix(path, "999999") || strings.HasSuffix(path, "abc") {
				r = b.get(path)
			} else {
				r = b.post(path, url.Values{"title": {"x"}, "status": {"identified"}, "body": {"x"}})
			}
			if r.Status != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", path, r.Status)
			}
			if e.incidentState() != before {
				t.Errorf("%s wrote", path)
			}
		}
	})
}

// TestConsoleIncidentRoles: every role reads incidents, drafts included;
// only the communicator role acts on them.
func TestConsoleIncidentRoles(t *testing.T) {
	e := newTestEnv(t)
	inc := &tocsin.Incident{Title: "Secret draft"}
	if err := e.store.CreateIncident(e.ctx, tocsin.CLI, inc, &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "Looking."}, nil); err != nil {
		t.Fatal(err)
	}
	for _, role := range tocsin.AllRoles {
		t.Run(string(role), func(t *testing.T) {
			b := e.signedIn(e.createUser(string(role)+"@example.org", role), "127.0.0.1")
			r := b.get("/console/incidents")
			if r.Status != http.StatusOK || !strings.Contains(r.Body, `<a href="`+incidentPath(inc.ID, "")+`">`) || !strings.Contains(r.Body, `class="badge draft"`) {
				t.Fatalf("list: %d", r.Status)
			}
			if r := b.get("/console"); !strings.Contains(r.Body, `<a href="/console/incidents">`) {
				t.Error("no Incidents link in the menu")
			}
			if r := b.get(incidentPath(inc.ID, "")); r.Status != http.StatusOK || !strings.Contains(r.Text, "Looking.") {
				t.Errorf("detail: %d", r.Status)
			}
			can := role == tocsin.RoleCommunicator
			if got := strings.Contains(r.Body, `action="/console/incidents"`); got != can {
				t.Errorf("creation form shown: %v, want %v", got, can)
			}
			for _, c := range []struct {
				path string
				form url.Values
			}{
				{"/console/incidents", url.Values{"title": {"New " + string(role)}, "status": {"investigating"}, "body": {"x"}}},
				{incidentPath(inc.ID, "updates"), url.Values{"status": {"identified"}, "body": {"By " + string(role)}}},
				{incidentPath(inc.ID, fmt.Sprintf("updates/%d", inc.Updates[0].ID)), url.Values{"body": {"Edited by " + string(role)}}},
				{incidentPath(inc.ID, "edit"), url.Values{"title": {"Renamed by " + string(role)}}},
			} {
				before := e.incidentState()
				r := b.post(c.path, c.form)
				switch {
				case can && r.Status != http.StatusOK:
					t.Errorf("POST %s: %d, want 200: %s", c.path, r.Status, r.Text)
				case !can && r.Status != http.StatusForbidden:
					t.Errorf("POST %s: %d, want 403", c.path, r.Status)
				case !can && e.incidentState() != before:
					t.Errorf("POST %s refused but wrote", c.path)
				}
			}
		})
	}
}

// TestAPIIncidents walks the incident API's happy path.
func TestAPIIncidents(t *testing.T) {
	e := newTestEnv(t)
	comm, _ := e.createToken("comm", tocsin.RoleCommunicator)
	viewerTok, _ := e.createToken("viewer", tocsin.RoleViewer)
	svc := e.addService("Mail", "")

	r := e.call(http.MethodPost, "/api/v1/incidents", comm, fmt.Sprintf(
		`{"title":"Mail delayed","impact":"major","services":[{"id":%d,"status":"partial_outage"}],"status":"investigating","body":"Queues are *long*."}`, svc.ID))
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	inc := decodeAs[incidentJSON](t, r)
	if inc.ID == 0 || inc.Published || inc.PublishedAt != nil || inc.Status != "investigating" || inc.Impact != "major" ||
		len(inc.Services) != 1 || inc.Services[0] != (incidentServiceJSON{svc.ID, "partial_outage"}) || len(inc.Updates) != 1 ||
		inc.Updates[0].Author != "token:comm" || inc.Updates[0].Backdated {
		t.Errorf("created %+v", inc)
	}
	if strings.Contains(e.publicPage("/api/v2/incidents.json"), "Mail delayed") {
		t.Error("the draft is public")
	}
	one := fmt.Sprintf("/api/v1/incidents/%d", inc.ID)

	t.Run("viewers read drafts", func(t *testing.T) {
		var list struct{ Incidents []incidentJSON }
		r := e.call(http.MethodGet, "/api/v1/incidents?open=true", viewerTok, "")
		if err := json.Unmarshal([]byte(r.Body), &list); err != nil || r.Status != 200 || len(list.Incidents) != 1 || list.Incidents[0].ID != inc.ID {
			t.Errorf("open: %d %s", r.Status, r.Body)
		}
		r = e.call(http.MethodGet, "/api/v1/incidents?open=false", viewerTok, "")
		if err := json.Unmarshal([]byte(r.Body), &list); err != nil || len(list.Incidents) != 0 {
			t.Errorf("closed: %s", r.Body)
		}
		if got := decodeAs[incidentJSON](t, e.call(http.MethodGet, one, viewerTok, "")); got.ID != inc.ID || got.Title != "Mail delayed" {
			t.Errorf("read %+v", got)
		}
	})

	t.Run("publish", func(t *testing.T) {
		r := e.call(http.MethodPost, one+"/publish", comm, "")
		if got := decodeAs[incidentJSON](t, r); r.Status != 200 || !got.Published || got.PublishedAt == nil {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		if !strings.Contains(e.publicPage("/api/v2/incidents.json"), "Mail delayed") {
			t.Error("not public after publishing")
		}
	})

	t.Run("updates, backdated and corrected", func(t *testing.T) {
		at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		r := e.call(http.MethodPost, one+"/updates", comm, `{"status":"identified","body":"A full disk.","display_at":"`+at+`"}`)
		got := decodeAs[incidentJSON](t, r)
		if r.Status != 200 || len(got.Updates) != 2 || got.Updates[1].Body != "A full disk." || !got.Updates[1].Backdated || got.Status != "investigating" {
			t.Fatalf("backdated: %d %s", r.Status, r.Body)
		}
		r = e.call(http.MethodPost, one+"/updates", comm, `{"status":"monitoring","body":"Fixed; watching."}`)
		got = decodeAs[incidentJSON](t, r)
		if r.Status != 200 || got.Status != "monitoring" || got.Updates[0].Body != "Fixed; watching." {
			t.Fatalf("update: %d %s", r.Status, r.Body)
		}
		if p := e.publicPage(fmt.Sprintf("/en/incidents/%d/", inc.ID)); strings.Index(p, "Fixed; watching.") > strings.Index(p, "Queues are") {
			t.Error("the latest update is not on top of the incident page")
		}
		if p := e.publicPage("/en/"); !strings.Contains(p, "Fixed; watching.") {
			t.Error("the public page does not show the latest update")
		}
		r = e.call(http.MethodPut, fmt.Sprintf("/api/v1/updates/%d", inc.Updates[0].ID), comm, `{"body":"Queues are long."}`)
		if r.Status != http.StatusNoContent {
			t.Fatalf("edit: %d %s", r.Status, r.Body)
		}
		got = decodeAs[incidentJSON](t, e.call(http.MethodGet, one, viewerTok, ""))
		var first updateJSON
		for _, u := range got.Updates {
			if u.ID == inc.Updates[0].ID {
				first = u
			}
		}
		if first.Body != "Queues are long." || len(first.Revisions) != 1 || first.Revisions[0].Body != "Queues are *long*." || first.Revisions[0].EditedBy != "token:comm" {
			t.Errorf("corrected %+v", first)
		}
		for _, key := range []string{`"display_at":`, `"created_at":`, `"backdated":`, `"revisions":`, `"published_at":`, `"resolved_at":null`} {
			if !strings.Contains(e.call(http.MethodGet, one, viewerTok, "").Body, key) {
				t.Errorf("the incident JSON lacks %s", key)
			}
		}
	})

	t.Run("resolved", func(t *testing.T) {
		r := e.call(http.MethodPost, one+"/updates", comm, `{"status":"resolved","body":"Done."}`)
		if got := decodeAs[incidentJSON](t, r); r.Status != 200 || got.ResolvedAt == nil {
			t.Fatalf("%d %s", r.Status, r.Body)
		}
		before := e.incidentState()
		r = e.call(http.MethodPost, one+"/updates", comm, `{"status":"investigating","body":"Again?"}`)
		apiError(t, r, http.StatusConflict, tocsin.ECONFLICT)
		if !strings.Contains(r.Body, "resolved") || e.incidentState() != before {
			t.Errorf("refused update: %s", r.Body)
		}
		if r := e.call(http.MethodPost, one+"/updates", comm, `{"status":"postmortem","body":"Why."}`); r.Status != 200 {
			t.Errorf("postmortem: %d %s", r.Status, r.Body)
		}
	})
}

// TestAPIIncidentErrors: each refusal has its status and code and writes
// nothing.
func TestAPIIncidentErrors(t *testing.T) {
	e := newTestEnv(t)
	comm, _ := e.createToken("comm", tocsin.RoleCommunicator)
	viewerTok, _ := e.createToken("viewer", tocsin.RoleViewer)
	adminTok, _ := e.createToken("admin", tocsin.RoleAdmin)
	svc := e.addService("Mail", "")
	inc := &tocsin.Incident{Title: "Mail slow"}
	if err := e.store.CreateIncident(e.ctx, tocsin.CLI, inc, &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "Looking."}, nil); err != nil {
		t.Fatal(err)
	}
	one := fmt.Sprintf("/api/v1/incidents/%d", inc.ID)
	upd := fmt.Sprintf("/api/v1/updates/%d", inc.Updates[0].ID)
	future := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	tests := []struct {
		name         string
		method, path string
		token, body  string
		status       int
		code         string
		message      string
	}{
		{"list without a token", "GET", "/api/v1/incidents", "", "", 401, tocsin.EUNAUTHORIZED, ""},
		{"bad open", "GET", "/api/v1/incidents?open=maybe", viewerTok, "", 400, tocsin.EINVALID, "open"},
		{"bad limit", "GET", "/api/v1/incidents?limit=0", viewerTok, "", 400, tocsin.EINVALID, "limit"},
		{"create as viewer", "POST", "/api/v1/incidents", viewerTok, `{"title":"x","status":"investigating","body":"x"}`, 403, tocsin.EFORBIDDEN, ""},
		{"create as admin only", "POST", "/api/v1/incidents", adminTok, `{"title":"x","status":"investigating","body":"x"}`, 403, tocsin.EFORBIDDEN, ""},
		{"update as viewer", "POST", one + "/updates", viewerTok, `{"status":"identified","body":"x"}`, 403, tocsin.EFORBIDDEN, ""},
		{"edit as viewer", "PUT", upd, viewerTok, `{"body":"x"}`, 403, tocsin.EFORBIDDEN, ""},
		{"publish as viewer", "POST", one + "/publish", viewerTok, "", 403, tocsin.EFORBIDDEN, ""},
		{"unknown service", "POST", "/api/v1/incidents", comm, `{"title":"x","services":[{"id":999999,"status":"major_outage"}],"status":"investigating","body":"x"}`, 400, tocsin.EINVALID, "there is no service 999999"},
		{"service twice", "POST", "/api/v1/incidents", comm, fmt.Sprintf(`{"title":"x","services":[{"id":%d,"status":"major_outage"},{"id":%[1]d,"status":"major_outage"}],"status":"investigating","body":"x"}`, svc.ID), 400, tocsin.EINVALID, "twice"},
		{"bad service status", "POST", "/api/v1/incidents", comm, fmt.Sprintf(`{"title":"x","services":[{"id":%d,"status":"down"}],"status":"investigating","body":"x"}`, svc.ID), 400, tocsin.EINVALID, "down"},
		{"no title", "POST", "/api/v1/incidents", comm, `{"status":"investigating","body":"x"}`, 400, tocsin.EINVALID, "title"},
		{"bad impact", "POST", "/api/v1/incidents", comm, `{"title":"x","impact":"huge","status":"investigating","body":"x"}`, 400, tocsin.EINVALID, "huge"},
		{"future", "POST", "/api/v1/incidents", comm, `{"title":"x","status":"investigating","body":"x","display_at":"` + future + `"}`, 400, tocsin.EINVALID, "future"},
		{"bad time", "POST", one + "/updates", comm, `{"status":"identified","body":"x","display_at":"yesterday"}`, 400, tocsin.EINVALID, "yesterday"},
		{"unknown field", "POST", one + "/updates", comm, `{"status":"identified","body":"x","author":"me"}`, 400, tocsin.EINVALID, "unknown field"},
		{"no body", "POST", one + "/updates", comm, `{"status":"identified"}`, 400, tocsin.EINVALID, "message"},
		{"unknown incident", "POST", "/api/v1/incidents/999999/updates", comm, `{"status":"identified","body":"x"}`, 404, tocsin.ENOTFOUND, "does not exist"},
		{"read unknown", "GET", "/api/v1/incidents/999999", viewerTok, "", 404, tocsin.ENOTFOUND, ""},
		{"edit unknown", "PUT", "/api/v1/updates/999999", comm, `{"body":"x"}`, 404, tocsin.ENOTFOUND, "does not exist"},
		{"edit empty", "PUT", upd, comm, `{"body":""}`, 400, tocsin.EINVALID, "message"},
		{"publish unknown", "POST", "/api/v1/incidents/999999/publish", comm, "", 404, tocsin.ENOTFOUND, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.incidentState()
			r := e.call(tt.method, tt.path, tt.token, tt.body)
			apiError(t, r, tt.status, tt.code)
			if !strings.Contains(r.Body, tt.message) {
				t.Errorf("message lacks %q: %s", tt.message, r.Body)
			}
			if e.incidentState() != before {
				t.Error("a refused request wrote")
			}
		})
	}
}
