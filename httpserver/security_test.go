package httpserver

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/config"
	"github.com/tocsin-org/tocsin/i18n"
)

// checkSecurityHeaders asserts the headers every response must carry.
func checkSecurityHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	switch {
	case csp == "":
		t.Errorf("%s: no Content-Security-Policy", what)
	case strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval"):
		t.Errorf("%s: CSP allows unsafe code: %s", what, csp)
	case !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'"):
		t.Errorf("%s: CSP lacks frame-ancestors 'none' or default-src 'none': %s", what, csp)
	}
	if v := h.Get("X-Content-Type-Options"); v != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q", what, v)
	}
	if v := h.Get("X-Frame-Options"); v != "DENY" {
		t.Errorf("%s: X-Frame-Options %q", what, v)
	}
	switch v := h.Get("Referrer-Policy"); v {
	case "same-origin", "no-referrer", "strict-origin", "strict-origin-when-cross-origin":
	default:
		t.Errorf("%s: Referrer-Policy %q", what, v)
	}
	if v := h.Get("Access-Control-Allow-Origin"); v != "" {
		t.Errorf("%s: Access-Control-Allow-Origin %q", what, v)
	}
}

// TestSecurityHeaders covers every kind of response: pages, redirects,
// error pages, JSON, JSON errors, plain text, assets, preflights.
func TestSecurityHeaders(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("admin@example.org", tocsin.RoleAdmin)
	b := e.signedIn(u, "")
	token, _ := e.createToken("admin", tocsin.RoleAdmin)
	anon := e.browser("")
	req := func(method, path, token string, hdr ...string) *response {
		r, _ := http.NewRequest(method, e.ts.URL+path, nil)
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		return e.do(r)
	}
	tests := []struct {
		name   string
		resp   func() *response
		status int
	}{
		{"page", func() *response { return anon.get("/signin") }, 200},
		{"console page", func() *response { return b.get("/console/users") }, 200},
		{"redirect to sign-in", func() *response { return anon.get("/console") }, 303},
		{"error page 404", func() *response { return anon.get("/nowhere") }, 404},
		{"error page 403 (CSRF)", func() *response { return b.postRaw("/console/users", "email=x") }, 403},
		{"error page 413", func() *response {
			return b.postRaw("/signin", "csrf="+b.token()+"&x="+strings.Repeat("a", maxFormBytes))
		}, 413},
		{"API JSON", func() *response { return req("GET", "/api/v1/users", token) }, 200},
		{"API error 401", func() *response { return req("GET", "/api/v1/users", "") }, 401},
		{"API error 404", func() *response { return req("GET", "/api/v1/nothing", token) }, 404},
		{"API 204", func() *response {
			_, tok := e.createToken(fmt.Sprintf("gone%d", time.Now().UnixNano()), tocsin.RoleViewer)
			return req("DELETE", fmt.Sprintf("/api/v1/tokens/%d", tok.ID), token)
		}, 204},
		{"API preflight", func() *response {
			return req("OPTIONS", "/api/v1/users", "", "Origin", "https://evil.example", "Access-Control-Request-Method", "POST")
		}, 0},
		{"API with Origin", func() *response { return req("GET", "/api/v1/users", token, "Origin", "https://evil.example") }, 200},
		{"metrics", func() *response { return req("GET", "/metrics", token) }, 200},
		{"healthz", func() *response { return req("GET", "/healthz", "") }, 200},
		{"readyz", func() *response { return req("GET", "/readyz", "") }, 200},
		{"openapi.json", func() *response { return req("GET", "/api/v1/openapi.json", "") }, 200},
		{"static asset", func() *response { return req("GET", "/static/"+e.srv.pages.hashed["style.css"], "") }, 200},
		{"unknown asset", func() *response { return req("GET", "/static/nope.css", "") }, 404},
		{"method not allowed", func() *response { return req("PUT", "/healthz", "") }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.resp()
			if tt.status != 0 && r.Status != tt.status {
				t.Errorf("status %d, want %d", r.Status, tt.status)
			}
			checkSecurityHeaders(t, tt.name, r.Header)
			if r.Header.Get("Strict-Transport-Security") != "" {
				t.Error("HSTS over plain HTTP")
			}
		})
	}
	t.Run("HSTS when served over HTTPS", func(t *testing.T) {
		e := newTestEnv(t, func(c *config.Config) { c.BaseURL = "https://status.example.org" })
		r := e.call("GET", "/healthz", "", "")
		checkSecurityHeaders(t, "healthz", r.Header)
		if !strings.Contains(r.Header.Get("Strict-Transport-Security"), "max-age=") {
			t.Errorf("no HSTS: %q", r.Header.Get("Strict-Transport-Security"))
		}
	})
}

