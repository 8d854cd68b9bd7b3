package httpserver

import (
	"bytes"
	"net/url"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
)

// FuzzReadUpload feeds arbitrary multipart bodies to the evidence upload
// reader: it never panics, refuses only with EINVALID or ETOOLARGE and a
// message, never keeps a file over its limit, never more than one file,
// and keeps text fields within the form's limit.
func FuzzReadUpload(f *testing.F) {
	for _, seed := range []string{
		"--B\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nlog\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.log\"\r\n\r\nhello\r\n--B--\r\n",
		"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n0123456789abcdefghijklmnopqrstuvwxyz\r\n--B--\r\n",
		"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nx\r\n--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b\"\r\n\r\ny\r\n--B--\r\n",
		"--B\r\nContent-Disposition: form-data; name=\"other\"; filename=\"../../etc/passwd\"\r\n\r\nx\r\n--B--\r\n",
		"--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\"\r\n\r\n\r\n--B--\r\n",
		"--B\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--B--\r\n",
		"--B\r\n\r\n--B--",
		"not multipart at all",
		"",
	} {
		f.Add([]byte(seed), "B")
	}
	const maxFile = 32
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		up, err := readUpload(bytes.NewReader(body), boundary, maxFile)
		if err != nil {
			if c := tocsin.ErrorCode(err); (c != tocsin.EINVALID && c != tocsin.ETOOLARGE) || tocsin.ErrorMessage(err) == "" {
				t.Fatalf("refused with %v, want EINVALID or ETOOLARGE with a message", err)
			}
			return
		}
		if len(up.Content) > maxFile {
			t.Fatalf("kept a file of %d bytes over the limit of %d", len(up.Content), maxFile)
		}
		n := 0
		for k, vs := range up.Fields {
			n += len(k)
			for _, v := range vs {
				n += len(v)
			}
		}
		if n > maxFormBytes+len(body) {
			t.Fatalf("fields of %d bytes", n)
		}
		if up.Content == nil && up.Filename != "" {
			t.Fatalf("a file name %q without content", up.Filename)
		}
		if _, ok := up.Fields[uploadFileField]; ok {
			t.Fatal("the file part became a text field")
		}
		_ = url.Values(up.Fields).Encode()
		if strings.Contains(boundary, "\x00") && up.Content != nil {
			t.Logf("boundary with NUL accepted")
		}
	})
}
