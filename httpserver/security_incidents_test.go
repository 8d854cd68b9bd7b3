package httpserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

func roomPath(id int64, action string) string {
	if action == "" {
		return fmt.Sprintf("/console/security/%d", id)
	}
	return fmt.Sprintf("/console/security/%d/%s", id, action)
}

// securityState is what a refused request must leave unchanged: every
// security incident, every timeline, and the length of the audit log.
func (e *testEnv) securityState() string {
	e.t.Helper()
	list, err := e.store.SecurityIncidents(e.ctx, tocsin.SecurityIncidentFilter{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var b strings.Builder
	for _, inc := range list {
		es, _, err := e.store.Timeline(e.ctx, inc.ID, tocsin.TimelineFilter{Limit: 1000})
		if err != nil {
			e.t.Fatal(err)
		}
		j, _ := json.Marshal(struct {
			Inc *tocsin.SecurityIncident
			Es  []*tocsin.SecurityEntry
		}{inc, es})
		b.Write(j)
	}
	return fmt.Sprintf("%s audit=%d", b.String(), e.counts().Audit)
}

// TestConsoleSecurityRoom works an incident through the console as a
// responder: open it, give roles, set key moments, add entries and a
// decision, move it forward and back, close and reopen it, link a case.
func TestConsoleSecurityRoom(t *testing.T) {
	e := newTestEnv(t)
	ann := e.createUser("ann@example.org", tocsin.RoleResponder)
	bob := e.createUser("bob@example.org", tocsin.RoleResponder)
	b := e.signedIn(ann, "127.0.0.1")

	r := b.post("/console/security", url.Values{"title": {`Bucket <script>alert(1)</script>`}, "severity": {"SEV1"},
		"kind": {"data_exposure"}, "summary": {"<img src=x onerror=alert(1)>"}})
	if r.Status != http.StatusOK || !strings.Contains(r.Text, i18n.T("en", "security.created", "Bucket <script>alert(1)</script>")) {
		t.Fatalf("create: %d\n%s", r.Status, r.Text)
	}
	if strings.Contains(r.Body, "<script>alert") || strings.Contains(r.Body, "<img src=x") || !strings.Contains(r.Body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("title or summary not escaped:\n%s", r.Body)
	}
	list, err := e.store.SecurityIncidents(e.ctx, tocsin.SecurityIncidentFilter{})
	if err != nil || len(list) != 1 {
		t.Fatalf("incidents: %v %v", list, err)
	}
	id := list[0].ID
	if !strings.Contains(r.Text, e.cfg.Severities.Of("SEV1", "en")) {
		t.Error("the severity's definition from the configuration is not shown")
	}

	loc := e.srv.loc
	local := func(t time.Time) string { return t.In(loc).Format(dateTimeLocal) }
	now := time.Now().Truncate(time.Minute)
	steps := []struct {
		name, action string
		form         url.Values
		flash        string
		shows        []string
	}{
		{"lead", "roles", url.Values{"role": {"lead"}, "user": {fmt.Sprint(bob.ID)}}, "security.roles_saved",
			[]string{"Incident lead: bob@example.org", "Take the role from bob@example.org"}},
		{"scribe", "roles", url.Values{"role": {"scribe"}, "user": {fmt.Sprint(ann.ID)}}, "security.roles_saved", []string{"Scribe: ann@example.org"}},
		{"key moments", "moments", url.Values{
			"exposure_started": {local(now.Add(-30 * 24 * time.Hour))}, "reported": {local(now.Add(-19*time.Hour - 20*time.Minute))},
			"acknowledged": {local(now.Add(-1 * time.Hour))}, "detected": {local(now.Add(-20 * time.Hour))}, "contained": {local(now.Add(-49 * time.Minute))},
		}, "security.moments_saved", []string{"18 h 20 min", "19 h 11 min", "ongoing (since "}},
		{"observation", "timeline", url.Values{"kind": {"observation"}, "body": {"bucket listed <b>40,000</b> objects"}, "occurred_at": {local(now.Add(-45 * 24 * time.Hour))}},
			"security.entry_added", []string{"bucket listed <b>40,000</b> objects", "written "}},
		{"decision", "decisions", url.Values{"choice": {"make the bucket private"}, "options": {"private; delete it"}, "why": {"stops the listing at once"}, "decided_by": {fmt.Sprint(bob.ID)}},
			"security.decision_recorded", []string{"make the bucket private", "stops the listing at once", "bob@example.org"}},
		{"forward", "status", url.Values{"status": {"contained"}}, "security.status_changed", []string{"Triage → Contained"}},
		{"back with a reason", "status", url.Values{"status": {"investigating"}, "reason": {"a second bucket"}}, "security.status_changed",
			[]string{"Contained → Investigating", "a second bucket"}},
		{"close", "status", url.Values{"status": {"closed"}}, "security.status_changed", []string{"Reopen in status"}},
		{"reopen", "reopen", url.Values{"status": {"investigating"}, "reason": {"the key leaked again"}}, "security.reopened", []string{"the key leaked again"}},
		{"settings", "edit", url.Values{"title": {"Bucket world-listable"}, "severity": {"SEV2"}, "kind": {"misconfiguration"}, "summary": {"s"}}, "security.saved",
			[]string{"SEV1 → SEV2", "changed: title,summary,kind"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := b.post(roomPath(id, s.action), s.form)
			if r.Status != http.StatusOK || !strings.Contains(r.Text, i18n.T("en", s.flash)) {
				t.Fatalf("status %d, flash %q missing:\n%s", r.Status, i18n.T("en", s.flash), r.Text)
			}
			for _, want := range s.shows {
				if !strings.Contains(r.Text, want) {
					t.Errorf("page lacks %q", want)
				}
			}
		})
	}
	if strings.Contains(b.get(roomPath(id, "")).Body, "<b>40,000</b>") {
		t.Error("an entry's HTML is not escaped")
	}

	other := &tocsin.SecurityIncident{Title: "January case", Severity: tocsin.SEV3, Kind: tocsin.KindOther}
	if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, other); err != nil {
		t.Fatal(err)
	}
	r = b.post(roomPath(id, "links"), url.Values{"kind": {"duplicated_by"}, "other": {fmt.Sprintf("#%d", other.ID)}})
	if r.Status != http.StatusOK || !strings.Contains(r.Text, fmt.Sprintf(`Duplicated by <a href="/console/security/%d">#%d January case</a>`, other.ID, other.ID)) {
		t.Errorf("link: %d\n%s", r.Status, r.Text)
	}
	if r := b.get(roomPath(other.ID, "")); !strings.Contains(r.Text, fmt.Sprintf(`Duplicate of <a href="/console/security/%d">#%d Bucket world-listable</a>`, id, id)) {
		t.Errorf("the other end of the link is not shown:\n%s", r.Text)
	}

	// The timeline reads oldest first: the observation dated 45 days ago
	// comes before the exposure's start, 30 days ago.
	page := b.get(roomPath(id, "")).Text
	if i, j := strings.Index(page, "bucket listed"), strings.Index(page, "Exposure started: "); i < 0 || j < 0 || i > j {
		t.Errorf("timeline order: observation at %d, exposure start at %d", i, j)
	}

	// The list: open first, with the lead.
	r = b.get("/console/security")
	if !strings.Contains(r.Text, "Bucket world-listable") || !strings.Contains(r.Text, "bob@example.org") {
		t.Errorf("list:\n%s", r.Text)
	}

	// French.
	b.Header.Set("Accept-Language", "fr")
	r = b.get(roomPath(id, ""))
	for _, want := range []string{"Chronologie", "Délai de prise en charge", "Responsable de l'incident", "Confiné → Investigation", "Doublonné par"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("French page lacks %q", want)
		}
	}
}

