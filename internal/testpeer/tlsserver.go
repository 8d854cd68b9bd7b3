package testpeer

import (
	"crypto/tls"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TLSServer is a Go crypto/tls server on 127.0.0.1 whose certificate a
// test swaps between runs (SetCertificate), and whose protocol versions
// and cipher suites it picks, old and weak ones included. Each connection
// is closed once its handshake is done.
type TLSServer struct {
	Addr string // 127.0.0.1:port
	cert atomic.Pointer[tls.Certificate]
	// handshakes counts completed handshakes.
	handshakes atomic.Int64
	// serverName holds the SNI of the last ClientHello.
	serverName atomic.Pointer[string]
}

// TLSOptions set what a TLSServer accepts; zero values are Go's defaults.
type TLSOptions struct {
	MinVersion, MaxVersion uint16
	CipherSuites           []uint16
}

// StartTLSServer serves cert with opts until the test ends.
func StartTLSServer(t testing.TB, cert tls.Certificate, opts TLSOptions) *TLSServer {
	t.Helper()
	s := &TLSServer{}
	s.cert.Store(&cert)
	cfg := &tls.Config{
		MinVersion:   opts.MinVersion,
		MaxVersion:   opts.MaxVersion,
		CipherSuites: opts.CipherSuites,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			name := hello.ServerName
			s.serverName.Store(&name)
			return s.cert.Load(), nil
		},
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testpeer: TLS server: %v", err)
	}
	s.Addr = l.Addr().String()
	serve(t, l, func(c net.Conn, _ <-chan struct{}) {
		tc := tls.Server(c, cfg)
		_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
		if tc.Handshake() == nil {
			s.handshakes.Add(1)
		}
		_ = tc.Close()
	})
	return s
}

// SetCertificate makes the server present cert from the next handshake on.
func (s *TLSServer) SetCertificate(cert tls.Certificate) { s.cert.Store(&cert) }

// ServerName is the name the last client asked for (SNI; "" for none).
func (s *TLSServer) ServerName() string {
	if p := s.serverName.Load(); p != nil {
		return *p
	}
	return ""
}

// Handshakes is how many handshakes completed so far.
func (s *TLSServer) Handshakes() int64 { return s.handshakes.Load() }

// StartSilent listens on 127.0.0.1, accepts connections and never writes a
// byte, like a server stuck before its TLS handshake; connections are
// closed when the test ends.
func StartSilent(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testpeer: silent server: %v", err)
	}
	serve(t, l, func(c net.Conn, stop <-chan struct{}) {
		<-stop
		_ = c.Close()
	})
	return l.Addr().String()
}

// serve accepts on l and runs handle for each connection until the test
// ends; cleanup closes l and stop, and waits for every handler.
func serve(t testing.TB, l net.Listener, handle func(c net.Conn, stop <-chan struct{})) {
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { handle(c, stop) })
		}
	})
	t.Cleanup(func() {
		_ = l.Close()
		close(stop)
		wg.Wait()
	})
}
