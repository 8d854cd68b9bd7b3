package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin"
)

const (
	maxJSONBytes = 1 << 20  // API request bodies
	maxFormBytes = 64 << 10 // console forms
)

// decodeJSON reads one JSON object into v. Wrong content type, oversized
// bodies, bad UTF-8, control characters, unknown fields, trailing data and
// type mismatches are all refused with a message saying what to fix;
// nothing is changed.
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
	if i := bytes.IndexFunc(body, isControl); i >= 0 {
		return tocsin.Errorf(tocsin.EINVALID, "The body contains the control character %U at byte %d; JSON text may not.", body[i], i)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		var badTime *time.ParseError
		switch {
		case errors.Is(err, io.EOF):
			return tocsin.Errorf(tocsin.EINVALID, "The body is empty; send a JSON object.")
		case errors.As(err, &syntax):
			return tocsin.Errorf(tocsin.EINVALID, "Malformed JSON at byte %d.", syntax.Offset)
		case errors.As(err, &typ):
			return tocsin.Errorf(tocsin.EINVALID, "Field %q must be of JSON type %s.", typ.Field, typ.Type.Kind())
		case errors.As(err, &badTime):
			return tocsin.Errorf(tocsin.EINVALID, "%q is not a date and time in RFC 3339 form, such as 2026-12-01T22:00:00+01:00.", badTime.Value).
				WithKey("api.time_invalid", badTime.Value)
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
	// An escape such as \u0000 decodes to a control character, which the
	// databases do not all store (PostgreSQL refuses NUL in text).
	if field, c, ok := controlIn(reflect.ValueOf(v), ""); ok {
		return tocsin.Errorf(tocsin.EINVALID, "Field %q contains the control character %U; only tab, line feed and carriage return are allowed.", field, c)
	}
	return nil
}

// isControl reports whether c is a C0 control character other than tab,
// line feed and carriage return: text tocsin refuses to store.
func isControl(c rune) bool {
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r'
}

// controlIn finds the first string in v (through pointers, structs, slices,
// arrays and maps) that holds a control character, and names where it is
// with JSON field names.
func controlIn(v reflect.Value, path string) (string, rune, bool) {
	switch v.Kind() {
	case reflect.String:
		if i := strings.IndexFunc(v.String(), isControl); i >= 0 {
			return path, rune(v.String()[i]), true
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			return controlIn(v.Elem(), path)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			if p, c, ok := controlIn(v.Field(i), joinPath(path, name)); ok {
				return p, c, true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if p, c, ok := controlIn(v.Index(i), fmt.Sprintf("%s[%d]", path, i)); ok {
				return p, c, true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			p := joinPath(path, fmt.Sprint(it.Key().Interface()))
			if _, c, ok := controlIn(it.Key(), p); ok {
				return p, c, true
			}
			if p, c, ok := controlIn(it.Value(), p); ok {
				return p, c, true
			}
		}
	}
	return "", 0, false
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
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

// parseForm reads a console form, bounded, and refuses bad UTF-8 and
// control characters other than tab, line feed and carriage return (which
// PostgreSQL would refuse to store, NUL at least).
func parseForm(r *http.Request) error {
	limit := int64(maxFormBytes)
	if rt := state(r).route; rt != nil && rt.formBytes > 0 {
		limit = rt.formBytes
	}
	r.Body = http.MaxBytesReader(nil, r.Body, limit)
	if rt := state(r).route; rt != nil && rt.upload && multipartBoundary(r) != "" {
		if err := parseUpload(r, limit); err != nil {
			return err
		}
	} else if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return tocsin.Errorf(tocsin.ETOOLARGE, "The form is over %d bytes.", limit).WithKey("error.form_too_large", limit/1024)
		}
		return tocsin.Errorf(tocsin.EINVALID, "The form could not be read.")
	}
	for k, vs := range r.PostForm {
		for _, v := range append([]string{k}, vs...) {
			if !utf8.ValidString(v) {
				return tocsin.Errorf(tocsin.EINVALID, "The form contains text that is not valid UTF-8.")
			}
			if i := strings.IndexFunc(v, isControl); i >= 0 {
				return tocsin.Errorf(tocsin.EINVALID, "The form field %q contains the control character %U; only tab, line feed and carriage return are allowed.", k, v[i])
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
