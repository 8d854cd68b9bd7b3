package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// submissionChannel returns an e-mail channel that sends to addr with
// STARTTLS and the submission peer's account, trusting the peer's CA.
func submissionChannel(t *testing.T, peer *testpeer.SubmissionPeer, addr string) *SMTP {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	s := NewSMTP(SMTPConfig{
		Host: host, Port: n, Username: peer.Username, Password: peer.Password,
		From: "Tocsin Statut <statut@hebergeur.test>", TLS: TLSStartTLS, HeloName: "tocsin.test", Timeout: 10 * time.Second,
	})
	s.rootCAs = peer.RootCAs
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	return s
}

// clientRecorder forwards TCP connections to a backend and keeps every
// byte the clients sent, to show what went over the wire in clear text.
type clientRecorder struct {
	Addr string
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (r *clientRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.Write(p)
}

// sent returns a copy of what the clients sent so far.
func (r *clientRecorder) sent() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.buf.Bytes())
}

// recordClients listens on backend's address, on a port of its own.
func recordClients(t *testing.T, backend string) *clientRecorder {
	t.Helper()
	host, _, _ := net.SplitHostPort(backend)
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	r := &clientRecorder{Addr: l.Addr().String()}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, b)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				defer b.Close()
				done := make(chan struct{}, 2)
				go func() { _, _ = io.Copy(b, io.TeeReader(c, r)); done <- struct{}{} }()
				go func() { _, _ = io.Copy(c, b); done <- struct{}{} }()
				<-done // either side closing ends both
			})
		}
	})
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return r
}

// TestSMTPStartTLSAndAuthAgainstARealSubmissionServer sends through
// Dovecot's submission service (STARTTLS, AUTH PLAIN against a
// passwd-file), which relays to the OpenSMTPD peer. Every case goes through
// a recorder that shows what the channel sent in clear text: only EHLO and
// STARTTLS may be there, then TLS records.
func TestSMTPStartTLSAndAuthAgainstARealSubmissionServer(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(s *SMTP)
		// check judges Send's error; nil: Send must succeed.
		check func(t *testing.T, err error)
	}{
		{
			name: "verified certificate and the right password",
		},
		{
			name: "wrong password",
			edit: func(s *SMTP) { s.cfg.Password += "-wrong" },
			// AUTH comes before MAIL: by the rule of Send, a refusal there
			// is not permanent (a configuration fix makes every queued
			// message pass).
			check: func(t *testing.T, err error) {
				var te *textproto.Error
				if !errors.As(err, &te) || te.Code != 535 || !strings.Contains(err.Error(), "AUTH") {
					t.Errorf("Send = %v, want the server's 535 reply to AUTH", err)
				}
				if IsPermanent(err) {
					t.Errorf("Send = %v is permanent, want temporary (AUTH precedes MAIL)", err)
				}
			},
		},
		{
			name: "certificate not trusted",
			edit: func(s *SMTP) { s.rootCAs = nil }, // the system's roots
			check: func(t *testing.T, err error) {
				var ve *tls.CertificateVerificationError
				var ua x509.UnknownAuthorityError
				if !errors.As(err, &ve) || !errors.As(err, &ua) || !strings.Contains(err.Error(), "STARTTLS") {
					t.Errorf("Send = %v, want a STARTTLS certificate verification error (unknown authority)", err)
				}
				if IsPermanent(err) {
					t.Errorf("Send = %v is permanent, want temporary (STARTTLS precedes MAIL)", err)
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			peer := testpeer.StartSubmission(t)
			rec := recordClients(t, peer.Addr)
			s := submissionChannel(t, peer, rec.Addr)
			if tc.edit != nil {
				tc.edit(s)
			}
			m := &tocsin.Message{
				ID: 3, Channel: tocsin.ChannelEmail, To: "Alice@Example.org",
				Subject: "Incident résolu : « base de données » — coupure à Montréal",
				Body:    frenchBody,
				Key:     "incident:42:update:3:alice@example.org", CreatedAt: time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC),
			}
			err := s.Send(context.Background(), m)
			if tc.check == nil && err != nil {
				t.Fatalf("Send: %v", err)
			}
			if tc.check != nil {
				if err == nil {
					t.Fatal("Send succeeded, want an error")
				}
				tc.check(t, err)
				for _, pw := range []string{peer.Password, s.cfg.Password} {
					if strings.Contains(err.Error(), pw) {
						t.Errorf("error text %q contains the password", err)
					}
				}
			}

			checkOnlyEHLOAndSTARTTLSInClear(t, rec.sent(), s.cfg)

			if tc.check != nil {
				// Dovecot relays a message to OpenSMTPD before it answers
				// the client, so anything a failed Send had slipped through
				// would be queued ahead of this good message: once it is
				// delivered, it must be the only one.
				good := submissionChannel(t, peer, peer.Addr)
				sentinel := &tocsin.Message{ID: 4, To: "sentinel@example.org", Subject: "x", Body: "x", Key: "sentinel"}
				if err := good.Send(context.Background(), sentinel); err != nil {
					t.Fatalf("Send with the right settings: %v", err)
				}
				got := peer.WaitFor(t, 1, 10*time.Second)
				if len(got) != 1 || got[0].Recipient != "sentinel@example.org" {
					for _, g := range got {
						t.Errorf("delivered to %s: %q", g.Recipient, g.Header.Get("Subject"))
					}
					t.Errorf("%d message(s) delivered, want only the one sent with the right settings", len(got))
				}
				return
			}

			got := peer.WaitFor(t, 1, 10*time.Second)
			if len(got) != 1 {
				t.Fatalf("%d messages delivered, want 1", len(got))
			}
			checkSubmitted(t, got[0], m)
		})
	}
}