// TestConsoleSecurityRefusals: bad input gets its message at its form,
// the typed text back, the right status, and nothing written.
func TestConsoleSecurityRefusals(t *testing.T) {
	e := newTestEnv(t)
	ann := e.createUser("ann@example.org", tocsin.RoleResponder)
	gone := e.createUser("gone@example.org", tocsin.RoleResponder)
	if err := e.store.DisableUser(e.ctx, tocsin.CLI, gone.ID); err != nil {
		t.Fatal(err)
	}
	inc := &tocsin.SecurityIncident{Title: "Leaked key", Severity: tocsin.SEV2, Kind: tocsin.KindDataExposure}
	if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, inc); err != nil {
		t.Fatal(err)
	}
	closed := &tocsin.SecurityIncident{Title: "Old", Severity: tocsin.SEV4, Kind: tocsin.KindOther}
	if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, closed); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetSecurityStatus(e.ctx, tocsin.CLI, closed.ID, tocsin.SecClosed, ""); err != nil {
		t.Fatal(err)
	}
	b := e.signedIn(ann, "127.0.0.1")
	local := func(d time.Duration) string { return time.Now().Add(d).In(e.srv.loc).Format(dateTimeLocal) }

	tests := []struct {
		name   string
		path   string
		form   url.Values
		status int
		msg    string
		typed  string
	}{
		{"no title", "/console/security", url.Values{"title": {" "}, "severity": {"SEV1"}, "kind": {"other"}, "summary": {"kept"}}, 400,
			i18n.T("en", "security.title_invalid"), ">kept</textarea>"},
		{"bad severity", "/console/security", url.Values{"title": {"x"}, "severity": {"SEV7"}, "kind": {"other"}}, 400,
			i18n.T("en", "security.severity_unknown", "SEV7"), ""},
		{"future observation", roomPath(inc.ID, "timeline"), url.Values{"kind": {"observation"}, "body": {"typed <i>text</i>"}, "occurred_at": {local(48 * time.Hour)}}, 400,
			i18n.T("en", "security.future"), "typed &lt;i&gt;text&lt;/i&gt;</textarea>"},
		{"empty observation", roomPath(inc.ID, "timeline"), url.Values{"kind": {"observation"}, "body": {" "}}, 400, i18n.T("en", "security.entry_empty"), ""},
		{"bad date", roomPath(inc.ID, "timeline"), url.Values{"kind": {"action"}, "body": {"x"}, "occurred_at": {"yesterday"}}, 400,
			i18n.T("en", "incidents.date_invalid", "yesterday"), ""},
		{"disabled account", roomPath(inc.ID, "roles"), url.Values{"role": {"comms"}, "user": {fmt.Sprint(gone.ID)}}, 400,
			i18n.T("en", "security.user_disabled", "gone@example.org"), ""},
		{"unknown account", roomPath(inc.ID, "roles"), url.Values{"role": {"comms"}, "user": {"999999"}}, 400, i18n.T("en", "security.user_unknown", 999999), ""},
		{"moments out of order", roomPath(inc.ID, "moments"), url.Values{"exposure_started": {local(-time.Hour)}, "exposure_ended": {local(-2 * time.Hour)}}, 400,
			"Exposure started cannot come after Exposure ended: check both times.", ""},
		{"moment in the future", roomPath(inc.ID, "moments"), url.Values{"detected": {local(3 * time.Hour)}}, 400,
			i18n.T("en", "security.moment_future", "Detected"), ""},
		{"same status", roomPath(inc.ID, "status"), url.Values{"status": {"triage"}}, 409, i18n.T("en", "security.status_same"), ""},
		{"closed moves", roomPath(closed.ID, "status"), url.Values{"status": {"recovered"}}, 409, i18n.T("en", "security.closed"), ""},
		{"reopen without reason", roomPath(closed.ID, "reopen"), url.Values{"status": {"investigating"}}, 400, i18n.T("en", "security.reopen_reason"), ""},
		{"self-link", roomPath(inc.ID, "links"), url.Values{"kind": {"related"}, "other": {fmt.Sprint(inc.ID)}}, 400, i18n.T("en", "security.link_self"), ""},
		{"link to nothing", roomPath(inc.ID, "links"), url.Values{"kind": {"related"}, "other": {"424242"}}, 400, i18n.T("en", "security.link_unknown_incident", 424242), ""},
		{"link not a number", roomPath(inc.ID, "links"), url.Values{"kind": {"related"}, "other": {"abc"}}, 400, i18n.T("en", "security.link_number"), ""},
		{"decision without why", roomPath(inc.ID, "decisions"), url.Values{"choice": {"revoke"}, "decided_by": {fmt.Sprint(ann.ID)}}, 400,
			i18n.T("en", "security.decision_why"), ">revoke</textarea>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.securityState()
			r := b.post(tt.path, tt.form)
			wantError(t, r, tt.status, tt.msg)
			if tt.typed != "" && !strings.Contains(r.Body, tt.typed) {
				t.Errorf("typed value %q not given back", tt.typed)
			}
			if after := e.securityState(); after != before {
				t.Errorf("a refused request changed the store:\n%s\n%s", before, after)
			}
		})
	}

	t.Run("unknown incident", func(t *testing.T) {
		for _, p := range []string{roomPath(424242, ""), roomPath(424242, "timeline")} {
			var r *response
			if strings.HasSuffix(p, "timeline") {
				r = b.post(p, url.Values{"kind": {"action"}, "body": {"x"}})
			} else {
				r = b.get(p)
			}
			if r.Status != http.StatusNotFound {
				t.Errorf("%s: %d, want 404", p, r.Status)
			}
		}
		if r := b.get(roomPath(inc.ID, "") + "?page=9"); r.Status != http.StatusNotFound {
			t.Errorf("page 9 of 1: %d", r.Status)
		}
	})

	t.Run("French message", func(t *testing.T) {
		b.Header.Set("Accept-Language", "fr")
		defer b.Header.Del("Accept-Language")
		r := b.post(roomPath(inc.ID, "moments"), url.Values{"exposure_started": {local(-time.Hour)}, "exposure_ended": {local(-2 * time.Hour)}})
		wantError(t, r, 400, "Début de l'exposition ne peut pas venir après Fin de l'exposition : vérifiez les deux heures.")
	})

	t.Run("viewer reads without forms", func(t *testing.T) {
		v := e.createUser("viewer@example.org", tocsin.RoleViewer)
		vb := e.signedIn(v, "127.0.0.1")
		r := vb.get(roomPath(inc.ID, ""))
		if r.Status != http.StatusOK || strings.Contains(r.Body, `action="`+roomPath(inc.ID, "timeline")+`"`) {
			t.Errorf("viewer's room: %d, forms shown: %v", r.Status, strings.Contains(r.Body, "/timeline\""))
		}
		if r := vb.post(roomPath(inc.ID, "timeline"), url.Values{"kind": {"action"}, "body": {"x"}}); r.Status != http.StatusForbidden {
			t.Errorf("viewer's entry: %d, want 403", r.Status)
		}
	})
}

