package httpserver_test

import (
	"context"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// The accounts the browser test creates. The passwords pass the policy
// (long, not common, free of the e-mail address and name).
const (
	adminEmail     = "ada@example.org"
	adminName      = "Ada Lovelace"
	adminPassword  = "violet kettle harbour 93"
	responderEmail = "rhea@example.org"
	approverEmail  = "apolline@example.org"
	otherPassword  = "amber quarry lantern 58"
)

// TestBrowserConsole walks the console in a real headless Chromium, as a
// newcomer does on a fresh install: the first admin is created through the
// one-time setup link and enrols a TOTP authenticator; signs out and in
// again with password and code; creates a responder account and an API
// token (which then works on the API); and finds both actions in the audit
// log. An approver then walks the same sign-in pages in French. Every page
// is checked with axe-core (WCAG 2.1 A/AA and best practices); a serious or
// critical violation fails the test.
func TestBrowserConsole(t *testing.T) {
	ctx := testpeer.Chromium(t)
	a := startApp(t)
	b := &browser{ctx: ctx, base: a.url, axe: testpeer.AxeScript(t)}
	en := func(key string, args ...any) string { return i18n.T("en", key, args...) }
	fr := func(key string, args ...any) string { return i18n.T("fr", key, args...) }

	var adminSecret []byte // the admin's TOTP secret, read from the enrolment page
	var setupLink string   // the one-time link, once used

	// A check that cannot fail proves nothing: break a page on purpose and
	// expect axe-core to say so. This also shows that the page's CSP
	// (script-src 'self') does not stop a script injected through the
	// DevTools protocol.
	b.step(t, "axe-core finds violations", func(t *testing.T) {
		resp := b.open(t, "/signin")
		if csp, _ := resp.Headers["Content-Security-Policy"].(string); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("Content-Security-Policy = %q, want script-src 'self'", csp)
		}
		eval[bool](t, b, `(m => { m.insertAdjacentHTML('beforeend', '<img src="data:,"><input id="unlabelled">'); return true })(document.querySelector('main'))`)
		found := map[string]string{}
		for _, v := range b.axeViolations(t, "broken sign-in") {
			found[v.ID] = v.Impact
		}
		for _, id := range []string{"image-alt", "label"} {
			if impact := found[id]; impact != "critical" && impact != "serious" {
				t.Errorf("axe-core reports %s as %q on a page that breaks it; all found: %v", id, impact, found)
			}
		}
	})

	b.step(t, "setup", func(t *testing.T) {
		plain, hash, err := auth.NewToken("setup_")
		if err != nil {
			t.Fatal(err)
		}
		if err := a.db.CreateSetupToken(context.Background(), &tocsin.SetupToken{Hash: hash, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		// The form in French first (the browser asks for it), without
		// submitting: the admin account takes the page's language.
		b.setHeaders(t, map[string]string{"Accept-Language": "fr-FR,fr;q=0.9"})
		b.open(t, "/setup?token="+plain)
		b.wantPage(t, "/setup", "fr", fr("setup.title"))
		b.accessible(t, "setup (fr)")
		b.setHeaders(t, nil)

		b.open(t, "/setup?token="+plain)
		b.wantPage(t, "/setup", "en", en("setup.title"))
		b.accessible(t, "setup")
		b.fill(t, map[string]string{"email": adminEmail, "name": adminName, "password": adminPassword, "password2": adminPassword})
		b.submit(t, `main form[action="/setup"] button[type=submit]`, 200)
		b.wantPage(t, "/signin/2fa/enrol", "en", en("enrol.title"))
		setupLink = "/setup?token=" + plain
	})

	b.step(t, "enrol", func(t *testing.T) {
		b.accessible(t, "2FA enrolment")
		wantQRCode(t, b)
		adminSecret = readSecret(t, b)
		b.fill(t, map[string]string{"code": auth.TOTPCode(adminSecret, time.Now())})
		b.submit(t, `main form[action="/signin/2fa/enrol"] button[type=submit]`, 200)
		b.wantPage(t, "/signin/2fa/enrol", "en", en("recovery.title"))
		if n := eval[int](t, b, `document.querySelectorAll('#recovery-codes li').length`); n != 10 {
			t.Errorf("%d recovery codes shown, want 10", n)
		}
		b.accessible(t, "recovery codes")
		b.follow(t, "continue to the console", chromedp.Click(chromedp.CSS(`main a[href="/console"]`), chromedp.NodeVisible))
		b.wantPage(t, "/console", "en", en("dashboard.title"))
		if got, want := b.text(t, "main p"), en("dashboard.hello", adminEmail); got != want {
			t.Errorf("console says %q, want %q", got, want)
		}
	})

	b.step(t, "sign out", func(t *testing.T) {
		b.submit(t, `header form[action="/signout"] button[type=submit]`, 200)
		b.wantPage(t, "/signin", "en", en("signin.title"))
		b.open(t, "/console/users")
		if got, want := b.path(t), "/signin?next=%2Fconsole%2Fusers"; got != want {
			t.Errorf("after sign-out /console/users leads to %s, want %s", got, want)
		}

		// The setup link works once.
		b.openStatus(t, setupLink, 409)
		b.accessible(t, "setup, used link")

		b.open(t, "/signin")
		b.fill(t, map[string]string{"email": adminEmail, "password": "not the password at all"})
		b.submit(t, `main form[action="/signin"] button[type=submit]`, 401)
		b.wantPage(t, "/signin", "en", en("signin.title"))
		if got := b.text(t, "#signin-error"); got != en("signin.wrong") {
			t.Errorf("after a wrong password the page says %q, want %q", got, en("signin.wrong"))
		}
		b.accessible(t, "sign-in, wrong password")
	})

	b.step(t, "keyboard", func(t *testing.T) {
		b.open(t, "/signin")
		b.accessible(t, "sign-in")
		// The first Tab reaches the skip link, which then shows, and
		// Enter follows it to the main content.
		if err := chromedp.Do(b.ctx, chromedp.KeyEvent(kb.Tab)); err != nil {
			t.Fatal(err)
		}
		type focused struct {
			Class, Href string
			Left, Width float64
		}
		f := eval[focused](t, b, `(e => ({Class: e.className, Href: e.getAttribute('href') || '',
			Left: e.getBoundingClientRect().left, Width: e.getBoundingClientRect().width}))(document.activeElement)`)
		if f.Class != "skip" || f.Href != "#main" {
			t.Fatalf("first Tab focuses class=%q href=%q, want the skip link to #main", f.Class, f.Href)
		}
		if f.Left < 0 || f.Width == 0 {
			t.Errorf("focused skip link is off screen (left %v, width %v)", f.Left, f.Width)
		}
		if err := chromedp.Do(b.ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
			t.Fatal(err)
		}
		if h := eval[string](t, b, `location.hash`); h != "#main" {
			t.Errorf("Enter on the skip link leads to %q, want #main", h)
		}
	})

	b.step(t, "sign in with password and TOTP", func(t *testing.T) {
		// Typed, and sent with Enter from the password field.
		b.follow(t, "sign in with Enter",
			chromedp.SendKeys(chromedp.ID("email"), adminEmail, chromedp.NodeVisible),
			chromedp.SendKeys(chromedp.ID("password"), adminPassword+kb.Enter, chromedp.NodeVisible),
		)
		b.wantPage(t, "/signin/2fa", "en", en("2fa.title"))
		b.accessible(t, "2FA challenge")
		b.fill(t, map[string]string{"code": wrongCode(adminSecret)})
		b.submit(t, `main form[action="/signin/2fa"] button[type=submit]`, 401)
		b.wantPage(t, "/signin/2fa", "en", en("2fa.title"))
		if got := b.text(t, "main .error"); got != en("2fa.wrong") {
			t.Errorf("after a wrong code the page says %q, want %q", got, en("2fa.wrong"))
		}
		b.accessible(t, "2FA challenge, wrong code")
		// The code of the current step was spent at enrolment, and a code
		// is never accepted twice: take the next step's, which the
		// one-step clock-drift window accepts.
		b.fill(t, map[string]string{"code": auth.TOTPCode(adminSecret, time.Now().Add(30*time.Second))})
		b.submit(t, `main form[action="/signin/2fa"] button[type=submit]`, 200)
		b.wantPage(t, "/console", "en", en("dashboard.title"))
		if got, want := b.text(t, "main p"), en("dashboard.hello", adminEmail); got != want {
			t.Errorf("console says %q, want %q", got, want)
		}
		if got := b.text(t, "#prev-h"); got != en("dashboard.previous") {
			t.Errorf("previous sign-in heading %q, want %q", got, en("dashboard.previous"))
		}
		if got := b.text(t, "#previous-signin"); !strings.Contains(got, "127.0.0.1") {
			t.Errorf("previous sign-in %q does not name its address 127.0.0.1", got)
		}
		b.accessible(t, "console")
		b.open(t, "/console/account")
		b.wantPage(t, "/console/account", "en", en("account.title"))
		b.accessible(t, "account")
	})

	b.step(t, "create a responder", func(t *testing.T) {
		b.open(t, "/console/users")
		b.wantPage(t, "/console/users", "en", en("users.title"))
		b.accessible(t, "accounts")
		b.fill(t, map[string]string{"new-email": responderEmail, "new-name": "Rhea Responder", "new-password": otherPassword, "new-password2": otherPassword})
		b.check(t, `main form[action="/console/users"] input[name=roles][value=responder]`)
		b.submit(t, `main form[action="/console/users"] > button[type=submit]`, 200)
		if got, want := b.text(t, "main .flash"), en("users.created", responderEmail); got != want {
			t.Errorf("after creating the account the page says %q, want %q", got, want)
		}
		rows := tableRows(t, b)
		if !hasRow(rows, 0, responderEmail, 2, "responder") {
			t.Errorf("accounts table lacks %s with role responder: %q", responderEmail, rows)
		}
		b.accessible(t, "accounts, after creating one")
	})

	var token string
	b.step(t, "create an API token", func(t *testing.T) {
		b.open(t, "/console/tokens")
		b.wantPage(t, "/console/tokens", "en", en("tokens.title"))
		b.accessible(t, "API tokens")
		b.fill(t, map[string]string{"token-name": "ci"})
		b.check(t, `main form[action="/console/tokens"] input[name=roles][value=viewer]`)
		b.submit(t, `main form[action="/console/tokens"] > button[type=submit]`, 200)
		token = b.text(t, "#new-token")
		b.accessible(t, "API tokens, after creating one")

		req, _ := http.NewRequest("GET", a.url+"/api/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("GET /api/v1/me with the new token: %d %s", resp.StatusCode, body)
		}
		var me struct {
			Name  string   `json:"name"`
			Roles []string `json:"roles"`
		}
		if err := json.Unmarshal(body, &me); err != nil || me.Name != "ci" {
			t.Errorf("GET /api/v1/me = %s (%v), want the token named ci", body, err)
		}
	})

	b.step(t, "audit log", func(t *testing.T) {
		b.open(t, "/console/audit")
		b.wantPage(t, "/console/audit", "en", en("audit.title"))
		b.accessible(t, "audit log")
		rows := tableRows(t, b) // #, when, actor, IP, action, target, before, after
		for _, action := range []string{"user.create", "token.create"} {
			if !hasRow(rows, 4, action, 2, adminEmail) {
				t.Errorf("audit log has no %s by %s: %q", action, adminEmail, rows)
			}
		}
		// What `tocsin audit verify` checks: the chain of everything above is intact.
		n, brk, err := a.db.VerifyAudit(context.Background())
		if err != nil || brk != nil || n < int64(len(rows)) {
			t.Errorf("audit chain after the walk: %d entries, break %v, err %v", n, brk, err)
		}
	})

	b.step(t, "triage queue", func(t *testing.T) {
		sig := &tocsin.Signal{Source: tocsin.SourceEmail, Subject: "Bucket <b>lists</b> its files", Body: "<script>alert(1)</script>\nhttps://s3.example/backups/",
			Contact: "finder@example.net", Attachments: []tocsin.Attachment{{Name: "listing.txt", Type: "text/plain", Size: 42}}}
		if err := a.db.CreateSignal(context.Background(), tocsin.System, sig); err != nil {
			t.Fatal(err)
		}
		b.open(t, "/console/signals")
		b.wantPage(t, "/console/signals", "en", en("signals.title"))
		b.accessible(t, "signals")
		b.follow(t, "open the signal", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#signal-%d a`, sig.ID)), chromedp.NodeVisible))
		b.wantPage(t, fmt.Sprintf("/console/signals/%d", sig.ID), "en", sig.Subject)
		if got := b.text(t, "#signal-body"); got != "<script>alert(1)</script>\nhttps://s3.example/backups/" {
			t.Errorf("report shown as %q", got)
		}
		b.accessible(t, "signal")
	})

	b.step(t, "maintenance", func(t *testing.T) {
		from, until, pub := time.Now().Add(24*time.Hour), time.Now().Add(26*time.Hour), time.Now()
		m := &tocsin.Incident{Title: "Storage move", PublishedAt: &pub, ScheduledFor: &from, ScheduledUntil: &until}
		if err := a.db.CreateIncident(context.Background(), tocsin.CLI, m, &tocsin.Update{Body: "Planned."}, nil); err != nil {
			t.Fatal(err)
		}
		b.open(t, "/console/maintenance")
		b.wantPage(t, "/console/maintenance", "en", en("maintenance.title"))
		b.accessible(t, "maintenance list")
		if rows := tableRows(t, b); len(rows) != 1 || rows[0][0] != "Storage move" {
			t.Errorf("maintenance rows %q", rows)
		}
		b.open(t, fmt.Sprintf("/console/incidents/%d", m.ID))
		b.wantPage(t, fmt.Sprintf("/console/incidents/%d", m.ID), "en", "Storage move")
		b.accessible(t, "maintenance page")
	})

	b.step(t, "on-call settings", func(t *testing.T) {
		b.open(t, "/console/oncall")
		b.wantPage(t, "/console/oncall", "en", en("oncall.title"))
		b.accessible(t, "on-call settings")
		// A refused rota comes back with the reason and what was typed.
		b.fill(t, map[string]string{"new-rota-name": "Week-ends", "new-rota-zone": "Europe/Atlantis", "new-rota-members": adminEmail})
		if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.ID("new-rota-start"), "2026-11-20T18:00", chromedp.NodeVisible)); err != nil {
			t.Fatal(err)
		}
		b.submit(t, `#new-rota button[type=submit]`, 400)
		if got := b.errorText(); !strings.Contains(got, "Europe/Atlantis") {
			t.Errorf("refused rota says %q", got)
		}
		if got := eval[string](t, b, `document.getElementById('new-rota-name').value`); got != "Week-ends" {
			t.Errorf("the refused rota's name came back as %q", got)
		}
		b.accessible(t, "on-call settings, refused rota")
	})

	b.step(t, "console in French", func(t *testing.T) {
		b.open(t, "/console/account")
		if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.ID("lang"), "fr", chromedp.NodeVisible)); err != nil {
			t.Fatal(err)
		}
		b.submit(t, `main form[action="/console/account/lang"] button[type=submit]`, 200)
		b.wantPage(t, "/console/account", "fr", fr("account.title"))
		b.accessible(t, "account (fr)")
		for _, p := range []struct{ path, title string }{
			{"/console", "dashboard.title"},
			{"/console/tokens", "tokens.title"},
			{"/console/signals", "signals.title"},
			{"/console/audit", "audit.title"},
			{"/console/oncall", "oncall.title"},
			{"/console/pages", "pages.title"},
			{"/console/runbooks", "runbook.page_title"},
			{"/console/breaches", "breach.register_title"},
			{"/console/users", "users.title"}, // last: the approver is created there
		} {
			b.open(t, p.path)
			b.wantPage(t, p.path, "fr", fr(p.title))
			b.accessible(t, p.path+" (fr)")
		}
		// An approver needs a second factor too: it walks the sign-in
		// pages next, in French.
		b.fill(t, map[string]string{"new-email": approverEmail, "new-name": "Apolline", "new-password": otherPassword, "new-password2": otherPassword})
		b.check(t, `main form[action="/console/users"] input[name=roles][value=approver]`)
		b.submit(t, `main form[action="/console/users"] > button[type=submit]`, 200)
		if got, want := b.text(t, "main .flash"), fr("users.created", approverEmail); got != want {
			t.Errorf("after creating the account the page says %q, want %q", got, want)
		}
		b.submit(t, `header form[action="/signout"] button[type=submit]`, 200)
	})

	b.step(t, "sign-in pages in French", func(t *testing.T) {
		b.wantPage(t, "/signin", "en", en("signin.title"))
		b.submit(t, `header form[action="/lang"] button[name=lang][value=fr]`, 200)
		b.wantPage(t, "/signin", "fr", fr("signin.title"))
		b.accessible(t, "sign-in (fr)")

		b.fill(t, map[string]string{"email": approverEmail, "password": otherPassword})
		b.submit(t, `main form[action="/signin"] button[type=submit]`, 200)
		b.wantPage(t, "/signin/2fa/enrol", "fr", fr("enrol.title"))
		b.accessible(t, "2FA enrolment (fr)")
		secret := readSecret(t, b)
		b.fill(t, map[string]string{"code": auth.TOTPCode(secret, time.Now())})
		b.submit(t, `main form[action="/signin/2fa/enrol"] button[type=submit]`, 200)
		b.wantPage(t, "/signin/2fa/enrol", "fr", fr("recovery.title"))
		b.accessible(t, "recovery codes (fr)")

		// The admin chose this password: its owner replaces it before anything else.
		b.open(t, "/console")
		b.wantPage(t, "/signin/password", "fr", fr("newpassword.title"))
		b.accessible(t, "choose a password (fr)")
		const ownPassword = "sept chats gris dansent sous la lune"
		b.fill(t, map[string]string{"password": ownPassword, "password2": ownPassword})
		b.submit(t, `main form[action="/signin/password"] button[type=submit]`, 200)
		b.wantPage(t, "/console", "fr", fr("dashboard.title"))
		b.submit(t, `header form[action="/signout"] button[type=submit]`, 200)
		b.fill(t, map[string]string{"email": approverEmail, "password": ownPassword})
		b.submit(t, `main form[action="/signin"] button[type=submit]`, 200)
		b.wantPage(t, "/signin/2fa", "fr", fr("2fa.title"))
		b.accessible(t, "2FA challenge (fr)")
		b.fill(t, map[string]string{"code": auth.TOTPCode(secret, time.Now().Add(30*time.Second))})
		b.submit(t, `main form[action="/signin/2fa"] button[type=submit]`, 200)
		b.wantPage(t, "/console", "fr", fr("dashboard.title"))
		if got, want := b.text(t, "main p"), fr("dashboard.hello", approverEmail); got != want {
			t.Errorf("console says %q, want %q", got, want)
		}
		b.accessible(t, "console (fr)")
	})
}

