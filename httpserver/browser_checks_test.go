package httpserver_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// TestBrowserChecks shows the checks list, a check's page with its SVG
// latency chart and the security posture page in Chromium, in English and
// French, each checked with axe-core; "run now" on a server without a
// monitor says so.
func TestBrowserChecks(t *testing.T) {
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
	svc := &tocsin.Service{Name: "Website", Group: "Web"}
	if err := a.db.CreateService(bg, tocsin.CLI, svc); err != nil {
		t.Fatal(err)
	}
	c := &tocsin.Check{ServiceID: svc.ID, Name: "www <b>home</b>", Kind: tocsin.CheckHTTP, Spec: tocsin.CheckSpec{URL: "https://www.example.org/"}}
	c.ApplyDefaults(tocsin.CheckDefaults{})
	if err := a.db.CreateCheck(bg, tocsin.CLI, c); err != nil {
		t.Fatal(err)
	}
	// Nearly a day of results every 20 minutes: a certificate accepting TLS 1.0,
	// renewed with the same key half-way, and failures now and then.
	now := time.Now().UTC()
	for i := 71; i >= 1; i-- {
		at := now.Add(-time.Duration(i) * 20 * time.Minute)
		serial := "01"
		if i < 36 {
			serial = "02"
		}
		r := &tocsin.CheckResult{CheckID: c.ID, StartedAt: at, Duration: time.Duration(50+i*3) * time.Millisecond, OK: i%10 != 0, StatusCode: 200,
			TLS: &tocsin.TLSObservation{SPKISHA256: strings.Repeat("ab", 32), Serial: serial, Subject: "CN=www.example.org", Issuer: "CN=Test CA",
				NotBefore: at.Add(-time.Hour), NotAfter: now.Add(60 * 24 * time.Hour), Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256", OldVersions: []string{"TLS 1.0"}}}
		if !r.OK {
			r.StatusCode, r.Error, r.TLS = 0, "connect: connection refused", nil
		}
		if err := a.db.RecordCheckResults(bg, []*tocsin.CheckResult{r}); err != nil {
			t.Fatal(err)
		}
	}
	checkPath := fmt.Sprintf("/console/checks/%d", c.ID)
	tomorrow := now.AddDate(0, 0, 2).Format("2006-01-02")

	b.step(t, "sign in", func(t *testing.T) {
		b.open(t, "/signin")
		b.fill(t, map[string]string{"email": responderEmail, "password": otherPassword})
		b.submit(t, `main form[action="/signin"] button[type=submit]`, 200)
		b.wantPage(t, "/console", "en", en("dashboard.title"))
	})
	b.step(t, "the checks", func(t *testing.T) {
		b.follow(t, "menu", chromedp.Click(chromedp.CSS(`header a[href="/console/checks"]`), chromedp.NodeVisible))
		b.wantPage(t, "/console/checks", "en", en("checks.title"))
		if got := b.text(t, fmt.Sprintf("#check-%d", c.ID)); !strings.Contains(got, "www <b>home</b>") || !strings.Contains(got, "https://www.example.org/") {
			t.Errorf("check row %q", got)
		}
		b.accessible(t, "checks")
	})
	b.step(t, "a check with its chart", func(t *testing.T) {
		b.follow(t, "link", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#check-%d a[href="%s"]`, c.ID, checkPath)), chromedp.NodeVisible))
		b.wantPage(t, checkPath, "en", "www <b>home</b>")
		if n := eval[int](t, b, `document.querySelectorAll('figure.chart svg polyline').length`); n != 1 {
			t.Errorf("%d polylines, want 1", n)
		}
		if n := eval[int](t, b, `document.querySelectorAll('figure.chart svg circle').length`); n != 7 {
			t.Errorf("%d failed runs marked, want 7", n)
		}
		if title := eval[string](t, b, `document.querySelector('figure.chart svg title').textContent`); title != en("checks.chart_svg_title", "www <b>home</b>") {
			t.Errorf("chart title %q", title)
		}
		if got := b.text(t, "#chart-summary"); !strings.HasPrefix(got, "71 runs, 7 failed") {
			t.Errorf("chart summary %q", got)
		}
		if got := b.text(t, "#key-summary"); !strings.HasPrefix(got, "Key unchanged since") {
			t.Errorf("key summary %q", got)
		}
		if n := eval[int](t, b, `document.querySelectorAll('#check-history tbody tr').length`); n != 50 {
			t.Errorf("history shows %d results, want 50", n)
		}
		b.accessible(t, "check")
	})
	b.step(t, "run now without a monitor", func(t *testing.T) {
		b.submit(t, fmt.Sprintf(`form[action="%s/run"] button[type=submit]`, checkPath), 409)
		if got := b.text(t, "#check-error"); got != en("checks.no_monitor") {
			t.Errorf("error %q", got)
		}
		b.accessible(t, "check after run now")
	})
	b.step(t, "the security posture", func(t *testing.T) {
		b.follow(t, "menu", chromedp.Click(chromedp.CSS(`header a[href="/console/posture"]`), chromedp.NodeVisible))
		b.wantPage(t, "/console/posture", "en", en("posture.title"))
		if got := b.text(t, "#findings-tls_protocol_weak"); !strings.Contains(got, "accepts TLS 1.0") || !strings.Contains(got, "Website") {
			t.Errorf("old protocols %q", got)
		}
		if got := b.text(t, "#findings-tls_key_reused"); !strings.Contains(got, "www <b>home</b>") {
			t.Errorf("reused keys %q", got)
		}
		b.fill(t, map[string]string{"before": tomorrow})
		b.submit(t, `form[action="/console/posture"] button[type=submit]`, 200)
		if got := b.text(t, "#stale-keys"); !strings.Contains(got, strings.Repeat("ab", 32)) {
			t.Errorf("stale keys %q", got)
		}
		b.accessible(t, "posture")
	})
	b.step(t, "French", func(t *testing.T) {
		b.setHeaders(t, map[string]string{"Accept-Language": "fr-FR,fr;q=0.9"})
		defer b.setHeaders(t, nil)
		for _, p := range []struct{ path, h1 string }{
			{"/console/checks", i18n.T("fr", "checks.title")},
			{checkPath, "www <b>home</b>"},
			{"/console/posture?before=" + tomorrow, i18n.T("fr", "posture.title")},
		} {
			b.open(t, p.path)
			path, _, _ := strings.Cut(p.path, "?")
			b.wantPage(t, path, "fr", p.h1)
			b.accessible(t, p.path+" (fr)")
		}
		if title := eval[string](t, b, `document.title`); !strings.Contains(title, i18n.T("fr", "posture.title")) {
			t.Errorf("title %q", title)
		}
	})
}
