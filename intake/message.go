// Package intake turns reports that arrive by e-mail into signals: a
// parser from a raw message to a tocsin.Signal, and a worker that reads
// the intake mailbox over IMAP.
package intake

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decodes ISO-8859-*, Windows-125x, KOI8, Shift_JIS…
	"github.com/emersion/go-message/mail"
	"golang.org/x/net/html"

	"github.com/tocsin-org/tocsin"
)

// Bounds of the parser: whatever a sender writes, a message costs a
// bounded amount of work and makes one signal of bounded size.
const (
	maxDepth       = 8         // nested multiparts
	maxParts       = 100       // leaves read
	maxPartRead    = 1 << 20   // bytes read of one text part
	maxAttachments = 50        // attachments listed
	maxName        = 200       // characters of an attachment's name
	maxMessageID   = 250       // bytes of a Message-ID kept as is
	maxHeaderBytes = 256 << 10 // the whole header block
	noSubject      = "(no subject)"
)

// ParseMessage turns a raw e-mail into a signal: the decoded subject, the
// text (text/plain preferred, else HTML reduced to text), the sender as
// contact and the attachments by name, type and size (not their content).
// It never fails: what cannot be read is said in the body, so that no
// report is lost; the message itself stays in the mailbox.
func ParseMessage(raw []byte) *tocsin.Signal {
	s := &tocsin.Signal{Source: tocsin.SourceEmail, MessageID: digestID(raw)}
	p := &parse{}
	e, err := message.ReadWithOptions(bytes.NewReader(raw), &message.ReadOptions{MaxHeaderBytes: maxHeaderBytes})
	if e == nil {
		// Not even a header: keep the text as it came.
		s.Subject = noSubject
		s.Body = fitBody(fmt.Sprintf("(this message could not be read as e-mail: %s)\n\n%s", errText(err), cleanText(string(raw))))
		return s
	}
	if err != nil {
		p.note("part of this message is in an unknown encoding or character set: %s", errText(err))
	}
	h := mail.Header{Header: e.Header}
	if id := strings.TrimSpace(cleanLine(h.Get("Message-Id"))); id != "" && len(id) <= maxMessageID {
		s.MessageID = id
	}
	subject, err := h.Subject()
	if err != nil {
		subject = h.Get("Subject") // undecodable encoded-words: keep them as written
	}
	s.Subject = cutRunes(cleanLine(subject), tocsin.MaxSignalSubject)
	if s.Subject == "" {
		s.Subject = noSubject
	}
	s.Contact = sender(h)

	p.walk(e, 0)
	body := strings.Join(p.plain, "\n\n")
	if strings.TrimSpace(body) == "" {
		body = strings.Join(p.html, "\n\n")
	}
	if strings.TrimSpace(body) == "" {
		body = "(this message has no text)"
	}
	if p.unlisted > 0 {
		p.note("%d more attachments are not listed", p.unlisted)
	}
	if len(p.notes) > 0 {
		body += "\n\n--\n" + strings.Join(p.notes, "\n")
	}
	s.Body = fitBody(body)
	s.Attachments = p.attachments
	return s
}

