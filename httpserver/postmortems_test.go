package httpserver

import (
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

// resolvedIncident creates a published incident resolved in its second
// update, with the public site rebuilt.
func (e *testEnv) resolvedIncident(title string) *tocsin.Incident {
	e.t.Helper()
	at := time.Now()
	inc := &tocsin.Incident{Title: title, PublishedAt: &at}
	if err := e.store.CreateIncident(e.ctx, tocsin.CLI, inc, &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "Looking."}, nil); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.AddUpdate(e.ctx, tocsin.CLI, inc.ID, &tocsin.Update{Status: tocsin.IncidentResolved, Body: "Fixed."}, nil); err != nil {
		e.t.Fatal(err)
	}
	if err := e.srv.RefreshPublic(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	return inc
}

// publicStatus is the status of a GET of the public site.
func (e *testEnv) publicStatus(path string) int {
	e.t.Helper()
	return e.call(http.MethodGet, path, "", "").Status
}

func (e *testEnv) postmortemOf(id int64) *tocsin.Postmortem {
	e.t.Helper()
	p, err := e.store.Postmortem(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// TestConsolePostmortem walks a post-mortem from first draft to the public
// site in the console: the author and an editor may not approve it, an
// edit withdraws an approval, publishing needs an approval of the current
// text, and nothing reaches the public site before publication.
func TestConsolePostmortem(t *testing.T) {
	e := newTestEnv(t)
	inc := e.resolvedIncident("Mail down")
	page := incidentPath(inc.ID, "")
	pmPage := fmt.Sprintf("/en/incidents/%d/postmortem/", inc.ID)
	writer := e.signedIn(e.createUser("writer@example.org", tocsin.RoleResponder), "127.0.0.1")
	// An approver who also responds, and edits: not allowed to approve.
	editor := e.signedIn(e.createUser("editor@example.org", tocsin.RoleResponder, tocsin.RoleApprover), "127.0.0.1")
	approver := e.signedIn(e.createUser("approver@example.org", tocsin.RoleApprover), "127.0.0.1")
	comm := e.signedIn(e.createUser("comm@example.org", tocsin.RoleCommunicator), "127.0.0.1")
	viewer := e.signedIn(e.createUser("viewer@example.org", tocsin.RoleViewer), "127.0.0.1")

	r := writer.get(page)
	if !strings.Contains(r.Text, i18n.T("en", "postmortems.none_yet")) || !strings.Contains(r.Body, `action="`+page+`/postmortem"`) {
		t.Fatalf("no empty post-mortem section with its form:\n%s", r.Body)
	}
	if r := viewer.get(page); strings.Contains(r.Body, `action="`+page+`/postmortem"`) {
		t.Error("a viewer is offered the writing form")
	}

	form := url.Values{
		"summary":    {"Mail was **down** for an hour. <script>alert(1)</script> [x](javascript:alert(1))"},
		"timeline":   {"2026-01-10 09:00 Alert on the queue\n\n2026-01-10 08:55 Disk full"},
		"root_cause": {"A full disk."},
	}
	t.Run("refused input comes back as typed", func(t *testing.T) {
		bad := url.Values{"summary": {"x"}, "timeline": {"yesterday Disk full"}}
		wantError(t, writer.post(page+"/postmortem", bad), http.StatusBadRequest, i18n.T("en", "postmortems.timeline_line_invalid", 1))
		r := writer.post(page+"/postmortem", url.Values{"summary": {" "}, "timeline": {"2026-01-10 09:00 Kept"}})
		wantError(t, r, http.StatusBadRequest, i18n.T("en", "postmortems.summary_empty"))
		if !strings.Contains(r.Text, "2026-01-10 09:00 Kept") {
			t.Error("the timeline as typed is lost")
		}
	})

	t.Run("a long post-mortem fits the form", func(t *testing.T) {
		// Five sections near their limit are far over an ordinary form's.
		long := maps.Clone(form)
		for _, k := range []string{"impact", "went_well", "changes"} {
			long.Set(k, strings.Repeat("é", tocsin.MaxUpdateBytes/2-1))
		}
		other := e.resolvedIncident("Wiki down")
		wantFlash(t, writer.post(incidentPath(other.ID, "postmortem"), long), i18n.T("en", "postmortems.saved", 1))
		if n := len(long.Encode()); n <= maxFormBytes {
			t.Fatalf("the form is only %d bytes", n)
		}
	})
	wantFlash(t, writer.post(page+"/postmortem", maps.Clone(form)), i18n.T("en", "postmortems.saved", 1))
	pm := e.postmortemOf(inc.ID)
	if len(pm.Timeline) != 2 || pm.Timeline[0].Text != "Disk full" || pm.Timeline[0].At.In(e.srv.loc).Format("15:04") != "08:55" {
		t.Errorf("timeline %+v", pm.Timeline)
	}
	r = viewer.get(page)
	if !strings.Contains(r.Text, i18n.T("en", "postmortems.state.draft")) || !strings.Contains(r.Body, "<strong>down</strong>") ||
		strings.Contains(r.Body, "<script>alert") || strings.Contains(r.Body, "javascript:") ||
		!strings.Contains(r.Text, i18n.T("en", "postmortems.contributors", "writer@example.org")) {
		t.Errorf("staff do not see the draft as it stands:\n%s", r.Body)
	}
	if e.publicStatus(pmPage) != http.StatusNotFound || strings.Contains(e.publicPage("/en/postmortems/"), "Mail down") {
		t.Fatal("a draft post-mortem is on the public site")
	}

	// The editor changes a line: a contributor now.
	form.Set("went_well", "Alerts fired.")
	wantFlash(t, editor.post(page+"/postmortem", maps.Clone(form)), i18n.T("en", "postmortems.saved", 2))
	if r := editor.get(page); !strings.Contains(r.Text, i18n.T("en", "postmortems.own_text")) || strings.Contains(r.Body, "/postmortem/approve") {
		t.Error("the editor is offered the approval")
	}
	wantError(t, editor.post(page+"/postmortem/approve", url.Values{"revision": {"2"}}), http.StatusForbidden, i18n.T("en", "postmortems.own_text"))
	if r := viewer.post(page+"/postmortem/approve", url.Values{"revision": {"2"}}); r.Status != http.StatusForbidden {
		t.Errorf("a viewer's approval: %d", r.Status)
	}
	if r := writer.post(page+"/postmortem/approve", url.Values{"revision": {"2"}}); r.Status != http.StatusForbidden {
		t.Errorf("the author (no approver role) approves: %d", r.Status)
	}
	if r := approver.get(page); !strings.Contains(r.Body, `name="revision" value="2"`) {
		t.Error("the approver is not offered the approval of version 2")
	}
	wantError(t, approver.post(page+"/postmortem/approve", url.Values{"revision": {"1"}}), http.StatusConflict, i18n.T("en", "postmortems.stale", 1, 2))
	wantFlash(t, approver.post(page+"/postmortem/approve", url.Values{"revision": {"2"}}), i18n.T("en", "postmortems.approved"))
	if r := comm.get(page); !strings.Contains(r.Text, "Approved by approver@example.org") || !strings.Contains(r.Body, "/postmortem/publish") {
		t.Error("staff do not see who approved it, or the communicator cannot publish")
	}
	if e.publicStatus(pmPage) != http.StatusNotFound {
		t.Fatal("an approved but unpublished post-mortem is on the public site")
	}

	// An edit withdraws the approval; publishing then needs a new one.
	form.Set("changes", "Disk alerts at 80 %.")
	wantFlash(t, writer.post(page+"/postmortem", maps.Clone(form)), i18n.T("en", "postmortems.saved_withdrawn", 3))
	wantError(t, comm.post(page+"/postmortem/publish", nil), http.StatusConflict, i18n.T("en", "postmortems.not_approved"))
	wantFlash(t, approver.post(page+"/postmortem/approve", url.Values{"revision": {"3"}}), i18n.T("en", "postmortems.approved"))
	wantFlash(t, comm.post(page+"/postmortem/publish", nil), i18n.T("en", "postmortems.published"))

	if got, err := e.store.Incident(e.ctx, inc.ID); err != nil || got.Status != tocsin.IncidentPostmortem {
		t.Errorf("incident %+v, %v; want status postmortem", got, err)
	}
	p := e.call(http.MethodGet, pmPage, "", "").Body // raw: the script must be escaped text, if anything
	if !strings.Contains(p, "Post-mortem: Mail down") || !strings.Contains(p, "Disk alerts at 80 %.") || strings.Contains(p, "<script") ||
		strings.Contains(p, "javascript:") {
		t.Errorf("public post-mortem page:\n%s", p)
	}
	if !strings.Contains(e.publicPage(fmt.Sprintf("/fr/incidents/%d/", inc.ID)), fmt.Sprintf(`href="/fr/incidents/%d/postmortem/"`, inc.ID)) ||
		!strings.Contains(e.publicPage("/fr/postmortems/"), "Mail down") || !strings.Contains(e.publicPage("/en/feed.atom"), "Post-mortem: Mail down") {
		t.Error("the published post-mortem is not linked, listed and in the feed")
	}
	wantError(t, writer.post(page+"/postmortem", maps.Clone(form)), http.StatusConflict, i18n.T("en", "postmortems.published_final"))

	var actions []string
	entries, err := e.store.AuditEntries(e.ctx, tocsin.AuditFilter{Target: fmt.Sprintf("postmortem:%d", inc.ID), Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		actions = append([]string{en.Action}, actions...)
	}
	if got := strings.Join(actions, " "); got != "postmortem.create postmortem.edit postmortem.approve postmortem.edit postmortem.approve postmortem.publish" {
		t.Errorf("audit: %s", got)
	}
}

// TestAPIPostmortem: the same rules through the API, with tokens.
func TestAPIPostmortem(t *testing.T) {
	e := newTestEnv(t)
	inc := e.resolvedIncident("Wiki down")
	path := fmt.Sprintf("/api/v1/incidents/%d/postmortem", inc.ID)
	writer, _ := e.createToken("writer", tocsin.RoleResponder, tocsin.RoleApprover)
	approver, _ := e.createToken("approver", tocsin.RoleApprover)
	comm, _ := e.createToken("comm", tocsin.RoleCommunicator)
	viewer, _ := e.createToken("viewer", tocsin.RoleViewer)

	apiError(t, e.call(http.MethodGet, path, viewer, ""), http.StatusNotFound, tocsin.ENOTFOUND)
	apiError(t, e.call(http.MethodPut, path, approver, `{"summary":"x"}`), http.StatusForbidden, tocsin.EFORBIDDEN)
	apiError(t, e.call(http.MethodPut, path, writer, `{"summary":"x","timeline":[{"at":"2999-01-01T00:00:00Z","text":"Later"}]}`), http.StatusBadRequest, tocsin.EINVALID)
	apiError(t, e.call(http.MethodPut, path, writer, `{"summary":"x","bogus":1}`), http.StatusBadRequest, tocsin.EINVALID)

	r := e.call(http.MethodPut, path, writer, `{"summary":"The wiki was down.","timeline":[{"at":"2026-01-10T10:00:00Z","text":"Fixed"},{"at":"2026-01-10T09:00:00Z","text":"Down"}]}`)
	got := decodeAs[postmortemJSON](t, r)
	if r.Status != http.StatusOK || got.Status != "draft" || got.Revision != 1 || len(got.Timeline) != 2 || got.Timeline[0].Text != "Down" ||
		len(got.Contributors) != 1 || got.Contributors[0] != "token:writer" {
		t.Fatalf("PUT: %d %+v", r.Status, got)
	}
	if e.publicStatus(fmt.Sprintf("/en/incidents/%d/postmortem/", inc.ID)) != http.StatusNotFound {
		t.Fatal("the draft is public")
	}
	apiError(t, e.call(http.MethodPost, path+"/publish", comm, ""), http.StatusConflict, tocsin.ECONFLICT)
	apiError(t, e.call(http.MethodPost, path+"/approve", writer, `{"revision":1}`), http.StatusForbidden, tocsin.EFORBIDDEN)
	apiError(t, e.call(http.MethodPost, path+"/approve", comm, `{"revision":1}`), http.StatusForbidden, tocsin.EFORBIDDEN)
	r = e.call(http.MethodPost, path+"/approve", approver, `{"revision":1}`)
	if got := decodeAs[postmortemJSON](t, r); r.Status != http.StatusOK || got.Status != "approved" || got.ApprovedBy != "token:approver" || got.ApprovedAt == nil {
		t.Fatalf("approve: %d %+v", r.Status, got)
	}
	r = e.call(http.MethodPost, path+"/publish", comm, "")
	if got := decodeAs[postmortemJSON](t, r); r.Status != http.StatusOK || got.Status != "published" || got.PublishedBy != "token:comm" {
		t.Fatalf("publish: %d %+v", r.Status, got)
	}
	if e.publicStatus(fmt.Sprintf("/en/incidents/%d/postmortem/", inc.ID)) != http.StatusOK || e.publicStatus("/postmortems/") != http.StatusOK {
		t.Error("the published post-mortem is not public")
	}
	apiError(t, e.call(http.MethodPut, path, writer, `{"summary":"Rewritten."}`), http.StatusConflict, tocsin.ECONFLICT)
	if r := e.call(http.MethodGet, fmt.Sprintf("/api/v1/incidents/%d", inc.ID), viewer, ""); !strings.Contains(r.Body, `"status":"postmortem"`) {
		t.Errorf("the incident's status is not postmortem: %s", r.Body)
	}
}
