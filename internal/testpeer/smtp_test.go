package testpeer_test

import (
	"crypto/tls"
	"errors"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// send delivers msg through the peer in one SMTP transaction.
func send(t *testing.T, p *testpeer.SMTPPeer, from string, to []string, msg string) error {
	t.Helper()
	c, err := smtp.Dial(p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(msg)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

func TestSMTPPeerDeliversEachRecipientToItsOwnMaildir(t *testing.T) {
	p := testpeer.StartSMTP(t)
	msg := "From: a@tocsin.test\r\nTo: b@example.org\r\nSubject: hello\r\n\r\nbody line\r\n"
	if err := send(t, p, "a@tocsin.test", []string{"b@example.org", "C@example.net"}, msg); err != nil {
		t.Fatal(err)
	}
	got := p.WaitFor(t, 2, 10*time.Second)
	rcpts := map[string]bool{}
	for _, m := range got {
		rcpts[m.Recipient] = true
		if m.Sender != "a@tocsin.test" {
			t.Errorf("sender = %q, want a@tocsin.test", m.Sender)
		}
		if s, err := m.Subject(); err != nil || s != "hello" {
			t.Errorf("subject = %q, %v; want hello", s, err)
		}
		if txt, err := m.Text(); err != nil || strings.TrimSpace(txt) != "body line" {
			t.Errorf("text = %q, %v; want body line", txt, err)
		}
	}
	if len(got) != 2 || !rcpts["b@example.org"] || !rcpts["c@example.net"] {
		t.Errorf("delivered to %v, want b@example.org and c@example.net once each", rcpts)
	}
}

func TestSMTPPeerRefusesTheSpecialDomains(t *testing.T) {
	p := testpeer.StartSMTP(t)
	for _, tc := range []struct {
		rcpt string
		code int
	}{
		{"x@" + testpeer.RejectDomain, 550},
		{"x@" + testpeer.TempFailDomain, 451},
	} {
		err := send(t, p, "a@tocsin.test", []string{tc.rcpt}, "Subject: x\r\n\r\nx\r\n")
		var te *textproto.Error
		if !errors.As(err, &te) || te.Code != tc.code {
			t.Errorf("RCPT TO %s: err = %v, want a %d reply", tc.rcpt, err, tc.code)
		}
	}
}

func TestTLSFrontForwardsToThePeerAfterAVerifiedHandshake(t *testing.T) {
	p := testpeer.StartSMTP(t)
	front := testpeer.StartTLSFront(t, p.Addr)
	conn, err := tls.Dial("tcp", front.Addr, &tls.Config{ServerName: "127.0.0.1", RootCAs: front.RootCAs})
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.NewClient(conn, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		t.Fatalf("EHLO through the front: %v", err)
	}
	if _, err := tls.Dial("tcp", front.Addr, &tls.Config{ServerName: "127.0.0.1"}); err == nil {
		t.Error("a client that does not trust the front's certificate completed the handshake")
	}
}
