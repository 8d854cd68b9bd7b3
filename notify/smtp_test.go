package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// peerChannel returns an e-mail channel that sends to addr in clear text
// (allowed: the peer is on 127.0.0.1).
func peerChannel(t *testing.T, addr string) *SMTP {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	s := NewSMTP(SMTPConfig{Host: host, Port: n, From: "Tocsin Statut <statut@hebergeur.test>", TLS: TLSNone, HeloName: "tocsin.test", Timeout: 10 * time.Second})
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

// frenchBody exercises quoted-printable: accents, a line longer than 76
// characters, "=" signs, trailing spaces, a line that starts with a dot,
// and a CRLF line end among LF ones.
const frenchBody = "Bonjour,\n\n" +
	"L'incident « base de données indisponible » est résolu depuis 14 h 32 ; la cause était une coupure électrique prolongée au centre de données de Montréal.\n" +
	"Équation : a=b+c, 100 % des services rétablis.   \n" +
	".Cette ligne commence par un point.\r\n" +
	"Merci de votre patience — l'équipe technique.\n"

func TestSMTPDeliversOneWellFormedMessageToItsOneRecipient(t *testing.T) {
	peer := testpeer.StartSMTP(t)
	s := peerChannel(t, peer.Addr)
	created := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	m := &tocsin.Message{
		ID: 7, Channel: tocsin.ChannelEmail, To: "Alice@Example.org",
		Subject: "Incident résolu : « base de données » — coupure à Montréal, équipe prévenue, aucune donnée perdue",
		Body:    frenchBody,
		Headers: map[string]string{"List-Unsubscribe": "<https://status.hebergeur.test/unsubscribe?t=abc>", "X-Tocsin-Incident": "42"},
		Key:     "incident:42:update:3:alice@example.org", CreatedAt: created,
	}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := peer.WaitFor(t, 1, 10*time.Second)
	if len(got) != 1 {
		t.Fatalf("%d messages delivered, want 1", len(got))
	}
	d := got[0]
	if d.Recipient != "alice@example.org" || d.Sender != "statut@hebergeur.test" {
		t.Errorf("envelope = from %q to %q, want from statut@hebergeur.test to alice@example.org", d.Sender, d.Recipient)
	}
	if to := d.Header["To"]; len(to) != 1 || to[0] != "Alice@Example.org" {
		t.Errorf("To headers = %q, want exactly one, Alice@Example.org", to)
	}
	for _, h := range []string{"Cc", "Bcc"} {
		if v, ok := d.Header[h]; ok {
			t.Errorf("%s header present: %q", h, v)
		}
	}
	if from, err := d.Header.AddressList("From"); err != nil || len(from) != 1 || from[0].Name != "Tocsin Statut" || from[0].Address != "statut@hebergeur.test" {
		t.Errorf("From = %v, %v", from, err)
	}
	if subj, err := d.Subject(); err != nil || subj != m.Subject {
		t.Errorf("Subject decodes to %q, %v; want %q", subj, err, m.Subject)
	}
	if raw := d.Header.Get("Subject"); !isASCII(raw) {
		t.Errorf("raw Subject is not ASCII (not RFC 2047 encoded): %q", raw)
	}
	if date, err := d.Header.Date(); err != nil || !date.Equal(created) {
		t.Errorf("Date = %v, %v; want the message's creation time %v", date, err, created)
	}
	for name, want := range map[string]string{
		"Message-Id":                MessageID(m.Key, "hebergeur.test"),
		"Mime-Version":              "1.0",
		"Content-Type":              "text/plain; charset=utf-8",
		"Content-Transfer-Encoding": "quoted-printable",
		"Auto-Submitted":            "auto-generated",
		"List-Unsubscribe":          "<https://status.hebergeur.test/unsubscribe?t=abc>",
		"X-Tocsin-Incident":         "42",
	} {
		if got := d.Header[name]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want exactly %q", name, got, want)
		}
	}
	text, err := d.Text()
	if err != nil {
		t.Fatalf("decoding the body: %v", err)
	}
	// Quoted-printable keeps the text byte for byte, CRLF line ends aside
	// (Dovecot stores LF).
	want := strings.ReplaceAll(frenchBody, "\r\n", "\n")
	if text := strings.ReplaceAll(text, "\r\n", "\n"); text != want {
		t.Errorf("body round-trips to\n%q\nwant\n%q", text, want)
	}
	for line := range bytes.Lines(d.Body) {
		if len(bytes.TrimRight(line, "\r\n")) > 76 {
			t.Errorf("encoded body line longer than 76 characters: %q", line)
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestSMTPResendOfTheSameKeyCarriesTheSameMessageID(t *testing.T) {
	peer := testpeer.StartSMTP(t)
	s := peerChannel(t, peer.Addr)
	m := &tocsin.Message{ID: 1, To: "bob@example.org", Subject: "x", Body: "x", Key: "signin:9:new-device"}
	other := &tocsin.Message{ID: 2, To: "bob@example.org", Subject: "x", Body: "x", Key: "signin:10:new-device"}
	for _, msg := range []*tocsin.Message{m, m, other} {
		if err := s.Send(context.Background(), msg); err != nil {
			t.Fatal(err)
		}
	}
	// Deliveries run in parallel in the peer: compare by count, not order.
	got := peer.WaitFor(t, 3, 10*time.Second)
	copies := map[string]int{}
	for _, g := range got {
		copies[g.Header.Get("Message-Id")]++
	}
	same, diff := MessageID(m.Key, "hebergeur.test"), MessageID(other.Key, "hebergeur.test")
	if len(copies) != 2 || copies[same] != 2 || copies[diff] != 1 {
		t.Errorf("Message-IDs received = %v: want %s twice (same key) and %s once", copies, same, diff)
	}
	if !strings.HasSuffix(same, ".tocsin@hebergeur.test>") || strings.Contains(same, "signin") {
		t.Errorf("Message-ID %q should be a hash of the key at the sender's domain", same)
	}
}

func TestSMTPRefusesHeaderInjectionAndSeveralRecipientsAsPermanent(t *testing.T) {
	peer := testpeer.StartSMTP(t)
	s := peerChannel(t, peer.Addr)
	ok := tocsin.Message{ID: 1, To: "carol@example.org", Subject: "Alerte", Body: "x", Key: "k"}
	for name, edit := range map[string]func(m *tocsin.Message){
		"CRLF in subject":           func(m *tocsin.Message) { m.Subject = "Alerte\r\nBcc: eve@evil.test" },
		"LF in subject":             func(m *tocsin.Message) { m.Subject = "Alerte\nBcc: eve@evil.test" },
		"CR in header value":        func(m *tocsin.Message) { m.Headers = map[string]string{"X-Ref": "1\rBcc: eve@evil.test"} },
		"LF in header value":        func(m *tocsin.Message) { m.Headers = map[string]string{"X-Ref": "1\nBcc: eve@evil.test"} },
		"CRLF in header name":       func(m *tocsin.Message) { m.Headers = map[string]string{"X-Ref\r\nBcc": "eve@evil.test"} },
		"colon in header name":      func(m *tocsin.Message) { m.Headers = map[string]string{"Bcc: eve@evil.test\r\nX": "1"} },
		"space in header name":      func(m *tocsin.Message) { m.Headers = map[string]string{"X Ref": "1"} },
		"Bcc header":                func(m *tocsin.Message) { m.Headers = map[string]string{"bcc": "eve@evil.test"} },
		"Cc header":                 func(m *tocsin.Message) { m.Headers = map[string]string{"Cc": "eve@evil.test"} },
		"To header":                 func(m *tocsin.Message) { m.Headers = map[string]string{"TO": "eve@evil.test"} },
		"Resent-To header":          func(m *tocsin.Message) { m.Headers = map[string]string{"Resent-To": "eve@evil.test"} },
		"Message-ID override":       func(m *tocsin.Message) { m.Headers = map[string]string{"message-id": "<x@y>"} },
		"two recipients":            func(m *tocsin.Message) { m.To = "carol@example.org, eve@evil.test" },
		"recipient with a name":     func(m *tocsin.Message) { m.To = "Carol <carol@example.org>" },
		"CRLF in recipient":         func(m *tocsin.Message) { m.To = "carol@example.org\r\nRCPT TO:<eve@evil.test>" },
		"no recipient":              func(m *tocsin.Message) { m.To = "" },
		"invalid UTF-8 in the body": func(m *tocsin.Message) { m.Body = "caf\xe9" },
		"no key":                    func(m *tocsin.Message) { m.Key = "" },
	} {
		t.Run(name, func(t *testing.T) {
			m := ok
			edit(&m)
			err := s.Send(context.Background(), &m)
			if !IsPermanent(err) {
				t.Errorf("Send = %v, want a permanent error", err)
			}
		})
	}
	// The good message goes through, and is the only thing the peer got.
	if err := s.Send(context.Background(), &ok); err != nil {
		t.Fatal(err)
	}
	if got := peer.WaitFor(t, 1, 10*time.Second); len(got) != 1 || got[0].Recipient != "carol@example.org" {
		t.Errorf("delivered %d message(s), want only the valid one to carol@example.org", len(got))
	}
}

func TestSMTPRecipientRefusedWith5xxIsPermanentAnd4xxIsNot(t *testing.T) {
	peer := testpeer.StartSMTP(t)
	s := peerChannel(t, peer.Addr)
	send := func(to string) error {
		return s.Send(context.Background(), &tocsin.Message{ID: 1, To: to, Subject: "x", Body: "x", Key: to})
	}
	if err := send("dave@" + testpeer.RejectDomain); !IsPermanent(err) || !strings.Contains(err.Error(), "550") {
		t.Errorf("550 at RCPT TO: err = %v, want a permanent error citing 550", err)
	}
	if err := send("dave@" + testpeer.TempFailDomain); err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "451") {
		t.Errorf("451 at RCPT TO: err = %v, want a temporary error citing 451", err)
	}
}

func TestSMTPConnectionRefusedIsTemporary(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := peerChannel(t, addr)
	err = s.Send(context.Background(), &tocsin.Message{ID: 1, To: "a@example.org", Subject: "x", Body: "x", Key: "k"})
	if err == nil || IsPermanent(err) {
		t.Errorf("Send to a closed port = %v, want a temporary error", err)
	}
}

func TestSMTPGivesUpAtTheTimeoutWhenTheServerNeverGreets(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // say nothing, until the test ends
		}
	}()
	s := peerChannel(t, l.Addr().String())
	s.cfg.Timeout = 300 * time.Millisecond
	// The server never answers: only the timeout can end Send.
	err = s.Send(context.Background(), &tocsin.Message{ID: 1, To: "a@example.org", Subject: "x", Body: "x", Key: "k"})
	if err == nil || IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send = %v, want a temporary deadline error", err)
	}

	// Cancelling the context stops it too, before the timeout.
	s.cfg.Timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	err = s.Send(ctx, &tocsin.Message{ID: 1, To: "a@example.org", Subject: "x", Body: "x", Key: "k"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Send = %v, want context.Canceled (the timeout is a minute)", err)
	}
}