// checkOnlyEHLOAndSTARTTLSInClear checks that the client's bytes are EHLO,
// STARTTLS, then TLS records, and that neither the password nor the
// message's envelope appears.
func checkOnlyEHLOAndSTARTTLSInClear(t *testing.T, sent []byte, cfg SMTPConfig) {
	t.Helper()
	clear := "EHLO " + cfg.HeloName + "\r\nSTARTTLS\r\n"
	rest, ok := bytes.CutPrefix(sent, []byte(clear))
	if !ok {
		t.Fatalf("the client's first bytes are %q, want %q", sent[:min(len(sent), 80)], clear)
	}
	if len(rest) > 0 && rest[0] != 0x16 { // TLS record type: handshake
		t.Errorf("after STARTTLS the client sent %q, not a TLS handshake record", rest[:min(len(rest), 40)])
	}
	plain := base64.StdEncoding.EncodeToString([]byte("\x00" + cfg.Username + "\x00" + cfg.Password))
	for _, secret := range []string{cfg.Password, plain, "AUTH", "MAIL FROM", "RCPT TO", "statut@hebergeur.test", "alice@example.org"} {
		if bytes.Contains(bytes.ToLower(sent), bytes.ToLower([]byte(secret))) {
			t.Errorf("%q went over the wire in clear text", secret)
		}
	}
}

// checkSubmitted checks the message as the recipient's mailbox stores it.
func checkSubmitted(t *testing.T, d testpeer.ReceivedMail, m *tocsin.Message) {
	t.Helper()
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
	if id := d.Header["Message-Id"]; len(id) != 1 || id[0] != MessageID(m.Key, "hebergeur.test") {
		t.Errorf("Message-ID = %q, want exactly %q", id, MessageID(m.Key, "hebergeur.test"))
	}
	if subj, err := d.Subject(); err != nil || subj != m.Subject {
		t.Errorf("Subject decodes to %q, %v; want %q", subj, err, m.Subject)
	}
	if raw := d.Header.Get("Subject"); !isASCII(raw) {
		t.Errorf("raw Subject is not ASCII (not RFC 2047 encoded): %q", raw)
	}
	if from, err := d.Header.AddressList("From"); err != nil || len(from) != 1 || from[0].Address != "statut@hebergeur.test" {
		t.Errorf("From = %v, %v", from, err)
	}
	text, err := d.Text()
	if err != nil {
		t.Fatalf("decoding the body: %v", err)
	}
	if want := strings.ReplaceAll(frenchBody, "\r\n", "\n"); strings.ReplaceAll(text, "\r\n", "\n") != want {
		t.Errorf("body round-trips to\n%q\nwant\n%q", text, want)
	}
	// Dovecot's trace header: taken in over TLS from an authenticated
	// client (RFC 3848's ESMTPSA).
	var submitted bool
	for _, r := range d.Header["Received"] {
		submitted = submitted || strings.Contains(r, "by submission.test with ESMTPSA")
	}
	if !submitted {
		t.Errorf("no Received header \"by submission.test with ESMTPSA\" in %q", d.Header["Received"])
	}
}
