package probe

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// tlsCheck is a tls check of addr with spec's other fields.
func tlsCheck(addr string, spec tocsin.CheckSpec, timeout time.Duration) *tocsin.Check {
	spec.Address = addr
	return &tocsin.Check{ID: 1, Kind: tocsin.CheckTLS, Spec: spec, Interval: time.Minute, Timeout: timeout}
}

// leafOf parses the certificate a test server serves, to compare with what
// the check recorded.
func leafOf(t *testing.T, cert tls.Certificate) *x509.Certificate {
	t.Helper()
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func spkiOf(leaf *x509.Certificate) string {
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

func TestTLSCheck(t *testing.T) {
	ca := testpeer.NewCA(t, "Tocsin Test CA")
	other := testpeer.NewCA(t, "Other CA")
	rsaKey := testpeer.NewKey(t, "rsa")
	now := time.Now()
	expiredOn := now.AddDate(0, 0, -3).Add(-time.Hour)
	weak := []uint16{tls.TLS_RSA_WITH_RC4_128_SHA, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
		tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA, tls.TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA}
	weakNames := []string{"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_ECDHE_RSA_WITH_RC4_128_SHA",
		"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_RSA_WITH_RC4_128_SHA"}

	for _, tc := range []struct {
		name       string
		cert       tls.Certificate
		opts       testpeer.TLSOptions
		spec       tocsin.CheckSpec
		wantOK     bool
		wantErr    []string // substrings of the result's error
		wantOld    []string
		wantWeak   []string
		wantVer    string
		wantIssuer string
	}{
		{name: "valid certificate from the configured CA", cert: ca.Issue(t, testpeer.Leaf{}),
			spec: tocsin.CheckSpec{CAFile: ca.PEMFile}, wantOK: true, wantVer: "TLS 1.3", wantIssuer: "Tocsin Test CA"},
		{name: "valid for the server name given", cert: ca.Issue(t, testpeer.Leaf{DNSNames: []string{"www.example.org"}}),
			spec: tocsin.CheckSpec{CAFile: ca.PEMFile, ServerName: "www.example.org"}, wantOK: true, wantVer: "TLS 1.3"},
		{name: "valid through an intermediate", cert: ca.Intermediate(t, "Tocsin Intermediate", now.AddDate(1, 0, 0)).Issue(t, testpeer.Leaf{}),
			spec: tocsin.CheckSpec{CAFile: ca.PEMFile}, wantOK: true, wantVer: "TLS 1.3", wantIssuer: "Tocsin Intermediate"},
		{name: "expired", cert: ca.Issue(t, testpeer.Leaf{NotBefore: now.AddDate(0, 0, -90), NotAfter: expiredOn}),
			spec:    tocsin.CheckSpec{CAFile: ca.PEMFile},
			wantErr: []string{"the certificate expired on " + expiredOn.UTC().Format(time.DateOnly), "(3 days ago)"}, wantVer: "TLS 1.3"},
		{name: "not yet valid", cert: ca.Issue(t, testpeer.Leaf{NotBefore: now.AddDate(0, 0, 2).Add(time.Hour)}),
			spec: tocsin.CheckSpec{CAFile: ca.PEMFile}, wantErr: []string{"not valid before", "(in 2 days)"}, wantVer: "TLS 1.3"},
		{name: "wrong host name", cert: ca.Issue(t, testpeer.Leaf{DNSNames: []string{"mail.example.org"}}),
			spec:    tocsin.CheckSpec{CAFile: ca.PEMFile, ServerName: "www.example.org"},
			wantErr: []string{"the certificate is for mail.example.org, not www.example.org"}, wantVer: "TLS 1.3"},
		{name: "expired and for another name: both told", cert: ca.Issue(t, testpeer.Leaf{DNSNames: []string{"mail.example.org"}, NotBefore: now.AddDate(0, 0, -90), NotAfter: expiredOn}),
			spec:    tocsin.CheckSpec{CAFile: ca.PEMFile, ServerName: "www.example.org"},
			wantErr: []string{"expired on", "; the certificate is for mail.example.org, not www.example.org"}, wantVer: "TLS 1.3"},
		{name: "self-signed", cert: ca.Issue(t, testpeer.Leaf{SelfSigned: true}),
			spec: tocsin.CheckSpec{CAFile: ca.PEMFile}, wantErr: []string{"self-signed"}, wantVer: "TLS 1.3"},
		{name: "signed by an unknown authority", cert: other.Issue(t, testpeer.Leaf{}),
			spec: tocsin.CheckSpec{CAFile: ca.PEMFile}, wantErr: []string{"signed by an unknown authority (issuer Other CA)"}, wantVer: "TLS 1.3"},
		{name: "intermediate not sent", cert: func() tls.Certificate {
			c := ca.Intermediate(t, "Forgotten Intermediate", now.AddDate(1, 0, 0)).Issue(t, testpeer.Leaf{})
			c.Certificate = c.Certificate[:1]
			return c
		}(), spec: tocsin.CheckSpec{CAFile: ca.PEMFile}, wantErr: []string{"unknown authority (issuer Forgotten Intermediate)", "intermediate"}, wantVer: "TLS 1.3"},
		{name: "expired intermediate", cert: ca.Intermediate(t, "Old Intermediate", now.AddDate(0, 0, -1)).Issue(t, testpeer.Leaf{NotBefore: now.AddDate(0, 0, -20)}),
			spec: tocsin.CheckSpec{CAFile: ca.PEMFile}, wantErr: []string{"the chain's certificate Old Intermediate expired on"}, wantVer: "TLS 1.3"},
		{name: "TLS 1.0 and 1.1 accepted besides 1.3", cert: ca.Issue(t, testpeer.Leaf{}), opts: testpeer.TLSOptions{MinVersion: tls.VersionTLS10},
			spec: tocsin.CheckSpec{CAFile: ca.PEMFile}, wantOK: true, wantOld: []string{"TLS 1.0", "TLS 1.1"}, wantVer: "TLS 1.3"},
		{name: "only TLS 1.0", cert: ca.Issue(t, testpeer.Leaf{}), opts: testpeer.TLSOptions{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS10},
			spec:    tocsin.CheckSpec{CAFile: ca.PEMFile},
			wantErr: []string{"refuses TLS 1.2 and 1.3", "only TLS 1.0"}, wantOld: []string{"TLS 1.0"}, wantVer: "TLS 1.0"},
		{name: "only 3DES and RC4 on TLS 1.2", cert: ca.Issue(t, testpeer.Leaf{Key: rsaKey}),
			opts: testpeer.TLSOptions{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12, CipherSuites: weak},
			spec: tocsin.CheckSpec{CAFile: ca.PEMFile}, wantErr: []string{"refuses TLS 1.2 and 1.3 with secure cipher suites"},
			wantWeak: weakNames, wantVer: "TLS 1.2"},
		{name: "a weak suite besides secure ones", cert: ca.Issue(t, testpeer.Leaf{Key: rsaKey}),
			opts: testpeer.TLSOptions{MaxVersion: tls.VersionTLS12,
				CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_RSA_WITH_RC4_128_SHA}},
			spec: tocsin.CheckSpec{CAFile: ca.PEMFile}, wantOK: true, wantWeak: []string{"TLS_ECDHE_RSA_WITH_RC4_128_SHA"}, wantVer: "TLS 1.2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testpeer.StartTLSServer(t, tc.cert, tc.opts)
			p := New("tocsin-test")
			r := p.Run(t.Context(), tlsCheck(srv.Addr, tc.spec, 10*time.Second))
			if r.OK != tc.wantOK {
				t.Fatalf("OK = %v, want %v (error %q)", r.OK, tc.wantOK, r.Error)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(r.Error, want) {
					t.Errorf("error %q does not say %q", r.Error, want)
				}
			}
			t.Logf("error: %s", r.Error)
			if tc.wantOK && r.Error != "" {
				t.Errorf("error %q on a success", r.Error)
			}
			o := r.TLS
			if o == nil {
				t.Fatal("no TLS observation")
			}
			leaf := leafOf(t, tc.cert)
			if o.SPKISHA256 != spkiOf(leaf) || len(o.SPKISHA256) != 64 {
				t.Errorf("SPKI = %q, want %q", o.SPKISHA256, spkiOf(leaf))
			}
			if o.Serial != leaf.SerialNumber.Text(16) {
				t.Errorf("serial = %q, want %q", o.Serial, leaf.SerialNumber.Text(16))
			}
			if !o.NotAfter.Equal(leaf.NotAfter) || !o.NotBefore.Equal(leaf.NotBefore) {
				t.Errorf("validity %s–%s, want %s–%s", o.NotBefore, o.NotAfter, leaf.NotBefore, leaf.NotAfter)
			}
			if !slices.Equal(o.DNSNames, leaf.DNSNames) {
				t.Errorf("DNS names %v, want %v", o.DNSNames, leaf.DNSNames)
			}
			if tc.wantIssuer != "" && o.Issuer != tc.wantIssuer {
				t.Errorf("issuer %q, want %q", o.Issuer, tc.wantIssuer)
			}
			if (o.VerifyError == "") != (tc.wantOK || strings.Contains(r.Error, "refuses")) {
				t.Errorf("verify error %q with run error %q", o.VerifyError, r.Error)
			}
			if o.Version != tc.wantVer || o.Cipher == "" {
				t.Errorf("version %q cipher %q, want version %q", o.Version, o.Cipher, tc.wantVer)
			}
			if !o.Scanned {
				t.Error("the scan did not complete")
			}
			if !slices.Equal(o.OldVersions, tc.wantOld) {
				t.Errorf("old versions %v, want %v", o.OldVersions, tc.wantOld)
			}
			if !slices.Equal(o.WeakCiphers, tc.wantWeak) {
				t.Errorf("weak ciphers %v, want %v", o.WeakCiphers, tc.wantWeak)
			}
			if srv.ServerName() != tc.spec.ServerName { // Go sends no SNI for an IP
				t.Errorf("SNI %q, want %q", srv.ServerName(), tc.spec.ServerName)
			}
		})
	}
}

