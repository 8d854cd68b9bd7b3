package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// A tls check connects, handshakes as a current browser would (TLS 1.2 or
// 1.3, secure suites), and records the certificate it was shown: its
// public key's fingerprint and serial (which tell a renewal from a key
// rotation), names, validity, and whether it verifies. Then it scans what
// else the server accepts: TLS 1.0 and 1.1, and weak cipher suites.
//
// The check fails when the certificate does not verify (expired, for
// another name, unknown or self-signed issuer), since browsers refuse it,
// and when the server only speaks an old protocol or weak suites; r.TLS is
// still filled so that the findings are judged. A certificate expiring
// soon is only a finding (cert_expiring), not a failure.
//
// https, smtp and imap checks record the certificate with observeTLS too,
// and scan once per ScanEvery (scanOften), so that most of their runs stay
// at one handshake.

func (p *Prober) runTLS(ctx context.Context, c *tocsin.Check, r *tocsin.CheckResult) error {
	addr := c.Spec.Address
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return errorf("address %q: give host:port, such as www.example.org:443", addr)
	}
	name := c.Spec.ServerName
	if name == "" {
		name = host
	}
	var roots *x509.CertPool
	if c.Spec.CAFile != "" {
		if roots, err = loadCAFile(c.Spec.CAFile); err != nil {
			return err
		}
	}
	open := func(ctx context.Context) (net.Conn, error) { return p.tlsDial(ctx, addr) }

	began := time.Now()
	cs, err := tlsHandshake(ctx, open, browserConfig(name))
	legacyOnly := false
	if err != nil {
		var (
			oe  *openError
			rec tls.RecordHeaderError
		)
		if errors.As(err, &oe) || errors.As(err, &rec) || ctx.Err() != nil {
			return handshakeError(addr, err)
		}
		// The server refused a current client: see whether it speaks only
		// old protocols or weak suites, to say so and show its certificate.
		legacy, lerr := tlsHandshake(ctx, open, legacyConfig(name, allSuites()))
		if lerr != nil {
			return handshakeError(addr, err)
		}
		cs, legacyOnly = legacy, true
	}
	o := observeTLS(cs, name, roots, p.Now())
	r.TLS = o
	// The run's latency is the handshake a client would make, not the
	// scan's extra handshakes, so max_latency means the same as elsewhere.
	r.Duration = time.Since(began)

	s := scanWithin(ctx, open, name)
	o.OldVersions, o.WeakCiphers, o.Scanned = s.OldVersions, s.WeakCiphers, s.Complete

	switch {
	case o.VerifyError != "":
		return &certError{o.VerifyError}
	case legacyOnly:
		return errorf("%s refuses TLS 1.2 and 1.3 with secure cipher suites, which browsers require; it negotiated only %s with %s",
			addr, o.Version, o.Cipher)
	}
	return nil
}

// tlsDial opens the TCP connection of a tls check and of each handshake of
// its scan, through the prober's safety-checked dial.
func (p *Prober) tlsDial(ctx context.Context, addr string) (net.Conn, error) {
	conn, err := p.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, inPhase(phaseConnect, err)
	}
	return conn, nil
}

// openError is a connection that could not be opened, as opposed to a
// handshake the server refused.
type openError struct{ err error }

func (e *openError) Error() string { return e.err.Error() }
func (e *openError) Unwrap() error { return e.err }

// handshakeError words a failed first handshake.
func handshakeError(addr string, err error) error {
	var (
		oe  *openError
		rec tls.RecordHeaderError
		op  *net.OpError
	)
	switch {
	case errors.As(err, &oe):
		return oe.err
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.Is(err, os.ErrDeadlineExceeded):
		return inPhase(phaseHandshake, &wordedError{"no answer to the TLS handshake from " + addr + " within the timeout", err})
	case errors.As(err, &rec):
		return &wordedError{addr + " does not speak TLS: the TLS handshake got something else (is it the right port?)", err}
	case errors.As(err, &op) && op.Op == "remote error":
		// Go reports a server's alert so, as "remote error: tls: …".
		return &wordedError{fmt.Sprintf("the TLS handshake with %s failed: the server refused it (%v)", addr, op.Err), err}
	}
	return &wordedError{fmt.Sprintf("the TLS handshake with %s failed: %v", addr, err), err}
}

// wordedError is err told in words for a person, still matching
// errors.Is and errors.As as err does.
type wordedError struct {
	msg string
	err error
}

func (e *wordedError) Error() string { return e.msg }
func (e *wordedError) Unwrap() error { return e.err }

// tlsHandshake opens a connection and handshakes with cfg within ctx; it
// returns the connection's state and closes it.
func tlsHandshake(ctx context.Context, open func(context.Context) (net.Conn, error), cfg *tls.Config) (*tls.ConnectionState, error) {
	conn, err := open(ctx)
	if err != nil {
		return nil, &openError{err}
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		// A server that answers nothing is cut off at the deadline even
		// where the context would not reach the socket.
		_ = conn.SetDeadline(deadline)
	}
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	cs := tc.ConnectionState()
	return &cs, nil
}

// browserConfig asks for what a current browser accepts. Verification is
// skipped here and done by observeTLS, so that an invalid certificate is
// still seen and explained.
func browserConfig(name string) *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, ServerName: name, MinVersion: tls.VersionTLS12, CipherSuites: suiteIDs(tls.CipherSuites())}
}

// legacyConfig accepts TLS 1.0 to 1.2 with the given suites.
func legacyConfig(name string, suites []uint16) *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, ServerName: name, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS12, CipherSuites: suites}
}

func suiteIDs(suites []*tls.CipherSuite) []uint16 {
	ids := make([]uint16, len(suites))
	for i, s := range suites {
		ids[i] = s.ID
	}
	return ids
}

func allSuites() []uint16 {
	return append(suiteIDs(tls.CipherSuites()), suiteIDs(tls.InsecureCipherSuites())...)
}

// observeTLS records what a handshake showed of the certificate: key
// fingerprint, serial, validity, chain and host-name verification against
// roots (the system's when nil).
func observeTLS(cs *tls.ConnectionState, serverName string, roots *x509.CertPool, now time.Time) *tocsin.TLSObservation {
	if cs == nil {
		return nil
	}
	o := &tocsin.TLSObservation{Version: versionName(cs.Version), Cipher: tls.CipherSuiteName(cs.CipherSuite)}
	if len(cs.PeerCertificates) == 0 || cs.PeerCertificates[0] == nil {
		o.VerifyError = "the server sent no certificate"
		return o
	}
	leaf := cs.PeerCertificates[0]
	o.SPKISHA256 = spkiSHA256(leaf)
	if leaf.SerialNumber != nil {
		o.Serial = leaf.SerialNumber.Text(16)
	}
	o.Subject, o.Issuer = shortName(leaf.Subject), shortName(leaf.Issuer)
	o.DNSNames = append([]string(nil), leaf.DNSNames...)
	o.NotBefore, o.NotAfter = leaf.NotBefore.UTC(), leaf.NotAfter.UTC()
	o.VerifyError = verifyWords(cs.PeerCertificates, serverName, roots, now)
	return o
}

// versionName is "TLS 1.3" for a version number.
func versionName(v uint16) string {
	name := tls.VersionName(v)
	if strings.HasPrefix(name, "0x") {
		return "unknown version " + name
	}
	return name
}
