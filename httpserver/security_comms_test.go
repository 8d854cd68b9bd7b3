package httpserver

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// commsRoom is a security incident with a lead, a communications lead and
// a scribe, on the simulated Friday 2026-11-20 16:40 UTC (the store on the
// server's clock).
type commsRoom struct {
	e                                *testEnv
	id                               int64
	lead, comms, scribe, approver    *testUser
	leadB, commsB, scribeB, approveB *browser
}

func newCommsRoom(t *testing.T, e *testEnv) *commsRoom {
	t.Helper()
	e.clock.mu.Lock()
	e.clock.t = time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
	e.clock.mu.Unlock()
	e.store.SetClock(e.clock.Now)
	t.Cleanup(func() { e.store.SetClock(nil) })
	c := &commsRoom{e: e,
		lead:     e.createUser("lead@example.org", tocsin.RoleResponder),
		comms:    e.createUser("comms@example.org", tocsin.RoleCommunicator),
		scribe:   e.createUser("scribe@example.org", tocsin.RoleResponder, tocsin.RoleApprover),
		approver: e.createUser("approver@example.org", tocsin.RoleApprover),
	}
	inc := &tocsin.SecurityIncident{Title: "Secret bucket acme-backups listable", Severity: tocsin.SEV1, Kind: tocsin.KindDataExposure}
	if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, inc); err != nil {
		t.Fatal(err)
	}
	c.id = inc.ID
	for role, u := range map[tocsin.IncidentRole]*testUser{tocsin.RoleLead: c.lead, tocsin.RoleComms: c.comms, tocsin.RoleScribe: c.scribe} {
		if err := e.store.AssignSecurityRole(e.ctx, tocsin.CLI, inc.ID, role, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	c.leadB, c.commsB = e.signedIn(c.lead, "127.0.0.1"), e.signedIn(c.comms, "127.0.0.1")
	c.scribeB, c.approveB = e.signedIn(c.scribe, "127.0.0.1"), e.signedIn(c.approver, "127.0.0.1")
	return c
}

func (c *commsRoom) createPublic(t *testing.T) {
	t.Helper()
	r := c.commsB.post(roomPath(c.id, "public-incident"), url.Values{"title": {"Storage: files listed publicly"}, "impact": {"minor"},
		"status": {"investigating"}, "body": {"We are investigating a storage exposure."}, "publish": {"1"}})
	if r.Status != http.StatusOK || !strings.Contains(r.Text, i18n.T("en", "comms.linked")) {
		t.Fatalf("create the public incident: %d\n%s", r.Status, r.Text)
	}
}

// TestSecurityRoomPublicIncident: the communications lead creates the
// public incident from the room and publishes its updates; they reach the
// public JSON; nobody else of the room speaks; the private title stays
// private; the cadence shows.
func TestSecurityRoomPublicIncident(t *testing.T) {
	e := newTestEnv(t)
	c := newCommsRoom(t, e)

	// Refusals leave everything as it was.
	refusals := []struct {
		name   string
		b      *browser
		action string
		form   url.Values
		status int
		shows  string
	}{
		{"scribe links", c.scribeB, "public-incident", url.Values{"title": {"x"}, "status": {"investigating"}, "body": {"x"}}, 403, ""},
		{"no public incident yet", c.commsB, "public-updates", url.Values{"status": {"identified"}, "body": {"x"}}, 404, ""},
		{"no title", c.commsB, "public-incident", url.Values{"title": {" "}, "status": {"investigating"}, "body": {"kept text"}}, 400, "kept text"},
		{"unknown incident", c.commsB, "public-incident", url.Values{"incident": {"999999"}}, 400, i18n.T("en", "comms.incident_unknown", 999999)},
		{"not a number", c.commsB, "public-incident", url.Values{"incident": {"abc"}}, 400, i18n.T("en", "comms.incident_number")},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			before := e.securityState()
			r := tt.b.post(roomPath(c.id, tt.action), tt.form)
			if r.Status != tt.status || !strings.Contains(r.Text, tt.shows) {
				t.Errorf("status %d, want %d showing %q:\n%s", r.Status, tt.status, tt.shows, r.Text)
			}
			if after := e.securityState(); after != before {
				t.Errorf("a refusal changed the state")
			}
		})
	}

	// The create form never offers the private title.
	room := c.commsB.get(roomPath(c.id, ""))
	if strings.Contains(room.Body, `value="Secret bucket`) {
		t.Error("the public incident's form is filled with the private title")
	}
	if !strings.Contains(c.scribeB.get(roomPath(c.id, "")).Text, i18n.T("en", "comms.only_linker")) {
		t.Error("the scribe is not told who links the public incident")
	}

	c.createPublic(t)
	link, err := e.store.PublicLink(e.ctx, c.id)
	if err != nil || link.Title != "Storage: files listed publicly" || !link.Published {
		t.Fatalf("link = %+v, %v", link, err)
	}
	public := e.publicPage("/api/v2/incidents.json")
	if !strings.Contains(public, "Storage: files listed publicly") || strings.Contains(public, "acme-backups") {
		t.Errorf("public JSON:\n%s", public)
	}

	// Only the communications lead publishes: not the scribe, not the lead.
	for _, b := range []*browser{c.scribeB, c.leadB} {
		r := b.post(roomPath(c.id, "public-updates"), url.Values{"status": {"identified"}, "body": {"Not mine to say."}})
		if r.Status != http.StatusForbidden {
			t.Errorf("publish by someone else: %d", r.Status)
		}
	}
	if r := c.scribeB.get(roomPath(c.id, "")); !strings.Contains(r.Text, i18n.T("en", "comms.only_speaker")) || strings.Contains(r.Body, `action="`+roomPath(c.id, "public-updates")) {
		t.Error("the scribe sees the publish form")
	}

	e.clock.Advance(25 * time.Minute)
	r := c.commsB.post(roomPath(c.id, "public-updates"), url.Values{"status": {"identified"}, "body": {"The listing is closed; we are reviewing the access logs."}})
	if r.Status != http.StatusOK || !strings.Contains(r.Text, i18n.T("en", "comms.published")) {
		t.Fatalf("publish: %d\n%s", r.Status, r.Text)
	}
	// 17:05 UTC is 18:05 in Paris; the next update is due at 19:05.
	for _, want := range []string{i18n.T("en", "comms.text.update", "Identified"), "The listing is closed; we are reviewing the access logs.",
		i18n.T("en", "comms.ago", "0 s", "2026-11-20 18:05 CET"), "2026-11-20 19:05 CET"} {
		if !strings.Contains(r.Text, want) {
			t.Errorf("room lacks %q", want)
		}
	}
	public = e.publicPage("/api/v2/incidents.json")
	if !strings.Contains(public, "The listing is closed; we are reviewing the access logs.") || !strings.Contains(public, `"status":"identified"`) {
		t.Errorf("the update is not in the public JSON:\n%s", public)
	}
	if !strings.Contains(e.publicPage("/en/"), "The listing is closed") {
		t.Error("the update is not on the status page")
	}
	pub := getIncident(t, e, link.IncidentID)
	if len(pub.Updates) != 2 || pub.Updates[0].Author != "comms@example.org" {
		t.Errorf("public incident updates: %+v", pub.Updates)
	}

	// Silence: 70 minutes later the room says the update is overdue.
	e.clock.Advance(70 * time.Minute)
	if r := c.scribeB.get(roomPath(c.id, "")); !strings.Contains(r.Text, i18n.T("en", "comms.overdue", "10 min")) ||
		!strings.Contains(r.Text, i18n.T("en", "comms.ago", "1 h 10 min", "2026-11-20 18:05 CET")) {
		t.Errorf("cadence state missing:\n%s", r.Text)
	}
	// A cadence of its own, set by the lead.
	if r := c.leadB.post(roomPath(c.id, "cadence"), url.Values{"minutes": {"3"}}); r.Status != http.StatusBadRequest ||
		!strings.Contains(r.Text, i18n.T("en", "comms.cadence_invalid")) {
		t.Errorf("bad cadence: %d", r.Status)
	}
	if r := c.scribeB.post(roomPath(c.id, "cadence"), url.Values{"minutes": {"30"}}); r.Status != http.StatusForbidden {
		t.Errorf("scribe sets the cadence: %d", r.Status)
	}
	if r := c.leadB.post(roomPath(c.id, "cadence"), url.Values{"minutes": {"30"}}); r.Status != http.StatusOK || !strings.Contains(r.Text, "overdue by 40 min") {
		t.Errorf("cadence 30: %d\n%s", r.Status, r.Text)
	}
}

