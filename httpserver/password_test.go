package httpserver

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
)

// messagesTo returns the outbox messages to one address whose key starts
// with prefix.
func (e *testEnv) messagesTo(to, keyPrefix string) []*tocsin.Message {
	var out []*tocsin.Message
	for _, m := range e.messages() {
		if m.To == to && strings.HasPrefix(m.Key, keyPrefix) {
			out = append(out, m)
		}
	}
	return out
}

// An account created by an admin signs in with the password the admin chose,
// and must choose its own before any console page opens.
func TestAdminChosenPasswordMustBeReplaced(t *testing.T) {
	e := newTestEnv(t)
	adminUser := e.createUser("boss@example.org", tocsin.RoleAdmin)
	a := e.signedIn(adminUser, "127.0.0.2")

	const given = "Given-By-The-Admin-42"
	r := a.post("/console/users", url.Values{
		"email": {"newcomer@example.org"}, "name": {"New Comer"}, "roles": {"responder"},
		"password": {given}, "password2": {given},
	})
	if r.Status != http.StatusOK {
		t.Fatalf("create account: %d %s", r.Status, r.Text)
	}
	u, err := e.store.UserByEmail(e.ctx, "newcomer@example.org")
	if err != nil || !u.MustChangePassword {
		t.Fatalf("account created by an admin: must change %v, err %v", u != nil && u.MustChangePassword, err)
	}

	b := e.browser("127.0.0.3")
	b.signInPassword(&testUser{Email: u.Email, Password: given})
	for _, path := range []string{"/console", "/console/account", "/console/users"} {
		if r := b.get(path); r.Status != http.StatusSeeOther || r.location() != "/signin/password" {
			t.Errorf("GET %s before choosing a password: %d → %q, want 303 → /signin/password", path, r.Status, r.location())
		}
	}
	if r := b.get("/signin/password"); r.Status != http.StatusOK || strings.Contains(r.Body, `href="/console/account"`) {
		t.Fatalf("password page: %d, menu shown: %v", r.Status, strings.Contains(r.Body, `href="/console/account"`))
	}
	tests := []struct {
		name, pw, pw2, want string
	}{
		{"mismatch", "one long passphrase here", "another long passphrase", "differ"},
		{"weak", "password1234", "password1234", "Choose another password"},
		{"same as given", given, given, "different from the one you were given"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := b.post("/signin/password", url.Values{"password": {tt.pw}, "password2": {tt.pw2}})
			if r.Status != http.StatusBadRequest || !strings.Contains(r.Text, tt.want) {
				t.Errorf("%d %q, want 400 with %q", r.Status, r.Text, tt.want)
			}
		})
	}
	const own = "only the owner knows this one"
	if r := b.post("/signin/password", url.Values{"password": {own}, "password2": {own}}); r.Status != http.StatusSeeOther || r.location() != "/console" {
		t.Fatalf("choose own password: %d → %q", r.Status, r.location())
	}
	if r := b.get("/console"); r.Status != http.StatusOK {
		t.Errorf("console after choosing a password: %d", r.Status)
	}
	if got, _ := e.store.User(e.ctx, u.ID); got.MustChangePassword {
		t.Error("flag still set after the owner chose a password")
	}
	// The given password no longer works; the owner's does.
	c := e.browser("127.0.0.3")
	if r := c.post("/signin", url.Values{"email": {u.Email}, "password": {given}}); r.Status != http.StatusUnauthorized {
		t.Errorf("the admin's password still signs in: %d", r.Status)
	}
}