// TestTLSScanCutShort: a server that answers the first handshake and then
// nothing leaves the scan unfinished within the timeout; the run still
// succeeds, and says the scan judged nothing.
func TestTLSScanCutShort(t *testing.T) {
	ca := testpeer.NewCA(t, "Tocsin Test CA")
	srv := testpeer.StartTLSServer(t, ca.Issue(t, testpeer.Leaf{}), testpeer.TLSOptions{MinVersion: tls.VersionTLS10})
	stop := make(chan struct{})
	var conns atomic.Int32
	front := listenWith(t, func(c net.Conn) {
		if conns.Add(1) > 1 {
			<-stop // silent from the second connection on
			return
		}
		b, err := net.Dial("tcp", srv.Addr)
		if err != nil {
			return
		}
		defer b.Close()
		go func() { _, _ = io.Copy(b, c) }()
		_, _ = io.Copy(c, b)
	})
	t.Cleanup(func() { close(stop) })
	r := New("tocsin-test").Run(t.Context(), tlsCheck(front, tocsin.CheckSpec{CAFile: ca.PEMFile}, time.Second))
	if !r.OK || r.Error != "" || r.TLS == nil {
		t.Fatalf("OK %v, error %q, TLS %+v", r.OK, r.Error, r.TLS)
	}
	if r.TLS.Scanned || len(r.TLS.OldVersions) != 0 || conns.Load() < 2 {
		t.Errorf("scanned %v, old versions %v after %d connections", r.TLS.Scanned, r.TLS.OldVersions, conns.Load())
	}
	if _, judged := tlsCheck(front, tocsin.CheckSpec{}, time.Second).Findings(r, time.Now()); slices.Contains(judged, tocsin.FindingTLSProtocolWeak) {
		t.Errorf("an unfinished scan judged %v", judged)
	}
}

