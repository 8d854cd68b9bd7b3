package httpserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// errSecondFactor sends a browser whose password was accepted to the
// second-factor step before anything else.
var errSecondFactor = errors.New("second factor required")

// errPasswordChange sends the owner of a password an admin chose to the
// page where they choose their own, before anything else.
var errPasswordChange = errors.New("password change required")

// statusOf maps a domain error code to its HTTP status: the one place
// where statuses are chosen.
func statusOf(code string) int {
	switch code {
	case tocsin.EINVALID:
		return http.StatusBadRequest
	case tocsin.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case tocsin.EFORBIDDEN:
		return http.StatusForbidden
	case tocsin.ENOTFOUND:
		return http.StatusNotFound
	case tocsin.ECONFLICT:
		return http.StatusConflict
	case tocsin.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case tocsin.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	case tocsin.ETOOMANY:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// writeError writes err as JSON for API routes and as a page for the
// console. Internal errors are logged and shown without detail.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	st := state(r)
	code := tocsin.ErrorCode(err)
	if code == tocsin.EINTERNAL {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	k := raw
	if st.route != nil {
		k = st.route.kind
	}
	if k == page {
		switch {
		case errors.Is(err, errSecondFactor):
			http.Redirect(w, r, "/signin/2fa", http.StatusSeeOther)
			return
		case errors.Is(err, errPasswordChange):
			http.Redirect(w, r, "/signin/password", http.StatusSeeOther)
			return
		case code == tocsin.EUNAUTHORIZED && r.Method == http.MethodGet:
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		s.render(w, r, statusOf(code), "error", map[string]any{
			"Status":  statusOf(code),
			"Message": s.errorText(r, code, err),
		})
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if code == tocsin.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tocsin"`)
	}
	w.WriteHeader(statusOf(code))
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]string{"code": code, "message": tocsin.ErrorMessage(err)},
	})
}

// errorText is the message shown on an error page, in the reader's language
// for the errors the server itself raises.
func (s *Server) errorText(r *http.Request, code string, err error) string {
	lang := state(r).lang
	var ce *csrfError
	if errors.As(err, &ce) {
		return tocsin.ErrorMessage(err) // already in the reader's language
	}
	switch code {
	case tocsin.EINTERNAL:
		return i18n.T(lang, "error.internal")
	case tocsin.EFORBIDDEN:
		return i18n.T(lang, "error.forbidden")
	case tocsin.ENOTFOUND:
		return i18n.T(lang, "error.not_found")
	case tocsin.EUNAUTHORIZED:
		return i18n.T(lang, "error.unauthorized")
	}
	return tocsin.ErrorMessage(err)
}
