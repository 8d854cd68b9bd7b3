package httpserver_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/internal/testpeer"
	"github.com/tocsin-org/tocsin/runbooks"
)

// TestBrowserSecurityRoom opens a security incident from the console in
// Chromium as a responder, writes an observation dated before the incident
// existed, sets key moments and reads the computed time to acknowledge;
// it applies a shipped runbook and ticks a task, in English then French;
// the list and the room are checked with axe-core in English and French.
func TestBrowserSecurityRoom(t *testing.T) {
	ctx := testpeer.Chromium(t)
	a := startApp(t)
	b := &browser{ctx: ctx, base: a.url, axe: testpeer.AxeScript(t)}
	en := func(key string, args ...any) string { return i18n.T("en", key, args...) }

	h := auth.NewHasher(auth.PasswordParams{MemoryKiB: 7 * 1024, Time: 1, Threads: 1})
	u, err := auth.NewUser(context.Background(), h, responderEmail, "Rhea", tocsin.Roles{tocsin.RoleResponder}, otherPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.db.CreateUser(context.Background(), tocsin.CLI, u); err != nil {
		t.Fatal(err)
	}

	b.step(t, "sign in", func(t *testing.T) {
		b.open(t, "/signin")
		b.fill(t, map[string]string{"email": responderEmail, "password": otherPassword})
		b.submit(t, `main form[action="/signin"] button[type=submit]`, 200)
		b.wantPage(t, "/console", "en", en("dashboard.title"))
	})

	b.step(t, "open an incident", func(t *testing.T) {
		b.follow(t, "menu", chromedp.Click(chromedp.CSS(`header a[href="/console/security"]`), chromedp.NodeVisible))
		b.wantPage(t, "/console/security", "en", en("security.title"))
		b.accessible(t, "security incidents")
		b.fill(t, map[string]string{"new-title": "Bucket <b>world-listable</b>", "new-summary": "Found by a researcher.", "new-kind": "misconfiguration"})
		b.check(t, "#new-severity-SEV1")
		b.submit(t, `main form[action="/console/security"] button[type=submit]`, 200)
		if got := b.text(t, "main h1"); got != "#1 Bucket <b>world-listable</b>" {
			t.Errorf("room heading %q", got)
		}
	})

	b.step(t, "observation before the incident", func(t *testing.T) {
		b.fill(t, map[string]string{"entry-body": "The bucket answered a listing request.", "entry-at": "2026-01-09T17:40"})
		b.submit(t, `main form[action="/console/security/1/timeline"] button[type=submit]`, 200)
		if got := b.text(t, ".sec-timeline li:first-child"); !strings.Contains(got, "2026-01-09 17:40") || !strings.Contains(got, "The bucket answered a listing request.") {
			t.Errorf("first timeline entry %q", got)
		}
	})

	b.step(t, "key moments", func(t *testing.T) {
		b.fill(t, map[string]string{"moment-reported": "2026-01-09T17:40", "moment-acknowledged": "2026-01-10T12:04", "moment-detected": "2026-01-10T12:04"})
		b.submit(t, `main form[action="/console/security/1/moments"] button[type=submit]`, 200)
		if got := b.text(t, ".durations"); !strings.Contains(got, "18 h 24 min") {
			t.Errorf("durations %q, want a time to acknowledge of 18 h 24 min", got)
		}
		b.accessible(t, "room")
	})

	b.step(t, "evidence reference", func(t *testing.T) {
		sum := strings.Repeat("5e", 32)
		b.check(t, "#evidence-kind-reference")
		b.fill(t, map[string]string{"evidence-description": "Bucket listing saved by the reporter", "evidence-location": "s3://evidence/listing.xml",
			"evidence-sha256": strings.ToUpper(sum), "evidence-collector": "Reporter", "evidence-at": "2026-01-09T18:00"})
		b.submit(t, `main form[action="/console/security/1/evidence"] button[type=submit]`, 200)
		if got := b.text(t, "#evidence-1"); !strings.Contains(got, sum) || !strings.Contains(got, "Reporter") {
			t.Errorf("evidence row %q", got)
		}
		b.accessible(t, "room with evidence")
		b.open(t, "/console/security/1/evidence/1")
		if got := b.text(t, "#custody"); !strings.Contains(got, en("evidence.custody.added")) || !strings.Contains(got, en("evidence.custody.viewed")) {
			t.Errorf("custody log %q", got)
		}
		b.accessible(t, "evidence item")
		b.open(t, "/console/security/1")
	})

	// The shipped runbooks, as serve loads them at start.
	if _, err := runbooks.Load(context.Background(), a.db, tocsin.System, ""); err != nil {
		t.Fatal(err)
	}
	runbookID := func(t *testing.T, lang string) string {
		list, err := a.db.Runbooks(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, rb := range list {
			if rb.Slug == "public-object-storage" && rb.Lang == lang {
				return strconv.FormatInt(rb.ID, 10)
			}
		}
		t.Fatalf("no %s runbook for public object storage", lang)
		return ""
	}
	// applyAndTick applies the bucket runbook in lang from the room's select,
	// then ticks its first task that is still open.
	applyAndTick := func(t *testing.T, lang, title string) {
		T := func(key string, args ...any) string { return i18n.T(lang, key, args...) }
		if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.ID("apply-runbook"), runbookID(t, lang), chromedp.NodeVisible)); err != nil {
			t.Fatal(err)
		}
		b.submit(t, `main form[action="/console/security/1/runbooks"] button[type=submit]`, 200)
		if got := b.text(t, ".flash"); !strings.Contains(got, T("task.applied", 8)) {
			t.Errorf("flash %q, want %q", got, T("task.applied", 8))
		}
		tasks, err := a.db.Tasks(context.Background(), 1)
		if err != nil {
			t.Fatal(err)
		}
		var first *tocsin.Task
		for _, task := range tasks {
			if task.Status == tocsin.TaskOpen && task.Title == title {
				first = task
			}
		}
		if first == nil {
			t.Fatalf("no open task %q in %d tasks", title, len(tasks))
		}
		li := "#task-" + strconv.FormatInt(first.ID, 10)
		if got := b.text(t, li); !strings.Contains(got, title) || !strings.Contains(got, T("task.owned_by", responderEmail)) {
			t.Errorf("task %q", got)
		}
		b.submit(t, li+` form.task-actions button[value=done]`, 200)
		if got := b.text(t, li+" .task-status"); got != T("task.status.done") {
			t.Errorf("status after the tick %q, want %q", got, T("task.status.done"))
		}
		if got := b.text(t, ".sec-timeline"); !strings.Contains(got, T("task.text.status", title, T("task.status.open"), T("task.status.done"))) {
			t.Errorf("timeline has no tick of %q", title)
		}
	}

	b.step(t, "apply a runbook and tick a task", func(t *testing.T) {
		// The runbook's first item goes to the incident lead.
		b.fill(t, map[string]string{"assign-role": "lead"})
		b.submit(t, `main form[action="/console/security/1/roles"] button[type=submit]`, 200)
		applyAndTick(t, "en", "Make the bucket private: remove the anonymous policy and public ACLs")
		b.accessible(t, "room with tasks")
	})

	b.step(t, "French", func(t *testing.T) {
		b.setHeaders(t, map[string]string{"Accept-Language": "fr-FR,fr;q=0.9"})
		defer b.setHeaders(t, nil)
		b.open(t, "/console/security/1")
		b.wantPage(t, "/console/security/1", "fr", "#1 Bucket <b>world-listable</b>")
		if got := b.text(t, ".durations"); !strings.Contains(got, i18n.T("fr", "security.tta")) {
			t.Errorf("French durations %q", got)
		}
		applyAndTick(t, "fr", "Rendre le compartiment privé : retirer la politique anonyme et les ACL publiques")
		b.accessible(t, "room (fr)")
		b.fill(t, map[string]string{"evidence-description": "Journal d’accès du bucket", "evidence-location": "logs01:/var/log/s3/access.log",
			"evidence-sha256": strings.Repeat("a1", 32)})
		b.submit(t, `main form[action="/console/security/1/evidence"] button[type=submit]`, 200)
		if got := b.text(t, "#evidence-2"); !strings.Contains(got, "Journal d’accès du bucket") || !strings.Contains(got, i18n.T("fr", "evidence.kind.reference")) {
			t.Errorf("French evidence row %q", got)
		}
		b.open(t, "/console/security/1/evidence/2")
		if got := b.text(t, "#custody"); !strings.Contains(got, i18n.T("fr", "evidence.custody.viewed")) {
			t.Errorf("French custody log %q", got)
		}
		b.accessible(t, "evidence item (fr)")
		b.open(t, "/console/security")
		b.accessible(t, "security incidents (fr)")
	})
}