// TestTLSReissue swaps the served certificate between runs, as an
// operator renewing (same key) and rotating (new key) would.
func TestTLSReissue(t *testing.T) {
	ca := testpeer.NewCA(t, "Tocsin Test CA")
	key := testpeer.NewKey(t, "ecdsa")
	first := ca.Issue(t, testpeer.Leaf{Key: key})
	srv := testpeer.StartTLSServer(t, first, testpeer.TLSOptions{})
	p := New("tocsin-test")
	c := tlsCheck(srv.Addr, tocsin.CheckSpec{CAFile: ca.PEMFile}, 10*time.Second)
	run := func() *tocsin.TLSObservation {
		t.Helper()
		r := p.Run(t.Context(), c)
		if !r.OK || r.TLS == nil {
			t.Fatalf("run failed: %q", r.Error)
		}
		return r.TLS
	}
	before := run()
	for _, tc := range []struct {
		name     string
		cert     tls.Certificate
		sameSPKI bool
	}{
		{"renewed with the same key", ca.Issue(t, testpeer.Leaf{Key: key}), true},
		{"renewed with a new key", ca.Issue(t, testpeer.Leaf{}), false},
		{"back to the first certificate", first, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.SetCertificate(tc.cert)
			after := run()
			if after.Serial == before.Serial {
				t.Errorf("serial unchanged: %s", after.Serial)
			}
			if after.Serial != leafOf(t, tc.cert).SerialNumber.Text(16) {
				t.Errorf("serial %s is not the served certificate's", after.Serial)
			}
			if (after.SPKISHA256 == before.SPKISHA256) != tc.sameSPKI {
				t.Errorf("SPKI %s after %s: same = %v, want %v", after.SPKISHA256, before.SPKISHA256, !tc.sameSPKI, tc.sameSPKI)
			}
			before = after
		})
	}
}

