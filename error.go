package tocsin

import (
	"errors"
	"fmt"
)

// Error codes. Every layer speaks these; httpserver maps each to one HTTP
// status in one place, so a handler never chooses a status code itself.
const (
	EINVALID      = "invalid"           // the request is malformed or a value is out of range
	ENOTFOUND     = "not_found"         // the thing does not exist (or the caller may not know it does)
	ECONFLICT     = "conflict"          // the state does not allow it (already used, already exists)
	EUNAUTHORIZED = "unauthorized"      // no valid session or token
	EFORBIDDEN    = "forbidden"         // authenticated, but the role does not allow it
	ETOOMANY      = "too_many_requests" // throttled; retry later
	ETOOLARGE     = "too_large"         // the body is over the limit
	EUNSUPPORTED  = "unsupported_media_type"
	EINTERNAL     = "internal" // a bug or an outage; the message is never shown to the caller
)

// Error is an error a person can act on: Message is safe to show to the
// caller, in the caller's language when httpserver translates it.
type Error struct {
	Code    string
	Message string // English: the API, the command line and the logs show it
	// Key and Args name the same message in the i18n catalogues, so that the
	// console shows it in the reader's language; "" when it has none.
	Key  string
	Args []any
}

// WithKey names the message's i18n key and arguments.
func (e *Error) WithKey(key string, args ...any) *Error {
	e.Key, e.Args = key, args
	return e
}

func (e *Error) Error() string { return fmt.Sprintf("tocsin: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EINTERNAL for errors that are not
// *Error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of err; internal errors get a
// generic text so that nothing about the system leaks to the caller.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}
