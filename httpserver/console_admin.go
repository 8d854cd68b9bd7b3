package httpserver

import (
	"maps"
	"net/http"
	"strconv"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/i18n"
)

// users lists accounts and offers the form that creates one.
func (s *Server) users(w http.ResponseWriter, r *http.Request) error {
	return s.renderUsers(w, r, http.StatusOK, nil)
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, extra map[string]any) error {
	users, err := s.store.Users(r.Context())
	if err != nil {
		return err
	}
	data := map[string]any{"Users": users}
	maps.Copy(data, extra)
	s.render(w, r, status, "users", data)
	return nil
}

// formRoles reads the role checkboxes of a form.
func formRoles(r *http.Request) (tocsin.Roles, error) {
	return rolesFrom(r.PostForm["roles"])
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	f := r.PostForm
	again := func(msg string) error {
		return s.renderUsers(w, r, http.StatusBadRequest, map[string]any{
			"Error": msg, "Email": f.Get("email"), "Name": f.Get("name"), "Roles": f["roles"],
		})
	}
	roles, err := formRoles(r)
	if err != nil {
		return again(i18n.T(st.lang, "users.roles_required"))
	}
	if f.Get("password") != f.Get("password2") {
		return again(i18n.T(st.lang, "form.password_mismatch"))
	}
	u, err := auth.NewUser(r.Context(), s.hasher, f.Get("email"), f.Get("name"), roles, f.Get("password"))
	if err == nil {
		u.MustChangePassword = true // the admin chose it; its owner chooses their own
	}
	if err != nil {
		if tocsin.ErrorCode(err) == tocsin.EINVALID {
			return again(s.localized(r, err))
		}
		return err
	}
	if err := s.store.CreateUser(r.Context(), st.actor(), u); err != nil {
		if tocsin.ErrorCode(err) == tocsin.ECONFLICT {
			return again(i18n.T(st.lang, "users.email_taken"))
		}
		return err
	}
	return s.renderUsers(w, r, http.StatusOK, map[string]any{"Flash": i18n.T(st.lang, "users.created", u.Email)})
}

func (s *Server) setUserRoles(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	roles, err := formRoles(r)
	if err != nil {
		return err
	}
	if err := s.guardLastAdmin(r, id, roles); err != nil {
		return err
	}
	if err := s.store.SetRoles(r.Context(), state(r).actor(), id, roles); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/users", http.StatusSeeOther)
	return nil
}

// disable disables the account named by the path's id, unless it is the
// last active admin; the console and the API share it.
func (s *Server) disable(r *http.Request) (int64, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return 0, err
	}
	if err := s.guardLastAdmin(r, id, nil); err != nil {
		return 0, err
	}
	return id, s.store.DisableUser(r.Context(), state(r).actor(), id)
}

// guardLastAdmin refuses a change that would leave no active admin.
func (s *Server) guardLastAdmin(r *http.Request, id int64, newRoles tocsin.Roles) error {
	if newRoles.Allows(tocsin.RoleAdmin) {
		return nil
	}
	users, err := s.store.Users(r.Context())
	if err != nil {
		return err
	}
	for _, u := range users {
		if u.ID != id && !u.Disabled() && u.Roles.Allows(tocsin.RoleAdmin) {
			return nil
		}
	}
	return tocsin.Errorf(tocsin.ECONFLICT, "%s", i18n.T(state(r).lang, "users.last_admin"))
}

func (s *Server) disableUser(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.disable(r); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/users", http.StatusSeeOther)
	return nil
}

func (s *Server) enableUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.EnableUser(r.Context(), state(r).actor(), id); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/users", http.StatusSeeOther)
	return nil
}

func (s *Server) resetUser2FA(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.store.User(r.Context(), id)
	if err != nil {
		return err
	}
	if err := s.store.ResetTwoFactor(r.Context(), state(r).actor(), id, []*tocsin.Message{s.passwordNotice(u, "mail.2fa_reset", state(r).ip)}); err != nil {
		return err
	}
	s.kick()
	http.Redirect(w, r, "/console/users", http.StatusSeeOther)
	return nil
}

