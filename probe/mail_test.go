package probe

import (
	"bufio"
	"crypto/tls"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// smtpServer speaks just enough SMTP to test the check's failures: the
// greeting, an EHLO answer listing ext, and STARTTLS answered with
// startTLS and then a handshake with cert (when cert is not nil).
func smtpServer(t *testing.T, greeting string, ext []string, startTLS string, cert *tls.Certificate) string {
	return smtpServerTLS(t, greeting, ext, startTLS, serverConfig(cert))
}

// serverConfig serves cert, or nil for a server without TLS.
func serverConfig(cert *tls.Certificate) *tls.Config {
	if cert == nil {
		return nil
	}
	return &tls.Config{Certificates: []tls.Certificate{*cert}}
}

// smtpServerTLS is smtpServer with a TLS configuration of its own (nil:
// none).
func smtpServerTLS(t *testing.T, greeting string, ext []string, startTLS string, cfg *tls.Config) string {
	return listen(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		c.Write([]byte(greeting))
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
			case strings.HasPrefix(cmd, "EHLO "):
				reply := "250-mx.test greets you\r\n"
				for _, e := range ext {
					reply += "250-" + e + "\r\n"
				}
				c.Write([]byte(reply + "250 8BITMIME\r\n"))
			case cmd == "STARTTLS":
				c.Write([]byte(startTLS))
				if cfg == nil || !strings.HasPrefix(startTLS, "220") {
					continue
				}
				tc := tls.Server(c, cfg)
				if tc.Handshake() != nil {
					return
				}
				tc.Read(make([]byte, 100))
				return
			case cmd == "QUIT":
				c.Write([]byte("221 bye\r\n"))
				return
			default:
				c.Write([]byte("500 what?\r\n"))
			}
		}
	})
}

func imapServer(t *testing.T, greeting string, caps string, cert *tls.Certificate) string {
	return imapServerTLS(t, greeting, caps, serverConfig(cert))
}

func imapServerTLS(t *testing.T, greeting string, caps string, cfg *tls.Config) string {
	return listen(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		c.Write([]byte(greeting))
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			tag, cmd, _ := strings.Cut(strings.TrimSpace(line), " ")
			switch strings.ToUpper(cmd) {
			case "CAPABILITY":
				c.Write([]byte("* CAPABILITY " + caps + "\r\n" + tag + " OK done\r\n"))
			case "STARTTLS":
				c.Write([]byte(tag + " OK begin TLS\r\n"))
				tc := tls.Server(c, cfg)
				if tc.Handshake() != nil {
					return
				}
				tc.Read(make([]byte, 100))
				return
			default:
				c.Write([]byte(tag + " BAD what?\r\n"))
			}
		}
	})
}

