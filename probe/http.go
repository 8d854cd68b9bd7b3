package probe

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tocsin-org/tocsin"
)

// An HTTP check gets a fresh http.Transport with keep-alives disabled.
// Every run then measures what a first visitor sees (name resolution,
// connection, TLS handshake, answer) rather than a warm pooled connection,
// which would hide a slow handshake or a listener that stopped accepting;
// and 10,000 checks leave no idle connections open between runs. A
// Transport costs a few hundred bytes until it dials, far less than the
// connection each run opens anyway. Proxies from the environment are not
// used: the check measures the target, and every dial must pass the safety
// checks of dial.go.

const maxRedirects = 10

var (
	errTooManyRedirects = errors.New("too many redirects")
	errRedirectLoop     = errors.New("redirect loop")
)

func (p *Prober) runHTTP(ctx context.Context, c *tocsin.Check, r *tocsin.CheckResult) error {
	s := &c.Spec
	req, err := http.NewRequest(cmpOr(s.Method, http.MethodGet), s.URL, nil)
	if err != nil {
		return errorf("url %q: %v", s.URL, err)
	}
	for k, v := range s.Headers {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	req.Header.Set("User-Agent", p.UserAgent)
	tc, err := p.tlsConfig(s)
	if err != nil {
		return err
	}

	// The first TLS handshake is observed even when its certificate does
	// not verify, so the result still says what the server served.
	var (
		mu                 sync.Mutex
		firstTLS           *tls.ConnectionState
		firstSN, firstAddr string
	)
	began := time.Now()
	defer func() {
		if r.TLS == nil {
			return
		}
		r.Duration = time.Since(began) // what a client waited, not the scan
		mu.Lock()
		addr, name := firstAddr, firstSN
		mu.Unlock()
		open := func(ctx context.Context) (net.Conn, error) { return p.dial(ctx, "tcp", addr) }
		p.scanOften(ctx, "https "+addr+" "+name, open, name, r.TLS)
	}()
	origHost := req.URL.Hostname()
	tr := &http.Transport{
		Proxy:                  nil,
		DisableKeepAlives:      true,
		DisableCompression:     false,
		MaxResponseHeaderBytes: 64 << 10,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return p.dial(ctx, network, addr)
		},
		DialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := p.dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			host, _, _ := net.SplitHostPort(addr)
			name := host
			if s.ServerName != "" && strings.EqualFold(host, origHost) {
				name = s.ServerName
			}
			cfg := tc.Clone()
			cfg.ServerName = name
			cfg.NextProtos = []string{"http/1.1"}
			cfg.VerifyConnection = func(cs tls.ConnectionState) error {
				mu.Lock()
				if firstTLS == nil {
					firstTLS, firstSN, firstAddr = &cs, name, addr
				}
				mu.Unlock()
				return p.verify(cs, name, tc.RootCAs)
			}
			tlsConn := tls.Client(conn, cfg)
			if err := tlsConn.HandshakeContext(ctx); err != nil {
				conn.Close()
				return nil, inPhase(phaseHandshake, err)
			}
			return tlsConn, nil
		},
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if s.NoRedirects {
				return http.ErrUseLastResponse
			}
			for _, v := range via {
				if v.URL.String() == req.URL.String() {
					return fmt.Errorf("%w: %s leads back to %s after %d redirects", errRedirectLoop, via[len(via)-1].URL, req.URL, len(via))
				}
			}
			if len(via) >= maxRedirects {
				return fmt.Errorf("%w: more than %d, the last to %s", errTooManyRedirects, maxRedirects, req.URL)
			}
			return nil
		},
	}

	var (
		phase     = phaseConnect
		connected bool
	)
	setPhase := func(ph string) { mu.Lock(); phase = ph; mu.Unlock() }
	trace := &httptrace.ClientTrace{
		DNSStart:          func(httptrace.DNSStartInfo) { setPhase(phaseResolve) },
		ConnectStart:      func(string, string) { setPhase(phaseConnect) },
		TLSHandshakeStart: func() { setPhase(phaseHandshake) },
		GotConn: func(httptrace.GotConnInfo) {
			mu.Lock()
			connected = true
			mu.Unlock()
		},
		WroteRequest:         func(httptrace.WroteRequestInfo) { setPhase(phaseAnswer) },
		GotFirstResponseByte: func() { setPhase(phaseAnswer) },
	}
	req = req.WithContext(httptrace.WithClientTrace(ctx, trace))
	observe := func() {
		mu.Lock()
		defer mu.Unlock()
		if firstTLS != nil {
			r.TLS = observeTLS(firstTLS, firstSN, tc.RootCAs, p.Now())
		}
	}

	resp, err := client.Do(req)
	observe()
	if err != nil {
		mu.Lock()
		ph := phase
		if !connected && ph == phaseAnswer {
			ph = phaseConnect
		}
		mu.Unlock()
		return inPhase(ph, err)
	}
	defer resp.Body.Close()
	r.StatusCode = resp.StatusCode

	// Read at most BodyLimit bytes: an endless body ends there, and the
	// body checks run on what was read.
	limit := p.bodyLimit()
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return inPhase(phaseBody, err)
	}
	truncated := int64(len(body)) > limit
	if truncated {
		body = body[:limit]
	}

	if !statusExpected(resp.StatusCode, s.ExpectStatus) {
		want := "200 to 399"
		if len(s.ExpectStatus) > 0 {
			want = strings.Trim(strings.Join(strings.Fields(fmt.Sprint(s.ExpectStatus)), ", "), "[]")
		}
		msg := fmt.Sprintf("status %d %s, expected %s", resp.StatusCode, http.StatusText(resp.StatusCode), want)
		if loc := resp.Header.Get("Location"); loc != "" && resp.StatusCode >= 300 && resp.StatusCode < 400 {
			msg += " (redirect to " + loc + ")"
		}
		return errors.New(msg)
	}
	within := ""
	if truncated {
		within = fmt.Sprintf(" (only the first %d bytes were read: the body is longer than the limit)", limit)
	}
	if s.BodyContains != "" && !bytes.Contains(body, []byte(s.BodyContains)) {
		return fmt.Errorf("the body does not contain %q%s", s.BodyContains, within)
	}
	if s.BodyRegex != "" {
		re, err := regexp.Compile(s.BodyRegex)
		if err != nil {
			return errorf("body_regex: %v", err)
		}
		if !re.Match(body) {
			return fmt.Errorf("the body does not match %q%s", s.BodyRegex, within)
		}
	}
	return nil
}