// readSecret reads the TOTP key shown as text on the enrolment page
// (base32 in groups of four, as people type it into an authenticator).
func readSecret(t *testing.T, b *browser) []byte {
	t.Helper()
	text := b.text(t, "#totp-secret")
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(text, " ", ""))
	if err != nil || len(secret) < 16 {
		t.Fatalf("TOTP key %q on the enrolment page: %d bytes, %v", text, len(secret), err)
	}
	return secret
}

// wrongCode returns a 6-digit code that no step near now accepts.
func wrongCode(secret []byte) string {
	valid := map[string]bool{}
	for d := -2; d <= 2; d++ {
		valid[auth.TOTPCode(secret, time.Now().Add(time.Duration(d)*30*time.Second))] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333", "444444", "555555"} {
		if !valid[c] {
			return c
		}
	}
	panic("unreachable: at most five codes are valid")
}

// wantQRCode fails unless the enrolment page shows its QR code: an image
// that the browser decoded (a data: URL the CSP or a bad PNG could stop).
func wantQRCode(t *testing.T, b *browser) {
	t.Helper()
	type img struct {
		Complete bool
		Width    int
	}
	var got img
	for range 50 { // decoding is asynchronous: give it up to a few seconds
		got = eval[img](t, b, `(i => ({Complete: i.complete, Width: i.naturalWidth}))(document.querySelector('main img'))`)
		if got.Complete {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !got.Complete || got.Width == 0 {
		t.Errorf("the QR code image did not load (complete %v, natural width %d)", got.Complete, got.Width)
	}
}

// tableRows returns the text of each cell of the page's main table.
func tableRows(t *testing.T, b *browser) [][]string {
	t.Helper()
	return eval[[][]string](t, b, `Array.from(document.querySelectorAll('main table tbody tr'))
		.map(tr => Array.from(tr.cells).map(td => td.textContent.trim()))`)
}

// hasRow reports whether a row has cell i equal to v and cell j
// containing w.
func hasRow(rows [][]string, i int, v string, j int, w string) bool {
	for _, r := range rows {
		if len(r) > max(i, j) && r[i] == v && strings.Contains(r[j], w) {
			return true
		}
	}
	return false
}
