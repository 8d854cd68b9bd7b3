package testpeer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a certificate authority of a test's own, which issues and
// re-issues server certificates: with the same key (a renewal: new serial,
// same SPKI) or a new one (a rotation), valid, expired, or for other names.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// PEMFile is the CA certificate written in PEM in the test's temporary
	// directory, for a check's ca_file.
	PEMFile string
	Pool    *x509.CertPool
	// Chain holds the DER certificates a server sends after a leaf this CA
	// issued: the intermediates up to the root, which is left out.
	Chain [][]byte
}

// NewCA makes a root CA named name, valid from 30 days ago for ten years.
func NewCA(t testing.TB, name string) *CA {
	t.Helper()
	return newCA(t, name, time.Now().AddDate(10, 0, 0), nil)
}

// Intermediate makes a CA named name that ca signs, valid until notAfter;
// the leaves it issues come with it in their chain.
func (ca *CA) Intermediate(t testing.TB, name string, notAfter time.Time) *CA {
	t.Helper()
	return newCA(t, name, notAfter, ca)
}

func newCA(t testing.TB, name string, notAfter time.Time, parent *CA) *CA {
	t.Helper()
	key := NewKey(t, "ecdsa")
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(t),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"tocsin tests"}},
		NotBefore:             time.Now().Add(-30 * 24 * time.Hour),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	issuer, signer := tmpl, key
	if parent != nil {
		issuer, signer = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		t.Fatalf("testpeer: CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("testpeer: CA certificate: %v", err)
	}
	if parent != nil {
		return &CA{Cert: cert, Key: key, Chain: append([][]byte{der}, parent.Chain...)}
	}
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatalf("testpeer: CA file: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{Cert: cert, Key: key, PEMFile: file, Pool: pool}
}

// NewKey makes a private key: "ecdsa" (P-256) or "rsa" (2048 bits, which
// the RSA key-exchange suites, RC4 and 3DES among them, need).
func NewKey(t testing.TB, kind string) crypto.Signer {
	t.Helper()
	var (
		key crypto.Signer
		err error
	)
	switch kind {
	case "ecdsa":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		err = fmt.Errorf("unknown key kind %q: give ecdsa or rsa", kind)
	}
	if err != nil {
		t.Fatalf("testpeer: key: %v", err)
	}
	return key
}

// Leaf is what a server certificate is issued for.
type Leaf struct {
	// Key is the certificate's key; a new ECDSA key when nil.
	Key crypto.Signer
	// DNSNames and IPs it is valid for (127.0.0.1 when both are empty).
	DNSNames []string
	IPs      []net.IP
	// NotBefore and NotAfter default to an hour ago and 90 days from now.
	NotBefore, NotAfter time.Time
	// SelfSigned signs the certificate with its own key instead of the CA.
	SelfSigned bool
}

// Issue signs a server certificate for l; each call has a new serial.
func (ca *CA) Issue(t testing.TB, l Leaf) tls.Certificate {
	t.Helper()
	key := l.Key
	if key == nil {
		key = NewKey(t, "ecdsa")
	}
	now := time.Now()
	if l.NotBefore.IsZero() {
		l.NotBefore = now.Add(-time.Hour)
	}
	if l.NotAfter.IsZero() {
		l.NotAfter = now.AddDate(0, 0, 90)
	}
	if len(l.DNSNames) == 0 && len(l.IPs) == 0 {
		l.IPs = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	cn := "127.0.0.1"
	if len(l.DNSNames) > 0 {
		cn = l.DNSNames[0]
	}
	usage := x509.KeyUsageDigitalSignature
	if _, isRSA := key.(*rsa.PrivateKey); isRSA {
		usage |= x509.KeyUsageKeyEncipherment // RSA key exchange
	}
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(t),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    l.NotBefore,
		NotAfter:     l.NotAfter,
		KeyUsage:     usage,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     l.DNSNames,
		IPAddresses:  l.IPs,
	}
	parent, signer := ca.Cert, ca.Key
	if l.SelfSigned {
		parent, signer = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
	if err != nil {
		t.Fatalf("testpeer: server certificate: %v", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("testpeer: server certificate: %v", err)
	}
	chain := [][]byte{der}
	if !l.SelfSigned {
		chain = append(chain, ca.Chain...)
	}
	return tls.Certificate{Certificate: chain, PrivateKey: key, Leaf: leaf}
}

func newSerial(t testing.TB) *big.Int {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
	if err != nil {
		t.Fatalf("testpeer: serial: %v", err)
	}
	return serial
}
