package httpserver

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
)

// Whoever holds the password cannot brute-force the second factor by
// changing address: the account's second-factor failures are throttled with
// no device exempt, without the clock moving.
func TestSecondFactorGuessingIsThrottled(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("victim@example.org", tocsin.RoleAdmin)
	owner := e.signedIn(u, "127.0.0.2") // enrols TOTP
	owner.post("/signout", nil)

	attacker := e.browser("127.0.0.3")
	attacker.signInPassword(u)
	throttledAt := 0
	for i := 1; i <= auth.AccountBackoff.Free+3; i++ {
		// A fresh address each time, same cookies: per-address counters
		// alone would never fire.
		from := e.browser(fmt.Sprintf("127.0.1.%d", i))
		from.hc.Jar, from.csrf = attacker.hc.Jar, attacker.token()
		r := from.post("/signin/2fa", url.Values{"code": {"000000"}})
		if r.Status == http.StatusTooManyRequests {
			throttledAt = i
			break
		}
		if r.Status != http.StatusUnauthorized {
			t.Fatalf("guess %d: status %d", i, r.Status)
		}
	}
	if throttledAt == 0 || throttledAt > auth.AccountBackoff.Free+2 {
		t.Fatalf("second-factor guesses never throttled (throttled at %d)", throttledAt)
	}
	// Even a right code is refused while throttled: the wait is not a hint.
	if r := attacker.post("/signin/2fa", url.Values{"code": {auth.TOTPCode(u.secret, e.clock.Now())}}); r.Status != http.StatusTooManyRequests {
		t.Errorf("right code while throttled: %d, want 429", r.Status)
	}
}

// The session cookie from before the second factor stops working once it
// is passed: a planted or observed pre-2FA identifier is worth nothing.
func TestSessionRotatesAtSecondFactor(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("admin@example.org", tocsin.RoleAdmin)
	e.signedIn(u, "127.0.0.2").post("/signout", nil)

	b := e.browser("127.0.0.2")
	b.signInPassword(u)
	before := b.cookie(sessionCookie)
	b.passChallenge(u)
	after := b.cookie(sessionCookie)
	if before == "" || after == "" || before == after {
		t.Fatalf("session cookie not rotated at the second factor: %q → %q", before, after)
	}
	if _, err := e.store.Session(e.ctx, auth.HashToken(before)); tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		t.Errorf("the pre-2FA session still exists: %v", err)
	}
	if r := b.get("/console"); r.Status != http.StatusOK {
		t.Errorf("console with the rotated session: %d", r.Status)
	}
}

// An address with no account is throttled exactly like one with an
// account, so throttling does not reveal which addresses exist.
func TestThrottlingDoesNotRevealAccounts(t *testing.T) {
	e := newTestEnv(t)
	e.createUser("exists@example.org", tocsin.RoleResponder)
	statuses := func(email, ip string) []int {
		b := e.browser(ip)
		var out []int
		for range auth.AccountIPBackoff.Free + 3 {
			out = append(out, b.post("/signin", url.Values{"email": {email}, "password": {"wrong wrong wrong"}}).Status)
		}
		return out
	}
	known, unknown := statuses("exists@example.org", "127.0.0.5"), statuses("nobody@example.org", "127.0.0.6")
	if fmt.Sprint(known) != fmt.Sprint(unknown) {
		t.Errorf("known account %v, unknown %v: the answers differ", known, unknown)
	}
	if known[len(known)-1] != http.StatusTooManyRequests {
		t.Errorf("repeated failures never throttled: %v", known)
	}
}

// A stolen session cannot be used to guess the password: wrong current
// passwords are failures with their back-off.
func TestPasswordChangeGuessingIsThrottled(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("owner@example.org", tocsin.RoleResponder)
	b := e.signedIn(u, "127.0.0.7")
	const next = "an entirely new passphrase"
	var last *response
	for range auth.AccountBackoff.Free + 2 {
		last = b.post("/console/account/password", url.Values{"current": {"a wrong guess 123"}, "password": {next}, "password2": {next}})
	}
	if !strings.Contains(last.Text, "Too many failed sign-ins") {
		t.Fatalf("password guesses through the account page never throttled: %d %q", last.Status, last.Text)
	}
	// While throttled, even the right password is not checked.
	r := b.post("/console/account/password", url.Values{"current": {u.Password}, "password": {next}, "password2": {next}})
	if !strings.Contains(r.Text, "Too many failed sign-ins") {
		t.Errorf("right password while throttled: %d", r.Status)
	}
	if got, _ := e.store.User(e.ctx, u.ID); got.PasswordHash == "" || func() bool { ok, _, _ := e.hasher.Verify(e.ctx, next, got.PasswordHash); return ok }() {
		t.Error("the password was changed while throttled")
	}
}

func TestSafeNext(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/console/users?page=2", "/console/users?page=2"},
		{"/console/audit#x", "/console/audit#x"},
		{"", "/console"},
		{"https://evil.example/", "/console"},
		{"//evil.example", "/console"},
		{"/\\evil.example", "/console"},
		{"/\t/evil.example", "/console"},
		{"/\n/evil.example", "/console"},
		{"/%09/evil.example", "/%09/evil.example"}, // stays a path: the browser does not decode it
		{"console", "/console"},
		{"/x\x7f", "/console"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			if got := safeNext(tt.in); got != tt.want {
				t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
