package httpserver_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// TestBrowserBreachClock marks an incident a personal data breach in
// Chromium and reads the time left in English and French; the room and
// the printable register are checked with axe-core.
func TestBrowserBreachClock(t *testing.T) {
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
	inc := &tocsin.SecurityIncident{Title: "Customer list exposed", Severity: tocsin.SEV1, Kind: tocsin.KindDataExposure}
	if err := a.db.CreateSecurityIncident(context.Background(), tocsin.CLI, inc); err != nil {
		t.Fatal(err)
	}

	b.step(t, "sign in", func(t *testing.T) {
		b.open(t, "/signin")
		b.fill(t, map[string]string{"email": responderEmail, "password": otherPassword})
		b.submit(t, `main form[action="/signin"] button[type=submit]`, 200)
		b.wantPage(t, "/console", "en", en("dashboard.title"))
	})

	leftEN := regexp.MustCompile(`GDPR: notify the authority \(72 h\) — due .+ — (3 d 0 h|2 d 23 h) left`)
	b.step(t, "mark a breach", func(t *testing.T) {
		b.open(t, "/console/security/1")
		if got := b.text(t, "#breach-clock"); !regexp.MustCompile(regexp.QuoteMeta(en("breach.unmarked"))).MatchString(got) {
			t.Errorf("clock before marking %q", got)
		}
		b.check(t, "#breach-answer-yes")
		b.submit(t, `main form[action="/console/security/1/breach"] button[type=submit]`, 200)
		if got := b.text(t, "#breach-clock"); !leftEN.MatchString(got) {
			t.Errorf("time left %q", got)
		}
		b.accessible(t, "room with the clock")
	})

	b.step(t, "French", func(t *testing.T) {
		b.setHeaders(t, map[string]string{"Accept-Language": "fr-FR,fr;q=0.9"})
		defer b.setHeaders(t, nil)
		b.open(t, "/console/security/1")
		got := b.text(t, "#breach-clock")
		if !regexp.MustCompile(`RGPD : notification à l'autorité \(72 h\) — échéance .+ — reste (3 d 0 h|2 d 23 h)`).MatchString(got) {
			t.Errorf("French time left %q", got)
		}
		b.accessible(t, "room with the clock (fr)")
		b.open(t, "/console/breaches")
		b.wantPage(t, "/console/breaches", "fr", i18n.T("fr", "breach.register_title"))
		b.accessible(t, "breach register (fr)")
	})
}
