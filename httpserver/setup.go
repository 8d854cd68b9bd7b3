package httpserver

import (
	"net/http"
	"strings"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
)

// setupForm shows the form that creates the first admin, reached through
// the one-time link tocsin prints at its first start.
func (s *Server) setupForm(w http.ResponseWriter, r *http.Request) error {
	n, err := s.store.CountUsers(r.Context())
	if err != nil {
		return err
	}
	if n > 0 {
		return tocsin.Errorf(tocsin.ECONFLICT, "%s", i18n.T(state(r).lang, "setup.done"))
	}
	s.render(w, r, http.StatusOK, "setup", map[string]any{"Token": r.URL.Query().Get("token")})
	return nil
}

// setup consumes the setup token and creates the first admin, then starts
// its session at the mandatory 2FA enrolment.
func (s *Server) setup(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	f := r.PostForm
	token := f.Get("token")
	email := strings.TrimSpace(f.Get("email"))
	name := strings.TrimSpace(f.Get("name"))
	again := func(key string, args ...any) error {
		s.render(w, r, http.StatusBadRequest, "setup", map[string]any{
			"Token": token, "Email": email, "Name": name, "Error": i18n.T(st.lang, key, args...),
		})
		return nil
	}
	// The link is checked before any password is hashed: hashing is the
	// expensive part, and without a valid link nobody gets to it.
	if !s.setupLinkValid(r, token) {
		return s.deadSetupLink(w, r, token)
	}
	if _, err := tocsin.NormalizeEmail(email); err != nil {
		return again("form.email_invalid")
	}
	if f.Get("password") != f.Get("password2") {
		return again("form.password_mismatch")
	}
	u, err := auth.NewUser(r.Context(), s.hasher, email, name, tocsin.Roles{tocsin.RoleAdmin}, f.Get("password"))
	if tocsin.ErrorCode(err) == tocsin.EINVALID {
		return again("form.password_weak", s.localized(r, err))
	} else if err != nil {
		return err
	}
	u.Lang = st.lang
	err = s.store.UseSetupToken(r.Context(), st.actor(), auth.HashToken(token), s.now(), u)
	switch tocsin.ErrorCode(err) {
	case "":
	case tocsin.ENOTFOUND, tocsin.ECONFLICT:
		return s.deadSetupLink(w, r, token)
	default:
		return err
	}
	attempt := &tocsin.SignIn{UserID: u.ID, Email: u.Email, At: s.now(), IP: st.ip, UserAgent: r.UserAgent()}
	return s.startSession(w, r, u, attempt, "/console")
}

// setupLinkValid reports whether token is an unused, unexpired setup link
// while no account exists.
func (s *Server) setupLinkValid(r *http.Request, token string) bool {
	if n, err := s.store.CountUsers(r.Context()); err != nil || n > 0 {
		return false
	}
	t, err := s.store.SetupToken(r.Context(), auth.HashToken(token))
	return err == nil && t.UsedAt == nil && s.now().Before(t.ExpiresAt)
}

func (s *Server) deadSetupLink(w http.ResponseWriter, r *http.Request, token string) error {
	s.render(w, r, http.StatusConflict, "setup", map[string]any{"Token": token, "Error": i18n.T(state(r).lang, "setup.link_invalid"), "Dead": true})
	return nil
}
