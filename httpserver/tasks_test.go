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

const roomRunbook = "# Bucket listable\n\nClose it, then read the logs.\n\n- [ ] Make the bucket private (owner: lead, due: 15m)\n  mc anonymous set none\n- [ ] Tell the users (owner: comms, due: 72h)\n"

// TestConsoleRunbooks writes a runbook in the console: refusals name the
// line and keep the text, a check saves nothing, each save is a version.
func TestConsoleRunbooks(t *testing.T) {
	e := newTestEnv(t)
	ann := e.createUser("ann@example.org", tocsin.RoleResponder)
	b := e.signedIn(ann, "127.0.0.1")

	r := b.post("/console/runbooks", url.Values{"slug": {"bucket"}, "markdown": {"# Bucket\n- [ ] a\n- [ ] b (due: 3x)"}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Text, i18n.T("en", "runbook.due", 3, "3x")) || !strings.Contains(r.Body, "(due: 3x)</textarea>") {
		t.Fatalf("bad runbook: %d\n%s", r.Status, r.Text)
	}
	r = b.post("/console/runbooks", url.Values{"slug": {"bucket"}, "lang": {"en"}, "markdown": {roomRunbook}})
	if r.Status != http.StatusOK || !strings.Contains(r.Text, i18n.T("en", "runbook.created")) || !strings.Contains(r.Text, "Make the bucket private") {
		t.Fatalf("create: %d\n%s", r.Status, r.Text)
	}
	list, _ := e.store.Runbooks(e.ctx)
	if len(list) != 1 {
		t.Fatalf("runbooks %v", list)
	}
	id := list[0].ID
	page := fmt.Sprintf("/console/runbooks/%d", id)
	if r := b.post("/console/runbooks", url.Values{"slug": {"bucket"}, "lang": {"en"}, "markdown": {roomRunbook}}); r.Status != http.StatusConflict {
		t.Errorf("same name: %d", r.Status)
	}

	edited := strings.Replace(roomRunbook, "# Bucket listable", "# Bucket world-listable", 1)
	for _, c := range []struct {
		name   string
		form   url.Values
		status int
		shows  string
	}{
		{"check bad", url.Values{"markdown": {"# T\n\n- [ ] x (owner: two words)"}, "check": {"1"}}, 200, i18n.T("en", "runbook.owner", 3, "two words")},
		{"check good", url.Values{"markdown": {edited}, "check": {"1"}}, 200, i18n.T("en", "runbook.ok", 2)},
		{"save bad", url.Values{"markdown": {"no title"}}, 400, i18n.T("en", "runbook.title", 1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := e.counts().Audit
			r := b.post(page, c.form)
			if r.Status != c.status || !strings.Contains(r.Text, c.shows) {
				t.Fatalf("%d, want %d and %q:\n%s", r.Status, c.status, c.shows, r.Text)
			}
			if e.counts().Audit != before {
				t.Error("a check or a refusal wrote something")
			}
		})
	}
	r = b.post(page, url.Values{"markdown": {edited}})
	if r.Status != http.StatusOK || !strings.Contains(r.Text, i18n.T("en", "runbook.saved")) || !strings.Contains(r.Text, "Bucket world-listable") {
		t.Fatalf("save: %d\n%s", r.Status, r.Text)
	}
	r = b.get(page + "?version=1")
	if r.Status != http.StatusOK || !strings.Contains(r.Text, i18n.T("en", "runbook.old_version", 1, 2)) || !strings.Contains(r.Text, "# Bucket world-listable") {
		t.Fatalf("version 1: %d\n%s", r.Status, r.Text)
	}
	if r := b.get(page + "?version=9"); r.Status != http.StatusNotFound {
		t.Errorf("version 9: %d", r.Status)
	}

	// A viewer reads but does not write.
	v := e.signedIn(e.createUser("val@example.org", tocsin.RoleViewer), "127.0.0.2")
	if r := v.get("/console/runbooks"); r.Status != http.StatusOK || !strings.Contains(r.Text, "Bucket world-listable") || strings.Contains(r.Text, i18n.T("en", "runbook.new")) {
		t.Errorf("viewer list: %d", r.Status)
	}
	if r := v.post(page, url.Values{"markdown": {roomRunbook}}); r.Status != http.StatusForbidden {
		t.Errorf("viewer save: %d", r.Status)
	}
}

// TestConsoleRoomTasks applies a runbook in the room, adds a task, ticks
// and skips tasks, and sees refusals where they belong, in both languages.
func TestConsoleRoomTasks(t *testing.T) {
	for _, lang := range []string{"en", "fr"} {
		t.Run(lang, func(t *testing.T) {
			e := newTestEnv(t)
			ann := e.createUser("ann@example.org", tocsin.RoleResponder)
			gone := e.createUser("gone@example.org", tocsin.RoleResponder)
			b := e.signedIn(ann, "127.0.0.1")
			b.Header.Set("Accept-Language", lang)
			T := func(key string, args ...any) string { return i18n.T(lang, key, args...) }

			rb := &tocsin.Runbook{Slug: "bucket", Markdown: roomRunbook}
			if err := e.store.SaveRunbook(e.ctx, tocsin.CLI, rb); err != nil {
				t.Fatal(err)
			}
			inc := &tocsin.SecurityIncident{Title: "Bucket listable", Severity: tocsin.SEV2, Kind: tocsin.KindDataExposure}
			if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, inc); err != nil {
				t.Fatal(err)
			}
			if err := e.store.AssignSecurityRole(e.ctx, tocsin.CLI, inc.ID, tocsin.RoleLead, ann.ID); err != nil {
				t.Fatal(err)
			}
			if err := e.store.DisableUser(e.ctx, tocsin.CLI, gone.ID); err != nil {
				t.Fatal(err)
			}
			room := roomPath(inc.ID, "")

			r := b.get(room)
			if r.Status != http.StatusOK || !strings.Contains(r.Text, T("task.none")) || !strings.Contains(r.Text, "Bucket listable") {
				t.Fatalf("room: %d\n%s", r.Status, r.Text)
			}
			r = b.post(roomPath(inc.ID, "runbooks"), url.Values{"runbook": {fmt.Sprint(rb.ID)}})
			if r.Status != http.StatusOK || !strings.Contains(r.Text, T("task.applied", 2)) || !strings.Contains(r.Text, T("task.owned_by", "ann@example.org")) ||
				!strings.Contains(r.Text, T("task.text.applied", "Bucket listable", 2)) {
				t.Fatalf("apply: %d\n%s", r.Status, r.Text)
			}
			if r := b.post(roomPath(inc.ID, "runbooks"), url.Values{"runbook": {fmt.Sprint(rb.ID)}}); !strings.Contains(r.Text, T("task.applied", 0)) {
				t.Errorf("apply again:\n%s", r.Text)
			}
			tasks, _ := e.store.Tasks(e.ctx, inc.ID)
			if len(tasks) != 2 {
				t.Fatalf("tasks %v", tasks)
			}
			first := tasks[0]

			for _, c := range []struct {
				name, action string
				form         url.Values
				status       int
				shows        string
			}{
				{"unknown runbook", "runbooks", url.Values{"runbook": {"999"}}, 400, T("runbook.not_found", 999)},
				{"no title", "tasks", url.Values{"title": {" "}}, 400, T("task.title", tocsin.MaxRunbookItemText)},
				{"disabled owner", "tasks", url.Values{"title": {"x"}, "owner": {fmt.Sprint(gone.ID)}}, 400, T("task.owner_disabled", "gone@example.org")},
				{"bad due", "tasks", url.Values{"title": {"x"}, "due": {"soon"}}, 400, T("incidents.date_invalid", "soon")},
				{"early due", "tasks", url.Values{"title": {"x"}, "due": {"2001-01-01T10:00"}}, 400, T("task.due_early")},
				{"skip without reason", fmt.Sprintf("tasks/%d", first.ID), url.Values{"action": {"skip"}}, 400, T("task.skip_reason")},
				{"disabled owner later", fmt.Sprintf("tasks/%d", first.ID), url.Values{"action": {"save"}, "owner": {fmt.Sprint(gone.ID)}}, 400, T("task.owner_disabled", "gone@example.org")},
			} {
				t.Run(c.name, func(t *testing.T) {
					before := e.securityState()
					r := b.post(roomPath(inc.ID, c.action), c.form)
					if r.Status != c.status || !strings.Contains(r.Text, c.shows) {
						t.Fatalf("%d, want %d with %q:\n%s", r.Status, c.status, c.shows, r.Text)
					}
					if e.securityState() != before {
						t.Error("a refusal changed something")
					}
				})
			}
			if r := b.post(roomPath(inc.ID, "tasks/999"), url.Values{"action": {"done"}}); r.Status != http.StatusNotFound {
				t.Errorf("unknown task: %d", r.Status)
			}

			due := e.clock.Now().Add(time.Hour).In(e.srv.loc).Format(dateTimeLocal)
			r = b.post(roomPath(inc.ID, "tasks"), url.Values{"title": {"Check <b>other</b> buckets"}, "owner": {fmt.Sprint(ann.ID)}, "due": {due}})
			if r.Status != http.StatusOK || !strings.Contains(r.Text, T("task.added")) || !strings.Contains(r.Body, "Check &lt;b&gt;other&lt;/b&gt; buckets") {
				t.Fatalf("add: %d\n%s", r.Status, r.Text)
			}
			r = b.post(roomPath(inc.ID, fmt.Sprintf("tasks/%d", first.ID)), url.Values{"action": {"done"}})
			if r.Status != http.StatusOK || !strings.Contains(r.Text, T("task.text.status", "Make the bucket private", T("task.status.open"), T("task.status.done"))) {
				t.Fatalf("done: %d\n%s", r.Status, r.Text)
			}
			r = b.post(roomPath(inc.ID, fmt.Sprintf("tasks/%d", tasks[1].ID)), url.Values{"action": {"skip"}, "reason": {"nobody to tell"}})
			if r.Status != http.StatusOK || !strings.Contains(r.Text, T("task.skipped_because", "nobody to tell")) {
				t.Fatalf("skip: %d\n%s", r.Status, r.Text)
			}
			// Two hours later the hand-added task is overdue.
			e.clock.Advance(2 * time.Hour)
			r = b.get(room)
			if !strings.Contains(r.Body, "overdue") || !strings.Contains(r.Text, T("task.overdue")) || !strings.Contains(r.Text, T("task.summary", 1, 3, e.srv.cfg.TimeZone)) {
				t.Errorf("overdue not shown:\n%s", r.Text)
			}
		})
	}
}

