package probe

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// An smtp or imap check reads the greeting, asks for the capabilities,
// and, unless the port speaks TLS from the start (465, 993), requires
// STARTTLS to be offered and to work: the handshake must succeed and the
// certificate verify (against ca_file or the system's roots, for
// server_name or the host). What the handshake showed goes to r.TLS.
// Replies are parsed by pure functions (parseSMTPReply, parseIMAPGreeting,
// imapCapabilities), fuzzed in mail_fuzz_test.go.

// maxReplyLines bounds a multi-line reply.
const maxReplyLines = 100

func (p *Prober) runMail(ctx context.Context, c *tocsin.Check, r *tocsin.CheckResult) error {
	s := &c.Spec
	host, _, err := net.SplitHostPort(s.Address)
	if err != nil {
		return errorf("address %q: give host:port", s.Address)
	}
	name := cmpOr(s.ServerName, host)
	tc, err := p.tlsConfig(s)
	if err != nil {
		return err
	}
	raw, err := p.dialBound(ctx, s.Address)
	if err != nil {
		return err
	}
	defer raw.Close()
	conn := raw
	handshake := func() error {
		cfg := tc.Clone()
		cfg.ServerName = name
		var seen *tls.ConnectionState
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			seen = &cs
			return p.verify(cs, name, tc.RootCAs)
		}
		tlsConn := tls.Client(raw, cfg)
		err := tlsConn.HandshakeContext(ctx)
		if seen != nil {
			r.TLS = observeTLS(seen, name, tc.RootCAs, p.Now())
		}
		if err != nil {
			return inPhase(phaseHandshake, err)
		}
		conn = tlsConn
		return nil
	}
	if s.ImplicitTLS {
		if err := handshake(); err != nil {
			return err
		}
	}
	began := time.Now()
	defer func() {
		if r.TLS != nil {
			r.Duration = time.Since(began) // what a client waited, not the scan
			p.scanOften(ctx, string(c.Kind)+" "+s.Address+" "+name, p.mailTLSOpener(c), name, r.TLS)
		}
	}()
	return p.talk(c, conn, handshake)
}

// talk holds an smtp or imap conversation on conn, calling handshake
// where TLS starts.
func (p *Prober) talk(c *tocsin.Check, conn net.Conn, handshake func() error) error {
	br := bufio.NewReaderSize(conn, 1024)
	if c.Kind == tocsin.CheckIMAP {
		return p.talkIMAP(conn, br, &c.Spec, handshake)
	}
	return p.talkSMTP(conn, br, &c.Spec, handshake)
}

// errReadyForTLS stops a conversation where its TLS handshake would start.
var errReadyForTLS = errors.New("ready for the TLS handshake")

// mailTLSOpener opens connections to c's server ready for a ClientHello,
// for the scan: after the greeting and STARTTLS, or at once on a port that
// speaks TLS from the start.
func (p *Prober) mailTLSOpener(c *tocsin.Check) func(context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		conn, err := p.dialBound(ctx, c.Spec.Address)
		if err != nil || c.Spec.ImplicitTLS {
			return conn, err
		}
		if err := p.talk(c, conn, func() error { return errReadyForTLS }); !errors.Is(err, errReadyForTLS) {
			conn.Close()
			if err == nil {
				err = errors.New("the conversation ended before STARTTLS")
			}
			return nil, err
		}
		return conn, nil
	}
}