// setTemporaryPassword lets an admin give an account a new password, for
// its owner to replace at next sign-in; the account's sessions end.
func (s *Server) setTemporaryPassword(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.store.User(r.Context(), id)
	if err != nil {
		return err
	}
	f := r.PostForm
	again := func(msg string) error {
		return s.renderUsers(w, r, http.StatusBadRequest, map[string]any{"Error": msg})
	}
	if f.Get("password") != f.Get("password2") {
		return again(i18n.T(st.lang, "form.password_mismatch"))
	}
	if err := auth.CheckAccountPassword(f.Get("password"), u.Email, u.Name); err != nil {
		return again(i18n.T(st.lang, "form.password_weak", s.localized(r, err)))
	}
	hash, err := s.hasher.Hash(r.Context(), f.Get("password"))
	if err != nil {
		return err
	}
	notice := s.passwordNotice(u, "mail.password_reset", st.ip)
	if err := s.store.SetPassword(r.Context(), st.actor(), id, tocsin.PasswordChange{Hash: hash, Temporary: true, EndSessions: true, Notices: []*tocsin.Message{notice}}); err != nil {
		return err
	}
	s.kick()
	return s.renderUsers(w, r, http.StatusOK, map[string]any{"Flash": i18n.T(st.lang, "users.password_set", u.Email)})
}

func (s *Server) tokens(w http.ResponseWriter, r *http.Request) error {
	return s.renderTokens(w, r, http.StatusOK, nil)
}

func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, status int, extra map[string]any) error {
	tokens, err := s.store.Tokens(r.Context())
	if err != nil {
		return err
	}
	data := map[string]any{"Tokens": tokens}
	maps.Copy(data, extra)
	s.render(w, r, status, "tokens", data)
	return nil
}

// createToken shows the new token once; only its hash is kept.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	st := state(r)
	roles, err := formRoles(r)
	if err != nil {
		return s.renderTokens(w, r, http.StatusBadRequest, map[string]any{"Error": i18n.T(st.lang, "users.roles_required")})
	}
	plain, t, err := auth.NewAPIToken(r.PostForm.Get("name"), roles, st.actor().Label, s.now())
	if err != nil {
		return s.renderTokens(w, r, http.StatusBadRequest, map[string]any{"Error": s.localized(r, err)})
	}
	if err := s.store.CreateToken(r.Context(), st.actor(), t); err != nil {
		if tocsin.ErrorCode(err) == tocsin.ECONFLICT {
			return s.renderTokens(w, r, http.StatusConflict, map[string]any{"Error": s.localized(r, err)})
		}
		return err
	}
	return s.renderTokens(w, r, http.StatusOK, map[string]any{"NewToken": plain, "NewName": t.Name})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.RevokeToken(r.Context(), state(r).actor(), id, ""); err != nil {
		return err
	}
	http.Redirect(w, r, "/console/tokens", http.StatusSeeOther)
	return nil
}

const auditPageSize = 50

// auditFilter reads the audit log filters from a query string.
func (s *Server) auditFilter(r *http.Request) (tocsin.AuditFilter, error) {
	q := r.URL.Query()
	f := tocsin.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target"), Limit: auditPageSize}
	for _, p := range []struct {
		name string
		dst  *time.Time
		end  bool
	}{{"since", &f.Since, false}, {"until", &f.Until, true}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := time.ParseInLocation("2006-01-02", v, s.loc)
		if err != nil {
			return f, tocsin.Errorf(tocsin.EINVALID, "%s: %q is not a date (YYYY-MM-DD).", p.name, v)
		}
		if p.end {
			t = t.AddDate(0, 0, 1)
		}
		*p.dst = t
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			return f, tocsin.Errorf(tocsin.EINVALID, "page: %q is not a page number.", v)
		}
		f.Offset = (n - 1) * auditPageSize
	}
	return f, nil
}

type auditRow struct {
	Seq                                          int64
	At, Actor, IP, Action, Target, Before, After string
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request) error {
	f, err := s.auditFilter(r)
	if err != nil {
		return err
	}
	entries, err := s.store.AuditEntries(r.Context(), f)
	if err != nil {
		return err
	}
	rows := make([]auditRow, 0, len(entries))
	for _, e := range entries {
		rows = append(rows, auditRow{e.Seq, s.fmtTime(e.At), e.Actor, e.IP, e.Action, e.Target, e.Before, e.After})
	}
	q := r.URL.Query()
	page := f.Offset/auditPageSize + 1
	next := ""
	if len(entries) == auditPageSize {
		q.Set("page", strconv.Itoa(page+1))
		next = "/console/audit?" + q.Encode()
	}
	s.render(w, r, http.StatusOK, "audit", map[string]any{
		"Entries": rows, "Filter": r.URL.Query(), "Next": next, "Page": page,
	})
	return nil
}
