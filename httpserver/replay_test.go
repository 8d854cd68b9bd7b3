package httpserver

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/deadline"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/intake"
	"github.com/tocsin-org/tocsin/internal/testpeer"
	"github.com/tocsin-org/tocsin/notify"
	"github.com/tocsin-org/tocsin/runbooks"
)

// The incident this replays: a finder warned a host, on a Friday at 17:40
// Paris time, that its media bucket listed its files to anyone. Nobody read
// the warning until Saturday 12:04; the fix then took 11 minutes. Here the
// same warning arrives by e-mail at the same moment, on a simulated clock,
// and goes through tocsin from intake to the published post-mortem.
const bucketWarning = `From: Finder <finder@example.net>
To: security@example.org
Subject: Your media bucket lists its files to anyone
Message-ID: <bucket-warning@example.net>
Date: Fri, 20 Nov 2026 17:40:00 +0100
Content-Type: text/plain; charset=utf-8

Hello, https://media.example.org/ answers a ListObjects request without
credentials: every uploaded file, including private attachments, is listed.
`

// fridayEvening is 17:40 in Paris on Friday 20 November 2026.
var fridayEvening = time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)

// replay is the test environment on the simulated clock, with the people
// of a small host.
type replay struct {
	*testEnv
	lead, comms, approver *testUser
	leadToken, commsToken string
	approverToken         string
	// duties are the deadline worker's, as serve lists them, ticked by
	// the test at the simulated times.
	duties *deadline.Worker
}

func newReplay(t *testing.T) *replay {
	e := newTestEnv(t)
	e.clock.mu.Lock()
	e.clock.t = fridayEvening
	e.clock.mu.Unlock()
	e.store.SetClock(e.clock.Now)
	r := &replay{testEnv: e}
	r.lead = e.createUser("lea@example.org", tocsin.RoleResponder)
	r.comms = e.createUser("camille@example.org", tocsin.RoleCommunicator, tocsin.RoleResponder)
	r.approver = e.createUser("alix@example.org", tocsin.RoleApprover)
	r.leadToken, _ = e.createToken("lea", tocsin.RoleResponder)
	r.commsToken, _ = e.createToken("camille", tocsin.RoleCommunicator, tocsin.RoleResponder)
	r.approverToken, _ = e.createToken("alix", tocsin.RoleApprover)
	if _, err := runbooks.Load(e.ctx, e.store, tocsin.System, ""); err != nil {
		t.Fatal(err)
	}
	// On call: Léa this week, then Camille; nobody answering for 15
	// minutes escalates to Camille.
	e.store.SetPageComposer(notify.Pages{BaseURL: e.ts.URL, Key: e.box.DeriveKey(notify.PageAckKeyLabel), Location: e.srv.loc})
	paris, _ := time.LoadLocation("Europe/Paris")
	rota := &tocsin.Rota{Name: "Astreinte", Zone: "Europe/Paris", Start: time.Date(2026, 11, 16, 9, 0, 0, 0, paris), PeriodDays: 7, Members: []int64{r.lead.ID, r.comms.ID}}
	if err := e.store.SaveRota(e.ctx, tocsin.CLI, rota); err != nil {
		t.Fatal(err)
	}
	pol := &tocsin.EscalationPolicy{Levels: []tocsin.EscalationLevel{{RotaID: rota.ID}, {UserIDs: []int64{r.comms.ID}}}}
	if err := e.store.SetEscalationPolicy(e.ctx, tocsin.CLI, pol); err != nil {
		t.Fatal(err)
	}
	r.duties = &deadline.Worker{Duties: []deadline.Duty{
		deadline.Escalation(e.store),
		runbooks.Reminders(e.store, e.ts.URL, e.srv.loc),
		deadline.Cadence(e.store, e.cfg.Comms.Cadence, e.ts.URL, e.srv.loc),
		deadline.BreachReminders(e.store, nil, "en", e.ts.URL, e.srv.loc),
	}}
	return r
}

// at moves the simulated clock to a Paris wall-clock time of the weekend.
func (r *replay) at(day, hour, minute int) {
	r.t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		r.t.Fatal(err)
	}
	to := time.Date(2026, 11, day, hour, minute, 0, 0, paris)
	if to.Before(r.clock.Now()) {
		r.t.Fatalf("the clock cannot go back to %s", to)
	}
	r.clock.Advance(to.Sub(r.clock.Now()))
}