// digestID names a message without a usable Message-ID by its content, so
// that reading it twice still makes one signal.
func digestID(raw []byte) string {
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// sender is the address to answer: Reply-To, else From; the header as
// written when it is not a valid address list.
func sender(h mail.Header) string {
	for _, key := range []string{"Reply-To", "From"} {
		if list, err := h.AddressList(key); err == nil && len(list) > 0 {
			return cutRunes(cleanLine(list[0].Address), tocsin.MaxSignalContact)
		}
	}
	from := cleanLine(h.Get("From"))
	if list, err := mail.ParseAddressList(from); err == nil && len(list) > 0 {
		return cutRunes(list[0].Address, tocsin.MaxSignalContact)
	}
	return cutRunes(from, tocsin.MaxSignalContact)
}

type parse struct {
	plain, html []string
	attachments []tocsin.Attachment
	notes       []string
	leaves      int
	unlisted    int // attachments past maxAttachments
}

func (p *parse) note(format string, args ...any) {
	if len(p.notes) < 10 {
		p.notes = append(p.notes, "("+fmt.Sprintf(format, args...)+")")
	}
}

// walk reads e: the parts of a multipart, or one leaf.
func (p *parse) walk(e *message.Entity, depth int) {
	if mr := e.MultipartReader(); mr != nil {
		if depth >= maxDepth {
			p.note("parts nested deeper than %d levels were not read", maxDepth)
			return
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return
			}
			if part == nil {
				p.note("the rest of this message could not be read: %s", errText(err))
				return
			}
			if err != nil {
				p.note("a part is in an unknown encoding or character set: %s", errText(err))
			}
			p.walk(part, depth+1)
			if p.leaves >= maxParts {
				p.note("only the first %d parts were read", maxParts)
				return
			}
		}
	}
	p.leaves++
	mt, params, err := e.Header.ContentType()
	if err != nil || mt == "" {
		mt = "text/plain"
	}
	disp, dparams, _ := e.Header.ContentDisposition()
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	if disp != "attachment" && (mt == "text/plain" || mt == "text/html") {
		text, err := readText(e.Body)
		if err != nil {
			p.note("part of the text could not be decoded: %s", errText(err))
		}
		if mt == "text/plain" {
			p.plain = append(p.plain, text)
		} else {
			p.html = append(p.html, htmlText(text))
		}
		return
	}
	n, err := io.Copy(io.Discard, e.Body)
	if err != nil {
		p.note("an attachment could not be decoded to its end: %s", errText(err))
	}
	if len(p.attachments) >= maxAttachments {
		p.unlisted++
		return
	}
	if name == "" {
		name = "(unnamed)"
	}
	p.attachments = append(p.attachments, tocsin.Attachment{
		Name: cutRunes(cleanLine(decodeWords(name)), maxName), Type: cutRunes(cleanLine(mt), 100), Size: n,
	})
}

// readText reads a text part (already decoded to UTF-8 by go-message), up
// to maxPartRead bytes.
func readText(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxPartRead))
	return cleanText(string(b)), err
}

// htmlText reduces HTML to its text: no markup, no script or style, a line
// break for each block.
func htmlText(src string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(src))
	skip := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return strings.TrimSpace(collapseBlankLines(b.String()))
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				skip++
			case "br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table":
				b.WriteByte('\n')
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				skip = max(skip-1, 0)
			case "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table":
				b.WriteByte('\n')
			}
		}
	}
}

func collapseBlankLines(s string) string {
	for strings.Contains(s, "\n\n\n") {
		s = strings.ReplaceAll(s, "\n\n\n", "\n\n")
	}
	return s
}

// decodeWords decodes RFC 2047 encoded-words in a parameter some mailers
// encode that way; the text as written when it cannot be decoded.
func decodeWords(s string) string {
	d, err := (&mime.WordDecoder{CharsetReader: message.CharsetReader}).DecodeHeader(s)
	if err != nil {
		return s
	}
	return d
}

// cleanText makes text safe to store: valid UTF-8, line feeds for line
// ends, no control characters but tab and line feed.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\t' || r == '\n':
			return r
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

// cleanLine is cleanText on one line: line ends become spaces.
func cleanLine(s string) string {
	return strings.Join(strings.Fields(cleanText(s)), " ")
}

// cutRunes keeps at most n characters of s.
func cutRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// fitBody cuts a body to tocsin.MaxSignalBody bytes on a character
// boundary, saying so at the end.
func fitBody(s string) string {
	if len(s) <= tocsin.MaxSignalBody {
		return s
	}
	const note = "\n\n(cut here: the message is longer than 64 KiB; the whole of it stays in the intake mailbox)"
	cut := tocsin.MaxSignalBody - len(note)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + note
}

// errText is an error's message on one line, bounded.
func errText(err error) string {
	if err == nil {
		return "unknown error"
	}
	return cutRunes(cleanLine(err.Error()), 200)
}
