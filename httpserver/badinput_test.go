package httpserver

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/config"
	"github.com/tocsin-org/tocsin/i18n"
)

// TestAPIBadInput sends every kind of bad body to the API's POST routes:
// each gets its 4xx with a JSON error and a message, and nothing is
// written (accounts, tokens, audit entries, outbox).
func TestAPIBadInput(t *testing.T) {
	e := newTestEnv(t)
	admin, _ := e.createToken("admin", tocsin.RoleAdmin)
	validUser := `{"email":"new@example.org","roles":["viewer"],"password":"` + testPassword + `"}`
	validToken := `{"name":"ci","roles":["viewer"]}`
	tests := []struct {
		name   string
		ctype  string
		body   string
		status int
		code   string
	}{
		{"malformed JSON", "application/json", `{"name":"ci",`, 400, tocsin.EINVALID},
		{"syntax error", "application/json", `{"name" "ci"}`, 400, tocsin.EINVALID},
		{"unknown field", "application/json", `{"name":"ci","roles":["viewer"],"admin":true}`, 400, tocsin.EINVALID},
		{"oversized body", "application/json", `{"name":"` + strings.Repeat("a", maxJSONBytes+1) + `"}`, 413, tocsin.ETOOLARGE},
		{"text/plain", "text/plain", validToken, 415, tocsin.EUNSUPPORTED},
		{"form content type", "application/x-www-form-urlencoded", "name=ci&roles=viewer", 415, tocsin.EUNSUPPORTED},
		{"no content type", "", validToken, 415, tocsin.EUNSUPPORTED},
		{"bad content type", "application/json; charset", validToken, 415, tocsin.EUNSUPPORTED},
		{"invalid UTF-8", "application/json", "{\"name\":\"c\xffi\",\"roles\":[\"viewer\"]}", 400, tocsin.EINVALID},
		{"empty body", "application/json", "", 400, tocsin.EINVALID},
		{"whitespace body", "application/json", " \n\t", 400, tocsin.EINVALID},
		{"second object", "application/json", validToken + `{}`, 400, tocsin.EINVALID},
		{"trailing brace", "application/json", validToken + `}`, 400, tocsin.EINVALID},
		{"trailing bracket", "application/json", validToken + `]`, 400, tocsin.EINVALID},
		{"trailing garbage", "application/json", validToken + `x`, 400, tocsin.EINVALID},
		{"array instead of object", "application/json", `[]`, 400, tocsin.EINVALID},
		{"string instead of object", "application/json", `"ci"`, 400, tocsin.EINVALID},
		{"roles not an array", "application/json", `{"name":"ci","roles":"admin"}`, 400, tocsin.EINVALID},
		{"name not a string", "application/json", `{"name":7,"roles":["viewer"]}`, 400, tocsin.EINVALID},
		{"null", "application/json", `null`, 400, tocsin.EINVALID},
		{"unknown role", "application/json", `{"name":"ci","roles":["root"]}`, 400, tocsin.EINVALID},
	}
	for _, path := range []string{"/api/v1/users", "/api/v1/tokens"} {
		for _, tt := range tests {
			t.Run(path+" "+tt.name, func(t *testing.T) {
				body := tt.body
				if path == "/api/v1/users" {
					// The same defect around a body that would otherwise
					// create an account.
					body = strings.Replace(body, validToken, validUser, 1)
				}
				before := e.counts()
				req, err := http.NewRequest(http.MethodPost, e.ts.URL+path, strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+admin)
				if tt.ctype != "" {
					req.Header.Set("Content-Type", tt.ctype)
				}
				apiError(t, e.do(req), tt.status, tt.code)
				if after := e.counts(); after != before {
					t.Errorf("something was written: before %+v, after %+v", before, after)
				}
			})
		}
	}
	t.Run("valid bodies are accepted", func(t *testing.T) {
		for path, body := range map[string]string{"/api/v1/users": validUser, "/api/v1/tokens": validToken} {
			if r := e.call(http.MethodPost, path, admin, body); r.Status != http.StatusCreated {
				t.Errorf("%s: %d %s", path, r.Status, r.Body)
			}
		}
	})
}

