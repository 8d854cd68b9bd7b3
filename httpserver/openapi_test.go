package httpserver

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/tocsin-org/tocsin"
)

// loadOpenAPI fetches the document from the live server and validates it
// as an OpenAPI 3 document.
func loadOpenAPI(t *testing.T, e *testEnv) *openapi3.T {
	t.Helper()
	resp := e.call(http.MethodGet, "/api/v1/openapi.json", "", "")
	if resp.Status != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData([]byte(resp.Body))
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("not a valid OpenAPI 3 document: %v", err)
	}
	return doc
}

// apiCase is one call of a documented operation.
type apiCase struct {
	name       string
	path       string // concrete path, with query
	token      string
	body       string
	ctype      string // defaults to application/json when body is set
	wantStatus int
}

func TestOpenAPIDocument(t *testing.T) {
	e := newTestEnv(t)
	doc := loadOpenAPI(t, e)

	t.Run("operations are the API routes", func(t *testing.T) {
		var documented, routed []string
		for p, item := range doc.Paths.Map() {
			for m := range item.Operations() {
				documented = append(documented, m+" "+p)
			}
		}
		for _, rt := range e.srv.routeTable() {
			if rt.kind == api {
				routed = append(routed, rt.pattern)
			}
		}
		slices.Sort(documented)
		slices.Sort(routed)
		if !slices.Equal(documented, routed) {
			t.Errorf("documented operations differ from the API routes:\ndocumented %q\nrouted     %q", documented, routed)
		}
	})

	e.createUser("admin@example.org", tocsin.RoleAdmin) // accounts may be disabled only while an admin remains
	// The token of the successful calls holds every role an operation
	// needs: admin, communicator for service statuses and incidents,
	// responder and approver for post-mortems and security incidents.
	admin, _ := e.createToken("openapi-admin", tocsin.RoleAdmin, tocsin.RoleCommunicator, tocsin.RoleResponder, tocsin.RoleApprover)
	viewerTok, _ := e.createToken("openapi-viewer", tocsin.RoleViewer)
	target := e.createUser("target@example.org", tocsin.RoleResponder)
	_, victimTok := e.createToken("openapi-victim", tocsin.RoleResponder)
	user := fmt.Sprintf("/api/v1/users/%d", target.ID)
	svc := func(name string, configured bool) string {
		s := &tocsin.Service{Name: name}
		err := e.store.CreateService(e.ctx, tocsin.CLI, s)
		if configured {
			err = e.store.SyncConfigServices(e.ctx, tocsin.System, []*tocsin.Service{s})
		}
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("/api/v1/services/%d", s.ID)
	}
	// Deletion comes first in the walk: it gets a service of its own.
	service, doomed, configured := svc("Mail", false), svc("Wiki", false), svc("Mastodon", true)
	// Incidents: a draft that the walk publishes, updates and corrects, and
	// a resolved one that refuses updates.
	incidentOf := func(title string, status tocsin.IncidentStatus) *tocsin.Incident {
		inc := &tocsin.Incident{Title: title}
		if err := e.store.CreateIncident(e.ctx, tocsin.CLI, inc, &tocsin.Update{Status: status, Body: "Looking."}, nil); err != nil {
			t.Fatal(err)
		}
		return inc
	}
	draft, resolved := incidentOf("Mail slow", tocsin.IncidentInvestigating), incidentOf("Old outage", tocsin.IncidentResolved)
	incident := fmt.Sprintf("/api/v1/incidents/%d", draft.ID)
	// A published, resolved incident whose post-mortem someone else wrote:
	// the admin token approves it, then publishes it.
	at := time.Now()
	explained := &tocsin.Incident{Title: "Explained", PublishedAt: &at}
	if err := e.store.CreateIncident(e.ctx, tocsin.CLI, explained, &tocsin.Update{Status: tocsin.IncidentResolved, Body: "Done."}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SavePostmortem(e.ctx, tocsin.CLI, &tocsin.Postmortem{IncidentID: explained.ID, Summary: "A full disk."}); err != nil {
		t.Fatal(err)
	}
	pm := fmt.Sprintf("/api/v1/incidents/%d/postmortem", explained.ID)
	firstUpdate := fmt.Sprintf("/api/v1/updates/%d", draft.Updates[0].ID)
	serviceID := strings.TrimPrefix(service, "/api/v1/services/")
	// Signals: one the walk acknowledges then dismisses.
	sigFix := &tocsin.Signal{Source: tocsin.SourceForm, Subject: "Bucket lists its files", Body: "<b>see</b>", Contact: "finder@example.net"}
	if err := e.store.CreateSignal(e.ctx, tocsin.CLI, sigFix); err != nil {
		t.Fatal(err)
	}
	signal := fmt.Sprintf("/api/v1/signals/%d", sigFix.ID)
	// Security incidents: one worked through the walk, one to link to, and
	// a closed one to reopen.
	securityOf := func(title string, closed bool) string {
		inc := &tocsin.SecurityIncident{Title: title, Severity: tocsin.SEV2, Kind: tocsin.KindDataExposure}
		if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, inc); err != nil {
			t.Fatal(err)
		}
		if closed {
			if err := e.store.SetSecurityStatus(e.ctx, tocsin.CLI, inc.ID, tocsin.SecClosed, ""); err != nil {
				t.Fatal(err)
			}
		}
		return fmt.Sprintf("/api/v1/security-incidents/%d", inc.ID)
	}
	room, otherRoom, closedRoom, shutRoom := securityOf("Bucket listable", false), securityOf("Earlier case", false), securityOf("Old case", true), securityOf("Shut case", true)
	otherRoomID := strings.TrimPrefix(otherRoom, "/api/v1/security-incidents/")
	responderID := fmt.Sprint(e.createUser("lead@example.org", tocsin.RoleResponder).ID)
	// A breach, marked before the walk (GET comes before PUT in it).
	breached := securityOf("Customer list exposed", false)
	breachedID, _ := strconv.ParseInt(strings.TrimPrefix(breached, "/api/v1/security-incidents/"), 10, 64)
	if err := e.store.MarkBreach(e.ctx, tocsin.CLI, breachedID, tocsin.BreachYes, time.Time{}); err != nil {
		t.Fatal(err)
	}
	// Evidence on the room: a file and a reference; signals to open an
	// incident from and to link.
	roomID, _ := strconv.ParseInt(strings.TrimPrefix(room, "/api/v1/security-incidents/"), 10, 64)
	fileItem, err := e.srv.addEvidence(e.ctx, tocsin.CLI, roomID, evidenceInput{Description: "access log", File: &upload{Filename: "access.log", Content: []byte("GET /bucket\n")}})
	if err != nil {
		t.Fatal(err)
	}
	refItem, err := e.srv.addEvidence(e.ctx, tocsin.CLI, roomID, evidenceInput{Description: "disk image", Location: "backup01:/web3.img", SHA256: strings.Repeat("ab", 32)})
	if err != nil {
		t.Fatal(err)
	}
	fileEv, refEv := fmt.Sprintf("%s/evidence/%d", room, fileItem.ID), fmt.Sprintf("%s/evidence/%d", room, refItem.ID)
	signalOf := func(subject string) string {
		sig := &tocsin.Signal{Source: tocsin.SourceForm, Subject: subject, Body: "b"}
		if err := e.store.CreateSignal(e.ctx, tocsin.CLI, sig); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("/api/v1/signals/%d", sig.ID)
	}
	toOpen, toLink := signalOf("Leaked key"), signalOf("Same bucket")
	upload := "--XYZ\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nnginx log\r\n--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.log\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XYZ--\r\n"
	// Tasks: a runbook to apply, and a task the walk changes.
	rb := &tocsin.Runbook{Slug: "bucket", Markdown: "# Bucket\n- [ ] Make it private (owner: lead, due: 15m)\n"}
	if err := e.store.SaveRunbook(e.ctx, tocsin.CLI, rb); err != nil {
		t.Fatal(err)
	}
	task := &tocsin.Task{Title: "Read the access logs"}
	if err := e.store.AddTask(e.ctx, tocsin.CLI, roomID, task); err != nil {
		t.Fatal(err)
	}
	taskPath := fmt.Sprintf("%s/tasks/%d", room, task.ID)
	// The public side: one room already speaking through a public
	// incident, and the room above, which links one in the walk.
	speaking := securityOf("Speaking case", false)
	speakingID, _ := strconv.ParseInt(strings.TrimPrefix(speaking, "/api/v1/security-incidents/"), 10, 64)
	if err := e.store.CreatePublicIncident(e.ctx, tocsin.CLI, speakingID, &tocsin.Incident{Title: "Storage exposure", PublishedAt: &at},
		&tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "Looking."}, nil); err != nil {
		t.Fatal(err)
	}
	sub := fmt.Sprintf("/api/v1/subscribers/%d", e.confirmedSubscriber(t, "reader@example.org", "fr").ID)
	doomedSub := fmt.Sprintf("/api/v1/subscribers/%d", e.confirmedSubscriber(t, "leaver@example.org", "en").ID)
	hook := &tocsin.Webhook{URL: "https://hooks.example.org/doomed", AllServices: true, SecretSealed: []byte("sealed")}
	if err := e.store.CreateWebhook(e.ctx, tocsin.CLI, hook); err != nil {
		t.Fatal(err)
	}
	doomedHook := fmt.Sprintf("/api/v1/webhooks/%d", hook.ID)
	newUser := fmt.Sprintf(`{"email":"new@example.org","name":"New","roles":["responder"],"password":%q}`, testPassword)

	// Every documented operation gets at least a successful call with an
	// admin token; most get their error answers too. All are validated
	// against the document, status code included.
	cases := map[string][]apiCase{
		"GET /metrics": {
			{name: "ok", path: "/metrics", token: admin, wantStatus: 200},
			{name: "no token", path: "/metrics", wantStatus: 401},
		},
		"GET /api/v1/me": {
			{name: "ok", path: "/api/v1/me", token: admin, wantStatus: 200},
			{name: "bad token", path: "/api/v1/me", token: "tcn_nope", wantStatus: 401},
		},
		"GET /api/v1/users": {
			{name: "ok", path: "/api/v1/users", token: admin, wantStatus: 200},
			{name: "viewer", path: "/api/v1/users", token: viewerTok, wantStatus: 403},
		},
		"POST /api/v1/users": {
			{name: "ok", path: "/api/v1/users", token: admin, body: newUser, wantStatus: 201},
			{name: "taken", path: "/api/v1/users", token: admin, body: newUser, wantStatus: 409},
			{name: "weak password", path: "/api/v1/users", token: admin, body: `{"email":"weak@example.org","roles":["viewer"],"password":"password1234"}`, wantStatus: 400},
			{name: "text body", path: "/api/v1/users", token: admin, body: "email=x", ctype: "text/plain", wantStatus: 415},
			{name: "too large", path: "/api/v1/users", token: admin, body: `{"name":"` + strings.Repeat("a", maxJSONBytes) + `"}`, wantStatus: 413},
		},
		"GET /api/v1/users/{id}": {
			{name: "ok", path: user, token: admin, wantStatus: 200},
			{name: "missing", path: "/api/v1/users/999999", token: admin, wantStatus: 404},
		},
		"POST /api/v1/users/{id}/disable": {
			{name: "ok", path: user + "/disable", token: admin, wantStatus: 200},
			{name: "missing", path: "/api/v1/users/999999/disable", token: admin, wantStatus: 404},
		},
		"GET /api/v1/tokens": {
			{name: "ok", path: "/api/v1/tokens", token: admin, wantStatus: 200},
		},
		"POST /api/v1/tokens": {
			{name: "ok", path: "/api/v1/tokens", token: admin, body: `{"name":"ci","roles":["responder"]}`, wantStatus: 201},
			{name: "taken", path: "/api/v1/tokens", token: admin, body: `{"name":"ci","roles":["responder"]}`, wantStatus: 409},
			{name: "bad name", path: "/api/v1/tokens", token: admin, body: `{"name":"a b","roles":["responder"]}`, wantStatus: 400},
		},
		"DELETE /api/v1/tokens/{id}": {
			{name: "ok", path: fmt.Sprintf("/api/v1/tokens/%d", victimTok.ID), token: admin, wantStatus: 204},
			{name: "missing", path: "/api/v1/tokens/999999", token: admin, wantStatus: 404},
		},
		"GET /api/v1/services": {
			{name: "ok", path: "/api/v1/services", token: admin, wantStatus: 200},
			{name: "viewer", path: "/api/v1/services", token: viewerTok, wantStatus: 200},
			{name: "no token", path: "/api/v1/services", wantStatus: 401},
		},
		"POST /api/v1/services": {
			{name: "ok", path: "/api/v1/services", token: admin, body: `{"name":"Forum","group":"Social","description":"Discourse","link":"https://forum.example.org","position":2}`, wantStatus: 201},
			{name: "name only", path: "/api/v1/services", token: admin, body: `{"name":"Chat"}`, wantStatus: 201},
			{name: "taken", path: "/api/v1/services", token: admin, body: `{"name":"forum"}`, wantStatus: 409},
			{name: "bad link", path: "/api/v1/services", token: admin, body: `{"name":"Blog","link":"ftp://x"}`, wantStatus: 400},
			{name: "viewer", path: "/api/v1/services", token: viewerTok, body: `{"name":"Blog"}`, wantStatus: 403},
			{name: "text body", path: "/api/v1/services", token: admin, body: "name=x", ctype: "text/plain", wantStatus: 415},
		},
		"GET /api/v1/services/{id}": {
			{name: "ok", path: service, token: admin, wantStatus: 200},
			{name: "configured", path: configured, token: viewerTok, wantStatus: 200},
			{name: "missing", path: "/api/v1/services/999999", token: admin, wantStatus: 404},
		},
		"PUT /api/v1/services/{id}": {
			{name: "ok", path: service, token: admin, body: `{"name":"Mail","group":"Communication","position":1}`, wantStatus: 200},
			{name: "configured", path: configured, token: admin, body: `{"name":"Mastodon","group":"Social"}`, wantStatus: 409},
			{name: "bad position", path: service, token: admin, body: `{"name":"Mail","position":-1}`, wantStatus: 400},
			{name: "missing", path: "/api/v1/services/999999", token: admin, body: `{"name":"Ghost"}`, wantStatus: 404},
		},
		"DELETE /api/v1/services/{id}": {
			{name: "ok", path: doomed, token: admin, wantStatus: 204},
			{name: "configured", path: configured, token: admin, wantStatus: 409},
			{name: "missing", path: doomed, token: admin, wantStatus: 404},
		},
		"POST /api/v1/services/{id}/status": {
			{name: "ok", path: service + "/status", token: admin, body: `{"status":"major_outage"}`, wantStatus: 200},
			{name: "configured", path: configured + "/status", token: admin, body: `{"status":"under_maintenance"}`, wantStatus: 200},
			{name: "bad status", path: service + "/status", token: admin, body: `{"status":"down"}`, wantStatus: 400},
			{name: "missing", path: "/api/v1/services/999999/status", token: admin, body: `{"status":"operational"}`, wantStatus: 404},
			{name: "viewer", path: service + "/status", token: viewerTok, body: `{"status":"operational"}`, wantStatus: 403},
		},
		"GET /api/v1/incidents": {
			{name: "ok", path: "/api/v1/incidents", token: admin, wantStatus: 200},
			{name: "open", path: "/api/v1/incidents?open=true&limit=10", token: viewerTok, wantStatus: 200},
			{name: "bad open", path: "/api/v1/incidents?open=maybe", token: admin, wantStatus: 400},
			{name: "maintenances", path: "/api/v1/incidents?maintenance=true", token: viewerTok, wantStatus: 200},
			{name: "bad maintenance", path: "/api/v1/incidents?maintenance=soon", token: admin, wantStatus: 400},
		},
		"POST /api/v1/incidents": {
			{name: "ok", path: "/api/v1/incidents", token: admin, body: `{"title":"Wiki down","impact":"major","services":[{"id":` + serviceID + `,"status":"major_outage"}],"status":"identified","body":"The **disk** is full.","display_at":"2020-01-01T10:00:00Z","publish":true}`, wantStatus: 201},
			{name: "draft", path: "/api/v1/incidents", token: admin, body: `{"title":"Draft","status":"investigating","body":"Checking."}`, wantStatus: 201},
			{name: "unknown service", path: "/api/v1/incidents", token: admin, body: `{"title":"Ghost","services":[{"id":999999,"status":"major_outage"}],"status":"investigating","body":"x"}`, wantStatus: 400},
			{name: "viewer", path: "/api/v1/incidents", token: viewerTok, body: `{"title":"No","status":"investigating","body":"x"}`, wantStatus: 403},
			{name: "maintenance", path: "/api/v1/incidents", token: admin, body: `{"title":"Upgrade","services":[{"id":` + serviceID + `}],"scheduled_for":"2030-01-01T22:00:00+01:00","scheduled_until":"2030-01-02T01:00:00+01:00","body":"Planned.","publish":true}`, wantStatus: 201},
			{name: "window backwards", path: "/api/v1/incidents", token: admin, body: `{"title":"Upgrade","scheduled_for":"2030-01-01T22:00:00Z","scheduled_until":"2030-01-01T21:00:00Z","body":"x"}`, wantStatus: 400},
			{name: "bad time", path: "/api/v1/incidents", token: admin, body: `{"title":"Upgrade","scheduled_for":"tomorrow","scheduled_until":"2030-01-01T21:00:00Z","body":"x"}`, wantStatus: 400},
		},
		"PUT /api/v1/incidents/{id}": {
			{name: "ok", path: incident, token: admin, body: `{"title":"Mail slow, renamed","impact":"major"}`, wantStatus: 200},
			{name: "window on an incident", path: incident, token: admin, body: `{"title":"x","scheduled_for":"2030-01-01T22:00:00Z","scheduled_until":"2030-01-01T23:00:00Z"}`, wantStatus: 400},
			{name: "missing", path: "/api/v1/incidents/999999", token: admin, body: `{"title":"x"}`, wantStatus: 404},
			{name: "viewer", path: incident, token: viewerTok, body: `{"title":"x"}`, wantStatus: 403},
		},
		"GET /api/v1/incidents/{id}": {
			{name: "ok", path: incident, token: admin, wantStatus: 200},
			{name: "missing", path: "/api/v1/incidents/999999", token: admin, wantStatus: 404},
		},
		"POST /api/v1/incidents/{id}/publish": {
			{name: "ok", path: incident + "/publish", token: admin, wantStatus: 200},
			{name: "again", path: incident + "/publish", token: admin, wantStatus: 409},
			{name: "missing", path: "/api/v1/incidents/999999/publish", token: admin, wantStatus: 404},
		},
		"POST /api/v1/incidents/{id}/updates": {
			{name: "ok", path: incident + "/updates", token: admin, body: `{"status":"monitoring","body":"Fixed; watching."}`, wantStatus: 200},
			{name: "resolved", path: fmt.Sprintf("/api/v1/incidents/%d/updates", resolved.ID), token: admin, body: `{"status":"monitoring","body":"Again?"}`, wantStatus: 409},
			{name: "bad status", path: incident + "/updates", token: admin, body: `{"status":"fixed","body":"x"}`, wantStatus: 400},
			{name: "missing", path: "/api/v1/incidents/999999/updates", token: admin, body: `{"status":"monitoring","body":"x"}`, wantStatus: 404},
		},
		"GET /api/v1/incidents/{id}/postmortem": {
			{name: "ok", path: pm, token: admin, wantStatus: 200},
			{name: "none", path: incident + "/postmortem", token: viewerTok, wantStatus: 404},
		},
		"POST /api/v1/incidents/{id}/postmortem/approve": {
			{name: "stale", path: pm + "/approve", token: admin, body: `{"revision":7}`, wantStatus: 409},
			{name: "no revision", path: pm + "/approve", token: admin, body: `{}`, wantStatus: 400},
			{name: "ok", path: pm + "/approve", token: admin, body: `{"revision":1}`, wantStatus: 200},
			{name: "viewer", path: pm + "/approve", token: viewerTok, body: `{"revision":1}`, wantStatus: 403},
			{name: "missing", path: "/api/v1/incidents/999999/postmortem/approve", token: admin, body: `{"revision":1}`, wantStatus: 404},
		},
		"POST /api/v1/incidents/{id}/postmortem/publish": {
			{name: "ok", path: pm + "/publish", token: admin, wantStatus: 200},
			{name: "again", path: pm + "/publish", token: admin, wantStatus: 409},
			{name: "missing", path: "/api/v1/incidents/999999/postmortem/publish", token: admin, wantStatus: 404},
		},
		"PUT /api/v1/incidents/{id}/postmortem": {
			{name: "ok", path: incident + "/postmortem", token: admin, body: `{"summary":"Mail was slow.","timeline":[{"at":"2020-01-01T10:00:00Z","text":"Alert"}],"root_cause":"A full disk."}`, wantStatus: 200},
			{name: "published", path: pm, token: admin, body: `{"summary":"Rewritten."}`, wantStatus: 409},
			{name: "no summary", path: incident + "/postmortem", token: admin, body: `{"summary":" "}`, wantStatus: 400},
			{name: "missing", path: "/api/v1/incidents/999999/postmortem", token: admin, body: `{"summary":"x"}`, wantStatus: 404},
		},
		"PUT /api/v1/updates/{id}": {
			{name: "ok", path: firstUpdate, token: admin, body: `{"body":"Looking into it."}`, wantStatus: 204},
			{name: "empty", path: firstUpdate, token: admin, body: `{"body":" "}`, wantStatus: 400},
			{name: "missing", path: "/api/v1/updates/999999", token: admin, body: `{"body":"x"}`, wantStatus: 404},
		},
		"GET /api/v1/signals": {
			{name: "ok", path: "/api/v1/signals", token: admin, wantStatus: 200},
			{name: "open", path: "/api/v1/signals?state=open&limit=5", token: viewerTok, wantStatus: 200},
			{name: "bad state", path: "/api/v1/signals?state=closed", token: admin, wantStatus: 400},
		},
		"POST /api/v1/signals": {
			{name: "ok", path: "/api/v1/signals", token: admin, body: `{"subject":"TLS key in a public repository","body":"See commit 1234.","contact":"a@example.net"}`, wantStatus: 201},
			{name: "no subject", path: "/api/v1/signals", token: admin, body: `{"subject":" ","body":"x"}`, wantStatus: 400},
			{name: "viewer", path: "/api/v1/signals", token: viewerTok, body: `{"subject":"s","body":"b"}`, wantStatus: 403},
		},
		"GET /api/v1/signals/{id}": {
			{name: "ok", path: signal, token: admin, wantStatus: 200},
			{name: "missing", path: "/api/v1/signals/999999", token: admin, wantStatus: 404},
		},
		"POST /api/v1/signals/{id}/acknowledge": {
			{name: "ok", path: signal + "/acknowledge", token: admin, wantStatus: 200},
			{name: "again", path: signal + "/acknowledge", token: admin, wantStatus: 409},
			{name: "missing", path: "/api/v1/signals/999999/acknowledge", token: admin, wantStatus: 404},
		},
		"POST /api/v1/signals/{id}/dismiss": {
			{name: "no reason", path: signal + "/dismiss", token: admin, body: `{"reason":""}`, wantStatus: 400},
			{name: "ok", path: signal + "/dismiss", token: admin, body: `{"reason":"Our own test."}`, wantStatus: 200},
			{name: "again", path: signal + "/dismiss", token: admin, body: `{"reason":"Twice."}`, wantStatus: 409},
		},
		"GET /api/v1/security-incidents": {
			{name: "ok", path: "/api/v1/security-incidents", token: admin, wantStatus: 200},
			{name: "open", path: "/api/v1/security-incidents?open=true", token: viewerTok, wantStatus: 200},
			{name: "bad open", path: "/api/v1/security-incidents?open=maybe", token: admin, wantStatus: 400},
		},
		"POST /api/v1/security-incidents": {
			{name: "ok", path: "/api/v1/security-incidents", token: admin, body: `{"title":"Leaked DKIM key","summary":"<b>found</b> in a public repo","severity":"SEV1","kind":"data_exposure"}`, wantStatus: 201},
			{name: "bad severity", path: "/api/v1/security-incidents", token: admin, body: `{"title":"x","severity":"SEV9","kind":"other"}`, wantStatus: 400},
			{name: "viewer", path: "/api/v1/security-incidents", token: viewerTok, body: `{"title":"x","severity":"SEV1","kind":"other"}`, wantStatus: 403},
		},
		"GET /api/v1/security-incidents/{id}": {
			{name: "ok", path: room, token: admin, wantStatus: 200},
			{name: "paged", path: room + "?limit=1&offset=0", token: viewerTok, wantStatus: 200},
			{name: "bad limit", path: room + "?limit=x", token: admin, wantStatus: 400},
			{name: "missing", path: "/api/v1/security-incidents/999999", token: admin, wantStatus: 404},
		},
		"PUT /api/v1/security-incidents/{id}": {
			{name: "ok", path: room, token: admin, body: `{"title":"Bucket world-listable","summary":"s","severity":"SEV1","kind":"misconfiguration"}`, wantStatus: 200},
			{name: "bad kind", path: room, token: admin, body: `{"title":"x","severity":"SEV1","kind":"alien"}`, wantStatus: 400},
			{name: "missing", path: "/api/v1/security-incidents/999999", token: admin, body: `{"title":"x","severity":"SEV1","kind":"other"}`, wantStatus: 404},
		},
		"POST /api/v1/security-incidents/{id}/status": {
			{name: "ok", path: room + "/status", token: admin, body: `{"status":"contained"}`, wantStatus: 200},
			{name: "back without reason", path: room + "/status", token: admin, body: `{"status":"triage"}`, wantStatus: 400},
			{name: "closed", path: shutRoom + "/status", token: admin, body: `{"status":"triage","reason":"x"}`, wantStatus: 409},
			{name: "missing", path: "/api/v1/security-incidents/999999/status", token: admin, body: `{"status":"closed"}`, wantStatus: 404},
		},
		"POST /api/v1/security-incidents/{id}/reopen": {
			{name: "ok", path: closedRoom + "/reopen", token: admin, body: `{"status":"investigating","reason":"it leaked again"}`, wantStatus: 200},
			{name: "not closed", path: closedRoom + "/reopen", token: admin, body: `{"reason":"again"}`, wantStatus: 409},
		},
		"POST /api/v1/security-incidents/{id}/moments": {
			{name: "ok", path: room + "/moments", token: admin, body: `{"exposure_started":"2026-01-01T10:00:00Z","detected":"2026-02-01T17:40:00Z","acknowledged":"2026-02-02T12:04:00Z"}`, wantStatus: 200},
			{name: "order", path: room + "/moments", token: admin, body: `{"exposure_started":"2026-03-01T10:00:00Z","exposure_ended":"2026-02-01T10:00:00Z"}`, wantStatus: 400},
			{name: "future", path: room + "/moments", token: admin, body: `{"detected":"2999-01-01T00:00:00Z"}`, wantStatus: 400},
		},
		"POST /api/v1/security-incidents/{id}/timeline": {
			{name: "ok", path: room + "/timeline", token: admin, body: `{"kind":"observation","body":"the bucket lists 40,000 objects","occurred_at":"2026-02-01T17:40:00Z"}`, wantStatus: 200},
			{name: "future", path: room + "/timeline", token: admin, body: `{"kind":"action","body":"x","occurred_at":"2999-01-01T00:00:00Z"}`, wantStatus: 400},
			{name: "missing", path: "/api/v1/security-incidents/999999/timeline", token: admin, body: `{"kind":"action","body":"x"}`, wantStatus: 404},
		},
		"POST /api/v1/security-incidents/{id}/decisions": {
			{name: "ok", path: room + "/decisions", token: admin, body: `{"choice":"make the bucket private","options":"private; delete","why":"stops the listing at once","decided_by":` + responderID + `}`, wantStatus: 200},
			{name: "no why", path: room + "/decisions", token: admin, body: `{"choice":"x","decided_by":` + responderID + `}`, wantStatus: 400},
		},
		"POST /api/v1/security-incidents/{id}/roles": {
			{name: "ok", path: room + "/roles", token: admin, body: `{"role":"lead","user_id":` + responderID + `}`, wantStatus: 200},
			{name: "again", path: room + "/roles", token: admin, body: `{"role":"lead","user_id":` + responderID + `}`, wantStatus: 409},
			{name: "unknown user", path: room + "/roles", token: admin, body: `{"role":"lead","user_id":999999}`, wantStatus: 400},
		},
		"POST /api/v1/security-incidents/{id}/links": {
			{name: "ok", path: room + "/links", token: admin, body: `{"kind":"parent","other_id":` + otherRoomID + `}`, wantStatus: 200},
			{name: "again", path: room + "/links", token: admin, body: `{"kind":"related","other_id":` + otherRoomID + `}`, wantStatus: 409},
			{name: "self", path: room + "/links", token: admin, body: `{"kind":"related","other_id":` + strings.TrimPrefix(room, "/api/v1/security-incidents/") + `}`, wantStatus: 400},
		},
		"GET /api/v1/security-incidents/{id}/evidence": {
			{name: "ok", path: room + "/evidence", token: admin, wantStatus: 200},
			{name: "viewer", path: room + "/evidence", token: viewerTok, wantStatus: 200},
			{name: "missing", path: "/api/v1/security-incidents/999999/evidence", token: admin, wantStatus: 404},
		},
		"POST /api/v1/security-incidents/{id}/evidence": {
			{name: "ok", path: room + "/evidence", token: admin, body: `{"description":"disk image of web3","sha256":"` + strings.Repeat("0F", 32) + `","location":"backup01:/images/web3.img","size":42949672960,"collected_by":"Alice"}`, wantStatus: 201},
			{name: "file", path: room + "/evidence", token: admin, body: upload, ctype: "multipart/form-data; boundary=XYZ", wantStatus: 201},
			{name: "bad hash", path: room + "/evidence", token: admin, body: `{"description":"x","sha256":"abc","location":"y"}`, wantStatus: 400},
			{name: "viewer", path: room + "/evidence", token: viewerTok, body: `{"description":"x","sha256":"abc","location":"y"}`, wantStatus: 403},
			{name: "missing", path: "/api/v1/security-incidents/999999/evidence", token: admin, body: `{"description":"x","sha256":"` + strings.Repeat("0f", 32) + `","location":"y"}`, wantStatus: 404},
		},
		"GET /api/v1/security-incidents/{id}/evidence/{eid}": {
			{name: "ok", path: fileEv, token: admin, wantStatus: 200},
			{name: "viewer", path: refEv, token: viewerTok, wantStatus: 200},
			{name: "other incident", path: fmt.Sprintf("%s/evidence/%d", otherRoom, fileItem.ID), token: admin, wantStatus: 404},
		},
		"GET /api/v1/security-incidents/{id}/evidence/{eid}/content": {
			{name: "ok", path: fileEv + "/content", token: admin, wantStatus: 200},
			{name: "viewer", path: fileEv + "/content", token: viewerTok, wantStatus: 403},
			{name: "reference", path: refEv + "/content", token: admin, wantStatus: 404},
		},
		"POST /api/v1/security-incidents/{id}/evidence/{eid}/verify": {
			{name: "ok", path: fileEv + "/verify", token: admin, wantStatus: 200},
			{name: "reference", path: refEv + "/verify", token: admin, wantStatus: 400},
			{name: "missing", path: room + "/evidence/999999/verify", token: admin, wantStatus: 404},
		},
		"POST /api/v1/security-incidents/{id}/evidence/{eid}/withdraw": {
			{name: "ok", path: refEv + "/withdraw", token: admin, body: `{"reason":"wrong host"}`, wantStatus: 200},
			{name: "again", path: refEv + "/withdraw", token: admin, body: `{"reason":"twice"}`, wantStatus: 409},
			{name: "no reason", path: fileEv + "/withdraw", token: admin, body: `{"reason":""}`, wantStatus: 400},
		},
		"POST /api/v1/signals/{id}/open": {
			{name: "bad severity", path: toOpen + "/open", token: admin, body: `{"severity":"SEV9","kind":"other"}`, wantStatus: 400},
			{name: "viewer", path: toOpen + "/open", token: viewerTok, body: `{"severity":"SEV2","kind":"other"}`, wantStatus: 403},
			{name: "ok", path: toOpen + "/open", token: admin, body: `{"severity":"SEV2","kind":"data_exposure"}`, wantStatus: 201},
			{name: "again", path: toOpen + "/open", token: admin, body: `{"severity":"SEV2","kind":"data_exposure"}`, wantStatus: 409},
		},
		"POST /api/v1/signals/{id}/link": {
			{name: "ok", path: toLink + "/link", token: admin, body: `{"security_incident_id":` + fmt.Sprint(roomID) + `}`, wantStatus: 200},
			{name: "again", path: toLink + "/link", token: admin, body: `{"security_incident_id":` + fmt.Sprint(roomID) + `}`, wantStatus: 409},
			{name: "unknown incident", path: toOpen + "/link", token: admin, body: `{"security_incident_id":999999}`, wantStatus: 400},
		},
		"GET /api/v1/runbooks": {
			{name: "ok", path: "/api/v1/runbooks", token: admin, wantStatus: 200},
			{name: "viewer", path: "/api/v1/runbooks", token: viewerTok, wantStatus: 200},
		},
		"GET /api/v1/security-incidents/{id}/tasks": {
			{name: "ok", path: room + "/tasks", token: admin, wantStatus: 200},
			{name: "missing", path: "/api/v1/security-incidents/999999/tasks", token: admin, wantStatus: 404},
		},
		"POST /api/v1/security-incidents/{id}/tasks": {
			{name: "ok", path: room + "/tasks", token: admin, body: `{"title":"Check the other buckets","owner_id":` + responderID + `,"due_at":"2099-01-01T00:00:00Z"}`, wantStatus: 200},
			{name: "no title", path: room + "/tasks", token: admin, body: `{"title":" "}`, wantStatus: 400},
			{name: "too early", path: room + "/tasks", token: admin, body: `{"title":"x","due_at":"2000-01-01T00:00:00Z"}`, wantStatus: 400},
			{name: "viewer", path: room + "/tasks", token: viewerTok, body: `{"title":"x"}`, wantStatus: 403},
		},
		"PATCH /api/v1/security-incidents/{id}/tasks/{task}": {
			{name: "ok", path: taskPath, token: admin, body: `{"status":"skipped","reason":"the provider does it","owner_id":null,"due_at":null}`, wantStatus: 200},
			{name: "no reason", path: taskPath, token: admin, body: `{"status":"skipped","reason":""}`, wantStatus: 400},
			{name: "bad owner", path: taskPath, token: admin, body: `{"owner_id":"bob"}`, wantStatus: 400},
			{name: "missing", path: room + "/tasks/999999", token: admin, body: `{"status":"done"}`, wantStatus: 404},
		},
		"POST /api/v1/security-incidents/{id}/runbooks": {
			{name: "ok", path: room + "/runbooks", token: admin, body: fmt.Sprintf(`{"runbook":%d}`, rb.ID), wantStatus: 200},
			{name: "unknown", path: room + "/runbooks", token: admin, body: `{"runbook":999999}`, wantStatus: 400},
		},
		"GET /api/v1/security-incidents/{id}/public-incident": {
			{name: "ok", path: speaking + "/public-incident", token: viewerTok, wantStatus: 200},
			{name: "admin", path: speaking + "/public-incident", token: admin, wantStatus: 200},
			{name: "none", path: otherRoom + "/public-incident", token: admin, wantStatus: 404},
		},
		"POST /api/v1/security-incidents/{id}/public-incident": {
			{name: "ok", path: room + "/public-incident", token: admin, body: `{"title":"Files listed publicly","impact":"minor","status":"investigating","body":"We closed a listing.","publish":true}`, wantStatus: 200},
			{name: "again", path: room + "/public-incident", token: admin, body: `{"incident_id":` + fmt.Sprint(draft.ID) + `}`, wantStatus: 409},
			{name: "no title", path: otherRoom + "/public-incident", token: admin, body: `{"body":"x","status":"investigating"}`, wantStatus: 400},
			{name: "unknown incident", path: otherRoom + "/public-incident", token: admin, body: `{"incident_id":999999}`, wantStatus: 400},
			{name: "viewer", path: otherRoom + "/public-incident", token: viewerTok, body: `{"incident_id":1}`, wantStatus: 403},
			{name: "missing", path: "/api/v1/security-incidents/999999/public-incident", token: admin, body: `{"incident_id":1}`, wantStatus: 404},
		},
		"POST /api/v1/security-incidents/{id}/public-updates": {
			{name: "ok", path: speaking + "/public-updates", token: admin, body: `{"status":"identified","body":"The listing is closed."}`, wantStatus: 200},
			{name: "empty", path: speaking + "/public-updates", token: admin, body: `{"status":"identified","body":""}`, wantStatus: 400},
			{name: "not linked", path: otherRoom + "/public-updates", token: admin, body: `{"status":"identified","body":"x"}`, wantStatus: 404},
			{name: "viewer", path: speaking + "/public-updates", token: viewerTok, body: `{"status":"identified","body":"x"}`, wantStatus: 403},
		},
		"POST /api/v1/security-incidents/{id}/postmortem-draft": {
			{name: "ok", path: speaking + "/postmortem-draft", token: admin, wantStatus: 200},
			{name: "again", path: speaking + "/postmortem-draft", token: admin, wantStatus: 409},
			{name: "not linked", path: otherRoom + "/postmortem-draft", token: admin, wantStatus: 409},
		},
		"GET /api/v1/security-incidents/{id}/breach": {
			{name: "ok", path: breached + "/breach", token: admin, wantStatus: 200},
			{name: "not marked", path: otherRoom + "/breach", token: admin, wantStatus: 404},
			{name: "viewer reads", path: breached + "/breach", token: viewerTok, wantStatus: 200},
		},
		"PUT /api/v1/security-incidents/{id}/breach": {
			{name: "ok", path: room + "/breach", token: admin, body: `{"answer":"likely","aware_at":"2026-02-01T17:40:00Z"}`, wantStatus: 200},
			{name: "future", path: room + "/breach", token: admin, body: `{"answer":"yes","aware_at":"2999-01-01T00:00:00Z"}`, wantStatus: 400},
			{name: "unknown answer", path: room + "/breach", token: admin, body: `{"answer":"maybe"}`, wantStatus: 400},
			{name: "viewer", path: room + "/breach", token: viewerTok, body: `{"answer":"yes"}`, wantStatus: 403},
		},
		"PUT /api/v1/security-incidents/{id}/breach/register": {
			{name: "ok", path: breached + "/breach/register", token: admin, body: `{"type":"confidentiality","risk":"high","status":"investigating","people":1200,"categories":"=HYPERLINK(\"x\")"}`, wantStatus: 200},
			{name: "unknown risk", path: breached + "/breach/register", token: admin, body: `{"risk":"severe"}`, wantStatus: 400},
			{name: "not marked", path: otherRoom + "/breach/register", token: admin, body: `{}`, wantStatus: 404},
		},
		"POST /api/v1/security-incidents/{id}/breach/decisions": {
			{name: "ok", path: breached + "/breach/decisions", token: admin, body: `{"notify":true,"why":"addresses exposed","decided_by":` + responderID + `}`, wantStatus: 200},
			{name: "no choice", path: breached + "/breach/decisions", token: admin, body: `{"why":"x","decided_by":` + responderID + `}`, wantStatus: 400},
		},
		"POST /api/v1/security-incidents/{id}/breach/clocks": {
			{name: "ok", path: breached + "/breach/clocks", token: admin, body: `{"clock":"nis2_early_warning"}`, wantStatus: 200},
			{name: "gdpr", path: breached + "/breach/clocks", token: admin, body: `{"clock":"gdpr"}`, wantStatus: 400},
		},
		"GET /api/v1/breach-register": {
			{name: "ok", path: "/api/v1/breach-register", token: admin, wantStatus: 200},
			{name: "viewer", path: "/api/v1/breach-register", token: viewerTok, wantStatus: 200},
		},
		"GET /api/v1/breach-register.csv": {
			{name: "ok", path: "/api/v1/breach-register.csv", token: admin, wantStatus: 200},
		},
		"GET /api/v1/subscribers": {
			{name: "ok", path: "/api/v1/subscribers", token: admin, wantStatus: 200},
			{name: "confirmed", path: "/api/v1/subscribers?status=confirmed&limit=10", token: admin, wantStatus: 200},
			{name: "bad status", path: "/api/v1/subscribers?status=gone", token: admin, wantStatus: 400},
			{name: "viewer", path: "/api/v1/subscribers", token: viewerTok, wantStatus: 403},
		},
		"GET /api/v1/subscribers/{id}": {
			{name: "ok", path: sub, token: admin, wantStatus: 200},
			{name: "missing", path: "/api/v1/subscribers/999999", token: admin, wantStatus: 404},
			{name: "viewer", path: sub, token: viewerTok, wantStatus: 403},
		},
		"GET /api/v1/subscribers/{id}/export": {
			{name: "ok", path: sub + "/export", token: admin, wantStatus: 200},
			{name: "missing", path: "/api/v1/subscribers/999999/export", token: admin, wantStatus: 404},
		},
		"DELETE /api/v1/subscribers/{id}": {
			{name: "ok", path: doomedSub, token: admin, wantStatus: 204},
			{name: "missing", path: doomedSub, token: admin, wantStatus: 404},
		},
		"GET /api/v1/webhooks": {
			{name: "ok", path: "/api/v1/webhooks", token: admin, wantStatus: 200},
			{name: "viewer", path: "/api/v1/webhooks", token: viewerTok, wantStatus: 403},
		},
		"POST /api/v1/webhooks": {
			{name: "ok", path: "/api/v1/webhooks", token: admin, body: `{"url":"https://hooks.example.org/status","all_services":true}`, wantStatus: 201},
			{name: "some", path: "/api/v1/webhooks", token: admin, body: `{"url":"http://127.0.0.1:9/x","services":[` + serviceID + `]}`, wantStatus: 201},
			{name: "bad url", path: "/api/v1/webhooks", token: admin, body: `{"url":"ftp://x","all_services":true}`, wantStatus: 400},
			{name: "no services", path: "/api/v1/webhooks", token: admin, body: `{"url":"https://x.example.org"}`, wantStatus: 400},
			{name: "unknown service", path: "/api/v1/webhooks", token: admin, body: `{"url":"https://x.example.org","services":[999999]}`, wantStatus: 400},
		},
		"DELETE /api/v1/webhooks/{id}": {
			{name: "ok", path: doomedHook, token: admin, wantStatus: 204},
			{name: "missing", path: doomedHook, token: admin, wantStatus: 404},
		},
		"GET /api/v1/audit": {
			{name: "ok", path: "/api/v1/audit", token: admin, wantStatus: 200},
			{name: "filtered", path: "/api/v1/audit?action=user.&limit=5&since=2000-01-01", token: admin, wantStatus: 200},
			{name: "bad limit", path: "/api/v1/audit?limit=0", token: admin, wantStatus: 400},
		},
		"GET /api/v1/audit/verify": {
			{name: "ok", path: "/api/v1/audit/verify", token: admin, wantStatus: 200},
		},
	}

	for op, cs := range pagingAPICases(t, e, admin, viewerTok) {
		cases[op] = cs
	}
	agentCases, agentTok := agentAPICases(t, e)
	for op, cs := range agentCases {
		cases[op] = cs
	}
	for op, cs := range checkAPICases(t, e, admin, viewerTok) {
		cases[op] = cs
	}
	// Walk the document's operations in a fixed order.
	var ops []string
	for p, item := range doc.Paths.Map() {
		for m := range item.Operations() {
			ops = append(ops, m+" "+p)
		}
	}
	slices.Sort(ops)
	for _, op := range ops {
		method, path, _ := strings.Cut(op, " ")
		item := doc.Paths.Value(path)
		operation := item.GetOperation(method)
		cs, ok := cases[op]
		// Agent routes refuse admins: their successful call is an agent's.
		if !ok || !slices.ContainsFunc(cs, func(c apiCase) bool { return (c.token == admin || c.token == agentTok) && c.wantStatus < 300 }) {
			t.Errorf("%s is documented but the test has no successful admin call for it: add one", op)
			continue
		}
		for _, c := range cs {
			t.Run(op+" "+c.name, func(t *testing.T) {
				var body io.Reader
				if c.body != "" {
					body = strings.NewReader(c.body)
				}
				req, err := http.NewRequest(method, e.ts.URL+c.path, body)
				if err != nil {
					t.Fatal(err)
				}
				if c.token != "" {
					req.Header.Set("Authorization", "Bearer "+c.token)
				}
				if c.body != "" {
					ct := c.ctype
					if ct == "" {
						ct = "application/json"
					}
					req.Header.Set("Content-Type", ct)
				}
				params := pathParams(path, req.URL.Path)
				reqIn := &openapi3filter.RequestValidationInput{
					Request: req, PathParams: params,
					Route:   &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: operation},
					Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
				}
				// A request the test means to be valid must be valid for
				// the document too.
				if c.wantStatus < 300 {
					var buf []byte
					if c.body != "" {
						buf = []byte(c.body)
						req.Body = io.NopCloser(bytes.NewReader(buf))
					}
					if err := openapi3filter.ValidateRequest(e.ctx, reqIn); err != nil {
						t.Errorf("the document refuses a valid request: %v", err)
					}
					if buf != nil {
						req.Body = io.NopCloser(bytes.NewReader(buf))
					}
				}
				resp := e.do(req)
				if resp.Status != c.wantStatus {
					t.Fatalf("status %d, want %d: %s", resp.Status, c.wantStatus, resp.Body)
				}
				respIn := &openapi3filter.ResponseValidationInput{
					RequestValidationInput: reqIn,
					Status:                 resp.Status,
					Header:                 resp.Header,
					Options:                &openapi3filter.Options{IncludeResponseStatus: true},
				}
				respIn.SetBodyBytes([]byte(resp.Body))
				if err := openapi3filter.ValidateResponse(e.ctx, respIn); err != nil {
					t.Errorf("response does not match the document: %v\nbody: %.300s", err, resp.Body)
				}
			})
		}
	}
}

// pathParams extracts the {name} values of a concrete path.
func pathParams(template, path string) map[string]string {
	out := map[string]string{}
	tp, pp := strings.Split(template, "/"), strings.Split(path, "/")
	for i, part := range tp {
		if strings.HasPrefix(part, "{") && i < len(pp) {
			out[strings.Trim(part, "{}")] = pp[i]
		}
	}
	return out
}