// TestAPISecurityIncident drives the API through one incident and checks
// the computed durations and the refusals.
func TestAPISecurityIncident(t *testing.T) {
	e := newTestEnv(t)
	tok, _ := e.createToken("responder", tocsin.RoleResponder)
	lead := e.createUser("lead@example.org", tocsin.RoleResponder)
	r := e.call(http.MethodPost, "/api/v1/security-incidents", tok, `{"title":"Bucket","severity":"sev1","kind":"data_exposure"}`)
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	inc := decodeAs[securityJSON](t, r)
	path := fmt.Sprintf("/api/v1/security-incidents/%d", inc.ID)
	// Friday 17:40 the warning arrives; Saturday 12:04 someone reads it;
	// the fix takes 11 minutes.
	fri := time.Date(2026, 11, 20, 17, 40, 0, 0, e.srv.loc)
	moments := fmt.Sprintf(`{"reported":%q,"detected":%q,"acknowledged":%q,"contained":%q,"exposure_started":%q}`,
		fri.Format(time.RFC3339), fri.Format(time.RFC3339), fri.Add(18*time.Hour+24*time.Minute).Format(time.RFC3339),
		fri.Add(18*time.Hour+35*time.Minute).Format(time.RFC3339), fri.Add(-90*24*time.Hour).Format(time.RFC3339))
	r = e.call(http.MethodPost, path+"/moments", tok, moments)
	if r.Status != http.StatusOK {
		t.Fatalf("moments: %d %s", r.Status, r.Body)
	}
	got := decodeAs[securityJSON](t, r)
	if d := got.Durations; d.TimeToAcknowledge == nil || *d.TimeToAcknowledge != int64((18*time.Hour+24*time.Minute)/time.Second) ||
		d.TimeToContain == nil || *d.TimeToContain != int64((18*time.Hour+35*time.Minute)/time.Second) || !d.ExposureOngoing || d.Exposure != nil {
		t.Errorf("durations = %+v", d)
	}
	if r := e.call(http.MethodPost, path+"/roles", tok, fmt.Sprintf(`{"role":"lead","user_id":%d}`, lead.ID)); r.Status != http.StatusOK {
		t.Errorf("role: %d %s", r.Status, r.Body)
	}
	if err := e.store.DisableUser(e.ctx, tocsin.CLI, lead.ID); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"disabled account", http.MethodPost, path + "/roles", fmt.Sprintf(`{"role":"comms","user_id":%d}`, lead.ID), 400, tocsin.EINVALID},
		{"future entry", http.MethodPost, path + "/timeline", `{"kind":"action","body":"x","occurred_at":"2999-01-01T00:00:00Z"}`, 400, tocsin.EINVALID},
		{"unknown moment", http.MethodPost, path + "/moments", `{"noticed":"2026-01-01T00:00:00Z"}`, 400, tocsin.EINVALID},
		{"self-link", http.MethodPost, path + "/links", fmt.Sprintf(`{"kind":"related","other_id":%d}`, inc.ID), 400, tocsin.EINVALID},
		{"unknown incident", http.MethodGet, "/api/v1/security-incidents/424242", "", 404, tocsin.ENOTFOUND},
		{"reopen open", http.MethodPost, path + "/reopen", `{"reason":"x"}`, 409, tocsin.ECONFLICT},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := e.securityState()
			apiError(t, e.call(tt.method, tt.path, tok, tt.body), tt.status, tt.code)
			if after := e.securityState(); after != before {
				t.Errorf("a refused request changed the store")
			}
		})
	}
	got = decodeAs[securityJSON](t, e.call(http.MethodGet, path, tok, ""))
	if len(got.Roles) != 1 || !got.Roles[0].Disabled || got.TimelineTotal == nil || *got.TimelineTotal != 7 {
		t.Errorf("incident = %+v (timeline %v)", got.Roles, got.TimelineTotal)
	}
}