// pagesTo returns the pages sent to an address.
func (r *replay) pagesTo(to string) []*tocsin.Message {
	var out []*tocsin.Message
	for _, m := range r.messages() {
		if strings.HasPrefix(m.Key, "page:") && m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// tick runs the deadline duties at the simulated now.
func (r *replay) tick() {
	r.t.Helper()
	if _, err := r.duties.Tick(r.ctx, r.clock.Now()); err != nil {
		r.t.Fatal(err)
	}
}

// post sends a JSON API request and fails the test unless it succeeds.
func (r *replay) post(token, path string, body any) map[string]any {
	r.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		r.t.Fatal(err)
	}
	resp := r.call("POST", path, token, string(b))
	if resp.Status >= 300 {
		r.t.Fatalf("POST %s = %d: %s", path, resp.Status, resp.Body)
	}
	var out map[string]any
	if resp.Body != "" {
		if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
			r.t.Fatalf("POST %s: %v in %s", path, err, resp.Body)
		}
	}
	return out
}

func (r *replay) get(token, path string) map[string]any {
	r.t.Helper()
	resp := r.call("GET", path, token, "")
	if resp.Status != 200 {
		r.t.Fatalf("GET %s = %d: %s", path, resp.Status, resp.Body)
	}
	var out map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		r.t.Fatalf("GET %s: %v in %s", path, err, resp.Body)
	}
	return out
}

// intakeMail delivers raw to a real Dovecot mailbox and has the intake
// worker read it, as serve does every poll.
func (r *replay) intakeMail(raw string) *tocsin.Signal {
	r.t.Helper()
	peer := testpeer.StartIMAP(r.t)
	peer.Deliver(r.t, []byte(strings.ReplaceAll(raw, "\n", "\r\n")))
	host, port, _ := net.SplitHostPort(peer.Addr)
	n, _ := strconv.Atoi(port)
	w, err := intake.NewWorker(r.store, intake.IMAPConfig{
		Host: host, Port: n, TLS: "starttls", Username: peer.Username, Password: peer.Password,
		TLSConfig: &tls.Config{RootCAs: peer.RootCAs}, Poll: time.Hour,
	}, nil)
	if err != nil {
		r.t.Fatal(err)
	}
	if got, err := w.Poll(r.ctx); err != nil || got != 1 {
		r.t.Fatalf("intake Poll = %d, %v; want 1 signal", got, err)
	}
	list := r.signals()
	if len(list) != 1 {
		r.t.Fatalf("%d signals, want 1", len(list))
	}
	return list[0]
}