func setCookies(h http.Header) map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for _, c := range (&http.Response{Header: h}).Cookies() {
		out[c.Name] = c
	}
	return out
}

// TestCookies: every cookie is HttpOnly and SameSite; over HTTPS they are
// Secure, host-only and named __Host-.
func TestCookies(t *testing.T) {
	for _, https := range []bool{false, true} {
		t.Run(fmt.Sprintf("https=%t", https), func(t *testing.T) {
			e := newTestEnv(t, func(c *config.Config) {
				if https {
					c.BaseURL = "https://status.example.org"
				}
			})
			u := e.createUser("viewer@example.org", tocsin.RoleViewer)
			prefix := ""
			if https {
				prefix = "__Host-"
			}
			// Driven by hand: a cookie jar would not send Secure cookies
			// over the test's plain HTTP.
			r := e.call("GET", "/signin", "", "")
			csrf := setCookies(r.Header)[prefix+csrfCookie]
			if csrf == nil {
				t.Fatalf("no %s%s cookie: %q", prefix, csrfCookie, r.Header.Values("Set-Cookie"))
			}
			token := csrfRe.FindStringSubmatch(r.Body)[1]
			post := func(path string, form url.Values, cookies ...*http.Cookie) *response {
				form.Set(csrfField, token)
				req, _ := http.NewRequest("POST", e.ts.URL+path, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				for _, c := range cookies {
					req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
				}
				return e.do(req)
			}
			r = post("/signin", url.Values{"email": {u.Email}, "password": {u.Password}}, csrf)
			if r.Status != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", r.Status)
			}
			got := setCookies(r.Header)
			r = post("/lang", url.Values{"lang": {"fr"}}, csrf)
			for k, v := range setCookies(r.Header) {
				got[k] = v
			}
			got[csrf.Name] = csrf
			for _, name := range []string{sessionCookie, deviceCookie, langCookie, csrfCookie} {
				c := got[prefix+name]
				if c == nil {
					t.Errorf("no %s%s cookie", prefix, name)
					continue
				}
				if !c.HttpOnly {
					t.Errorf("%s is not HttpOnly", c.Name)
				}
				wantSameSite := http.SameSiteLaxMode
				if name == csrfCookie {
					wantSameSite = http.SameSiteStrictMode // stricter still: never sent cross-site
				}
				if c.SameSite != wantSameSite {
					t.Errorf("%s: SameSite %v, want %v", c.Name, c.SameSite, wantSameSite)
				}
				if c.Secure != https {
					t.Errorf("%s: Secure=%t over https=%t", c.Name, c.Secure, https)
				}
				if c.Path != "/" || c.Domain != "" {
					t.Errorf("%s: Path %q Domain %q, want / and host-only", c.Name, c.Path, c.Domain)
				}
			}
			// The server reads back the cookies it named.
			req, _ := http.NewRequest("GET", e.ts.URL+"/console", nil)
			req.AddCookie(&http.Cookie{Name: prefix + sessionCookie, Value: got[prefix+sessionCookie].Value})
			if r := e.do(req); r.Status != http.StatusOK {
				t.Errorf("console with the session cookie: %d", r.Status)
			}
			if https {
				// The unprefixed name is not a way around the prefix.
				req, _ := http.NewRequest("GET", e.ts.URL+"/console", nil)
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: got[prefix+sessionCookie].Value})
				if r := e.do(req); r.Status != http.StatusSeeOther {
					t.Errorf("console with an unprefixed session cookie over https: %d", r.Status)
				}
			}
		})
	}
}

