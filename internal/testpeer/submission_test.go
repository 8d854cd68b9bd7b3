package testpeer_test

import (
	"crypto/tls"
	"errors"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// submit sends msg through the submission peer: EHLO, STARTTLS verified
// against the peer's CA, AUTH PLAIN with password, one transaction.
func submit(t *testing.T, p *testpeer.SubmissionPeer, password, to, msg string) error {
	t.Helper()
	host, _, err := net.SplitHostPort(p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.Dial(p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Hello("client.test"); err != nil {
		return err
	}
	// Dovecot still says AUTH, with no mechanism: none is allowed in clear.
	if _, mechs := c.Extension("AUTH"); strings.TrimSpace(mechs) != "" {
		t.Errorf("before STARTTLS, AUTH mechanisms %q offered", mechs)
	}
	if err := c.StartTLS(&tls.Config{ServerName: host, RootCAs: p.RootCAs}); err != nil {
		return err
	}
	if ok, mechs := c.Extension("AUTH"); !ok || !strings.Contains(mechs, "PLAIN") || !strings.Contains(mechs, "LOGIN") {
		t.Errorf("after STARTTLS, AUTH = %v %q; want PLAIN and LOGIN", ok, mechs)
	}
	if err := c.Auth(smtp.PlainAuth("", p.Username, password, host)); err != nil {
		return err
	}
	if err := c.Mail("a@tocsin.test"); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
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

func TestSubmissionPeerRelaysAuthenticatedMailToTheSMTPPeer(t *testing.T) {
	p := testpeer.StartSubmission(t)
	var te *textproto.Error
	if err := submit(t, p, p.Password+"x", "b@example.org", "Subject: refused\r\n\r\nx\r\n"); !errors.As(err, &te) || te.Code != 535 {
		t.Errorf("AUTH with a wrong password: err = %v, want a 535 reply", err)
	}
	if err := submit(t, p, p.Password, "b@example.org", "Subject: hello\r\n\r\nbody line\r\n"); err != nil {
		t.Fatal(err)
	}
	got := p.WaitFor(t, 1, 10*time.Second)
	if len(got) != 1 || got[0].Recipient != "b@example.org" || got[0].Sender != "a@tocsin.test" {
		t.Fatalf("delivered %d message(s), first %+v; want one, from a@tocsin.test to b@example.org", len(got), got[0])
	}
	if s, err := got[0].Subject(); err != nil || s != "hello" {
		t.Errorf("subject = %q, %v; want hello", s, err)
	}
}
