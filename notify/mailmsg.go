package notify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin"
)

// composed is a message ready for one SMTP transaction.
type composed struct {
	from, to string // envelope addresses
	data     []byte // header and body, CRLF line ends
}

// reservedHeaders are written by the channel, or would add recipients or
// forge trace information; m.Headers may not set them.
var reservedHeaders = map[string]bool{
	"From": true, "To": true, "Cc": true, "Bcc": true, "Subject": true, "Date": true,
	"Message-Id": true, "Mime-Version": true, "Content-Type": true,
	"Content-Transfer-Encoding": true, "Auto-Submitted": true, "Sender": true,
	"Return-Path": true, "Received": true, "Delivered-To": true,
}

// MessageID returns the Message-ID for an outbox key: the same key always
// gives the same ID, so a copy sent again after a crash between the
// server's acceptance and MarkSent can be recognised and dropped by the
// receiver. The key itself is hashed, not shown.
func MessageID(key, domain string) string {
	sum := sha256.Sum256([]byte(key))
	return "<" + hex.EncodeToString(sum[:16]) + ".tocsin@" + domain + ">"
}

// compose builds the message for m. Its errors describe a message that can
// never be sent as it is.
func (s *SMTP) compose(m *tocsin.Message) (*composed, error) {
	to, err := singleRecipient(m.To)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(m.Key) == "" {
		return nil, errors.New("the message has no key to derive its Message-ID from")
	}
	from := s.from.Address
	domain := from[strings.LastIndex(from, "@")+1:]
	date := m.CreatedAt
	if date.IsZero() {
		date = s.now()
	}

	var b bytes.Buffer
	header := func(name, value string) { writeHeader(&b, name, value) }
	header("From", s.from.String())
	header("To", to)
	subject, err := encodeText("Subject", m.Subject)
	if err != nil {
		return nil, err
	}
	header("Subject", subject)
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", MessageID(m.Key, domain))
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	header("Auto-Submitted", "auto-generated")
	names := make([]string, 0, len(m.Headers))
	for name := range m.Headers {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := checkHeaderName(name); err != nil {
			return nil, err
		}
		value, err := encodeText(name, m.Headers[name])
		if err != nil {
			return nil, err
		}
		header(name, value)
	}
	b.WriteString("\r\n")

	if !utf8.ValidString(m.Body) {
		return nil, errors.New("the body is not valid UTF-8")
	}
	body := strings.ReplaceAll(m.Body, "\r\n", "\n")
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	qp := quotedprintable.NewWriter(&b) // writes "\n" as CRLF
	if _, err := qp.Write([]byte(body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return &composed{from: from, to: to, data: b.Bytes()}, nil
}

// singleRecipient accepts exactly one bare address.
func singleRecipient(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != strings.TrimSpace(s) || !strings.Contains(a.Address, "@") {
		return "", fmt.Errorf("the recipient is not one bare e-mail address")
	}
	return a.Address, nil
}

// checkHeaderName accepts RFC 5322 field names (printable ASCII but colon)
// that the channel does not write itself.
func checkHeaderName(name string) error {
	if name == "" || len(name) > 76 {
		return fmt.Errorf("header name %q is empty or too long", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			return fmt.Errorf("header name %q has a character not allowed in a header name", name)
		}
	}
	canon := textproto.CanonicalMIMEHeaderKey(name)
	if reservedHeaders[canon] || strings.HasPrefix(canon, "Resent-") {
		return fmt.Errorf("header %q is set by the e-mail channel or adds recipients, so it cannot be given", name)
	}
	return nil
}

// encodeText checks an unstructured header value and encodes it per RFC
// 2047 when it is not plain ASCII. Line breaks are refused: in a header
// they would start a header of the attacker's choosing.
func encodeText(name, v string) (string, error) {
	if !utf8.ValidString(v) {
		return "", fmt.Errorf("header %s is not valid UTF-8", name)
	}
	for _, r := range v {
		if r == '\r' || r == '\n' {
			return "", fmt.Errorf("header %s contains a line break", name)
		}
		if r < 32 && r != '\t' || r == 127 {
			return "", fmt.Errorf("header %s contains a control character", name)
		}
	}
	enc := mime.QEncoding.Encode("utf-8", v)
	for word := range strings.FieldsSeq(enc) {
		if len(word) > 900 {
			return "", fmt.Errorf("header %s has a word too long for one line", name)
		}
	}
	return enc, nil
}

// writeHeader writes "Name: value" folded before spaces so that lines
// stay near 78 characters.
func writeHeader(b *bytes.Buffer, name, value string) {
	line := name + ":"
	lineLen := len(line)
	b.WriteString(line)
	for i, word := range strings.Split(value, " ") {
		if i > 0 && lineLen+1+len(word) > 78 {
			b.WriteString("\r\n")
			lineLen = 0
		}
		b.WriteString(" ")
		b.WriteString(word)
		lineLen += 1 + len(word)
	}
	b.WriteString("\r\n")
}