func TestReplayBucketListingIncident(t *testing.T) {
	r := newReplay(t)

	// Friday 17:40: the warning arrives by e-mail.
	sig := r.intakeMail(bucketWarning)
	if !sig.ReceivedAt.Equal(fridayEvening) || sig.State != tocsin.SignalOpen {
		t.Fatalf("signal received %s in state %s, want open at %s", sig.ReceivedAt, sig.State, fridayEvening)
	}

	// Léa, on call, is paged at once; she does not answer, and at 17:55
	// the page escalates to Camille, once however often the duties run.
	if n := len(r.pagesTo(r.lead.Email)); n != 1 {
		t.Fatalf("Léa got %d pages, want 1", n)
	}
	r.at(20, 17, 54)
	r.tick()
	if n := len(r.pagesTo(r.comms.Email)); n != 0 {
		t.Fatalf("Camille paged before the 15 minutes: %d", n)
	}
	r.at(20, 17, 55)
	r.tick()
	r.tick()
	camille := r.pagesTo(r.comms.Email)
	if len(camille) != 1 {
		t.Fatalf("Camille got %d pages at 17:55, want 1", len(camille))
	}

	// 17:58: Camille acknowledges with one click from the page.
	r.at(20, 17, 58)
	ack := ackLinkRe.FindString(camille[0].Body)
	b := r.browser("127.0.0.40")
	b.get(ack)
	if resp := b.post(ack, nil); resp.Status != http.StatusOK {
		t.Fatalf("acknowledging from the page: %d %s", resp.Status, resp.Text)
	}
	if got, err := r.store.Signal(r.ctx, sig.ID); err != nil || got.State != tocsin.SignalAcknowledged {
		t.Fatalf("signal after the acknowledgement: %+v, %v", got, err)
	}

	// 18:00: Camille opens the incident and names Léa, who has joined,
	// incident lead.
	r.at(20, 18, 0)
	inc := r.post(r.commsToken, fmt.Sprintf("/api/v1/signals/%d/open", sig.ID), map[string]any{
		"title": "Media bucket listable by anyone", "severity": "SEV2", "kind": "misconfiguration",
		"summary": "A finder reports that the media bucket answers ListObjects without credentials.",
	})
	id := int64(inc["id"].(float64))
	room := fmt.Sprintf("/api/v1/security-incidents/%d", id)
	if reported := inc["key_moments"].(map[string]any)["reported"]; reported != "2026-11-20T16:40:00Z" {
		t.Errorf("reported to us at %v, want the e-mail's arrival", reported)
	}
	if tta := inc["durations"].(map[string]any)["time_to_acknowledge_seconds"]; tta != float64(18*60) {
		t.Errorf("time to acknowledge %v s from the page's acknowledgement, want 1080", tta)
	}
	if got, err := r.store.Signal(r.ctx, sig.ID); err != nil || got.State != tocsin.SignalLinked || got.SecurityIncidentID == nil || *got.SecurityIncidentID != id {
		t.Fatalf("signal after opening the incident: %+v, %v", got, err)
	}

	// Roles.
	for _, g := range []struct {
		role string
		user *testUser
	}{{"lead", r.lead}, {"comms", r.comms}, {"scribe", r.lead}} {
		r.post(r.leadToken, room+"/roles", map[string]any{"role": g.role, "user_id": g.user.ID})
	}

	// The shipped runbook for world-readable object storage gives the
	// lead its first task, due 15 minutes later.
	var runbookID float64
	for _, rb := range r.get(r.leadToken, "/api/v1/runbooks")["runbooks"].([]any) {
		if rb := rb.(map[string]any); rb["slug"] == "public-object-storage" && rb["lang"] == "en" {
			runbookID = rb["id"].(float64)
		}
	}
	tasks := r.post(r.leadToken, room+"/runbooks", map[string]any{"runbook": runbookID})["tasks"].([]any)
	first := tasks[0].(map[string]any)
	if len(tasks) < 5 || first["owner_email"] != r.lead.Email || first["due_at"] != "2026-11-20T17:15:00Z" {
		t.Fatalf("applying the runbook gave %d tasks, the first %v", len(tasks), first)
	}

	// 18:02: the listing is confirmed; 18:03 the fix is decided; it is
	// done at 18:14.
	r.at(20, 18, 2)
	r.post(r.leadToken, room+"/timeline", map[string]any{"kind": "observation",
		"body": "Confirmed: an anonymous ListObjects on media returns 48,211 keys."})
	r.post(r.leadToken, room+"/status", map[string]any{"status": "investigating"})
	r.at(20, 18, 3)
	r.post(r.leadToken, room+"/decisions", map[string]any{
		"choice":     "Make the bucket private now, serve media through signed URLs",
		"options":    "Private bucket with signed URLs; a bucket policy denying ListBucket only; take media offline",
		"why":        "Listing exposed private attachments; signed URLs keep media working for members.",
		"decided_by": r.lead.ID,
	})
	r.at(20, 18, 14) // the fix took 11 minutes
	r.post(r.leadToken, room+"/status", map[string]any{"status": "contained"})
	r.at(20, 18, 16) // the first task is overdue: its owner is reminded once
	r.tick()
	r.tick()
	if got := r.messagesTo(r.lead.Email, "task:"); len(got) != 1 {
		t.Errorf("%d task reminders to the lead, want 1", len(got))
	}
	if resp := r.call("PATCH", fmt.Sprintf("%s/tasks/%d", room, int64(first["id"].(float64))), r.leadToken, `{"status":"done"}`); resp.Status != 200 {
		t.Fatalf("ticking the task: %d %s", resp.Status, resp.Body)
	}
	exposureStart := time.Date(2026, 11, 16, 9, 12, 0, 0, time.UTC) // from the bucket's policy history
	r.post(r.leadToken, room+"/moments", map[string]any{
		"exposure_started": exposureStart,
		"exposure_ended":   time.Date(2026, 11, 20, 17, 14, 0, 0, time.UTC),
		"detected":         fridayEvening,
		"reported":         fridayEvening,
		"acknowledged":     time.Date(2026, 11, 20, 16, 58, 0, 0, time.UTC),
		"contained":        time.Date(2026, 11, 20, 17, 14, 0, 0, time.UTC),
	})

	// Private attachments were listed: a personal data breach, known since
	// the listing was confirmed at 18:02. The GDPR clock runs to Monday
	// 18:02 and shows in the room.
	if resp := r.call("PUT", room+"/breach", r.leadToken, `{"answer":"yes","aware_at":"2026-11-20T17:02:00Z"}`); resp.Status != 200 {
		t.Fatalf("marking the breach: %d %s", resp.Status, resp.Body)
	}
	clock := r.get(r.leadToken, room+"/breach")["clocks"].([]any)[0].(map[string]any)
	if clock["deadline"] != "2026-11-23T17:02:00Z" {
		t.Errorf("GDPR deadline %v, want Monday 18:02 Paris", clock["deadline"])
	}
	if page := plain(r.signedIn(r.lead, "127.0.0.1").get(fmt.Sprintf("/console/security/%d", id))); !strings.Contains(page, "due 2026-11-23 18:02 CET") {
		t.Errorf("the room does not show the GDPR deadline:\n%s", page)
	}

	// Evidence: the access log extract that shows who listed the bucket,
	// uploaded, and the bucket's policy history, too large to move,
	// recorded by reference and hash. Its page shows the GDPR clock too.
	logLine := "203.0.113.9 - - [18/Nov/2026:03:12:44 +0000] \"GET /media?list-type=2 HTTP/1.1\" 200 913442\n"
	up := "--XYZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nAnonymous ListObjects requests, 16-20 Nov\r\n" +
		"--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"media-access.log\"\r\nContent-Type: text/plain\r\n\r\n" +
		logLine + "\r\n--XYZ--\r\n"
	req, err := http.NewRequest("POST", r.ts.URL+room+"/evidence", strings.NewReader(up))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+r.leadToken)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=XYZ")
	if resp := r.do(req); resp.Status != http.StatusCreated && resp.Status != http.StatusOK {
		t.Fatalf("uploading the log extract: %d %s", resp.Status, resp.Body)
	}
	ref := r.post(r.leadToken, room+"/evidence", map[string]any{"description": "Bucket policy history export",
		"location": "backup01:/srv/evidence/media-policy-history.json", "sha256": strings.Repeat("5e", 32)})
	sum := sha256.Sum256([]byte(logLine))
	items := r.get(r.leadToken, room+"/evidence")
	if list, _ := items["evidence"].([]any); len(list) != 2 || list[0].(map[string]any)["sha256"] != hex.EncodeToString(sum[:]) {
		t.Errorf("evidence %v, want the log extract with its SHA-256, then the reference", items)
	}
	evPage := plain(r.signedIn(r.lead, "127.0.0.1").get(fmt.Sprintf("/console/security/%d/evidence/%d", id, int64(ref["id"].(float64)))))
	if !strings.Contains(evPage, "due 2026-11-23 18:02 CET") || !strings.Contains(evPage, r.lead.Email) {
		t.Errorf("the evidence page lacks the GDPR clock or its custody log:\n%s", evPage)
	}

	// 18:20: the communications lead tells the public, without the
	// private title, and says it is fixed at 18:35.
	r.at(20, 18, 20)
	link := r.post(r.commsToken, room+"/public-incident", map[string]any{
		"title": "Media files were listable", "impact": "minor", "status": "identified", "publish": true,
		"body": "A setting let anyone list the files of our media storage. It is closed; we are checking what was read.",
	})
	pub := int64(link["incident_id"].(float64))
	r.at(20, 18, 35)
	r.post(r.commsToken, room+"/public-updates", map[string]any{"status": "resolved",
		"body": "The media storage no longer lists its files. Members whose private attachments were listed will hear from us."})
	if page := r.publicPage(fmt.Sprintf("/incidents/%d/", pub)); !strings.Contains(page, "no longer lists its files") ||
		strings.Contains(page, "Media bucket listable by anyone") {
		t.Errorf("the public incident page lacks the update or shows the private title:\n%s", page)
	}

	got := r.get(r.leadToken, room)
	d := got["durations"].(map[string]any)
	if tta, _ := d["time_to_acknowledge_seconds"].(float64); tta != 18*60 {
		t.Errorf("time to acknowledge %v s, want 1080", d["time_to_acknowledge_seconds"])
	}
	if ttc, _ := d["time_to_contain_seconds"].(float64); ttc != 34*60 {
		t.Errorf("time to contain %v s, want 2040", d["time_to_contain_seconds"])
	}

	// The room shows the time to acknowledge, in both languages.
	for _, lang := range []string{"en", "fr"} {
		b := r.signedIn(r.lead, "127.0.0.1")
		b.Header.Set("Accept-Language", lang)
		page := b.get(fmt.Sprintf("/console/security/%d", id))
		label, value := i18n.T(lang, "security.tta"), tocsin.FormatDuration(18*time.Minute)
		if !strings.Contains(page.Text, label) || !strings.Contains(page.Text, value) {
			t.Errorf("the %s room does not show %q %q", lang, label, value)
		}
	}

	// Sunday 18:02, 24 hours left: the lead and the approver are reminded
	// once; the approver records the decision to notify the authority.
	r.at(22, 18, 2)
	r.tick()
	r.tick()
	for _, u := range []*testUser{r.lead, r.approver} {
		if got := r.messagesTo(u.Email, "gdpr:"); len(got) != 1 {
			t.Errorf("%d GDPR reminders to %s, want 1", len(got), u.Email)
		}
	}
	r.at(22, 19, 0)
	r.post(r.leadToken, room+"/breach/decisions", map[string]any{"who": "authority", "notify": true, "decided_by": r.approver.ID,
		"why": "private attachments of members were listable for four days; the listing may have been read"})
	r.at(23, 6, 0) // 12 hours left: the decision is recorded, nothing more is sent
	r.tick()
	if got := r.messagesTo(r.lead.Email, "gdpr:"); len(got) != 1 {
		t.Errorf("%d GDPR reminders to the lead after the decision, want 1", len(got))
	}

	// The reminders sent are on the incident's timeline.
	var notified []string
	for _, e := range r.get(r.leadToken, room+"?limit=500")["timeline"].([]any) {
		if e := e.(map[string]any); e["kind"] == "notified" {
			notified = append(notified, fmt.Sprintf("%s to %s", e["subject"], e["new"]))
		}
	}
	// (By Sunday every task of the runbook still open is overdue.)
	gdpr := "gdpr to " + r.lead.Email + ", " + r.approver.Email
	reminders := slices.DeleteFunc(slices.Clone(notified), func(s string) bool { return s == gdpr })
	if len(notified)-len(reminders) != 1 || len(reminders) == 0 || slices.ContainsFunc(reminders, func(s string) bool { return s != "task to "+r.lead.Email }) {
		t.Errorf("notifications on the timeline %q, want task reminders to the lead and one %q", notified, gdpr)
	}

	// Monday: the lead assembles the post-mortem from the room; an approver
	// who wrote none of it approves; the communications lead publishes it.
	r.at(23, 10, 0)
	draft := r.post(r.leadToken, room+"/postmortem-draft", nil)
	if !strings.Contains(draft["impact"].(string), tocsin.FormatDuration(18*time.Minute)) {
		t.Errorf("the draft's impact does not give the time to acknowledge: %q", draft["impact"])
	}
	pm := fmt.Sprintf("/api/v1/incidents/%d/postmortem", pub)
	r.post(r.approverToken, pm+"/approve", map[string]any{"revision": draft["revision"]})
	published := r.post(r.commsToken, pm+"/publish", nil)
	digest, _ := published["published_sha256"].(string)
	if len(digest) != 64 {
		t.Fatalf("published post-mortem has no SHA-256: %v", published)
	}
	entries, err := r.store.AuditEntries(r.ctx, tocsin.AuditFilter{Action: "postmortem.publish"})
	if err != nil || len(entries) != 1 || !strings.Contains(entries[0].After, "sha256="+digest) {
		t.Errorf("the publication's audit entry does not record sha256=%s: %+v, %v", digest, entries, err)
	}
	if page := r.publicPage(fmt.Sprintf("/incidents/%d/postmortem/", pub)); !strings.Contains(page, "Make the bucket private now") {
		t.Errorf("the published post-mortem lacks the decision:\n%s", page)
	}
}