func (p *Prober) talkSMTP(conn net.Conn, br *bufio.Reader, s *tocsin.CheckSpec, handshake func() error) error {
	code, text, err := readSMTPReply(br)
	if err != nil {
		return inPhase(phaseGreeting, err)
	}
	if code != 220 {
		return errorf("the server greeted with %d %q instead of 220: it is not accepting mail", code, clip(strings.Join(text, " "), 200))
	}
	if s.Banner != "" && !strings.Contains(strings.Join(text, "\n"), s.Banner) {
		return errorf("the greeting %q does not contain %q", clip(text[0], 200), s.Banner)
	}
	ehlo := func() ([]string, error) {
		if _, err := fmt.Fprintf(conn, "EHLO %s\r\n", ehloName(conn)); err != nil {
			return nil, inPhase(fmt.Sprintf(phaseCommand, "EHLO"), err)
		}
		code, text, err := readSMTPReply(br)
		if err != nil {
			return nil, inPhase(fmt.Sprintf(phaseCommand, "EHLO"), err)
		}
		if code != 250 {
			return nil, errorf("the server refused EHLO with %d %q", code, clip(strings.Join(text, " "), 200))
		}
		return text, nil
	}
	ext, err := ehlo()
	if err != nil {
		return err
	}
	if !s.ImplicitTLS {
		if !smtpHasExtension(ext, "STARTTLS") {
			return errorf("the server does not offer STARTTLS (its EHLO lists %s); mail to it travels unencrypted", listExtensions(ext))
		}
		if _, err := io.WriteString(conn, "STARTTLS\r\n"); err != nil {
			return inPhase(fmt.Sprintf(phaseCommand, "STARTTLS"), err)
		}
		code, text, err := readSMTPReply(br)
		if err != nil {
			return inPhase(fmt.Sprintf(phaseCommand, "STARTTLS"), err)
		}
		if code != 220 {
			return errorf("STARTTLS is offered but refused: %d %q", code, clip(strings.Join(text, " "), 200))
		}
		if br.Buffered() > 0 {
			return errorf("the server sent data before the TLS handshake (a STARTTLS injection risk)")
		}
		if err := handshake(); err != nil {
			return err
		}
	}
	io.WriteString(conn, "QUIT\r\n") // polite; the answer does not matter
	return nil
}

func (p *Prober) talkIMAP(conn net.Conn, br *bufio.Reader, s *tocsin.CheckSpec, handshake func() error) error {
	line, err := readLine(br)
	if err != nil {
		if errors.Is(err, io.EOF) && line == "" {
			return inPhase(phaseGreeting, io.EOF)
		}
		if !errors.Is(err, io.EOF) {
			return inPhase(phaseGreeting, err)
		}
	}
	status, text, err := parseIMAPGreeting(line)
	if err != nil {
		return err
	}
	if status == "BYE" {
		return errorf("the server greeted with BYE %q: it refuses connections", clip(text, 200))
	}
	if s.Banner != "" && !strings.Contains(line, s.Banner) {
		return errorf("the greeting %q does not contain %q", clip(line, 200), s.Banner)
	}
	if s.ImplicitTLS {
		io.WriteString(conn, "t2 LOGOUT\r\n")
		return nil
	}
	if _, err := io.WriteString(conn, "t1 CAPABILITY\r\n"); err != nil {
		return inPhase(fmt.Sprintf(phaseCommand, "CAPABILITY"), err)
	}
	var caps []string
	for i := 0; ; i++ {
		line, err := readLine(br)
		if err != nil {
			return inPhase(fmt.Sprintf(phaseCommand, "CAPABILITY"), err)
		}
		if i > maxReplyLines {
			return errorf("the server answered CAPABILITY with more than %d lines", maxReplyLines)
		}
		if c, ok := imapCapabilities(line); ok {
			caps = append(caps, c...)
			continue
		}
		if strings.HasPrefix(line, "t1 ") {
			if !strings.HasPrefix(strings.ToUpper(line), "T1 OK") {
				return errorf("the server refused CAPABILITY: %q", clip(line, 200))
			}
			break
		}
	}
	if !containsFold(caps, "STARTTLS") {
		return errorf("the server does not offer STARTTLS (its CAPABILITY lists %s); logins to it travel unencrypted", listExtensions(caps))
	}
	if _, err := io.WriteString(conn, "t2 STARTTLS\r\n"); err != nil {
		return inPhase(fmt.Sprintf(phaseCommand, "STARTTLS"), err)
	}
	for i := 0; ; i++ {
		line, err := readLine(br)
		if err != nil {
			return inPhase(fmt.Sprintf(phaseCommand, "STARTTLS"), err)
		}
		if i > maxReplyLines {
			return errorf("the server answered STARTTLS with more than %d lines", maxReplyLines)
		}
		if strings.HasPrefix(line, "t2 ") {
			if !strings.HasPrefix(strings.ToUpper(line), "T2 OK") {
				return errorf("STARTTLS is offered but refused: %q", clip(line, 200))
			}
			break
		}
	}
	if br.Buffered() > 0 {
		return errorf("the server sent data before the TLS handshake (a STARTTLS injection risk)")
	}
	if err := handshake(); err != nil {
		return err
	}
	io.WriteString(conn, "t3 LOGOUT\r\n")
	return nil
}

