package probe

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// ListingAnswer is what one unsigned list request answered.
type ListingAnswer struct {
	// Listing: the body is a listing of the bucket's objects.
	Listing bool
	// Answer is "listing", "denied", or what else came back, in words.
	Answer string
}

// DetectListing judges the answer to an unsigned list request: a 2xx whose
// body is an S3 ListBucketResult, an Azure EnumerationResults or a GCS
// JSON object list (kind "storage#objects" or an items array) is a
// listing; anything else is said in words. truncated reports that the
// body was cut at the read limit. It never panics, whatever the body.
func DetectListing(status int, contentType string, body []byte, truncated bool) ListingAnswer {
	trimmed := bytes.TrimLeftFunc(body, unicode.IsSpace)
	trimmed = bytes.TrimPrefix(trimmed, []byte("\xef\xbb\xbf")) // a UTF-8 byte-order mark
	switch {
	case status >= 200 && status < 300:
		return detect2xx(contentType, trimmed, truncated)
	case status == 401 || status == 403:
		return ListingAnswer{Answer: "denied" + errorCode(trimmed)}
	case status == 404:
		return ListingAnswer{Answer: "not found" + errorCode(trimmed)}
	case status >= 300 && status < 400:
		return ListingAnswer{Answer: fmt.Sprintf("redirect (%d), not followed", status)}
	case status >= 500:
		return ListingAnswer{Answer: fmt.Sprintf("server error %d", status) + errorCode(trimmed)}
	}
	return ListingAnswer{Answer: fmt.Sprintf("HTTP %d", status) + errorCode(trimmed)}
}

func detect2xx(contentType string, b []byte, truncated bool) ListingAnswer {
	ct := strings.ToLower(contentType)
	cut := ""
	if truncated {
		cut = " (answer cut at the read limit)"
	}
	switch {
	case len(b) == 0:
		return ListingAnswer{Answer: "not a listing: empty answer"}
	case strings.Contains(ct, "html") || looksHTML(b):
		return ListingAnswer{Answer: "not a listing: an HTML page"}
	case b[0] == '<':
		root, err := xmlRoot(b)
		if err != nil && (root == "" || !truncated) {
			return ListingAnswer{Answer: "not a listing: malformed XML: " + clip(err.Error(), 120)}
		}
		// A body cut at the limit cannot be checked to its end; its root
		// element still says what it is, and a listing is what matters.
		switch root {
		case "ListBucketResult", "ListVersionsResult":
			return ListingAnswer{Listing: true, Answer: "listing" + cut}
		case "EnumerationResults":
			return ListingAnswer{Listing: true, Answer: "listing" + cut}
		case "Error":
			return ListingAnswer{Answer: "not a listing: an error document" + errorCode(b)}
		}
		return ListingAnswer{Answer: "not a listing: XML whose root is <" + clip(root, 120) + ">" + cut}
	case b[0] == '{':
		if truncated {
			return ListingAnswer{Answer: "not a listing: JSON answer longer than the read limit"}
		}
		listing, err := gcsObjectList(b)
		if err != nil {
			return ListingAnswer{Answer: "not a listing: malformed JSON: " + clip(err.Error(), 120)}
		}
		if listing {
			return ListingAnswer{Listing: true, Answer: "listing"}
		}
		return ListingAnswer{Answer: "not a listing: JSON without an object list"}
	}
	if ct == "" {
		ct = "an answer of unknown type"
	}
	return ListingAnswer{Answer: "not a listing: " + clip(ct, 120)}
}

// looksHTML reports whether b starts like an HTML page.
func looksHTML(b []byte) bool {
	head := strings.ToLower(string(b[:min(len(b), 64)]))
	return strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html")
}

// xmlRoot returns the local name of b's root element, and an error when b
// is not one well-formed document (the root is returned even then, once
// read).
func xmlRoot(b []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = true
	root, depth := "", 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if root == "" {
				return "", errors.New("no element")
			}
			if depth != 0 {
				return root, fmt.Errorf("<%s> is not closed", root)
			}
			return root, nil
		}
		if err != nil {
			return root, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = t.Name.Local
			} else if depth == 0 {
				return root, errors.New("more than one root element")
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(t)) > 0 {
				return root, errors.New("text outside the root element")
			}
		}
	}
}

// gcsObjectList reports whether b is a GCS JSON API object list.
func gcsObjectList(b []byte) (bool, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(b, &doc); err != nil {
		return false, err
	}
	var kind string
	if raw, ok := doc["kind"]; ok && json.Unmarshal(raw, &kind) == nil && kind == "storage#objects" {
		return true, nil
	}
	if raw, ok := doc["items"]; ok {
		var items []json.RawMessage
		if json.Unmarshal(raw, &items) == nil {
			return true, nil
		}
	}
	return false, nil
}

// errorCode returns " (Code)" from an S3/Azure XML error document or a GCS
// JSON error, or "" when b has neither.
func errorCode(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if b[0] == '{' {
		var doc struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &doc) == nil && doc.Error.Message != "" {
			return " (" + clip(doc.Error.Message, 120) + ")"
		}
		return ""
	}
	if b[0] != '<' {
		return ""
	}
	// Error documents are small: look for <Code> near the start only, so
	// that a huge body costs no more than a small one.
	d := xml.NewDecoder(bytes.NewReader(b[:min(len(b), 64<<10)]))
	for inCode := false; ; {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		switch t := tok.(type) {
		case xml.StartElement:
			inCode = t.Name.Local == "Code"
		case xml.EndElement:
			inCode = false
		case xml.CharData:
			if code := strings.TrimSpace(string(t)); inCode && code != "" {
				return " (" + clip(code, 120) + ")"
			}
		}
	}
}
