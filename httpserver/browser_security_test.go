package httpserver_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// TestBrowserSecurityRoom opens a security incident from the console in
// Chromium as a responder, writes an observation dated before the incident
// existed, sets key moments and reads the computed time to acknowledge;
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

	b.step(t, "French", func(t *testing.T) {
		b.setHeaders(t, map[string]string{"Accept-Language": "fr-FR,fr;q=0.9"})
		defer b.setHeaders(t, nil)
		b.open(t, "/console/security/1")
		b.wantPage(t, "/console/security/1", "fr", "#1 Bucket <b>world-listable</b>")
		if got := b.text(t, ".durations"); !strings.Contains(got, i18n.T("fr", "security.tta")) {
			t.Errorf("French durations %q", got)
		}
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