func TestSMTPStartTLSModeRefusesAServerWithoutSTARTTLS(t *testing.T) {
	peer := testpeer.StartSMTP(t) // plain SMTP only
	s := peerChannel(t, peer.Addr)
	s.cfg.TLS = TLSStartTLS
	err := s.Send(context.Background(), &tocsin.Message{ID: 1, To: "a@example.org", Subject: "x", Body: "x", Key: "k"})
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "STARTTLS") {
		t.Errorf("Send = %v, want a temporary error about STARTTLS", err)
	}
	time.Sleep(200 * time.Millisecond)
	if got := peer.Messages(t); len(got) != 0 {
		t.Errorf("%d message(s) delivered in clear text", len(got))
	}
}

func TestSMTPImplicitTLSVerifiesTheServerCertificate(t *testing.T) {
	peer := testpeer.StartSMTP(t)
	front := testpeer.StartTLSFront(t, peer.Addr)
	s := peerChannel(t, front.Addr)
	s.cfg.TLS = TLSImplicit
	m := &tocsin.Message{ID: 1, To: "erin@example.org", Subject: "Sécurité", Body: "x", Key: "k"}

	err := s.Send(context.Background(), m) // system roots: the test certificate is unknown
	if err == nil || IsPermanent(err) {
		t.Errorf("Send with an untrusted certificate = %v, want a temporary error", err)
	}
	s.rootCAs = front.RootCAs
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatalf("Send over TLS: %v", err)
	}
	if got := peer.WaitFor(t, 1, 10*time.Second); got[0].Recipient != "erin@example.org" {
		t.Errorf("delivered to %q", got[0].Recipient)
	}
}