func TestMail(t *testing.T) {
	ca := newCA(t)
	now := time.Now()
	good := ca.issue(t, now.Add(-time.Hour), now.Add(24*time.Hour), false, "127.0.0.1", "mx.example.org")
	expired := ca.issue(t, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), false, "127.0.0.1")
	implicit, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{good}})
	if err != nil {
		t.Fatal(err)
	}
	defer implicit.Close()
	go func() {
		for {
			c, err := implicit.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				c.Write([]byte("220 mx.example.org ESMTP\r\n"))
				br := bufio.NewReader(c)
				br.ReadString('\n')
				c.Write([]byte("250-mx.example.org\r\n250 AUTH PLAIN\r\n"))
				br.ReadString('\n')
			}()
		}
	}()

	const greet = "220 mx.example.org ESMTP Postfix\r\n"
	tests := []struct {
		name    string
		kind    tocsin.CheckKind
		spec    tocsin.CheckSpec
		timeout time.Duration
		err     string // "" for success
	}{
		{"smtp STARTTLS", tocsin.CheckSMTP, tocsin.CheckSpec{Address: smtpServer(t, greet, []string{"PIPELINING", "STARTTLS"}, "220 go ahead\r\n", &good), CAFile: ca.file, Banner: "Postfix"}, 0, ""},
		{"smtp server_name", tocsin.CheckSMTP, tocsin.CheckSpec{Address: smtpServer(t, greet, []string{"STARTTLS"}, "220 go ahead\r\n", &good), CAFile: ca.file, ServerName: "mx.example.org"}, 0, ""},
		{"smtp implicit TLS", tocsin.CheckSMTP, tocsin.CheckSpec{Address: implicit.Addr().String(), CAFile: ca.file, ImplicitTLS: true}, 0, ""},
		{"smtp multi-line greeting", tocsin.CheckSMTP, tocsin.CheckSpec{Address: smtpServer(t, "220-mx.example.org ESMTP\r\n220-no UCE\r\n220 welcome\r\n", []string{"STARTTLS"}, "220 go ahead\r\n", &good), CAFile: ca.file, Banner: "no UCE"}, 0, ""},
		{"smtp wrong banner", tocsin.CheckSMTP, tocsin.CheckSpec{Address: smtpServer(t, greet, []string{"STARTTLS"}, "220 go ahead\r\n", &good), Banner: "Exim"}, 0, `the greeting "mx.example.org ESMTP Postfix" does not contain "Exim"`},
		{"smtp refusing", tocsin.CheckSMTP, tocsin.CheckSpec{Address: smtpServer(t, "554 mx.example.org no service here\r\n", nil, "", nil)}, 0, `the server greeted with 554 "mx.example.org no service here" instead of 220`},
		{"smtp garbage", tocsin.CheckSMTP, tocsin.CheckSpec{Address: smtpServer(t, "HTTP/1.1 400 Bad Request\r\n", nil, "", nil)}, 0, `the server sent "HTTP/1.1 400 Bad Request", not an SMTP reply`},
		{"smtp broken continuation", tocsin.CheckSMTP, tocsin.CheckSpec{Address: smtpServer(t, "220-mx\r\n250 mx\r\n", nil, "", nil)}, 0, "mixed reply codes 220 and 250"},
		{"smtp closes", tocsin.CheckSMTP, tocsin.CheckSpec{Address: listen(t, func(net.Conn) {})}, 0, "the server closed the connection waiting for the greeting"},
		{"smtp trickles", tocsin.CheckSMTP, tocsin.CheckSpec{Address: listen(t, func(c net.Conn) { trickle(c, greet) })}, 1500 * time.Millisecond, "timed out after 1.5s waiting for the greeting"},
		{"smtp without STARTTLS", tocsin.CheckSMTP, tocsin.CheckSpec{Address: smtpServer(t, greet, []string{"PIPELINING", "SIZE 10240000"}, "", nil)}, 0, "the server does not offer STARTTLS (its EHLO lists mx.test PIPELINING SIZE 8BITMIME); mail to it travels unencrypted"},
		{"smtp STARTTLS refused", tocsin.CheckSMTP, tocsin.CheckSpec{Address: smtpServer(t, greet, []string{"STARTTLS"}, "454 4.7.0 TLS not available\r\n", nil)}, 0, `STARTTLS is offered but refused: 454 "4.7.0 TLS not available"`},
		{"smtp STARTTLS broken", tocsin.CheckSMTP, tocsin.CheckSpec{Address: smtpServer(t, greet, []string{"STARTTLS"}, "220 go ahead\r\n", nil)}, 2 * time.Second, "the server does not speak TLS on this port during the TLS handshake"},
		{"smtp STARTTLS expired", tocsin.CheckSMTP, tocsin.CheckSpec{Address: smtpServer(t, greet, []string{"STARTTLS"}, "220 go ahead\r\n", &expired), CAFile: ca.file}, 0, "certificate expired on 2026-01-02"},
		{"smtp STARTTLS untrusted", tocsin.CheckSMTP, tocsin.CheckSpec{Address: smtpServer(t, greet, []string{"STARTTLS"}, "220 go ahead\r\n", &good)}, 0, "signed by an unknown authority"},
		{"smtp STARTTLS wrong name", tocsin.CheckSMTP, tocsin.CheckSpec{Address: smtpServer(t, greet, []string{"STARTTLS"}, "220 go ahead\r\n", &good), CAFile: ca.file, ServerName: "mail.example.net"}, 0, "certificate is for mx.example.org, 127.0.0.1, not mail.example.net"},
		{"smtp injection", tocsin.CheckSMTP, tocsin.CheckSpec{Address: smtpServer(t, greet, []string{"STARTTLS"}, "220 go ahead\r\n250 injected\r\n", &good), CAFile: ca.file}, 0, "the server sent data before the TLS handshake"},
		{"smtp refused", tocsin.CheckSMTP, tocsin.CheckSpec{Address: closedPort(t)}, 0, "refused: nothing listens on that port"},

		{"imap STARTTLS", tocsin.CheckIMAP, tocsin.CheckSpec{Address: imapServer(t, "* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n", "IMAP4rev1 STARTTLS LOGINDISABLED", &good), CAFile: ca.file, Banner: "Dovecot"}, 0, ""},
		{"imap without STARTTLS", tocsin.CheckIMAP, tocsin.CheckSpec{Address: imapServer(t, "* OK ready\r\n", "IMAP4rev1 AUTH=PLAIN", &good)}, 0, "the server does not offer STARTTLS (its CAPABILITY lists IMAP4rev1 AUTH=PLAIN); logins to it travel unencrypted"},
		{"imap BYE", tocsin.CheckIMAP, tocsin.CheckSpec{Address: imapServer(t, "* BYE too many connections\r\n", "", nil)}, 0, `the server greeted with BYE "too many connections"`},
		{"imap garbage", tocsin.CheckIMAP, tocsin.CheckSpec{Address: imapServer(t, "220 smtp here\r\n", "", nil)}, 0, `the server greeted with "220 smtp here", not an IMAP greeting (* OK)`},
		{"imap STARTTLS expired", tocsin.CheckIMAP, tocsin.CheckSpec{Address: imapServer(t, "* OK ready\r\n", "IMAP4rev1 STARTTLS", &expired), CAFile: ca.file}, 0, "certificate expired on 2026-01-02"},
		{"imap trickles", tocsin.CheckIMAP, tocsin.CheckSpec{Address: listen(t, func(c net.Conn) { trickle(c, "* OK ready") })}, 1500 * time.Millisecond, "timed out after 1.5s waiting for the greeting"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := testProber().Run(t.Context(), newCheck(t, tc.kind, tc.spec, cmpDuration(tc.timeout, 5*time.Second)))
			if r.OK != (tc.err == "") || !strings.Contains(r.Error, tc.err) {
				t.Errorf("got ok=%v error %q; want error containing %q", r.OK, r.Error, tc.err)
			}
		})
	}
}