// TestClientIP: X-Forwarded-For is believed only from a trusted proxy, read
// from the right, skipping trusted hops.
func TestClientIP(t *testing.T) {
	e := newTestEnv(t, func(c *config.Config) {
		c.TrustedProxies = []string{"10.0.0.0/8", "::1", "fd00::/8"}
	})
	tests := []struct {
		name   string
		remote string
		xff    []string
		want   string
	}{
		{"no proxy", "203.0.113.9:5000", nil, "203.0.113.9"},
		{"spoofed header from an untrusted peer", "203.0.113.9:5000", []string{"198.51.100.1"}, "203.0.113.9"},
		{"trusted proxy", "10.0.0.1:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"trusted proxy, no header", "10.0.0.1:5000", nil, "10.0.0.1"},
		{"trusted proxy, empty header", "10.0.0.1:5000", []string{""}, "10.0.0.1"},
		{"client-sent prefix is ignored", "10.0.0.1:5000", []string{"1.2.3.4, 198.51.100.1"}, "198.51.100.1"},
		{"chain of trusted proxies", "10.0.0.1:5000", []string{"198.51.100.1, 10.2.3.4, 10.0.0.2"}, "198.51.100.1"},
		{"spoofed trusted address before the client", "10.0.0.1:5000", []string{"10.9.9.9, 198.51.100.1"}, "198.51.100.1"},
		{"several headers", "10.0.0.1:5000", []string{"1.2.3.4", "198.51.100.1"}, "198.51.100.1"},
		{"only trusted hops", "10.0.0.1:5000", []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"malformed rightmost hop", "10.0.0.1:5000", []string{"198.51.100.1, not-an-ip"}, "10.0.0.1"},
		{"malformed hop behind a trusted one", "10.0.0.1:5000", []string{"bogus, 10.0.0.7"}, "10.0.0.7"},
		{"address with a port is not believed", "10.0.0.1:5000", []string{"198.51.100.1:443"}, "10.0.0.1"},
		{"spaces", "10.0.0.1:5000", []string{"  198.51.100.1  "}, "198.51.100.1"},
		{"IPv6 proxy and client", "[::1]:5000", []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv6 client through an IPv6 chain", "[::1]:5000", []string{"2001:db8::7, fd00::1"}, "2001:db8::7"},
		{"IPv6 untrusted peer", "[2001:db8::9]:5000", []string{"2001:db8::7"}, "2001:db8::9"},
		{"IPv4-mapped trusted peer", "[::ffff:10.0.0.1]:5000", []string{"198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped client", "10.0.0.1:5000", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"IPv4-mapped spoof of a trusted hop", "10.0.0.1:5000", []string{"198.51.100.1, ::ffff:10.0.0.5"}, "198.51.100.1"},
		{"remote without a port", "203.0.113.9", []string{"198.51.100.1"}, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := e.srv.clientIP(r); got != tt.want {
				t.Errorf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("end to end", func(t *testing.T) {
		e := newTestEnv(t, func(c *config.Config) { c.TrustedProxies = []string{"127.0.0.1"} })
		u := e.createUser("viewer@example.org", tocsin.RoleViewer)
		for _, tt := range []struct{ from, xff, want string }{
			{"127.0.0.1", "198.51.100.7", "198.51.100.7"},
			{"127.0.0.2", "198.51.100.8", "127.0.0.2"},
		} {
			b := e.browser(tt.from)
			b.Header.Set("X-Forwarded-For", tt.xff)
			b.signIn(u)
			if s := b.session(); s.IP != tt.want {
				t.Errorf("from %s with X-Forwarded-For %s: session IP %q, want %q", tt.from, tt.xff, s.IP, tt.want)
			}
		}
	})
}

// TestSignInThrottle: failures from one address, or against one account,
// delay the next attempt before any password is checked; the delay ends;
// a known device is exempt from the per-account counter.
func TestSignInThrottle(t *testing.T) {
	wrong := func(t *testing.T, b *browser, email string) {
		t.Helper()
		r := b.post("/signin", url.Values{"email": {email}, "password": {"wrong password 123"}})
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("wrong password for %s: %d, want 401", email, r.Status)
		}
	}
	throttled := func(t *testing.T, b *browser, u *testUser) {
		t.Helper()
		before := b.e.counts()
		failures := b.e.srv.metrics.signInFailures.Load()
		// The right password: refused all the same, so it was not looked at.
		r := b.post("/signin", url.Values{"email": {u.Email}, "password": {u.Password}})
		if r.Status != http.StatusTooManyRequests || !strings.Contains(r.Text, "Too many failed sign-ins") {
			t.Fatalf("status %d, want 429 with a message:\n%.600s", r.Status, r.Text)
		}
		if after := b.e.counts(); after != before {
			t.Errorf("a throttled attempt wrote something: %+v → %+v", before, after)
		}
		if b.e.srv.metrics.signInFailures.Load() != failures {
			t.Error("a throttled attempt was counted as a failure")
		}
	}
	accepted := func(t *testing.T, b *browser, u *testUser) {
		t.Helper()
		r := b.post("/signin", url.Values{"email": {u.Email}, "password": {u.Password}})
		if r.Status != http.StatusSeeOther {
			t.Fatalf("status %d, want 303:\n%.600s", r.Status, r.Text)
		}
	}

	t.Run("per IP address", func(t *testing.T) {
		e := newTestEnv(t)
		u := e.createUser("owner@example.org", tocsin.RoleResponder)
		attacker := e.browser("127.0.0.2")
		// Free failures cost nothing; the next attempt is still judged.
		for i := range auth.IPBackoff.Free + 1 {
			wrong(t, attacker, fmt.Sprintf("nobody%d@example.org", i))
		}
		throttled(t, attacker, u)
		// Another address is not affected.
		accepted(t, e.browser("127.0.0.3"), u)
		// The delay ends.
		e.clock.Advance(auth.IPBackoff.Delay(auth.IPBackoff.Free+1) + time.Second)
		accepted(t, attacker, u)
	})

	t.Run("per account and IP address", func(t *testing.T) {
		e := newTestEnv(t)
		u := e.createUser("owner@example.org", tocsin.RoleResponder)
		b := e.browser("127.0.0.2")
		for range auth.AccountIPBackoff.Free + 1 {
			wrong(t, b, u.Email)
		}
		throttled(t, b, u)
		e.clock.Advance(auth.AccountIPBackoff.Delay(auth.AccountIPBackoff.Free+1) + time.Second)
		accepted(t, b, u)
	})

	t.Run("per account; a known device is exempt", func(t *testing.T) {
		e := newTestEnv(t)
		u := e.createUser("owner@example.org", tocsin.RoleResponder)
		owner := e.signedIn(u, "127.0.0.4")
		if r := owner.post("/signout", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("sign-out: %d", r.Status)
		}
		// A botnet: one failure from each of many addresses.
		for i := range auth.AccountBackoff.Free + 1 {
			wrong(t, e.browser(fmt.Sprintf("127.0.0.%d", 10+i)), u.Email)
		}
		throttled(t, e.browser("127.0.0.50"), u)
		throttled(t, e.browser("127.0.0.4"), u) // the owner's address, a new browser
		accepted(t, owner, u)                   // the owner's browser
	})
}

// TestSignInAlerts: a sign-in from a new address or device, and the first
// failed sign-in, each put one e-mail to the account's owner in the outbox.
func TestSignInAlerts(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("owner@example.org", tocsin.RoleResponder)
	other := e.createUser("other@example.org", tocsin.RoleResponder)
	seen := 0
	expect := func(t *testing.T, n int, subjectKey string) {
		t.Helper()
		msgs := e.messages()
		if len(msgs)-seen != n {
			t.Fatalf("%d new messages, want %d", len(msgs)-seen, n)
		}
		for _, m := range msgs[:n] {
			if m.To != u.Email || m.Channel != tocsin.ChannelEmail {
				t.Errorf("message to %q over %q, want only %q by e-mail", m.To, m.Channel, u.Email)
			}
			if m.Subject != i18n.T("en", subjectKey) {
				t.Errorf("subject %q, want %q", m.Subject, i18n.T("en", subjectKey))
			}
		}
		seen = len(msgs)
	}
	signOut := func(b *browser) {
		if r := b.post("/signout", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("sign-out: %d", r.Status)
		}
	}

	a := e.browser("127.0.0.2")
	t.Run("first sign-in", func(t *testing.T) {
		a.signIn(u)
		expect(t, 1, "mail.signin.subject")
		if e.kicks.Load() == 0 {
			t.Error("the outbox worker was not woken")
		}
	})
	t.Run("same device and address", func(t *testing.T) {
		signOut(a)
		a.signIn(u)
		expect(t, 0, "")
	})
	t.Run("new address, known device", func(t *testing.T) {
		b := e.browser("127.0.0.3")
		uu, _ := url.Parse(e.ts.URL)
		b.hc.Jar.SetCookies(uu, []*http.Cookie{{Name: deviceCookie, Value: a.cookie(deviceCookie), Path: "/"}})
		b.signIn(u)
		expect(t, 1, "mail.signin.subject")
		if m := e.messages()[0]; !strings.Contains(m.Body, "127.0.0.3") {
			t.Errorf("the alert does not name the address:\n%s", m.Body)
		}
	})
	t.Run("new device, known address", func(t *testing.T) {
		e.browser("127.0.0.2").signIn(u)
		expect(t, 1, "mail.signin.subject")
	})
	t.Run("first failure, then a flood", func(t *testing.T) {
		b := e.browser("127.0.0.9")
		for i := range auth.AccountIPBackoff.Free {
			r := b.post("/signin", url.Values{"email": {u.Email}, "password": {"wrong password 123"}})
			if r.Status != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i+1, r.Status)
			}
			if i == 0 {
				expect(t, 1, "mail.failed.subject")
			}
		}
		expect(t, 0, "")
	})
	t.Run("unknown account", func(t *testing.T) {
		e.browser("127.0.0.8").post("/signin", url.Values{"email": {"nobody@example.org"}, "password": {"wrong password 123"}})
		expect(t, 0, "")
	})
	for _, m := range e.messages() {
		if m.To == other.Email {
			t.Errorf("a message went to another account: %+v", m)
		}
	}
}

// TestSessionManagement: the account page lists one's sessions; one can
// revoke one of them, all others, or sign out, and no one else's.
func TestSessionManagement(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("owner@example.org", tocsin.RoleViewer)
	other := e.createUser("other@example.org", tocsin.RoleViewer)
	a, b := e.signedIn(u, "127.0.0.2"), e.signedIn(u, "127.0.0.3")
	ob := e.signedIn(other, "127.0.0.4")
	idOf := func(b *browser) string { return auth.HashToken(b.cookie(sessionCookie)) }
	out := func(t *testing.T, b *browser) {
		t.Helper()
		if r := b.get("/console"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/signin") {
			t.Errorf("still signed in: %d %q", r.Status, r.location())
		}
	}
	in := func(t *testing.T, b *browser) {
		t.Helper()
		if r := b.get("/console"); r.Status != http.StatusOK {
			t.Errorf("signed out: %d %q", r.Status, r.location())
		}
	}

	t.Run("list", func(t *testing.T) {
		r := a.get("/console/account")
		for _, x := range []*browser{a, b} {
			if !strings.Contains(r.Body, "/console/sessions/"+idOf(x)+"/revoke") {
				t.Errorf("session from %s not listed", x.ip)
			}
		}
		if strings.Contains(r.Body, idOf(ob)) {
			t.Error("another account's session is listed")
		}
		if strings.Count(r.Text, "("+i18n.T("en", "account.this_session")+")") != 1 {
			t.Error("the current session is not marked once")
		}
	})
	t.Run("revoke another account's session", func(t *testing.T) {
		if r := a.post("/console/sessions/"+idOf(ob)+"/revoke", nil); r.Status != http.StatusNotFound {
			t.Errorf("status %d, want 404", r.Status)
		}
		in(t, ob)
	})
	t.Run("revoke one", func(t *testing.T) {
		if r := a.post("/console/sessions/"+idOf(b)+"/revoke", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("status %d", r.Status)
		}
		out(t, b)
		in(t, a)
	})
	t.Run("revoke all others", func(t *testing.T) {
		c, d := e.signedIn(u, "127.0.0.5"), e.signedIn(u, "127.0.0.6")
		if r := a.post("/console/sessions/revoke-others", nil); r.Status != http.StatusSeeOther {
			t.Fatalf("status %d", r.Status)
		}
		out(t, c)
		out(t, d)
		in(t, a)
		in(t, ob)
	})
	t.Run("revoke the current one", func(t *testing.T) {
		c := e.signedIn(u, "127.0.0.7")
		r := c.post("/console/sessions/"+idOf(c)+"/revoke", nil)
		if r.Status != http.StatusSeeOther || r.location() != "/signin" || c.cookie(sessionCookie) != "" {
			t.Errorf("status %d %q, cookie %q", r.Status, r.location(), c.cookie(sessionCookie))
		}
		in(t, a)
	})
	t.Run("sign out", func(t *testing.T) {
		r := a.post("/signout", nil)
		if r.Status != http.StatusSeeOther || a.cookie(sessionCookie) != "" {
			t.Errorf("status %d, cookie %q", r.Status, a.cookie(sessionCookie))
		}
		out(t, a)
		if ss, _ := e.store.UserSessions(e.ctx, u.ID); len(ss) != 0 {
			t.Errorf("%d sessions left", len(ss))
		}
		in(t, ob)
	})
}

// TestPasswordChange: it needs the current password and signs out every
// other session.
func TestPasswordChange(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("owner@example.org", tocsin.RoleViewer)
	a, b := e.signedIn(u, "127.0.0.2"), e.signedIn(u, "127.0.0.3")
	newPw := "Tr0mbone-Lilac-Quartz"

	r := a.post("/console/account/password", url.Values{"current": {"not it at all"}, "password": {newPw}, "password2": {newPw}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Text, i18n.T("en", "account.password_wrong")) {
		t.Errorf("wrong current password: %d", r.Status)
	}
	r = a.post("/console/account/password", url.Values{"current": {u.Password}, "password": {"password1234"}, "password2": {"password1234"}})
	if r.Status != http.StatusBadRequest || !strings.Contains(r.Body, `class="error" role="alert"`) {
		t.Errorf("weak new password: %d", r.Status)
	}
	if r := b.get("/console"); r.Status != http.StatusOK {
		t.Fatalf("a refused change signed the other session out: %d", r.Status)
	}

	r = a.post("/console/account/password", url.Values{"current": {u.Password}, "password": {newPw}, "password2": {newPw}})
	if r.Status != http.StatusOK || !strings.Contains(r.Text, i18n.T("en", "account.password_changed")) {
		t.Fatalf("change: %d", r.Status)
	}
	if r := b.get("/console"); r.Status != http.StatusSeeOther {
		t.Errorf("the other session survived the change: %d", r.Status)
	}
	if r := a.get("/console"); r.Status != http.StatusOK {
		t.Errorf("the session that changed it was signed out: %d", r.Status)
	}
	if r := e.browser("127.0.0.4").post("/signin", url.Values{"email": {u.Email}, "password": {u.Password}}); r.Status != http.StatusUnauthorized {
		t.Errorf("old password: %d, want 401", r.Status)
	}
	u.Password = newPw
	e.signedIn(u, "127.0.0.4")
}

// TestDisabledUser: disabling an account ends its sessions at once and
// refuses its sign-in.
func TestDisabledUser(t *testing.T) {
	e := newTestEnv(t)
	e.createUser("admin@example.org", tocsin.RoleAdmin)
	token, _ := e.createToken("admin", tocsin.RoleAdmin)
	u := e.createUser("leaver@example.org", tocsin.RoleResponder)
	b := e.signedIn(u, "127.0.0.2")
	if r := e.call("POST", fmt.Sprintf("/api/v1/users/%d/disable", u.ID), token, ""); r.Status != http.StatusOK {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	if r := b.get("/console"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/signin") {
		t.Errorf("a disabled account's session still works: %d", r.Status)
	}
	if r := e.browser("127.0.0.3").post("/signin", url.Values{"email": {u.Email}, "password": {u.Password}}); r.Status != http.StatusUnauthorized {
		t.Errorf("a disabled account signed in: %d", r.Status)
	}
}

// TestAuditActorAndIP: account and token creation and sign-in are in the
// audit log with who did them and from where.
func TestAuditActorAndIP(t *testing.T) {
	e := newTestEnv(t)
	adm := e.createUser("admin@example.org", tocsin.RoleAdmin)
	b := e.signedIn(adm, "127.0.0.7")
	if r := b.post("/console/users", url.Values{"email": {"new@example.org"}, "roles": {"responder"}, "password": {testPassword}, "password2": {testPassword}}); r.Status != http.StatusOK {
		t.Fatalf("create account: %d", r.Status)
	}
	if r := b.post("/console/tokens", url.Values{"name": {"ci"}, "roles": {"responder"}}); r.Status != http.StatusOK {
		t.Fatalf("create token: %d", r.Status)
	}
	token, _ := e.createToken("robot", tocsin.RoleAdmin)
	if r := e.call("POST", "/api/v1/tokens", token, `{"name":"from-api","roles":["viewer"]}`); r.Status != http.StatusCreated {
		t.Fatalf("API token: %d", r.Status)
	}
	find := func(action, actor string) *tocsin.AuditEntry {
		entries, err := e.store.AuditEntries(e.ctx, tocsin.AuditFilter{Action: action, Actor: actor})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) == 0 {
			return nil
		}
		return entries[0]
	}
	for _, tt := range []struct{ action, actor, ip string }{
		{"session.create", adm.Email, "127.0.0.7"},
		{"session.verify", adm.Email, "127.0.0.7"},
		{"user.create", adm.Email, "127.0.0.7"},
		{"token.create", adm.Email, "127.0.0.7"},
		{"token.create", "token:robot", "127.0.0.1"},
	} {
		en := find(tt.action, tt.actor)
		switch {
		case en == nil:
			t.Errorf("no %s entry by %s", tt.action, tt.actor)
		case en.IP != tt.ip || en.Actor != tt.actor:
			t.Errorf("%s: actor %q ip %q, want %q %q", tt.action, en.Actor, en.IP, tt.actor, tt.ip)
		case en.Actor == adm.Email && en.ActorID != adm.ID:
			t.Errorf("%s: actor id %d, want %d", tt.action, en.ActorID, adm.ID)
		}
	}
	if _, brk, err := e.store.VerifyAudit(e.ctx); err != nil || brk != nil {
		t.Errorf("chain: %v %v", brk, err)
	}
}

// TestLanguage: the account's preference, then the language cookie, then
// Accept-Language, then the configured default.
func TestLanguage(t *testing.T) {
	e := newTestEnv(t)
	frTitle, enTitle := i18n.T("fr", "signin.title"), i18n.T("en", "signin.title")
	if frTitle == enTitle {
		t.Fatal("the sign-in title is the same in both languages")
	}
	isLang := func(t *testing.T, r *response, lang, text string) {
		t.Helper()
		if !strings.Contains(r.Body, `<html lang="`+lang+`">`) || !strings.Contains(r.Text, text) {
			t.Errorf("want a page in %s containing %q; got %.200s", lang, text, r.Body)
		}
	}
	withCookie := func(b *browser, lang string) {
		uu, _ := url.Parse(e.ts.URL)
		b.hc.Jar.SetCookies(uu, []*http.Cookie{{Name: langCookie, Value: lang, Path: "/"}})
	}

	t.Run("Accept-Language", func(t *testing.T) {
		for _, tt := range []struct{ header, lang, text string }{
			{"fr", "fr", frTitle},
			{"fr-FR,fr;q=0.9,en;q=0.8", "fr", frTitle},
			{"en-GB,en;q=0.9", "en", enTitle},
			{"de, fr;q=0.5, en;q=0.7", "en", enTitle},
			{"de", "en", enTitle},
			{"", "en", enTitle},
		} {
			b := e.browser("")
			b.Header.Set("Accept-Language", tt.header)
			isLang(t, b.get("/signin"), tt.lang, tt.text)
		}
	})
	t.Run("cookie over Accept-Language", func(t *testing.T) {
		b := e.browser("")
		b.Header.Set("Accept-Language", "fr")
		withCookie(b, "en")
		isLang(t, b.get("/signin"), "en", enTitle)
		// The switch sets the cookie.
		b.Header.Set("Accept-Language", "en")
		if r := b.post("/lang", url.Values{"lang": {"fr"}, "next": {"/signin"}}); r.Status != http.StatusSeeOther || r.location() != "/signin" {
			t.Fatalf("switch: %d %q", r.Status, r.location())
		}
		isLang(t, b.get("/signin"), "fr", frTitle)
	})
	t.Run("account preference over cookie and Accept-Language", func(t *testing.T) {
		u := e.createUser("francophone@example.org", tocsin.RoleViewer)
		if err := e.store.SetLang(e.ctx, tocsin.CLI, u.ID, "fr"); err != nil {
			t.Fatal(err)
		}
		b := e.signedIn(u, "")
		b.Header.Set("Accept-Language", "en")
		withCookie(b, "en")
		isLang(t, b.get("/console/account"), "fr", i18n.T("fr", "account.title"))
	})
	t.Run("no preference follows the browser", func(t *testing.T) {
		u := e.createUser("anglophone@example.org", tocsin.RoleViewer)
		b := e.signedIn(u, "")
		b.Header.Set("Accept-Language", "fr")
		isLang(t, b.get("/console/account"), "fr", i18n.T("fr", "account.title"))
	})
	t.Run("configured default", func(t *testing.T) {
		e := newTestEnv(t, func(c *config.Config) { c.Lang = "fr" })
		isLang(t, e.browser("").get("/signin"), "fr", frTitle)
	})
}

// TestSecondFactorNotLockedOutByPasswordGuessing: someone guessing the
// password of a 2FA account from many addresses must not keep its owner,
// on a known device with the right password and code, out of the second
// factor step, which counts second-factor failures only.
func TestSecondFactorNotLockedOutByPasswordGuessing(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("owner@example.org", tocsin.RoleAdmin)
	owner := e.signedIn(u, "127.0.0.4")
	owner.post("/signout", nil)
	// Guesses from many addresses, each as soon as the back-off allows.
	for i := range 16 {
		e.browser(fmt.Sprintf("127.0.0.%d", 10+i)).post("/signin", url.Values{"email": {u.Email}, "password": {"wrong password 123"}})
		e.clock.Advance(auth.AccountBackoff.Delay(i + 1))
	}
	e.clock.Advance(-auth.AccountBackoff.Delay(16) + 2*time.Minute)
	if r := owner.post("/signin", url.Values{"email": {u.Email}, "password": {u.Password}}); r.Status != http.StatusSeeOther {
		t.Fatalf("owner's password on a known device: %d", r.Status)
	}
	if r := owner.post("/signin/2fa", url.Values{"code": {e.nextCode(u)}}); r.Status != http.StatusSeeOther {
		t.Errorf("owner's valid code: %d, want 303", r.Status)
	}
}
