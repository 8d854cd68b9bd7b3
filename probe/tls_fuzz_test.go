package probe

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// FuzzParseCAPEM: whatever a ca_file holds, the answer is a pool or an
// error in words, never a panic, and never both or neither.
func FuzzParseCAPEM(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		pool, err := parseCAPEM(data)
		if (pool == nil) == (err == nil) {
			t.Fatalf("pool %v and error %v", pool, err)
		}
		if err != nil && (err.Error() == "" || strings.ContainsAny(err.Error(), "\n\r")) {
			t.Fatalf("error %q is not one line of words", err)
		}
		if err == nil && !strings.Contains(string(data), "-----BEGIN CERTIFICATE-----") {
			t.Fatalf("a pool from data without a certificate: %q", data)
		}
	})
}

// FuzzObserveTLS: any certificate a server can send (parsed by Go, as the
// handshake would) is recorded with a fingerprint, and its problems are
// told in one line of printable words, whatever its names hold.
func FuzzObserveTLS(f *testing.F) {
	ca := testpeer.NewCA(f, "Fuzz CA")
	f.Add(ca.Issue(f, testpeer.Leaf{}).Certificate[0], "127.0.0.1")
	f.Add(ca.Issue(f, testpeer.Leaf{DNSNames: []string{"*.example.org", "example.org"}}).Certificate[0], "www.example.org")
	now := time.Now()
	f.Fuzz(func(t *testing.T, der []byte, name string) {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		cs := &tls.ConnectionState{Version: tls.VersionTLS13, CipherSuite: tls.TLS_AES_128_GCM_SHA256, PeerCertificates: []*x509.Certificate{cert}}
		o := observeTLS(cs, name, ca.Pool, now)
		if o == nil {
			t.Fatal("no observation")
		}
		if b, err := hex.DecodeString(o.SPKISHA256); err != nil || len(b) != 32 {
			t.Fatalf("SPKI %q is not hex SHA-256", o.SPKISHA256)
		}
		if o.Version != "TLS 1.3" || o.Cipher != "TLS_AES_128_GCM_SHA256" {
			t.Fatalf("version %q cipher %q", o.Version, o.Cipher)
		}
		for _, s := range []string{o.VerifyError, o.Subject, o.Issuer} {
			if !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
				t.Fatalf("%q is not printable", s)
			}
		}
	})
}
