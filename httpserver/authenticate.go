package httpserver

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
)

const (
	sessionCookie = "tocsin_session"
	csrfCookie    = "tocsin_csrf"
	deviceCookie  = "tocsin_device"
	langCookie    = "tocsin_lang"
	csrfField     = "csrf"
	// touchEvery limits session writes to one a minute per browser.
	touchEvery = time.Minute
)

// cookieName adds the __Host- prefix over HTTPS, which pins the cookie to
// this host and path / and forbids a subdomain from setting it.
func (s *Server) cookieName(name string) string {
	if s.secureCookies() {
		return "__Host-" + name
	}
	return name
}

func (s *Server) setCookie(w http.ResponseWriter, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(name), Value: value, Path: "/",
		MaxAge: int(maxAge / time.Second), HttpOnly: true,
		Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(name), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.secureCookies(), SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(s.cookieName(name))
	if err != nil {
		return ""
	}
	return c.Value
}

// authenticatePage loads the browser's session, checks the route's access
// and, on state-changing requests, the CSRF token.
func (s *Server) authenticatePage(w http.ResponseWriter, r *http.Request, need access) error {
	st := state(r)
	if err := s.ensureCSRFCookie(w, r); err != nil {
		return err
	}
	st.lang = s.langFor(r, nil)
	if err := s.loadSession(w, r); err != nil {
		return err
	}
	if rt := st.route; rt != nil && rt.upload {
		// An upload's body (up to evidence.max_bytes) is read only for
		// someone allowed to send it.
		if err := s.allowed(st, need); err != nil {
			return err
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if err := s.checkCSRF(r); err != nil {
			return err
		}
	}
	return s.allowed(st, need)
}

// allowed checks the request's session against the access a route needs.
func (s *Server) allowed(st *reqState, need access) error {
	switch need {
	case public:
		return nil
	case pending:
		if st.session == nil {
			return tocsin.Errorf(tocsin.EUNAUTHORIZED, "Sign in first.")
		}
		return nil
	}
	if st.session == nil {
		return tocsin.Errorf(tocsin.EUNAUTHORIZED, "Sign in first.")
	}
	if !s.fullySignedIn(st) {
		return errSecondFactor
	}
	if st.user.MustChangePassword {
		return errPasswordChange
	}
	if !st.user.Roles.Allows(tocsin.Role(need)) {
		return tocsin.Errorf(tocsin.EFORBIDDEN, "This needs the %s role.", need)
	}
	return nil
}

// fullySignedIn reports whether the session passed its second factor, and
// the account is not one that needs 2FA without having it (an account made
// admin after it signed in enrols before going on).
func (s *Server) fullySignedIn(st *reqState) bool {
	if st.session == nil || st.user == nil || !st.session.Verified {
		return false
	}
	return !st.user.Roles.NeedsTwoFactor() || st.user.TwoFactorEnabled()
}

// loadSession reads the session cookie. An unknown, expired or idle session,
// or one of a disabled account, is cleared and the request goes on signed out.
func (s *Server) loadSession(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	value := s.cookie(r, sessionCookie)
	if value == "" {
		return nil
	}
	ctx := r.Context()
	now := s.now()
	sess, err := s.store.Session(ctx, auth.HashToken(value))
	if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
		s.clearCookie(w, sessionCookie)
		return nil
	} else if err != nil {
		return err
	}
	if now.After(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) > s.cfg.Session.IdleTimeout {
		_ = s.store.DeleteSession(ctx, tocsin.System, sess.ID)
		s.clearCookie(w, sessionCookie)
		return nil
	}
	u, err := s.store.User(ctx, sess.UserID)
	if err != nil {
		return err
	}
	if u.Disabled() {
		s.clearCookie(w, sessionCookie)
		return nil
	}
	if now.Sub(sess.LastSeenAt) > touchEvery {
		if err := s.store.TouchSession(ctx, sess.ID, now); err != nil {
			return err
		}
	}
	st.session, st.user = sess, u
	st.lang = s.langFor(r, u)
	return nil
}

// authenticateToken checks the bearer token of an API request. Browser
// sessions are not accepted on the API, so the API needs no CSRF defence.
func (s *Server) authenticateToken(r *http.Request, need access) error {
	st := state(r)
	st.lang = "en"
	if need == public {
		return nil
	}
	h := r.Header.Get("Authorization")
	plain, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || plain == "" {
		return tocsin.Errorf(tocsin.EUNAUTHORIZED, "Send an API token: Authorization: Bearer TOKEN (create one with `tocsin token create`).")
	}
	t, err := s.store.TokenByHash(r.Context(), auth.HashToken(strings.TrimSpace(plain)))
	if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
		return tocsin.Errorf(tocsin.EUNAUTHORIZED, "This API token is not valid.")
	} else if err != nil {
		return err
	}
	if t.RevokedAt != nil {
		return tocsin.Errorf(tocsin.EUNAUTHORIZED, "This API token was revoked.")
	}
	st.token = t
	now := s.now()
	if t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) > touchEvery {
		if err := s.store.TouchToken(r.Context(), t.ID, now); err != nil {
			return err
		}
	}
	if !t.Roles.Allows(tocsin.Role(need)) {
		return tocsin.Errorf(tocsin.EFORBIDDEN, "This token's roles (%s) do not include %s.", t.Roles, need)
	}
	return nil
}

// ensureCSRFCookie gives every browser a random CSRF cookie; forms carry an
// HMAC of it, which a page on another site can neither read nor compute.
func (s *Server) ensureCSRFCookie(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	st.csrf = s.cookie(r, csrfCookie)
	if len(st.csrf) < 32 {
		var err error
		if st.csrf, err = auth.RandomToken(); err != nil {
			return err
		}
		http.SetCookie(w, &http.Cookie{
			Name: s.cookieName(csrfCookie), Value: st.csrf, Path: "/", HttpOnly: true,
			Secure: s.secureCookies(), SameSite: http.SameSiteStrictMode,
		})
	}
	return nil
}

// csrfToken is the value forms carry in their hidden csrf field.
func (s *Server) csrfToken(r *http.Request) string {
	mac := hmac.New(sha256.New, s.csrfKey)
	mac.Write([]byte(state(r).csrf))
	return hex.EncodeToString(mac.Sum(nil))
}

// checkCSRF refuses a state-changing request whose form token does not
// match the browser's cookie, or that a browser says came from another site.
func (s *Server) checkCSRF(r *http.Request) error {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return &csrfError{tocsin.Errorf(tocsin.EFORBIDDEN, "%s", i18n.T(state(r).lang, "error.csrf"))}
	}
	if err := parseForm(r); err != nil {
		return err
	}
	got := r.PostForm.Get(csrfField)
	if got == "" || !hmac.Equal([]byte(got), []byte(s.csrfToken(r))) {
		return &csrfError{tocsin.Errorf(tocsin.EFORBIDDEN, "%s", i18n.T(state(r).lang, "error.csrf"))}
	}
	return nil
}

// csrfError is a refused form. It is forbidden like a missing role, but
// its page says what to do (reload the form) rather than blaming the role.
type csrfError struct{ err *tocsin.Error }

func (e *csrfError) Error() string { return e.err.Error() }
func (e *csrfError) Unwrap() error { return e.err }

// langFor picks the language: the account's preference, then the language
// switch cookie, then Accept-Language, then the configured default.
func (s *Server) langFor(r *http.Request, u *tocsin.User) string {
	if u != nil && u.Lang != "" {
		return u.Lang
	}
	if c := s.cookie(r, langCookie); i18n.Supported(c) {
		return c
	}
	if l := i18n.Negotiate(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	return s.cfg.Lang
}
