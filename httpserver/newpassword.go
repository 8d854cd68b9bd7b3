package httpserver

import (
	"net/http"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
)

// newPasswordForm asks the owner of a password an admin chose for their own.
func (s *Server) newPasswordForm(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	if !s.fullySignedIn(st) {
		return errSecondFactor
	}
	if !st.user.MustChangePassword {
		http.Redirect(w, r, "/console", http.StatusSeeOther)
		return nil
	}
	s.render(w, r, http.StatusOK, "newpassword", nil)
	return nil
}

// newPassword replaces the temporary password; the owner's other sessions,
// if any, end.
func (s *Server) newPassword(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	if !s.fullySignedIn(st) {
		return errSecondFactor
	}
	u := st.user
	if !u.MustChangePassword {
		http.Redirect(w, r, "/console", http.StatusSeeOther)
		return nil
	}
	f := r.PostForm
	again := func(key string, args ...any) error {
		s.render(w, r, http.StatusBadRequest, "newpassword", map[string]any{"Error": i18n.T(st.lang, key, args...)})
		return nil
	}
	if f.Get("password") != f.Get("password2") {
		return again("form.password_mismatch")
	}
	if err := auth.CheckAccountPassword(f.Get("password"), u.Email, u.Name); err != nil {
		return again("form.password_weak", s.localized(r, err))
	}
	if ok, _, err := s.hasher.Verify(r.Context(), f.Get("password"), u.PasswordHash); err != nil {
		return err
	} else if ok {
		return again("newpassword.same")
	}
	hash, err := s.hasher.Hash(r.Context(), f.Get("password"))
	if err != nil {
		return err
	}
	err = s.store.SetPassword(r.Context(), st.actor(), u.ID, tocsin.PasswordChange{Hash: hash, EndSessions: true, KeepSession: st.session.ID})
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console", http.StatusSeeOther)
	return nil
}