func (p *Prober) bodyLimit() int64 {
	if p.BodyLimit > 0 {
		return p.BodyLimit
	}
	return tocsin.DefaultBodyLimit
}

func statusExpected(code int, want []int) bool {
	if len(want) == 0 {
		return code >= 200 && code <= 399
	}
	return slices.Contains(want, code)
}

// tlsConfig is the TLS configuration the check's fields ask for. It skips
// Go's own verification: p.verify does it in VerifyConnection, so that the
// certificate is observed even when it does not verify and the failure is
// worded for a person.
func (p *Prober) tlsConfig(s *tocsin.CheckSpec) (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS10}
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, errorf("ca_file: cannot read %s: %v", s.CAFile, errors.Unwrap(err))
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, errorf("ca_file: %s holds no PEM certificate", s.CAFile)
		}
		cfg.RootCAs = pool
	}
	if s.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(s.ClientCert, s.ClientKey)
		if err != nil {
			return nil, errorf("client_cert: cannot load %s and %s: %v", s.ClientCert, s.ClientKey, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// verify checks the served chain against roots (the system's when nil)
// and name, at the prober's clock, in the words a tls check's finding
// uses.
func (p *Prober) verify(cs tls.ConnectionState, name string, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return &certError{"the server sent no certificate"}
	}
	if words := verifyWords(cs.PeerCertificates, name, roots, p.Now()); words != "" {
		return &certError{words}
	}
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