// TestMailPeers runs the checks against real OpenSMTPD and Dovecot.
func TestMailPeers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts OpenSMTPD and Dovecot")
	}
	t.Run("submission STARTTLS", func(t *testing.T) {
		sub := testpeer.StartSubmission(t)
		spec := tocsin.CheckSpec{Address: sub.Addr, CAFile: filepath.Join(sub.Relay.Dir, "run", "submission-cert.pem")}
		if r := testProber().Run(t.Context(), newCheck(t, tocsin.CheckSMTP, spec, 10*time.Second)); !r.OK {
			t.Errorf("submission with STARTTLS: %s", r.Error)
		} else if r.TLS == nil || !r.TLS.Scanned {
			t.Errorf("submission with STARTTLS: TLS %+v, want its protocols scanned through STARTTLS", r.TLS)
		}
		spec.CAFile = ""
		r := testProber().Run(t.Context(), newCheck(t, tocsin.CheckSMTP, spec, 10*time.Second))
		if want := "is self-signed"; r.OK || !strings.Contains(r.Error, want) {
			t.Errorf("without ca_file: ok=%v %q, want %q", r.OK, r.Error, want)
		}
	})
	t.Run("smtp without STARTTLS", func(t *testing.T) {
		smtp := testpeer.StartSMTP(t)
		r := testProber().Run(t.Context(), newCheck(t, tocsin.CheckSMTP, tocsin.CheckSpec{Address: smtp.Addr, Banner: "peer.test"}, 10*time.Second))
		if want := "the server does not offer STARTTLS"; r.OK || !strings.Contains(r.Error, want) {
			t.Errorf("OpenSMTPD without TLS: ok=%v %q, want %q", r.OK, r.Error, want)
		}
		front := testpeer.StartTLSFront(t, smtp.Addr)
		r = testProber().Run(t.Context(), newCheck(t, tocsin.CheckSMTP, tocsin.CheckSpec{Address: front.Addr, ImplicitTLS: true, Banner: "peer.test"}, 10*time.Second))
		if want := "is self-signed"; r.OK || !strings.Contains(r.Error, want) {
			t.Errorf("implicit TLS with a self-signed certificate: ok=%v %q, want %q", r.OK, r.Error, want)
		}
	})
	t.Run("imap", func(t *testing.T) {
		imap := testpeer.StartIMAP(t)
		ca := filepath.Join(imap.Dir, "run", "imap-cert.pem")
		for _, spec := range []tocsin.CheckSpec{
			{Address: imap.Addr, CAFile: ca, Banner: "Dovecot"},
			{Address: imap.TLSAddr, CAFile: ca, ImplicitTLS: true},
			{Address: imap.TLSAddr, CAFile: ca, ImplicitTLS: true, ServerName: "localhost"},
		} {
			if r := testProber().Run(t.Context(), newCheck(t, tocsin.CheckIMAP, spec, 10*time.Second)); !r.OK {
				t.Errorf("%+v: %s", spec, r.Error)
			} else if r.TLS == nil || !r.TLS.Scanned {
				t.Errorf("%+v: TLS %+v, want its protocols scanned", spec, r.TLS)
			}
		}
		// Plain IMAP on the TLS port: each side waits for the other.
		r := testProber().Run(t.Context(), newCheck(t, tocsin.CheckIMAP, tocsin.CheckSpec{Address: imap.TLSAddr, CAFile: ca}, time.Second))
		if want := "timed out after 1s waiting for the greeting"; r.OK || r.Error != want {
			t.Errorf("plain IMAP on the TLS port: ok=%v %q, want %q", r.OK, r.Error, want)
		}
	})
}
