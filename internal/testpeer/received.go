package testpeer

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
)

// Subject returns the Subject header decoded from RFC 2047, as a mail
// reader shows it.
func (m ReceivedMail) Subject() (string, error) {
	return new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
}

// Text returns the body decoded from its Content-Transfer-Encoding.
func (m ReceivedMail) Text() (string, error) {
	var r io.Reader = bytes.NewReader(m.Body)
	switch cte := strings.ToLower(strings.TrimSpace(m.Header.Get("Content-Transfer-Encoding"))); cte {
	case "", "7bit", "8bit", "binary":
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	default:
		return "", fmt.Errorf("unknown Content-Transfer-Encoding %q", cte)
	}
	b, err := io.ReadAll(r)
	return string(b), err
}
