package httpserver

import (
	"maps"
	"net/http"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
)

// dashboard is the console's first page; it shows the previous sign-in so
// that a sign-in its owner did not make stands out.
func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	last, err := s.store.LastSignIns(r.Context(), st.user.ID, 2)
	if err != nil {
		return err
	}
	data := map[string]any{}
	if len(last) == 2 {
		data["Previous"] = s.signInView(last[1])
	}
	s.render(w, r, http.StatusOK, "dashboard", data)
	return nil
}

type signInRow struct {
	At, IP, UserAgent string
}

func (s *Server) signInView(in *tocsin.SignIn) signInRow {
	return signInRow{At: s.fmtTime(in.At), IP: in.IP, UserAgent: in.UserAgent}
}

type sessionRow struct {
	ID, Created, LastSeen, IP, UserAgent string
	Current                              bool
}

// account shows one's own sessions, recent sign-ins, language and password.
func (s *Server) account(w http.ResponseWriter, r *http.Request) error {
	return s.renderAccount(w, r, http.StatusOK, nil)
}

func (s *Server) renderAccount(w http.ResponseWriter, r *http.Request, status int, extra map[string]any) error {
	st := state(r)
	ctx := r.Context()
	sessions, err := s.store.UserSessions(ctx, st.user.ID)
	if err != nil {
		return err
	}
	var rows []sessionRow
	for _, x := range sessions {
		rows = append(rows, sessionRow{
			ID: x.ID, Created: s.fmtTime(x.CreatedAt), LastSeen: s.fmtTime(x.LastSeenAt),
			IP: x.IP, UserAgent: x.UserAgent, Current: x.ID == st.session.ID,
		})
	}
	signIns, err := s.store.LastSignIns(ctx, st.user.ID, 10)
	if err != nil {
		return err
	}
	var ins []signInRow
	for _, in := range signIns {
		ins = append(ins, s.signInView(in))
	}
	left, err := s.store.RemainingRecoveryCodes(ctx, st.user.ID)
	if err != nil {
		return err
	}
	data := map[string]any{"Sessions": rows, "SignIns": ins, "RecoveryLeft": left}
	maps.Copy(data, extra)
	s.render(w, r, status, "account", data)
	return nil
}

func (s *Server) setLang(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	lang := r.PostForm.Get("lang")
	if err := tocsin.ValidateLang(lang); err != nil {
		return err
	}
	if err := s.store.SetLang(r.Context(), st.actor(), st.user.ID, lang); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/account", http.StatusSeeOther)
	return nil
}

// changePassword needs the current password, and signs out every other
// session: whoever knew the old password is out.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	ctx := r.Context()
	f := r.PostForm
	again := func(key string, args ...any) error {
		return s.renderAccount(w, r, http.StatusBadRequest, map[string]any{"PasswordError": i18n.T(st.lang, key, args...)})
	}
	// A stolen session must not become a way to guess the password: wrong
	// current passwords count as failed sign-ins, with their back-off.
	if wait, err := s.throttledAny(r,
		throttle{tocsin.SignInFilter{UserID: st.user.ID, Factor: tocsin.FactorPassword}, auth.AccountBackoff},
		throttle{tocsin.SignInFilter{IP: st.ip}, auth.IPBackoff},
	); err != nil {
		return err
	} else if wait > 0 {
		return again("signin.throttled", minutes(wait))
	}
	ok, _, err := s.hasher.Verify(ctx, f.Get("current"), st.user.PasswordHash)
	if err != nil {
		return err
	}
	if !ok {
		attempt := &tocsin.SignIn{UserID: st.user.ID, Email: st.user.Email, At: s.now(), IP: st.ip, UserAgent: r.UserAgent(), Device: s.deviceHash(r)}
		if err := s.recordFailure(r, attempt, st.user); err != nil {
			return err
		}
		return again("account.password_wrong")
	}
	if f.Get("password") != f.Get("password2") {
		return again("form.password_mismatch")
	}
	if err := auth.CheckAccountPassword(f.Get("password"), st.user.Email, st.user.Name); err != nil {
		return again("form.password_weak", s.localized(r, err))
	}
	hash, err := s.hasher.Hash(ctx, f.Get("password"))
	if err != nil {
		return err
	}
	err = s.store.SetPassword(ctx, st.actor(), st.user.ID, tocsin.PasswordChange{
		Hash: hash, EndSessions: true, KeepSession: st.session.ID,
		Notices: []*tocsin.Message{s.passwordNotice(st.user, "mail.password", st.ip)},
	})
	if err != nil {
		return err
	}
	s.kick()
	return s.renderAccount(w, r, http.StatusOK, map[string]any{"Flash": i18n.T(st.lang, "account.password_changed")})
}

// revokeSession ends one of one's own sessions.
func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	id := r.PathValue("id")
	sessions, err := s.store.UserSessions(r.Context(), st.user.ID)
	if err != nil {
		return err
	}
	for _, x := range sessions {
		if x.ID == id {
			if err := s.store.DeleteSession(r.Context(), st.actor(), id); err != nil {
				return err
			}
			if id == st.session.ID {
				s.clearCookie(w, sessionCookie)
				http.Redirect(w, r, "/signin", http.StatusSeeOther)
				return nil
			}
			http.Redirect(w, r, "/console/account", http.StatusSeeOther)
			return nil
		}
	}
	return tocsin.Errorf(tocsin.ENOTFOUND, "No such session.")
}

// revokeOtherSessions signs out everywhere but here.
func (s *Server) revokeOtherSessions(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	if err := s.store.DeleteUserSessions(r.Context(), st.actor(), st.user.ID, st.session.ID); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/account", http.StatusSeeOther)
	return nil
}

// switchLang is the language button of every page: a cookie for everyone,
// and the account's preference when signed in.
func (s *Server) switchLang(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	lang := r.PostForm.Get("lang")
	if !i18n.Supported(lang) {
		return tocsin.Errorf(tocsin.EINVALID, "Unknown language %q: choose fr or en.", lang)
	}
	s.setCookie(w, langCookie, lang, 400*24*time.Hour)
	if s.fullySignedIn(st) {
		if err := s.store.SetLang(r.Context(), st.actor(), st.user.ID, lang); err != nil {
			return err
		}
	}
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
	return nil
}