func TestSMTPValidate(t *testing.T) {
	base := SMTPConfig{Host: "smtp.example.org", From: "status@example.org"}
	for _, tc := range []struct {
		name    string
		edit    func(c *SMTPConfig)
		wantErr string // "" for valid
	}{
		{"defaults", func(c *SMTPConfig) {}, ""},
		{"implicit TLS", func(c *SMTPConfig) { c.TLS = "tls" }, ""},
		{"with credentials", func(c *SMTPConfig) { c.Username, c.Password = "u", "p" }, ""},
		{"named sender", func(c *SMTPConfig) { c.From = "Statut Hébergeur <status@example.org>" }, ""},
		{"none to localhost", func(c *SMTPConfig) { c.Host, c.TLS = "localhost", "none" }, ""},
		{"none to 127.0.0.2", func(c *SMTPConfig) { c.Host, c.TLS = "127.0.0.2", "none" }, ""},
		{"none to ::1", func(c *SMTPConfig) { c.Host, c.TLS = "::1", "none" }, ""},
		{"none to a remote host", func(c *SMTPConfig) { c.TLS = "none" }, "only allowed to a server on this machine"},
		{"none to a LAN address", func(c *SMTPConfig) { c.Host, c.TLS = "192.168.1.5", "none" }, "127.0.0.0/8"},
		{"unknown TLS mode", func(c *SMTPConfig) { c.TLS = "ssl" }, "unknown tls mode"},
		{"no host", func(c *SMTPConfig) { c.Host = "" }, "no host"},
		{"host with a space", func(c *SMTPConfig) { c.Host = "smtp example.org" }, "neither a host name"},
		{"port out of range", func(c *SMTPConfig) { c.Port = 70000 }, "out of range"},
		{"no from", func(c *SMTPConfig) { c.From = "" }, "not an e-mail address"},
		{"from without domain", func(c *SMTPConfig) { c.From = "status" }, "not an e-mail address"},
		{"username without password", func(c *SMTPConfig) { c.Username = "u" }, "both username and password"},
		{"password without username", func(c *SMTPConfig) { c.Password = "p" }, "both username and password"},
		{"helo with CRLF", func(c *SMTPConfig) { c.HeloName = "a\r\nMAIL FROM:<x>" }, "helo name"},
		{"negative timeout", func(c *SMTPConfig) { c.Timeout = -time.Second }, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			tc.edit(&c)
			err := NewSMTP(c).Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tc.wantErr != "" && (tocsin.ErrorCode(err) != tocsin.EINVALID || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate = %v, want EINVALID mentioning %q", err, tc.wantErr)
			}
		})
	}
}

func TestSMTPConfigNeverPrintsThePassword(t *testing.T) {
	c := NewSMTP(SMTPConfig{Host: "smtp.example.org", From: "s@example.org", Username: "u", Password: "hunter2-secret"})
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("smtp", "config", c.cfg)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("smtp", "config", c.cfg)
	for _, out := range []string{logged.String(), fmt.Sprint(c.cfg), fmt.Sprintf("%+v", c.cfg), fmt.Sprintf("%#v", c.cfg), fmt.Sprintf("%v", c)} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("password printed: %s", out)
		}
	}
}