// ehloName is the client's own address as an address literal, which
// every server accepts in EHLO.
func ehloName(conn net.Conn) string {
	if a, ok := conn.LocalAddr().(*net.TCPAddr); ok {
		if a.IP.To4() != nil {
			return "[" + a.IP.String() + "]"
		}
		return "[IPv6:" + a.IP.String() + "]"
	}
	return "[127.0.0.1]"
}

// readSMTPReply reads one (possibly multi-line) reply and parses it.
func readSMTPReply(br *bufio.Reader) (int, []string, error) {
	var lines []string
	for len(lines) <= maxReplyLines {
		line, err := readLine(br)
		if err != nil {
			if errors.Is(err, io.EOF) && line != "" {
				err = io.ErrUnexpectedEOF
			}
			return 0, nil, err
		}
		lines = append(lines, line)
		if len(line) < 4 || line[3] != '-' {
			return parseSMTPReply(lines)
		}
	}
	return 0, nil, errorf("the server sent a reply of more than %d lines", maxReplyLines)
}

// parseSMTPReply parses the lines of one SMTP reply ("250-first",
// "250 last"): every line has the same three-digit code, all but the last
// continue with "-", the last has " " or nothing after its code. It
// returns the code and each line's text.
func parseSMTPReply(lines []string) (int, []string, error) {
	if len(lines) == 0 {
		return 0, nil, errorf("the server sent an empty reply")
	}
	code := 0
	text := make([]string, 0, len(lines))
	for i, l := range lines {
		if len(l) < 3 {
			return 0, nil, errorf("the server sent %q, not an SMTP reply", clip(l, 100))
		}
		n, err := strconv.Atoi(l[:3])
		if err != nil || n < 200 || n > 599 || l[0] < '2' || l[0] > '5' {
			return 0, nil, errorf("the server sent %q, not an SMTP reply", clip(l, 100))
		}
		if i == 0 {
			code = n
		} else if n != code {
			return 0, nil, errorf("the server mixed reply codes %d and %d in one reply", code, n)
		}
		last := i == len(lines)-1
		sep := byte(' ')
		if len(l) > 3 {
			sep = l[3]
		}
		switch {
		case last && sep == '-':
			return 0, nil, errorf("the server's reply ended on a continuation line %q", clip(l, 100))
		case !last && sep != '-':
			return 0, nil, errorf("the server's reply has a final line %q before its end", clip(l, 100))
		case sep != ' ' && sep != '-':
			return 0, nil, errorf("the server sent %q, not an SMTP reply", clip(l, 100))
		}
		t := ""
		if len(l) > 4 {
			t = l[4:]
		}
		text = append(text, t)
	}
	return code, text, nil
}

// smtpHasExtension reports whether an EHLO reply's text lists ext (its
// first line is the server's name).
func smtpHasExtension(text []string, ext string) bool {
	for _, l := range text[min(1, len(text)):] {
		if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], ext) {
			return true
		}
	}
	return false
}

func listExtensions(text []string) string {
	var names []string
	for _, l := range text {
		if f := strings.Fields(l); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	if len(names) == 0 {
		return "nothing"
	}
	return clip(strings.Join(names, " "), 200)
}

// parseIMAPGreeting parses an IMAP greeting: "* OK text", "* PREAUTH
// text" or "* BYE text". It returns the status and the text.
func parseIMAPGreeting(line string) (status, text string, err error) {
	rest, ok := strings.CutPrefix(line, "* ")
	if !ok {
		return "", "", errorf("the server greeted with %q, not an IMAP greeting (* OK)", clip(line, 100))
	}
	status, text, _ = strings.Cut(rest, " ")
	status = strings.ToUpper(status)
	switch status {
	case "OK", "PREAUTH", "BYE":
		return status, text, nil
	}
	return "", "", errorf("the server greeted with %q, not an IMAP greeting (* OK)", clip(line, 100))
}

// imapCapabilities reads an untagged CAPABILITY response
// ("* CAPABILITY IMAP4rev1 STARTTLS …").
func imapCapabilities(line string) ([]string, bool) {
	f := strings.Fields(line)
	if len(f) < 2 || f[0] != "*" || !strings.EqualFold(f[1], "CAPABILITY") {
		return nil, false
	}
	return f[2:], true
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
