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
	normalized, err := tocsin.NormalizeEmail(email)
	if err != nil {
		return again("form.email_invalid")
	}
	if f.Get("password") != f.Get("password2") {
		return again("form.password_mismatch")
	}
	if err := auth.CheckPassword(f.Get("password"), normalized, "tocsin"); err != nil {
		return again("form.password_weak", tocsin.ErrorMessage(err))
	}
	hash, err := s.hasher.Hash(r.Context(), f.Get("password"))
	if err != nil {
		return err
	}
	u := &tocsin.User{Email: normalized, Name: name, Roles: tocsin.Roles{tocsin.RoleAdmin}, PasswordHash: hash, Lang: st.lang}
	err = s.store.UseSetupToken(r.Context(), st.actor(), auth.HashToken(token), s.now(), u)
	switch tocsin.ErrorCode(err) {
	case "":
	case tocsin.ENOTFOUND, tocsin.ECONFLICT:
		s.render(w, r, http.StatusConflict, "setup", map[string]any{"Token": token, "Error": i18n.T(st.lang, "setup.link_invalid"), "Dead": true})
		return nil
	default:
		return err
	}
	attempt := &tocsin.SignIn{UserID: u.ID, Email: u.Email, At: s.now(), IP: st.ip, UserAgent: r.UserAgent()}
	return s.startSession(w, r, u, attempt, "/console")
}
