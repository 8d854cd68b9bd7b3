package httpserver

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/config"
	"github.com/tocsin-org/tocsin/sqlstore"
)

// testPassword satisfies the password policy and contains nothing of the
// test accounts' e-mail addresses.
const testPassword = "Vq8-pL2m-Xr7t-Zk4w"

// testClock is the server's clock in tests. It starts at the real time (the
// store stamps some rows with time.Now) and only moves when a test says so.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testEnv is a Server on a real SQLite store in a temporary directory,
// served by an httptest.Server.
type testEnv struct {
	t      testing.TB
	ctx    context.Context
	cfg    config.Config
	store  *sqlstore.DB
	hasher *auth.Hasher
	box    *auth.Box
	clock  *testClock
	srv    *Server
	ts     *httptest.Server
	kicks  atomic.Int64
	// api is a plain client without cookies for bearer-token calls.
	api *http.Client
}

// newTestEnv builds the server; tweak adjusts the configuration first.
func newTestEnv(t testing.TB, tweak ...func(*config.Config)) *testEnv {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = dir
	for _, f := range tweak {
		f(&cfg)
	}
	dir = cfg.DataDir // a tweak may move it
	store, err := sqlstore.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	box, err := auth.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	e := &testEnv{
		t: t, ctx: ctx, cfg: cfg, store: store, box: box,
		hasher: auth.NewHasher(auth.PasswordParams{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}),
		clock:  &testClock{t: time.Now().UTC().Truncate(time.Second)},
	}
	e.srv, err = New(Options{
		Config: cfg, Store: store, Hasher: e.hasher, Box: box, Now: e.clock.Now,
		Version: "test", KickOutbox: func() { e.kicks.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	e.srv.StartPublisher()
	t.Cleanup(func() { e.srv.StopPublisher(context.Background()) })
	e.ts = httptest.NewServer(e.srv.Handler())
	t.Cleanup(e.ts.Close)
	e.api = &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	t.Cleanup(e.api.CloseIdleConnections)
	return e
}

// testUser is an account created directly in the store.
type testUser struct {
	ID       int64
	Email    string
	Password string
	Roles    tocsin.Roles
	secret   []byte   // TOTP secret, once enrolled through the enrol page
	recovery []string // recovery codes shown at enrolment
}

func (e *testEnv) createUser(email string, roles ...tocsin.Role) *testUser {
	e.t.Helper()
	u, err := auth.NewUser(e.ctx, e.hasher, email, "", tocsin.Roles(roles), testPassword)
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.CreateUser(e.ctx, tocsin.CLI, u); err != nil {
		e.t.Fatal(err)
	}
	return &testUser{ID: u.ID, Email: u.Email, Password: testPassword, Roles: u.Roles}
}

// createToken stores an API token and returns it in plain.
func (e *testEnv) createToken(name string, roles ...tocsin.Role) (string, *tocsin.APIToken) {
	e.t.Helper()
	plain, tok, err := auth.NewAPIToken(name, tocsin.Roles(roles), "cli", e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.CreateToken(e.ctx, tocsin.CLI, tok); err != nil {
		e.t.Fatal(err)
	}
	return plain, tok
}

// response is a read HTTP response.
type response struct {
	Status int
	Header http.Header
	Body   string // raw
	Text   string // HTML entities decoded, for looking for messages
}

func (r *response) location() string { return r.Header.Get("Location") }

func readResponse(t testing.TB, resp *http.Response) *response {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: string(b), Text: html.UnescapeString(string(b))}
}

// do sends req with the plain API client. A read first waits for the
// public site to reflect the changes made before it, which the server
// rebuilds in the background.
func (e *testEnv) do(req *http.Request) *response {
	e.t.Helper()
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		if err := e.srv.WaitPublic(e.ctx); err != nil {
			e.t.Fatal(err)
		}
	}
	resp, err := e.api.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return readResponse(e.t, resp)
}

// call sends an API request with a bearer token ("" for none) and a JSON body
// ("" for none).
func (e *testEnv) call(method, path, token, body string) *response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.do(req)
}

// apiError checks that resp is a JSON error {"error":{"code","message"}}
// with this status and code.
func apiError(t *testing.T, resp *response, status int, code string) {
	t.Helper()
	if resp.Status != status {
		t.Errorf("status %d, want %d; body %s", resp.Status, status, resp.Body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var body struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || body.Error == nil {
		t.Fatalf("body is not {\"error\":{…}}: %s (%v)", resp.Body, err)
	}
	if body.Error.Code != code {
		t.Errorf("error code %q, want %q (message %q)", body.Error.Code, code, body.Error.Message)
	}
	if strings.TrimSpace(body.Error.Message) == "" {
		t.Errorf("error without a message: %s", resp.Body)
	}
}

// counts is what a refused request must leave unchanged.
type counts struct {
	Users, Tokens, Audit, Messages, Sessions, SignIns int
}

func (e *testEnv) counts() counts {
	e.t.Helper()
	var c counts
	var err error
	if c.Users, err = e.store.CountUsers(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	toks, err := e.store.Tokens(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	c.Tokens = len(toks)
	n, brk, err := e.store.VerifyAudit(e.ctx)
	if err != nil || brk != nil {
		e.t.Fatalf("audit: %v %v", brk, err)
	}
	c.Audit = int(n)
	msgs, err := e.store.Messages(e.ctx, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	c.Messages = len(msgs)
	users, err := e.store.Users(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, u := range users {
		ss, err := e.store.UserSessions(e.ctx, u.ID)
		if err != nil {
			e.t.Fatal(err)
		}
		c.Sessions += len(ss)
	}
	if c.SignIns, err = e.store.CountSignIns(e.ctx, tocsin.SignInFilter{}); err != nil {
		e.t.Fatal(err)
	}
	return c
}

// messagesTo returns the outbox messages, newest first.
func (e *testEnv) messages() []*tocsin.Message {
	e.t.Helper()
	msgs, err := e.store.Messages(e.ctx, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return msgs
}

// browser is a cookie-keeping client that does not follow redirects and
// connects from a chosen loopback address, so that the server sees that
// address as the client's.
type browser struct {
	e    *testEnv
	hc   *http.Client
	csrf string // the hidden csrf field of the last page seen
	ip   string
	// Header is added to every request (Accept-Language, User-Agent…).
	Header http.Header
}

func (e *testEnv) browser(ip string) *browser {
	e.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if ip == "" {
		ip = "127.0.0.1"
	}
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	tr := &http.Transport{DialContext: d.DialContext}
	e.t.Cleanup(tr.CloseIdleConnections)
	return &browser{
		e: e, ip: ip, Header: http.Header{"User-Agent": {"tocsin-test/1 (" + ip + ")"}},
		hc: &http.Client{
			Jar: jar, Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func (b *browser) send(req *http.Request) *response {
	b.e.t.Helper()
	if req.Method == http.MethodGet || req.Method == http.MethodHead {
		if err := b.e.srv.WaitPublic(b.e.ctx); err != nil { // as in do
			b.e.t.Fatal(err)
		}
	}
	for k, vs := range b.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	r := readResponse(b.e.t, resp)
	if m := csrfRe.FindStringSubmatch(r.Body); m != nil {
		b.csrf = m[1]
	}
	return r
}

func (b *browser) get(path string) *response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.ts.URL+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.send(req)
}

// token returns the browser's CSRF form token, loading a page for it first.
func (b *browser) token() string {
	b.e.t.Helper()
	if b.csrf == "" {
		b.get("/signin")
		if b.csrf == "" {
			b.e.t.Fatal("no csrf field on /signin")
		}
	}
	return b.csrf
}

// post sends a form with the browser's CSRF token.
func (b *browser) post(path string, form url.Values) *response {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form[csrfField]; !ok {
		form.Set(csrfField, b.token())
	}
	return b.postRaw(path, form.Encode())
}

// postRaw sends body as a form as is (no CSRF token added).
func (b *browser) postRaw(path, body string) *response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.ts.URL+path, strings.NewReader(body))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.send(req)
}

// cookie returns the value of one of the server's cookies in the jar.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.e.ts.URL)
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == b.e.srv.cookieName(name) {
			return c.Value
		}
	}
	return ""
}

// session returns the stored session of this browser, nil if none.
func (b *browser) session() *tocsin.Session {
	v := b.cookie(sessionCookie)
	if v == "" {
		return nil
	}
	s, err := b.e.store.Session(b.e.ctx, auth.HashToken(v))
	if err != nil {
		return nil
	}
	return s
}

// signInPassword posts the sign-in form and expects the password accepted.
func (b *browser) signInPassword(u *testUser) *response {
	b.e.t.Helper()
	r := b.post("/signin", url.Values{"email": {u.Email}, "password": {u.Password}})
	if r.Status != http.StatusSeeOther {
		b.e.t.Fatalf("sign-in of %s: status %d, want 303; %s", u.Email, r.Status, r.Text)
	}
	return r
}

// signIn signs u in completely: password, then the second factor when the
// account has one (a fresh TOTP step) or must enrol one.
func (b *browser) signIn(u *testUser) {
	b.e.t.Helper()
	r := b.signInPassword(u)
	switch loc := r.location(); {
	case strings.HasPrefix(loc, "/signin/2fa/enrol"):
		b.enrol(u)
	case strings.HasPrefix(loc, "/signin/2fa"):
		b.passChallenge(u)
	}
	if s := b.session(); s == nil || !s.Verified || s.UserID != u.ID {
		b.e.t.Fatalf("%s is not fully signed in: %+v", u.Email, s)
	}
}

var (
	secretRe   = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7 ]+)</code>`)
	sealedRe   = regexp.MustCompile(`name="sealed" value="([A-Za-z0-9_-]+)"`)
	recoveryRe = regexp.MustCompile(`<li><code>([0-9a-z-]+)</code></li>`)
)

// enrol reads the TOTP secret from the enrolment page as a person would
// from its text form, and confirms it with the code of the server's clock.
func (b *browser) enrol(u *testUser) {
	b.e.t.Helper()
	r := b.get("/signin/2fa/enrol")
	ms, mf := secretRe.FindStringSubmatch(r.Body), sealedRe.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || ms == nil || mf == nil {
		b.e.t.Fatalf("enrol page: status %d, no secret or sealed field:\n%s", r.Status, r.Body)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(ms[1], " ", ""))
	if err != nil {
		b.e.t.Fatal(err)
	}
	code := auth.TOTPCode(secret, b.e.clock.Now())
	r = b.post("/signin/2fa/enrol", url.Values{"sealed": {mf[1]}, "code": {code}})
	if r.Status != http.StatusOK {
		b.e.t.Fatalf("enrol: status %d: %s", r.Status, r.Text)
	}
	u.secret = secret
	u.recovery = nil
	for _, m := range recoveryRe.FindAllStringSubmatch(r.Body, -1) {
		u.recovery = append(u.recovery, m[1])
	}
	if len(u.recovery) == 0 {
		b.e.t.Fatalf("no recovery codes shown after enrolment:\n%s", r.Body)
	}
}

// nextCode moves the clock to the next TOTP step and returns its code, so
// that a code is never refused as a replay.
func (e *testEnv) nextCode(u *testUser) string {
	e.clock.Advance(auth.TOTPPeriod * time.Second)
	return auth.TOTPCode(u.secret, e.clock.Now())
}

// passChallenge answers the second-factor challenge with a fresh code.
func (b *browser) passChallenge(u *testUser) {
	b.e.t.Helper()
	r := b.post("/signin/2fa", url.Values{"code": {b.e.nextCode(u)}})
	if r.Status != http.StatusSeeOther {
		b.e.t.Fatalf("2FA challenge of %s: status %d: %s", u.Email, r.Status, r.Text)
	}
}

// signedIn returns a new browser at ip, fully signed in as u.
func (e *testEnv) signedIn(u *testUser, ip string) *browser {
	e.t.Helper()
	b := e.browser(ip)
	b.signIn(u)
	return b
}

// decodeAs decodes an API response body into a T, failing the test if it
// is not one.
func decodeAs[T any](t *testing.T, r *response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("not a %T: %s", v, r.Body)
	}
	return v
}
