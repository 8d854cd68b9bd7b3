package httpserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// errSecondFactor sends a browser whose password was accepted to the
// second-factor step before anything else.
var errSecondFactor = errors.New("second factor required")

// errPasswordChange sends the owner of a password an admin chose to the
// page where they choose their own, before anything else.
var errPasswordChange = errors.New("password change required")

// codeMethodNotAllowed is the JSON error code of a methodError. It is not a
// domain code: only HTTP has methods.
const codeMethodNotAllowed = "method_not_allowed"

// methodError refuses a method that a path of the route table does not
// serve; it is written as 405 with an Allow header.
type methodError struct {
	method string
	allow  []string
}

func (e *methodError) Error() string {
	return fmt.Sprintf("This address does not accept %s; it accepts %s.", e.method, strings.Join(e.allow, ", "))
}

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
	k := raw
	if st.route != nil {
		k = st.route.kind
	}
	if k == site { // people read the public pages; programs read /api/v2
		k = page
		if strings.HasPrefix(r.URL.Path, "/api/") {
			k = raw
		}
		st.lang = s.langFor(r, nil)
	}
	// The console's own redirects are not failures: handled before the
	// code is read, since they carry none and would count as internal.
	if k == page {
		switch {
		case errors.Is(err, errSecondFactor):
			http.Redirect(w, r, "/signin/2fa", http.StatusSeeOther)
			return
		case errors.Is(err, errPasswordChange):
			http.Redirect(w, r, "/signin/password", http.StatusSeeOther)
			return
		}
	}
	code := tocsin.ErrorCode(err)
	status := statusOf(code)
	message := tocsin.ErrorMessage(err)
	var me *methodError
	if errors.As(err, &me) {
		code, status, message = codeMethodNotAllowed, http.StatusMethodNotAllowed, me.Error()
		w.Header().Set("Allow", strings.Join(me.allow, ", "))
	}
	if code == tocsin.EINTERNAL {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if k == page {
		if code == tocsin.EUNAUTHORIZED && r.Method == http.MethodGet {
			http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		message = s.errorText(r, code, err)
		s.render(w, r, status, "error", map[string]any{
			"Status":  status,
			"Message": message,
		})
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if code == tocsin.EUNAUTHORIZED {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tocsin"`)
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"error": map[string]string{"code": code, "message": message},
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
	case codeMethodNotAllowed:
		return i18n.T(lang, "error.method_not_allowed")
	}
	return s.localized(r, err)
}

// localized is err's message in the reader's language when the error names
// an i18n key, and its English message otherwise.
func (s *Server) localized(r *http.Request, err error) string {
	var te *tocsin.Error
	if errors.As(err, &te) && te.Key != "" {
		lang := state(r).lang
		args := make([]any, len(te.Args))
		for i, a := range te.Args {
			switch v := a.(type) { // names of things in the reader's language
			case tocsin.KeyMoment:
				args[i] = i18n.T(lang, "security.moment."+string(v))
			case tocsin.SignalState:
				args[i] = strings.ToLower(i18n.T(lang, "signals.state."+string(v)))
			default:
				args[i] = a
			}
		}
		return i18n.T(lang, te.Key, args...)
	}
	return tocsin.ErrorMessage(err)
}
