package testpeer

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The submission peer is the SMTP peer (OpenSMTPD handing mail over LMTP
// to Dovecot, see smtp.go) with Dovecot's submission service in front of
// it, in the same Dovecot:
//
//	client --STARTTLS, AUTH--> dovecot submission --SMTP--> OpenSMTPD --LMTP--> dovecot --> Maildir
//
// It is the real server for what the SMTP peer cannot test (its OpenSMTPD
// has no working server-side TLS): a STARTTLS upgrade with a certificate
// for the service's address, and AUTH PLAIN or LOGIN checked against a
// passwd-file with one user. Dovecot relays each accepted message to
// OpenSMTPD while the client waits, so a message the client saw accepted
// is already in OpenSMTPD's queue.
//
// Settings that matter:
//   - The service listens on SubmissionIP, 127.0.0.2, not 127.0.0.1.
//     Dovecot counts a connection whose remote and local addresses are
//     equal as already secure, and would offer AUTH PLAIN in clear text on
//     it; a client on this machine connects to 127.0.0.2 from 127.0.0.1,
//     so, as on a real server, AUTH is offered only after STARTTLS
//     (disable_plaintext_auth = yes).
//   - Wrong passwords are answered at once: auth_failure_delay = 0, and the
//     auth penalty (anvil delays every later AUTH from an address after a
//     failure, 2 s and more) is off, by giving its socket mode 0.

// SubmissionIP is the address the submission peer listens on (see above).
const SubmissionIP = "127.0.0.2"

// SubmissionPeer is a running Dovecot submission service that relays to a
// running SMTP peer.
type SubmissionPeer struct {
	Addr     string         // 127.0.0.2:port: SMTP submission, STARTTLS then AUTH
	RootCAs  *x509.CertPool // trusts the service's self-signed certificate (IP SANs 127.0.0.1 and 127.0.0.2)
	Username string         // the one account that may AUTH
	Password string
	Relay    *SMTPPeer // the OpenSMTPD the service relays to; it stores the mail
}

// StartSubmission starts a submission peer for the length of the test.
// Like StartSMTP, it skips the test when a program or the rights to run it
// are missing, or fails it when TOCSIN_REQUIRE_PEERS is set.
func StartSubmission(t testing.TB) *SubmissionPeer {
	t.Helper()
	progs := smtpPrograms(t)
	if _, err := os.Stat("/usr/lib/dovecot/submission"); err != nil {
		unavailable(t, "submission peer needs Dovecot's submission service (apt-get install dovecot-submissiond): %v", err)
	}
	cert, pool, err := selfSigned(net.ParseIP(SubmissionIP))
	if err != nil {
		t.Fatalf("testpeer: certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatalf("testpeer: certificate key: %v", err)
	}
	sub := &submissionConf{
		certPEM:  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}),
		keyPEM:   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
		username: "tocsin",
		password: rand.Text(),
	}
	relay := runSMTP(t, "submission peer", progs, sub)
	return &SubmissionPeer{
		Addr:     relay.submission,
		RootCAs:  pool,
		Username: sub.username,
		Password: sub.password,
		Relay:    relay,
	}
}

// Messages returns every message delivered so far, as SMTPPeer.Messages.
func (p *SubmissionPeer) Messages(t testing.TB) []ReceivedMail {
	t.Helper()
	return p.Relay.Messages(t)
}

// WaitFor polls until at least n messages have been delivered, as
// SMTPPeer.WaitFor.
func (p *SubmissionPeer) WaitFor(t testing.TB, n int, timeout time.Duration) []ReceivedMail {
	t.Helper()
	return p.Relay.WaitFor(t, n, timeout)
}

// Log returns what the daemons wrote (Dovecot's log has the submission
// service's lines), for failure messages.
func (p *SubmissionPeer) Log() string { return p.Relay.Log() }

// submissionConf is what startSMTP needs to add the submission service.
type submissionConf struct {
	certPEM, keyPEM    []byte
	username, password string
}

// setUp writes the certificate, key and passwd-file into run (/run inside
// the daemons' namespace, where Dovecot's unprivileged processes can reach
// them) and returns Dovecot's whole configuration.
func (s *submissionConf) setUp(run string, lmtpPort, smtpPort, submissionPort int) (string, error) {
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"submission-cert.pem", s.certPEM, 0o644},
		{"submission-key.pem", s.keyPEM, 0o600},
		// The auth process reads it as the dovecot user; the directory
		// is private to root outside the namespace.
		{"submission.passwd", fmt.Appendf(nil, "%s:{PLAIN}%s\n", s.username, s.password), 0o644},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(run, f.name), f.data, f.mode); err != nil {
			return "", err
		}
		if err := os.Chmod(filepath.Join(run, f.name), f.mode); err != nil { // umask
			return "", err
		}
	}
	return fmt.Sprintf(dovecotConfig, "lmtp submission", lmtpPort) +
		fmt.Sprintf(dovecotSubmission, smtpPort, submissionPort), nil
}

// dovecotSubmission completes dovecotConfig with the submission service;
// the arguments are OpenSMTPD's port and the submission port. The static
// passdb of dovecotNoAuth would take any password, so it is not there.
const dovecotSubmission = `ssl = yes
ssl_cert = </run/submission-cert.pem
ssl_key = </run/submission-key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_failure_delay = 0
hostname = submission.test
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u /run/submission.passwd
}
submission_relay_host = 127.0.0.1
submission_relay_port = %d
submission_relay_ssl = no
protocol lmtp {
  ssl = no
}
service submission-login {
  inet_listener submission {
    address = 127.0.0.2
    port = %d
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`