// getIncident reads a public incident from the store.
func getIncident(t *testing.T, e *testEnv, id int64) *tocsin.Incident {
	t.Helper()
	inc, err := e.store.Incident(e.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// TestSecurityRoomPostmortem: assembled from the room, reviewed, refused
// to its author, approved by another approver, published; the published
// text's SHA-256 is in the audit entry, on the console, and recomputes.
func TestSecurityRoomPostmortem(t *testing.T) {
	e := newTestEnv(t)
	c := newCommsRoom(t, e)
	at := func(d time.Duration) *time.Time { v := e.clock.Now().Add(d); return &v }
	if err := e.store.SetKeyMoments(e.ctx, tocsin.CLI, c.id, tocsin.KeyMoments{ExposureStarted: at(-30 * 24 * time.Hour),
		Reported: at(-2 * time.Hour), Acknowledged: at(-time.Hour), Detected: at(-2 * time.Hour), Contained: at(-50 * time.Minute),
		ExposureEnded: at(-50 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.AddTimelineEntry(e.ctx, tocsin.CLI, c.id, &tocsin.SecurityEntry{Kind: tocsin.EntryObservation, Body: "attacker IP 203.0.113.9 seen"}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.RecordDecision(e.ctx, tocsin.CLI, c.id, &tocsin.Decision{Choice: "Make the bucket private", Why: "stops the listing at once", DecidedBy: c.lead.ID}); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetSecurityStatus(e.ctx, tocsin.CLI, c.id, tocsin.SecContained, ""); err != nil {
		t.Fatal(err)
	}
	if r := c.scribeB.post(roomPath(c.id, "postmortem-draft"), nil); r.Status != http.StatusConflict ||
		!strings.Contains(r.Text, i18n.T("en", "comms.link_first")) {
		t.Errorf("draft without a public incident: %d", r.Status)
	}
	c.createPublic(t)
	link, _ := e.store.PublicLink(e.ctx, c.id)
	e.clock.Advance(10 * time.Minute)
	if r := c.commsB.post(roomPath(c.id, "public-updates"), url.Values{"status": {"resolved"}, "body": {"The bucket is private again."}}); r.Status != http.StatusOK {
		t.Fatalf("resolve: %d", r.Status)
	}
	if r := c.commsB.post(roomPath(c.id, "postmortem-draft"), nil); r.Status != http.StatusForbidden {
		t.Errorf("a communicator (not a responder) drafts: %d", r.Status)
	}

	r := c.scribeB.post(roomPath(c.id, "postmortem-draft"), nil)
	if r.Status != http.StatusSeeOther || r.location() != fmt.Sprintf("/console/incidents/%d#postmortem", link.IncidentID) {
		t.Fatalf("draft: %d %s\n%s", r.Status, r.location(), r.Text)
	}
	pm, err := e.store.Postmortem(e.ctx, link.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, te := range pm.Timeline {
		lines = append(lines, te.Text)
	}
	timeline := strings.Join(lines, "\n")
	draft := pm.Summary + pm.Impact + pm.Changes + timeline
	for _, want := range []string{"Storage: files listed publicly", "Time to acknowledge: 1 h 00 min", "Time to contain: 1 h 10 min",
		"Exposure duration: 29 d 23 h", "Decision: Make the bucket private", "stops the listing at once", "Response status: Contained",
		"Public update: The bucket is private again.", "Exposure started", "Contained"} {
		if !strings.Contains(draft, want) {
			t.Errorf("draft lacks %q:\n%s", want, draft)
		}
	}
	for _, private := range []string{"acme-backups", "203.0.113.9", "lead@example.org"} {
		if strings.Contains(draft, private) {
			t.Errorf("draft leaks %q", private)
		}
	}
	if !pm.ContributedBy(fmt.Sprintf("user:%d", c.scribe.ID)) || pm.Status != tocsin.PostmortemDraft {
		t.Errorf("post-mortem = %+v", pm)
	}
	if r := c.scribeB.post(roomPath(c.id, "postmortem-draft"), nil); r.Status != http.StatusConflict {
		t.Errorf("second draft: %d", r.Status)
	}

	// The scribe assembled it: as an approver they may not approve it.
	pmPath := fmt.Sprintf("/console/incidents/%d/postmortem", link.IncidentID)
	if r := c.scribeB.post(pmPath+"/approve", url.Values{"revision": {"1"}}); r.Status != http.StatusForbidden ||
		!strings.Contains(r.Text, i18n.T("en", "postmortems.own_text")) {
		t.Errorf("approval by the author: %d", r.Status)
	}
	if r := c.approveB.post(pmPath+"/approve", url.Values{"revision": {"1"}}); r.Status != http.StatusOK {
		t.Fatalf("approve: %d\n%s", r.Status, r.Text)
	}
	if r := c.commsB.post(pmPath+"/publish", nil); r.Status != http.StatusOK {
		t.Fatalf("publish: %d\n%s", r.Status, r.Text)
	}
	published, err := e.store.Postmortem(e.ctx, link.IncidentID)
	if err != nil {
		t.Fatal(err)
	}
	digest := published.Digest()
	es, err := e.store.AuditEntries(e.ctx, tocsin.AuditFilter{Action: "postmortem.publish", Limit: 1})
	if err != nil || len(es) != 1 || !strings.HasSuffix(es[0].After, " sha256="+digest) || published.PublishedSHA256 != digest {
		t.Fatalf("audit %+v (%v), column %q, recomputed %s", es, err, published.PublishedSHA256, digest)
	}
	for _, page := range []string{fmt.Sprintf("/console/incidents/%d", link.IncidentID), roomPath(c.id, "")} {
		if r := c.scribeB.get(page); !strings.Contains(r.Text, digest) {
			t.Errorf("%s does not show the digest", page)
		}
	}
	if !strings.Contains(e.publicPage(fmt.Sprintf("/en/incidents/%d/postmortem/", link.IncidentID)), "Make the bucket private") {
		t.Error("the post-mortem is not on the status page")
	}
	// Frozen.
	if r := c.scribeB.post(pmPath, url.Values{"summary": {"Rewritten"}}); r.Status != http.StatusConflict {
		t.Errorf("edit after publication: %d", r.Status)
	}
	if again, _ := e.store.Postmortem(e.ctx, link.IncidentID); again.Digest() != digest {
		t.Error("the published text changed")
	}
}

// TestSecurityCommsAPI: a communicator token publishes from the room;
// a responder token may not.
func TestSecurityCommsAPI(t *testing.T) {
	e := newTestEnv(t)
	c := newCommsRoom(t, e)
	c.createPublic(t)
	comm, _ := e.createToken("comms", tocsin.RoleCommunicator)
	resp, _ := e.createToken("resp", tocsin.RoleResponder)
	path := fmt.Sprintf("/api/v1/security-incidents/%d/public-updates", c.id)
	apiError(t, e.call(http.MethodPost, path, resp, `{"status":"identified","body":"x"}`), http.StatusForbidden, tocsin.EFORBIDDEN)
	r := e.call(http.MethodPost, path, comm, `{"status":"identified","body":"Found it."}`)
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `"status":"identified"`) || !strings.Contains(r.Body, `"next_due_at":"2026-11-20T17:40:00Z"`) {
		t.Fatalf("publish: %d %s", r.Status, r.Body)
	}
	if !strings.Contains(e.publicPage("/api/v2/incidents.json"), "Found it.") {
		t.Error("the update is not in the public JSON")
	}
	if r := e.call(http.MethodGet, fmt.Sprintf("/api/v1/security-incidents/%d/public-incident", c.id), resp, ""); r.Status != http.StatusOK ||
		r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("read: %d %v", r.Status, r.Header)
	}
}