// TestAPITasks applies a runbook twice over the API, and a viewer reads.
func TestAPITasks(t *testing.T) {
	e := newTestEnv(t)
	tok, _ := e.createToken("ops", tocsin.RoleResponder)
	viewer, _ := e.createToken("reader", tocsin.RoleViewer)
	rb := &tocsin.Runbook{Slug: "bucket", Markdown: roomRunbook}
	if err := e.store.SaveRunbook(e.ctx, tocsin.CLI, rb); err != nil {
		t.Fatal(err)
	}
	inc := &tocsin.SecurityIncident{Title: "Bucket listable", Severity: tocsin.SEV2, Kind: tocsin.KindDataExposure}
	if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, inc); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/api/v1/security-incidents/%d", inc.ID)
	type applied struct {
		Added int        `json:"added"`
		Tasks []taskJSON `json:"tasks"`
	}
	for _, want := range []int{2, 0} {
		r := e.call("POST", path+"/runbooks", tok, fmt.Sprintf(`{"runbook":%d}`, rb.ID))
		got := decodeAs[applied](t, r)
		if r.Status != 200 || got.Added != want || len(got.Tasks) != 2 || got.Tasks[0].OwnerID != nil || got.Tasks[0].DueAt == nil {
			t.Fatalf("apply: %d %+v", r.Status, got)
		}
	}
	r := e.call("POST", path+"/runbooks", viewer, fmt.Sprintf(`{"runbook":%d}`, rb.ID))
	apiError(t, r, http.StatusForbidden, tocsin.EFORBIDDEN)
	r = e.call("PATCH", fmt.Sprintf("%s/tasks/%d", path, 1), tok, `{"status":"done"}`)
	if got := decodeAs[taskJSON](t, r); r.Status != 200 || got.Status != "done" {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	r = e.call("PATCH", fmt.Sprintf("%s/tasks/%d", path, 2), tok, `{"due_at":"2001-01-01T00:00:00Z"}`)
	apiError(t, r, http.StatusBadRequest, tocsin.EINVALID)
	r = e.call("GET", path+"/tasks", viewer, "")
	if got := decodeAs[applied](t, r); r.Status != 200 || len(got.Tasks) != 2 || got.Tasks[0].Status != "done" || got.Tasks[1].Status != "open" {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	if r := e.call("GET", "/api/v1/runbooks", viewer, ""); r.Status != 200 || !strings.Contains(r.Body, `"slug":"bucket"`) {
		t.Errorf("runbooks: %d %s", r.Status, r.Body)
	}
}
