package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"slices"
)

// tlsScan is what a server accepts beyond what browsers need.
type tlsScan struct {
	// OldVersions lists "TLS 1.0", "TLS 1.1" when the server accepts them.
	OldVersions []string
	// WeakCiphers names the insecure suites (RC4, 3DES, CBC with SHA-256)
	// the server accepts with TLS 1.2 or below.
	WeakCiphers []string
	// Complete: every handshake of the scan got an answer, so that empty
	// lists mean "none". A scan cut by ctx or by a connection that could
	// not be opened is incomplete.
	Complete bool
}

// scanTLS tries, one after the other, a handshake limited to TLS 1.0, one
// limited to TLS 1.1, and handshakes offering only insecure suites: each
// insecure suite the server picks is recorded and left out of the next
// offer, until the server refuses. A server that accepts nothing old costs
// three handshakes; one that accepts k weak suites, k more. The tls kind
// runs it on every run; https, smtp and imap checks do not, to stay at one
// handshake, but may: open returns a connection ready for the ClientHello
// (after STARTTLS, for mail), and is called once per handshake.
func scanTLS(ctx context.Context, open func(context.Context) (net.Conn, error), serverName string) tlsScan {
	var s tlsScan
	for _, v := range []uint16{tls.VersionTLS10, tls.VersionTLS11} {
		cfg := &tls.Config{InsecureSkipVerify: true, ServerName: serverName, MinVersion: v, MaxVersion: v, CipherSuites: allSuites()}
		cs, err := tlsHandshake(ctx, open, cfg)
		if !answered(ctx, err) {
			return s
		}
		if err == nil && cs.Version == v {
			s.OldVersions = append(s.OldVersions, versionName(v))
		}
	}
	offer := suiteIDs(tls.InsecureCipherSuites())
	for len(offer) > 0 {
		cs, err := tlsHandshake(ctx, open, legacyConfig(serverName, offer))
		if !answered(ctx, err) {
			return s
		}
		if err != nil || !slices.Contains(offer, cs.CipherSuite) {
			break
		}
		s.WeakCiphers = append(s.WeakCiphers, tls.CipherSuiteName(cs.CipherSuite))
		offer = slices.DeleteFunc(offer, func(id uint16) bool { return id == cs.CipherSuite })
	}
	slices.Sort(s.WeakCiphers)
	s.Complete = true
	return s
}

// answered reports whether a scan's handshake got the server's answer,
// acceptance or refusal (an alert, a closed or reset connection), as
// opposed to no answer: the connection could not be opened, or time ran
// out.
func answered(ctx context.Context, err error) bool {
	var oe *openError
	if err == nil {
		return true
	}
	if ctx.Err() != nil || errors.As(err, &oe) {
		return false
	}
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}