// TestConsoleSecurityTimelinePages: the room opens on the newest 200
// entries, oldest first; earlier pages hold the rest.
func TestConsoleSecurityTimelinePages(t *testing.T) {
	e := newTestEnv(t)
	ann := e.createUser("ann@example.org", tocsin.RoleResponder)
	inc := &tocsin.SecurityIncident{Title: "Long one", Severity: tocsin.SEV3, Kind: tocsin.KindOther}
	if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, inc); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-24 * time.Hour)
	for i := range 249 { // with "created" (dated now, so the newest), 250 entries
		entry := &tocsin.SecurityEntry{Kind: tocsin.EntryObservation, Body: fmt.Sprintf("entry %03d.", i), OccurredAt: start.Add(time.Duration(i) * time.Minute)}
		if err := e.store.AddTimelineEntry(e.ctx, tocsin.CLI, inc.ID, entry); err != nil {
			t.Fatal(err)
		}
	}
	b := e.signedIn(ann, "127.0.0.1")
	shown := func(r *response) int { return strings.Count(r.Body, `<li id="entry-`) }
	r := b.get(roomPath(inc.ID, ""))
	if shown(r) != roomPageSize || !strings.Contains(r.Text, "entry 248.") || strings.Contains(r.Text, "entry 049.") || !strings.Contains(r.Text, "entry 050.") {
		t.Errorf("newest page: %d entries", shown(r))
	}
	if i, j := strings.Index(r.Text, "entry 050."), strings.Index(r.Text, "entry 248."); i > j {
		t.Error("the newest page is not oldest first")
	}
	r = b.get(roomPath(inc.ID, "") + "?page=1")
	if shown(r) != 50 || !strings.Contains(r.Text, "entry 000.") || !strings.Contains(r.Text, "entry 049.") || !strings.Contains(r.Text, "Page 1 of 2") {
		t.Errorf("first page: %d entries", shown(r))
	}
}