// TestConsoleSessionsRefused: a forged, expired or idle session cookie is
// treated as signed out: redirected to sign-in, cookie cleared.
func TestConsoleSessionsRefused(t *testing.T) {
	signedOut := func(t *testing.T, b *browser) {
		t.Helper()
		r := b.get("/console")
		if r.Status != http.StatusSeeOther || r.location() != "/signin?next=%2Fconsole" {
			t.Fatalf("GET /console: %d %q, want 303 to /signin?next=%%2Fconsole", r.Status, r.location())
		}
		cleared := false
		for _, c := range (&http.Response{Header: r.Header}).Cookies() {
			if c.Name == sessionCookie && c.MaxAge < 0 {
				cleared = true
			}
		}
		if !cleared {
			t.Errorf("the session cookie was not cleared: %q", r.Header.Values("Set-Cookie"))
		}
		if b.cookie(sessionCookie) != "" {
			t.Error("the browser still holds a session cookie")
		}
	}

	t.Run("forged cookie", func(t *testing.T) {
		e := newTestEnv(t)
		u := e.createUser("viewer@example.org", tocsin.RoleViewer)
		b := e.signedIn(u, "")
		for _, forged := range []string{"tcs_" + strings.Repeat("A", 43), "garbage", b.cookie(sessionCookie) + "x"} {
			f := e.browser("")
			uu, _ := url.Parse(e.ts.URL)
			f.hc.Jar.SetCookies(uu, []*http.Cookie{{Name: sessionCookie, Value: forged, Path: "/"}})
			signedOut(t, f)
		}
	})
	t.Run("absolute expiry", func(t *testing.T) {
		e := newTestEnv(t, func(c *config.Config) { c.Session.MaxAge, c.Session.IdleTimeout = time.Hour, 8*time.Hour })
		u := e.createUser("viewer@example.org", tocsin.RoleViewer)
		b := e.signedIn(u, "")
		id := auth.HashToken(b.cookie(sessionCookie))
		for range 2 {
			e.clock.Advance(29 * time.Minute) // active all along
			if r := b.get("/console"); r.Status != http.StatusOK {
				t.Fatalf("within the hour: %d", r.Status)
			}
		}
		e.clock.Advance(3 * time.Minute)
		signedOut(t, b)
		if _, err := e.store.Session(e.ctx, id); tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			t.Errorf("expired session still stored: %v", err)
		}
	})
	t.Run("idle expiry", func(t *testing.T) {
		e := newTestEnv(t)
		u := e.createUser("viewer@example.org", tocsin.RoleViewer)
		b := e.signedIn(u, "")
		id := auth.HashToken(b.cookie(sessionCookie))
		e.clock.Advance(e.cfg.Session.IdleTimeout - time.Minute)
		if r := b.get("/console"); r.Status != http.StatusOK {
			t.Fatalf("before the idle timeout: %d", r.Status)
		}
		e.clock.Advance(e.cfg.Session.IdleTimeout + time.Second)
		signedOut(t, b)
		if _, err := e.store.Session(e.ctx, id); tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			t.Errorf("idle session still stored: %v", err)
		}
	})
}

