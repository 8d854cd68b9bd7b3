package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin"
)

const (
	maxJSONBytes = 1 << 20  // API request bodies
	maxFormBytes = 64 << 10 // console forms
)

// decodeJSON reads one JSON object into v. Wrong content type, oversized
// bodies, bad UTF-8, unknown fields, trailing data and type mismatches are
// all refused with a message saying what to fix; nothing is changed.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return tocsin.Errorf(tocsin.EUNSUPPORTED, "Send the body as JSON with Content-Type: application/json.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tocsin.Errorf(tocsin.ETOOLARGE, "The body is over %d bytes.", maxJSONBytes)
		}
		return tocsin.Errorf(tocsin.EINVALID, "Could not read the body.")
	}
	return decodeJSONBytes(body, v)
}

// decodeJSONBytes is decodeJSON after the transport checks; fuzzed.
func decodeJSONBytes(body []byte, v any) error {
	if !utf8.Valid(body) {
		return tocsin.Errorf(tocsin.EINVALID, "The body is not valid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return tocsin.Errorf(tocsin.EINVALID, "The body is empty; send a JSON object.")
		case errors.As(err, &syntax):
			return tocsin.Errorf(tocsin.EINVALID, "Malformed JSON at byte %d.", syntax.Offset)
		case errors.As(err, &typ):
			return tocsin.Errorf(tocsin.EINVALID, "Field %q must be of JSON type %s.", typ.Field, typ.Type.Kind())
		case errors.Is(err, io.ErrUnexpectedEOF):
			return tocsin.Errorf(tocsin.EINVALID, "Malformed JSON: the body ends too early.")
		default:
			// Unknown fields: "json: unknown field \"x\"".
			return tocsin.Errorf(tocsin.EINVALID, "Invalid JSON: %s.", trimJSONPrefix(err.Error()))
		}
	}
	// Only white space may follow. (dec.More would let a stray "}" or "]"
	// through, since it reports the end of an enclosing value.)
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return tocsin.Errorf(tocsin.EINVALID, "Send one JSON object, with nothing after it.")
	}
	return nil
}

func trimJSONPrefix(s string) string {
	const p = "json: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// parseForm reads a console form, bounded, and refuses bad UTF-8.
func parseForm(r *http.Request) error {
	r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tocsin.Errorf(tocsin.ETOOLARGE, "The form is over %d bytes.", maxFormBytes)
		}
		return tocsin.Errorf(tocsin.EINVALID, "The form could not be read.")
	}
	for _, vs := range r.PostForm {
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return tocsin.Errorf(tocsin.EINVALID, "The form contains text that is not valid UTF-8.")
			}
		}
	}
	return nil
}

// pathID reads a numeric path variable.
func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, tocsin.Errorf(tocsin.ENOTFOUND, "No such item: %q.", r.PathValue(name))
	}
	return id, nil
}