// TestTLSUnanswered covers servers that do not complete a handshake, and
// check settings that stop the run before it.
func TestTLSUnanswered(t *testing.T) {
	ca := testpeer.NewCA(t, "Tocsin Test CA")
	dir := t.TempDir()
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	plain := listenWith(t, func(c net.Conn) { _, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n")) })
	closed := func() string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return addr
	}()
	valid := testpeer.StartTLSServer(t, ca.Issue(t, testpeer.Leaf{}), testpeer.TLSOptions{})

	for _, tc := range []struct {
		name    string
		addr    string
		spec    tocsin.CheckSpec
		wantErr []string
		wantRun string // in the result's error, as Run's describe words it
	}{
		{"silent server", testpeer.StartSilent(t), tocsin.CheckSpec{}, []string{"TLS handshake"}, "timed out after 1s during the TLS handshake"},
		{"not TLS", plain, tocsin.CheckSpec{}, []string{"does not speak TLS"}, "does not speak TLS"},
		{"nothing listens", closed, tocsin.CheckSpec{}, []string{"refused"}, "refused: nothing listens on that port"},
		{"ca_file missing", valid.Addr, tocsin.CheckSpec{CAFile: filepath.Join(dir, "none.pem")}, []string{"ca_file", "does not exist"}, "does not exist"},
		{"ca_file not PEM", valid.Addr, tocsin.CheckSpec{CAFile: write("junk.pem", "hello")}, []string{"holds no PEM certificate"}, "holds no PEM certificate"},
		{"ca_file holds a key", valid.Addr, tocsin.CheckSpec{CAFile: write("key.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")},
			[]string{"PRIVATE KEY", "never a private key"}, "never a private key"},
		{"metadata address refused", "169.254.169.254:443", tocsin.CheckSpec{}, []string{"refused to probe", "cloud-metadata"}, "refused to probe 169.254.169.254"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New("tocsin-test")
			c := tlsCheck(tc.addr, tc.spec, time.Second)
			// The run's own words, before Run's describe rewords timeouts.
			ctx, cancel := context.WithTimeout(t.Context(), c.Timeout)
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- p.runTLS(ctx, c, &tocsin.CheckResult{}) }()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("no error")
				}
				for _, want := range tc.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
			case <-time.After(30 * time.Second): // a hang, far beyond the timeout
				t.Fatal("runTLS did not return")
			}
			r := p.Run(t.Context(), c)
			if r.OK || !strings.Contains(r.Error, tc.wantRun) || r.TLS != nil {
				t.Errorf("Run: OK %v, error %q (want %q), TLS %+v", r.OK, r.Error, tc.wantRun, r.TLS)
			}
		})
	}
}

// listenWith serves handle on 127.0.0.1 until the test ends.
func listenWith(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return l.Addr().String()
}

