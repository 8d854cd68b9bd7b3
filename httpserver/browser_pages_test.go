package httpserver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// TestBrowserPages shows a report's page in /console/pages in Chromium,
// acknowledges it from there and reads who acknowledged; the page is
// checked with axe-core in English and French.
func TestBrowserPages(t *testing.T) {
	ctx := testpeer.Chromium(t)
	a := startApp(t)
	b := &browser{ctx: ctx, base: a.url, axe: testpeer.AxeScript(t)}
	en := func(key string, args ...any) string { return i18n.T("en", key, args...) }
	bg := context.Background()

	h := auth.NewHasher(auth.PasswordParams{MemoryKiB: 7 * 1024, Time: 1, Threads: 1})
	u, err := auth.NewUser(bg, h, responderEmail, "Rhea", tocsin.Roles{tocsin.RoleResponder}, otherPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.db.CreateUser(bg, tocsin.CLI, u); err != nil {
		t.Fatal(err)
	}
	rota := &tocsin.Rota{Name: "Ops", Zone: "Europe/Paris", Start: time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC), PeriodDays: 7, Members: []int64{u.ID}}
	if err := a.db.SaveRota(bg, tocsin.CLI, rota); err != nil {
		t.Fatal(err)
	}
	if err := a.db.SetEscalationPolicy(bg, tocsin.CLI, &tocsin.EscalationPolicy{Levels: []tocsin.EscalationLevel{{RotaID: rota.ID}}}); err != nil {
		t.Fatal(err)
	}
	if err := a.db.CreateSignal(bg, tocsin.CLI, &tocsin.Signal{Source: tocsin.SourceForm, Subject: "Bucket <b>lists</b> its files", Body: "x"}); err != nil {
		t.Fatal(err)
	}

	b.step(t, "sign in", func(t *testing.T) {
		b.open(t, "/signin")
		b.fill(t, map[string]string{"email": responderEmail, "password": otherPassword})
		b.submit(t, `main form[action="/signin"] button[type=submit]`, 200)
		b.wantPage(t, "/console", "en", en("dashboard.title"))
	})
	b.step(t, "the open page", func(t *testing.T) {
		b.follow(t, "menu", chromedp.Click(chromedp.CSS(`header a[href="/console/pages"]`), chromedp.NodeVisible))
		b.wantPage(t, "/console/pages", "en", en("pages.title"))
		if got := b.text(t, "#pages-open"); !strings.Contains(got, "Bucket <b>lists</b> its files") || !strings.Contains(got, responderEmail) {
			t.Errorf("open pages %q", got)
		}
		b.accessible(t, "pages")
	})
	b.step(t, "acknowledge", func(t *testing.T) {
		b.submit(t, `#pages-open form button[type=submit]`, 200)
		if got := b.text(t, "#pages-done"); !strings.Contains(got, responderEmail) {
			t.Errorf("acknowledged pages %q", got)
		}
		b.accessible(t, "pages after acknowledging")
	})
	b.step(t, "French", func(t *testing.T) {
		b.setHeaders(t, map[string]string{"Accept-Language": "fr-FR,fr;q=0.9"})
		defer b.setHeaders(t, nil)
		b.open(t, "/console/pages")
		b.wantPage(t, "/console/pages", "fr", i18n.T("fr", "pages.title"))
		b.accessible(t, "pages (fr)")
	})
}
