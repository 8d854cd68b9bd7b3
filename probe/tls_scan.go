package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/tocsin-org/tocsin"
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
// runs it on every run, the https, smtp and imap kinds once per ScanEvery
// (scanOften). open returns a connection ready for the ClientHello (after
// STARTTLS, for mail), and is called once per handshake.
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

// ScanEvery is how often the https, smtp and imap kinds scan an endpoint:
// they run every minute or so, and what a server accepts changes with its
// configuration, not from one minute to the next, so their runs reuse the
// endpoint's last complete scan this long (a tls check scans every run).
const ScanEvery = time.Hour

// scanCache is each endpoint's last complete scan; a nil one keeps
// nothing. Entries older than twice ScanEvery are dropped at most once per
// ScanEvery, so removed checks do not keep theirs.
type scanCache struct {
	mu        sync.Mutex
	scans     map[string]scanAt
	lastPrune time.Time
}

type scanAt struct {
	scan tlsScan
	at   time.Time
}

func (c *scanCache) get(key string, now time.Time) (tlsScan, bool) {
	if c == nil {
		return tlsScan{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.scans[key]
	if !ok || now.Sub(e.at) >= ScanEvery || now.Before(e.at) {
		return tlsScan{}, false
	}
	return e.scan, true
}

func (c *scanCache) put(key string, s tlsScan, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.scans == nil {
		c.scans = map[string]scanAt{}
	}
	if now.Sub(c.lastPrune) >= ScanEvery {
		for k, e := range c.scans {
			if now.Sub(e.at) >= 2*ScanEvery {
				delete(c.scans, k)
			}
		}
		c.lastPrune = now
	}
	c.scans[key] = scanAt{s, now}
}

// scanWithin scans within ctx, ending a little before its deadline so that
// a slow scan never turns a run into a timeout: what it did not finish is
// reported as not judged (Scanned false), not as a failure.
func scanWithin(ctx context.Context, open func(context.Context) (net.Conn, error), serverName string) tlsScan {
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-time.Until(deadline)/10))
		defer cancel()
	}
	return scanTLS(ctx, open, serverName)
}

// scanOften completes o, the TLS observation of an https, smtp or imap run,
// with the endpoint's scan: the last one when it is recent, a new one
// otherwise. key names the endpoint (kind, address and server name).
func (p *Prober) scanOften(ctx context.Context, key string, open func(context.Context) (net.Conn, error), serverName string, o *tocsin.TLSObservation) {
	if o == nil {
		return
	}
	s, ok := p.scans.get(key, p.Now())
	if !ok {
		if s = scanWithin(ctx, open, serverName); s.Complete {
			p.scans.put(key, s, p.Now())
		}
	}
	o.OldVersions, o.WeakCiphers, o.Scanned = s.OldVersions, s.WeakCiphers, s.Complete
}
