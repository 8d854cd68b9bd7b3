package probe

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/tocsin-org/tocsin"
)

// newCheck is a validated check of kind with spec, timing out after timeout.
func newCheck(t *testing.T, kind tocsin.CheckKind, spec tocsin.CheckSpec, timeout time.Duration) *tocsin.Check {
	t.Helper()
	c := &tocsin.Check{ID: 1, ServiceID: 1, Kind: kind, Spec: spec, Interval: time.Minute, Timeout: timeout}
	c.ApplyDefaults(tocsin.CheckDefaults{})
	if err := c.Validate(); err != nil {
		t.Fatalf("check %+v: %v", spec, err)
	}
	return c
}

func testProber() *Prober {
	p := New("tocsin-test (+https://status.example.org)")
	return p
}

// testCA is a certificate authority made for one test.
type testCA struct {
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	file   string // its PEM, for ca_file
	serial int64
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tocsin test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, file: file, serial: 1}
}

// issue makes a certificate for names (DNS names or IPs) valid between
// notBefore and notAfter.
func (ca *testCA) issue(t *testing.T, notBefore, notAfter time.Time, client bool, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ca.serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(ca.serial), Subject: pkix.Name{CommonName: names[0]},
		NotBefore: notBefore, NotAfter: notAfter, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// writeKeyPair writes cert and its key as PEM files.
func writeKeyPair(t *testing.T, cert tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
	return certFile, keyFile
}

// listen serves handle on a new 127.0.0.1 port (one goroutine per
// connection) until the test ends, and returns the address.
func listen(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	done := make(chan struct{})
	t.Cleanup(func() { close(done); l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				stop := context.AfterFunc(ctxFromDone(done), func() { c.Close() })
				defer stop()
				handle(c)
			})
		}
	})
	return l.Addr().String()
}

func ctxFromDone(done chan struct{}) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-done; cancel() }()
	return ctx
}

// trickle writes s one byte a second until the connection closes.
func trickle(c net.Conn, s string) {
	for i := 0; ; i++ {
		if _, err := c.Write([]byte{s[i%len(s)]}); err != nil {
			return
		}
		time.Sleep(time.Second)
	}
}

// closedPort returns an address on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// dnsServer is a tiny authoritative-style DNS server on 127.0.0.1 (UDP and
// TCP on the same port) answering from its zone.
type dnsServer struct {
	Addr string
	// zone maps "name. TYPE" to records; rcodes maps a name to the code
	// it answers; truncate lists names whose UDP answer is truncated
	// (their full answer comes over TCP); silent names get no answer.
	zone     map[string][]dnsmessage.Resource
	rcodes   map[string]dnsmessage.RCode
	truncate map[string]bool
	silent   map[string]bool
	mu       sync.Mutex
	tcpAsked int
}

func startDNS(t *testing.T) *dnsServer {
	t.Helper()
	s := &dnsServer{zone: map[string][]dnsmessage.Resource{}, rcodes: map[string]dnsmessage.RCode{}, truncate: map[string]bool{}, silent: map[string]bool{}}
	var pc net.PacketConn
	var tl net.Listener
	for range 10 {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		tl, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
	}
	if tl == nil {
		t.Fatal("no port free for UDP and TCP")
	}
	s.Addr = pc.LocalAddr().String()
	var wg sync.WaitGroup
	t.Cleanup(func() { pc.Close(); tl.Close(); wg.Wait() })
	wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if out := s.answer(buf[:n], false); out != nil {
				pc.WriteTo(out, from)
			}
		}
	})
	wg.Go(func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(5 * time.Second))
				var l [2]byte
				if _, err := io.ReadFull(c, l[:]); err != nil {
					return
				}
				q := make([]byte, binary.BigEndian.Uint16(l[:]))
				if _, err := io.ReadFull(c, q); err != nil {
					return
				}
				s.mu.Lock()
				s.tcpAsked++
				s.mu.Unlock()
				out := s.answer(q, true)
				binary.BigEndian.PutUint16(l[:], uint16(len(out)))
				c.Write(append(l[:], out...))
			})
		}
	})
	return s
}

// add puts a record in the zone.
func (s *dnsServer) add(name string, body dnsmessage.ResourceBody) {
	s.mu.Lock()
	defer s.mu.Unlock()
	typ := resourceType(body)
	k := strings.ToLower(name) + " " + typ.String()
	s.zone[k] = append(s.zone[k], dnsmessage.Resource{
		Header: dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(name), Type: typ, Class: dnsmessage.ClassINET, TTL: 60},
		Body:   body,
	})
}

func resourceType(b dnsmessage.ResourceBody) dnsmessage.Type {
	switch b := b.(type) {
	case *dnsmessage.UnknownResource:
		return b.Type
	case *dnsmessage.AResource:
		return dnsmessage.TypeA
	case *dnsmessage.AAAAResource:
		return dnsmessage.TypeAAAA
	case *dnsmessage.CNAMEResource:
		return dnsmessage.TypeCNAME
	case *dnsmessage.MXResource:
		return dnsmessage.TypeMX
	case *dnsmessage.TXTResource:
		return dnsmessage.TypeTXT
	case *dnsmessage.NSResource:
		return dnsmessage.TypeNS
	}
	panic("resourceType: unknown body")
}

func (s *dnsServer) answer(q []byte, overTCP bool) []byte {
	var m dnsmessage.Message
	if err := m.Unpack(q); err != nil || len(m.Questions) != 1 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	qn := strings.ToLower(m.Questions[0].Name.String())
	if s.silent[qn] {
		return nil
	}
	m.Response, m.Authoritative, m.RecursionAvailable = true, true, true
	m.Additionals = nil
	if rc, ok := s.rcodes[qn]; ok {
		m.RCode = rc
	} else if s.truncate[qn] && !overTCP {
		m.Truncated = true
	} else {
		m.Answers = append(m.Answers, s.zone[qn+" "+m.Questions[0].Type.String()]...)
	}
	out, err := m.Pack()
	if err != nil {
		panic(err)
	}
	return out
}

// resolverFor is a net.Resolver that asks s only.
func resolverFor(s *dnsServer) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, s.Addr)
	}}
}
