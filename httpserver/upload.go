package httpserver

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"

	"github.com/tocsin-org/tocsin"
)

// Evidence uploads: a multipart/form-data body read in one pass, its text
// fields bounded like any console form and its one file part by
// evidence.max_bytes. Nothing touches the disk (mime/multipart's
// ReadForm would spill large parts to temporary files).

// upload is a multipart form read in full.
type upload struct {
	Fields   url.Values
	Filename string
	Content  []byte // nil when no file was chosen
}

// uploadFileField is the name of the file part.
const uploadFileField = "file"

// tooLarge is the refusal of a file over maxFile bytes, in MiB rounded up.
func tooLarge(maxFile int64) error {
	return tocsin.Errorf(tocsin.ETOOLARGE, "The file is over the limit of %d bytes; record it as a reference with its SHA-256 instead.", maxFile).
		WithKey("evidence.too_large", (maxFile+(1<<20)-1)>>20)
}

// readUpload reads a multipart body with boundary: text fields of at most
// maxFormBytes in all, at most one file part named "file" of at most
// maxFile bytes. Anything else is refused with a message; fuzzed.
func readUpload(body io.Reader, boundary string, maxFile int64) (*upload, error) {
	if boundary == "" {
		return nil, tocsin.Errorf(tocsin.EINVALID, "The form could not be read.")
	}
	mr := multipart.NewReader(body, boundary)
	up := &upload{Fields: url.Values{}}
	fieldBytes := int64(0)
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return up, nil
		}
		if err != nil {
			return nil, readError(err, maxFile)
		}
		name := p.FormName()
		if name == "" {
			p.Close()
			continue
		}
		if p.FileName() != "" || name == uploadFileField {
			if name != uploadFileField || up.Content != nil {
				return nil, tocsin.Errorf(tocsin.EINVALID, "Send one file, in the field %q.", uploadFileField).WithKey("evidence.one_file")
			}
			data, err := io.ReadAll(io.LimitReader(p, maxFile+1))
			if err != nil {
				return nil, readError(err, maxFile)
			}
			if int64(len(data)) > maxFile {
				return nil, tooLarge(maxFile)
			}
			if p.FileName() == "" && len(data) == 0 {
				continue // the form's file input left empty
			}
			up.Filename, up.Content = p.FileName(), data
			continue
		}
		var buf bytes.Buffer
		n, err := io.Copy(&buf, io.LimitReader(p, maxFormBytes-fieldBytes+1))
		if err != nil {
			return nil, readError(err, maxFile)
		}
		fieldBytes += n
		if fieldBytes > maxFormBytes {
			return nil, tocsin.Errorf(tocsin.ETOOLARGE, "The form's text is over %d bytes.", maxFormBytes).WithKey("error.form_too_large", maxFormBytes/1024)
		}
		up.Fields.Add(name, buf.String())
	}
}

// readError turns a failure to read the body into a refusal: over the
// body's limit, the file was too large.
func readError(err error, maxFile int64) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(maxFile)
	}
	return tocsin.Errorf(tocsin.EINVALID, "The form could not be read.")
}

// multipartBoundary returns the boundary of a multipart/form-data request,
// "" for any other body.
func multipartBoundary(r *http.Request) string {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return ""
	}
	return params["boundary"]
}

// parseUpload reads an upload route's multipart body, bounded by limit in
// all, into r.PostForm and the request's state; parseForm calls it, so the
// CSRF field is checked as on any form.
func parseUpload(r *http.Request, limit int64) error {
	up, err := readUpload(r.Body, multipartBoundary(r), limit-maxFormBytes)
	if err != nil {
		return err
	}
	r.PostForm, r.Form = up.Fields, up.Fields
	state(r).upload = up
	return nil
}