// TestConsoleFormsRefused: a state-changing form without the right CSRF
// token, from another site, or too large is refused and changes nothing.
func TestConsoleFormsRefused(t *testing.T) {
	e := newTestEnv(t)
	adminUser := e.createUser("admin@example.org", tocsin.RoleAdmin)
	b := e.signedIn(adminUser, "")
	good := url.Values{"email": {"new@example.org"}, "roles": {"viewer"}, "password": {testPassword}, "password2": {testPassword}}
	with := func(v url.Values, k, val string) url.Values {
		out := url.Values{}
		for kk, vv := range v {
			out[kk] = vv
		}
		out.Set(k, val)
		return out
	}
	tests := []struct {
		name   string
		body   string
		header map[string]string
		status int
	}{
		{"no CSRF token", good.Encode(), nil, 403},
		{"wrong CSRF token", with(good, csrfField, strings.Repeat("0", 64)).Encode(), nil, 403},
		{"token of another browser", with(good, csrfField, e.browser("").token()).Encode(), nil, 403},
		{"cross-site", with(good, csrfField, b.token()).Encode(), map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site", with(good, csrfField, b.token()).Encode(), map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"oversized form", with(with(good, csrfField, b.token()), "name", strings.Repeat("a", maxFormBytes)).Encode(), nil, 413},
		{"invalid UTF-8", with(good, csrfField, b.token()).Encode() + "&name=%FF", nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.counts()
			req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/console/users", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			r := b.send(req)
			if r.Status != tt.status {
				t.Errorf("status %d, want %d", r.Status, tt.status)
			}
			if !strings.Contains(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(r.Body, `role="alert"`) {
				t.Errorf("no error page with a message:\n%.500s", r.Body)
			}
			if tt.status == http.StatusForbidden && !strings.Contains(r.Text, i18n.T("en", "error.csrf")) {
				t.Errorf("the refusal does not say to reload the form (%q):\n%s", i18n.T("en", "error.csrf"), r.Text)
			}
			if after := e.counts(); after != before {
				t.Errorf("something was written: before %+v, after %+v", before, after)
			}
		})
	}
	t.Run("the same form with its token works", func(t *testing.T) {
		before := e.counts()
		if r := b.post("/console/users", good); r.Status != http.StatusOK {
			t.Fatalf("%d: %s", r.Status, r.Text)
		}
		if after := e.counts(); after.Users != before.Users+1 {
			t.Errorf("no account created: %+v → %+v", before, after)
		}
	})
}

// TestSecondFactorBadInput: a TOTP code is accepted once, and so is a
// recovery code.
func TestSecondFactorBadInput(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("admin@example.org", tocsin.RoleAdmin)
	e.signedIn(u, "") // enrols

	t.Run("replayed TOTP code", func(t *testing.T) {
		first := e.browser("127.0.0.2")
		first.signInPassword(u)
		code := e.nextCode(u)
		if r := first.post("/signin/2fa", url.Values{"code": {code}}); r.Status != http.StatusSeeOther {
			t.Fatalf("first use: %d %s", r.Status, r.Text)
		}
		// Someone who saw the code types it within its 90-second window.
		second := e.browser("127.0.0.3")
		second.signInPassword(u)
		r := second.post("/signin/2fa", url.Values{"code": {code}})
		if r.Status != http.StatusBadRequest || !strings.Contains(r.Text, i18n.T("en", "2fa.replayed")) {
			t.Errorf("replay: %d, want 400 with %q:\n%s", r.Status, i18n.T("en", "2fa.replayed"), r.Text)
		}
		if s := second.session(); s == nil || s.Verified {
			t.Errorf("the replaying session was verified: %+v", s)
		}
		if r := second.get("/console"); r.Status != http.StatusSeeOther || r.location() != "/signin/2fa" {
			t.Errorf("console after a replay: %d %q", r.Status, r.location())
		}
	})

	t.Run("recovery code works once", func(t *testing.T) {
		code := u.recovery[0]
		first := e.browser("127.0.0.2")
		first.signInPassword(u)
		if r := first.post("/signin/2fa", url.Values{"code": {strings.ToUpper(code)}}); r.Status != http.StatusSeeOther {
			t.Fatalf("first use: %d %s", r.Status, r.Text)
		}
		if n, _ := e.store.RemainingRecoveryCodes(e.ctx, u.ID); n != len(u.recovery)-1 {
			t.Errorf("%d recovery codes left, want %d", n, len(u.recovery)-1)
		}
		second := e.browser("127.0.0.2")
		second.signInPassword(u)
		r := second.post("/signin/2fa", url.Values{"code": {code}})
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Text, i18n.T("en", "2fa.wrong")) {
			t.Errorf("second use: %d, want 401 with %q", r.Status, i18n.T("en", "2fa.wrong"))
		}
		if s := second.session(); s == nil || s.Verified {
			t.Errorf("second use verified the session: %+v", s)
		}
	})
}