// An admin's temporary password ends the account's sessions, tells its owner
// by e-mail in the same transaction, and is replaced at next sign-in.
func TestTemporaryPasswordByAdmin(t *testing.T) {
	e := newTestEnv(t)
	adminUser := e.createUser("boss@example.org", tocsin.RoleAdmin)
	owner := e.createUser("owner@example.org", tocsin.RoleResponder)
	a := e.signedIn(adminUser, "127.0.0.2")
	o := e.signedIn(owner, "127.0.0.4")

	path := "/console/users/" + strconv.FormatInt(owner.ID, 10) + "/password"
	if r := a.post(path, url.Values{"password": {"short"}, "password2": {"short"}}); r.Status != http.StatusBadRequest {
		t.Errorf("weak temporary password: %d", r.Status)
	}
	if got := e.messagesTo(owner.Email, "mail.password_reset"); len(got) != 0 {
		t.Fatalf("a refused reset sent %d notices", len(got))
	}
	const temp = "Temporary-Pass-For-You-7"
	if r := a.post(path, url.Values{"password": {temp}, "password2": {temp}}); r.Status != http.StatusOK {
		t.Fatalf("set temporary password: %d %s", r.Status, r.Text)
	}
	if r := o.get("/console"); r.Status != http.StatusSeeOther || !strings.HasPrefix(r.location(), "/signin") {
		t.Errorf("owner's session survived the reset: %d → %q", r.Status, r.location())
	}
	notices := e.messagesTo(owner.Email, "mail.password_reset")
	if len(notices) != 1 || !strings.Contains(notices[0].Body, "127.0.0.2") {
		t.Fatalf("reset notices to the owner: %+v", notices)
	}
	o2 := e.browser("127.0.0.4")
	o2.signInPassword(&testUser{Email: owner.Email, Password: temp})
	if r := o2.get("/console"); r.location() != "/signin/password" {
		t.Errorf("after signing in with a temporary password: → %q, want /signin/password", r.location())
	}
	es, _ := e.store.AuditEntries(e.ctx, tocsin.AuditFilter{Action: "user.password", Target: "user:" + strconv.FormatInt(owner.ID, 10)})
	if len(es) != 1 || es[0].Actor != adminUser.Email || !strings.Contains(es[0].After, "temporary") {
		t.Errorf("audit of the reset: %+v", es)
	}
}

// Changing one's own password and an admin resetting one's second factor
// each e-mail the owner: a change they did not make must not go unseen.
func TestSecurityChangesNotifyTheOwner(t *testing.T) {
	e := newTestEnv(t)
	owner := e.createUser("owner@example.org", tocsin.RoleApprover)
	o := e.signedIn(owner, "127.0.0.5")
	const own = "a brand new passphrase of mine"
	r := o.post("/console/account/password", url.Values{"current": {owner.Password}, "password": {own}, "password2": {own}})
	if r.Status != http.StatusOK {
		t.Fatalf("change password: %d %s", r.Status, r.Text)
	}
	if got := e.messagesTo(owner.Email, "mail.password:"); len(got) != 1 || !strings.Contains(got[0].Subject, "password was changed") {
		t.Errorf("own password change notices: %+v", got)
	}

	adminUser := e.createUser("boss@example.org", tocsin.RoleAdmin)
	a := e.signedIn(adminUser, "127.0.0.2")
	if r := a.post("/console/users/"+strconv.FormatInt(owner.ID, 10)+"/reset-2fa", nil); r.Status != http.StatusSeeOther {
		t.Fatalf("reset 2FA: %d %s", r.Status, r.Text)
	}
	if got := e.messagesTo(owner.Email, "mail.2fa_reset"); len(got) != 1 {
		t.Errorf("2FA reset notices: %+v", got)
	}
	before := e.kicks.Load()
	if before == 0 {
		t.Error("the outbox worker was never woken after enqueueing notices")
	}
}

// Password rules are explained in the reader's language, not only in the
// English of the API.
func TestPasswordRulesInFrench(t *testing.T) {
	e := newTestEnv(t)
	u := e.createUser("owner@example.org", tocsin.RoleResponder)
	b := e.signedIn(u, "127.0.0.8")
	if r := b.post("/lang", url.Values{"lang": {"fr"}, "next": {"/console/account"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("switch to French: %d", r.Status)
	}
	tests := []struct{ pw, want string }{
		{"court", "au moins 12 caractères (celui-ci en a 5)"},
		{"password1234", "que les attaquants essaient en premier"},
		{"owner-owner-owner-1", "ne doit pas contenir"},
	}
	for _, tt := range tests {
		t.Run(tt.pw, func(t *testing.T) {
			r := b.post("/console/account/password", url.Values{"current": {u.Password}, "password": {tt.pw}, "password2": {tt.pw}})
			if r.Status != http.StatusBadRequest || !strings.Contains(r.Text, tt.want) || strings.Contains(r.Text, "The password") {
				t.Errorf("%d: want French %q in:\n%.600s", r.Status, tt.want, r.Text)
			}
		})
	}
}