// TestTLSFindings judges real runs' observations: what a person would see
// on the security posture page for each endpoint.
func TestTLSFindings(t *testing.T) {
	ca := testpeer.NewCA(t, "Tocsin Test CA")
	now := time.Now()
	in := func(days int) time.Time { return now.AddDate(0, 0, days).Add(time.Hour) }
	for _, tc := range []struct {
		name string
		cert tls.Certificate
		opts testpeer.TLSOptions
		want map[tocsin.FindingKind]string // kind: a substring of its detail
		tier int
	}{
		{"sound endpoint", ca.Issue(t, testpeer.Leaf{NotAfter: in(90)}), testpeer.TLSOptions{}, map[tocsin.FindingKind]string{}, 0},
		{"expiring in 20 days", ca.Issue(t, testpeer.Leaf{NotAfter: in(20)}), testpeer.TLSOptions{},
			map[tocsin.FindingKind]string{tocsin.FindingCertExpiring: "expires in 20 days (under 30)"}, 30},
		{"expiring in 5 days", ca.Issue(t, testpeer.Leaf{NotAfter: in(5)}), testpeer.TLSOptions{},
			map[tocsin.FindingKind]string{tocsin.FindingCertExpiring: "expires in 5 days (under 7)"}, 7},
		{"expired", ca.Issue(t, testpeer.Leaf{NotBefore: now.AddDate(0, 0, -90), NotAfter: now.AddDate(0, 0, -2)}), testpeer.TLSOptions{},
			map[tocsin.FindingKind]string{tocsin.FindingCertInvalid: "the certificate expired on"}, 0},
		{"old protocols", ca.Issue(t, testpeer.Leaf{}), testpeer.TLSOptions{MinVersion: tls.VersionTLS10},
			map[tocsin.FindingKind]string{tocsin.FindingTLSProtocolWeak: "accepts TLS 1.0 and TLS 1.1"}, 0},
		{"a weak suite", ca.Issue(t, testpeer.Leaf{Key: testpeer.NewKey(t, "rsa")}),
			testpeer.TLSOptions{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA}},
			map[tocsin.FindingKind]string{tocsin.FindingTLSCipherWeak: "accepts weak cipher suites: TLS_RSA_WITH_3DES_EDE_CBC_SHA"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testpeer.StartTLSServer(t, tc.cert, tc.opts)
			c := tlsCheck(srv.Addr, tocsin.CheckSpec{CAFile: ca.PEMFile}, 10*time.Second)
			r := New("tocsin-test").Run(t.Context(), c)
			if r.TLS == nil {
				t.Fatalf("no observation: %q", r.Error)
			}
			found, judged := c.Findings(r, time.Now())
			for _, k := range []tocsin.FindingKind{tocsin.FindingCertExpiring, tocsin.FindingCertInvalid, tocsin.FindingTLSProtocolWeak, tocsin.FindingTLSCipherWeak} {
				if !slices.Contains(judged, k) {
					t.Errorf("%s not judged", k)
				}
			}
			got := map[tocsin.FindingKind]string{}
			for _, f := range found {
				got[f.Kind] = f.Detail
			}
			if len(got) != len(tc.want) {
				t.Errorf("findings %v, want kinds of %v", got, tc.want)
			}
			for k, d := range tc.want {
				if !strings.Contains(got[k], d) || !strings.HasPrefix(got[k], srv.Addr) {
					t.Errorf("%s: detail %q, want %q after the address", k, got[k], d)
				}
			}
			if tc.tier != 0 && c.TierOf(r.TLS, time.Now()) != tc.tier {
				t.Errorf("tier %d, want %d", c.TierOf(r.TLS, time.Now()), tc.tier)
			}
		})
	}
}

func TestObserveTLSWithoutCertificate(t *testing.T) {
	if o := observeTLS(nil, "x", nil, time.Now()); o != nil {
		t.Errorf("observation %+v of no handshake", o)
	}
	o := observeTLS(&tls.ConnectionState{Version: tls.VersionTLS12, CipherSuite: tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, "x", nil, time.Now())
	if o == nil || o.VerifyError != "the server sent no certificate" || o.Version != "TLS 1.2" || o.Cipher != "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" || o.SPKISHA256 != "" {
		t.Errorf("observation %+v", o)
	}
}

func TestPrintable(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"www.example.org", "www.example.org"},
		{"Société Générale", "Société Générale"},
		{"evil\n\x1b[31mname", `evil\u000a\u001b[31mname`},
		{"bad\xffutf8", `bad\xffutf8`},
		{"\uFFFD kept", "\uFFFD kept"},
		{strings.Repeat("a", 120), strings.Repeat("a", 100) + "…"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := printable(tc.in, 100); got != tc.want {
				t.Errorf("printable(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestTLSRefused(t *testing.T) {
	ca := testpeer.NewCA(t, "Tocsin Test CA")
	cert := ca.Issue(t, testpeer.Leaf{})
	for _, tc := range []struct {
		name string
		srv  testpeer.TLSOptions
		cfg  *tls.Config
		want string
	}{
		{"protocol refused", testpeer.TLSOptions{MinVersion: tls.VersionTLS13}, legacyConfig("127.0.0.1", allSuites()),
			"the server refused it (tls: protocol version not supported)"},
		{"no suite in common", testpeer.TLSOptions{}, legacyConfig("127.0.0.1", suiteIDs(tls.InsecureCipherSuites())),
			"the server refused it (tls: handshake failure)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testpeer.StartTLSServer(t, cert, tc.srv)
			open := func(ctx context.Context) (net.Conn, error) { return New("tocsin-test").tlsDial(ctx, srv.Addr) }
			_, err := tlsHandshake(t.Context(), open, tc.cfg)
			if got := handshakeError(srv.Addr, err); got == nil || got.Error() != "the TLS handshake with "+srv.Addr+" failed: "+tc.want {
				t.Errorf("error %q, want %q", got, tc.want)
			}
		})
	}
}
