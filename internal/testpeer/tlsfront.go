package testpeer

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"sync"
	"testing"
)

// TLSFront is a TLS listener that forwards each connection, once the
// handshake is done, to a plain-text backend: SMTP over implicit TLS (port
// 465 style) in front of the SMTP peer, whose own TLS is broken (see
// StartSMTP).
type TLSFront struct {
	Addr    string         // 127.0.0.1:port
	RootCAs *x509.CertPool // trusts the front's self-signed certificate
}

// StartTLSFront serves TLS on a new port until the test ends, forwarding
// to backend.
func StartTLSFront(t testing.TB, backend string) *TLSFront {
	t.Helper()
	cert, pool, err := selfSigned()
	if err != nil {
		t.Fatalf("testpeer: certificate: %v", err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatalf("testpeer: TLS front: %v", err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns = map[net.Conn]bool{}
	)
	track := func(c net.Conn, open bool) {
		mu.Lock()
		defer mu.Unlock()
		if open {
			conns[c] = true
		} else {
			delete(conns, c)
		}
	}
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				b, err := net.Dial("tcp", backend)
				if err != nil {
					return
				}
				defer b.Close()
				track(c, true)
				track(b, true)
				defer track(c, false)
				defer track(b, false)
				done := make(chan struct{}, 2)
				go func() { _, _ = io.Copy(b, c); done <- struct{}{} }()
				go func() { _, _ = io.Copy(c, b); done <- struct{}{} }()
				<-done // either side closing ends both
			})
		}
	})
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return &TLSFront{Addr: l.Addr().String(), RootCAs: pool}
}