// TestSetupBadInput: the one-time setup link creates one admin, once, and
// only before it expires; a refused password creates nothing.
func TestSetupBadInput(t *testing.T) {
	newLink := func(t *testing.T, e *testEnv) string {
		plain, hash, err := auth.NewToken(auth.PrefixSetup)
		if err != nil {
			t.Fatal(err)
		}
		err = e.store.CreateSetupToken(e.ctx, &tocsin.SetupToken{Hash: hash, CreatedAt: e.clock.Now(), ExpiresAt: e.clock.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return plain
	}
	form := func(token, email, pw string) url.Values {
		return url.Values{"token": {token}, "email": {email}, "name": {"First"}, "password": {pw}, "password2": {pw}}
	}
	linkRefused := func(t *testing.T, r *response) {
		t.Helper()
		if r.Status != http.StatusConflict || !strings.Contains(r.Text, i18n.T("en", "setup.link_invalid")) {
			t.Errorf("status %d, want 409 with %q:\n%.600s", r.Status, i18n.T("en", "setup.link_invalid"), r.Text)
		}
	}

	t.Run("used twice", func(t *testing.T) {
		e := newTestEnv(t)
		link := newLink(t, e)
		a, b := e.browser(""), e.browser("")
		if r := a.get("/setup?token=" + link); r.Status != http.StatusOK {
			t.Fatalf("setup form: %d", r.Status)
		}
		r := a.post("/setup", form(link, "first@example.org", testPassword))
		if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/signin/2fa/enrol") {
			t.Fatalf("first use: %d %q %s", r.Status, r.location(), r.Text)
		}
		linkRefused(t, b.post("/setup", form(link, "second@example.org", testPassword)))
		users, err := e.store.Users(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != 1 || users[0].Email != "first@example.org" || !users[0].Roles.Allows(tocsin.RoleAdmin) {
			t.Errorf("accounts after two uses: %+v", users)
		}
		if r := b.get("/setup?token=" + link); r.Status != http.StatusConflict {
			t.Errorf("setup form after setup: %d, want 409", r.Status)
		}
	})
	t.Run("expired", func(t *testing.T) {
		e := newTestEnv(t)
		link := newLink(t, e)
		e.clock.Advance(time.Hour + time.Second)
		linkRefused(t, e.browser("").post("/setup", form(link, "first@example.org", testPassword)))
		if c := e.counts(); c.Users != 0 || c.Sessions != 0 {
			t.Errorf("written after an expired link: %+v", c)
		}
	})
	t.Run("unknown link", func(t *testing.T) {
		e := newTestEnv(t)
		newLink(t, e)
		linkRefused(t, e.browser("").post("/setup", form("tcu_forged", "first@example.org", testPassword)))
		if c := e.counts(); c.Users != 0 {
			t.Errorf("written after a forged link: %+v", c)
		}
	})
	t.Run("password policy", func(t *testing.T) {
		e := newTestEnv(t)
		link := newLink(t, e)
		before := e.counts() // the link's creation is audited
		b := e.browser("")
		for _, tt := range []struct{ name, pw, pw2 string }{
			{"too short", "Xq7-short", "Xq7-short"},
			{"common", "password1234", "password1234"},
			{"contains the e-mail", "first-example-" + testPassword, "first-example-" + testPassword},
			{"mismatch", testPassword, testPassword + "x"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				f := form(link, "first@example.org", tt.pw)
				f.Set("password2", tt.pw2)
				r := b.post("/setup", f)
				if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `class="error" role="alert"`) {
					t.Errorf("status %d, want 400 with a message:\n%.800s", r.Status, r.Text)
				}
				if c := e.counts(); c != before {
					t.Errorf("written after a refused password: %+v", c)
				}
			})
		}
		// The link was not spent by the refusals.
		if r := b.post("/setup", form(link, "first@example.org", testPassword)); r.Status != http.StatusSeeOther {
			t.Errorf("the link no longer works after refused passwords: %d %s", r.Status, r.Text)
		}
	})
}

// TestCreateAccountPasswordPolicy: account creation from the console and
// the API refuses a weak password with a message and creates nothing.
func TestCreateAccountPasswordPolicy(t *testing.T) {
	e := newTestEnv(t)
	adminUser := e.createUser("admin@example.org", tocsin.RoleAdmin)
	b := e.signedIn(adminUser, "")
	token, _ := e.createToken("admin", tocsin.RoleAdmin)
	for _, pw := range []string{"short", "password1234", "newbie-example-org-1", "aaaaaaaaaaaaaaaa"} {
		t.Run(pw, func(t *testing.T) {
			before := e.counts()
			r := b.post("/console/users", url.Values{"email": {"newbie@example.org"}, "roles": {"viewer"}, "password": {pw}, "password2": {pw}})
			if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `role="alert"`) {
				t.Errorf("console: %d, want 400 with a message", r.Status)
			}
			apiError(t, e.call(http.MethodPost, "/api/v1/users", token, `{"email":"newbie@example.org","roles":["viewer"],"password":"`+pw+`"}`), 400, tocsin.EINVALID)
			if after := e.counts(); after != before {
				t.Errorf("written: %+v → %+v", before, after)
			}
		})
	}
}
