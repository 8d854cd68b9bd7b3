package httpserver

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
)

// JSON shapes of the API. They are separate from the domain types so that
// a field added to a domain type never leaks a hash into a response.
type userJSON struct {
	ID         int64      `json:"id"`
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Roles      []string   `json:"roles"`
	Lang       string     `json:"lang"`
	TwoFactor  bool       `json:"two_factor"`
	DisabledAt *time.Time `json:"disabled_at"`
	CreatedAt  time.Time  `json:"created_at"`
}

func toUserJSON(u *tocsin.User) userJSON {
	return userJSON{u.ID, u.Email, u.Name, roleStrings(u.Roles), u.Lang, u.TwoFactorEnabled(), u.DisabledAt, u.CreatedAt}
}

type tokenJSON struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Roles      []string   `json:"roles"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
}

func toTokenJSON(t *tocsin.APIToken) tokenJSON {
	return tokenJSON{t.ID, t.Name, roleStrings(t.Roles), t.CreatedBy, t.CreatedAt, t.LastUsedAt, t.RevokedAt}
}

type auditJSON struct {
	Seq      int64     `json:"seq"`
	At       time.Time `json:"at"`
	Actor    string    `json:"actor"`
	IP       string    `json:"ip"`
	Action   string    `json:"action"`
	Target   string    `json:"target"`
	Before   string    `json:"before"`
	After    string    `json:"after"`
	PrevHash string    `json:"prev_hash"`
	Hash     string    `json:"hash"`
}

func roleStrings(rs tocsin.Roles) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}

// rolesFrom reads a list of role names, from a JSON body or a form's
// checkboxes: the one way the API and the console parse roles.
func rolesFrom(list []string) (tocsin.Roles, error) {
	return tocsin.ParseRoles(strings.Join(list, ","))
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, toTokenJSON(state(r).token))
}

func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request) error {
	users, err := s.store.Users(r.Context())
	if err != nil {
		return err
	}
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		out = append(out, toUserJSON(u))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"users": out})
}

func (s *Server) apiUser(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	u, err := s.store.User(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toUserJSON(u))
}

type createUserRequest struct {
	Email    string   `json:"email"`
	Name     string   `json:"name"`
	Roles    []string `json:"roles"`
	Password string   `json:"password"`
}

func (s *Server) apiCreateUser(w http.ResponseWriter, r *http.Request) error {
	var req createUserRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	roles, err := rolesFrom(req.Roles)
	if err != nil {
		return err
	}
	u, err := auth.NewUser(r.Context(), s.hasher, req.Email, req.Name, roles, req.Password)
	if err != nil {
		return err
	}
	u.MustChangePassword = true // chosen by the caller, not by the account's owner
	if err := s.store.CreateUser(r.Context(), state(r).actor(), u); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, toUserJSON(u))
}

func (s *Server) apiDisableUser(w http.ResponseWriter, r *http.Request) error {
	id, err := s.disable(r)
	if err != nil {
		return err
	}
	u, err := s.store.User(r.Context(), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toUserJSON(u))
}

func (s *Server) apiTokens(w http.ResponseWriter, r *http.Request) error {
	tokens, err := s.store.Tokens(r.Context())
	if err != nil {
		return err
	}
	out := make([]tokenJSON, 0, len(tokens))
	for _, t := range tokens {
		out = append(out, toTokenJSON(t))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

type createTokenRequest struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

func (s *Server) apiCreateToken(w http.ResponseWriter, r *http.Request) error {
	var req createTokenRequest
	if err := decodeJSON(w, r, &req); err != nil {
		return err
	}
	roles, err := rolesFrom(req.Roles)
	if err != nil {
		return err
	}
	a := state(r).actor()
	plain, t, err := auth.NewAPIToken(req.Name, roles, a.Label, s.now())
	if err != nil {
		return err
	}
	if err := s.store.CreateToken(r.Context(), a, t); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"token": plain, "info": toTokenJSON(t)})
}

func (s *Server) apiRevokeToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.store.RevokeToken(r.Context(), state(r).actor(), id, ""); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) apiAudit(w http.ResponseWriter, r *http.Request) error {
	f, err := s.auditFilter(r)
	if err != nil {
		return err
	}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return tocsin.Errorf(tocsin.EINVALID, "limit: %q must be a number from 1 to 1000.", v)
		}
		f.Limit = n
	}
	entries, err := s.store.AuditEntries(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]auditJSON, 0, len(entries))
	for _, e := range entries {
		out = append(out, auditJSON{e.Seq, e.At, e.Actor, e.IP, e.Action, e.Target, e.Before, e.After, e.PrevHash, e.Hash})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"entries": out})
}

func (s *Server) apiAuditVerify(w http.ResponseWriter, r *http.Request) error {
	n, brk, err := s.store.VerifyAudit(r.Context())
	if err != nil {
		return err
	}
	res := map[string]any{"entries": n, "intact": brk == nil}
	if brk != nil {
		res["broken_at"] = brk.Seq
		res["reason"] = brk.Reason
	}
	return writeJSON(w, http.StatusOK, res)
}

// openAPI serves the API description, built from the route table.
func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, err := w.Write(s.openAPIDoc())
	return err
}
