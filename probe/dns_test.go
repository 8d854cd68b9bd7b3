package probe

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/tocsin-org/tocsin"
)

func TestDNS(t *testing.T) {
	s := startDNS(t)
	s.add("example.test.", &dnsmessage.AResource{A: [4]byte{192, 0, 2, 10}})
	s.add("example.test.", &dnsmessage.AResource{A: [4]byte{192, 0, 2, 11}})
	s.add("example.test.", &dnsmessage.AAAAResource{AAAA: [16]byte{0x20, 0x01, 0x0d, 0xb8, 15: 1}})
	s.add("www.example.test.", &dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName("example.test.")})
	s.add("example.test.", &dnsmessage.MXResource{Pref: 10, MX: dnsmessage.MustNewName("mx1.example.test.")})
	s.add("example.test.", &dnsmessage.MXResource{Pref: 20, MX: dnsmessage.MustNewName("mx2.example.test.")})
	s.add("example.test.", &dnsmessage.TXTResource{TXT: []string{"v=spf1 mx ", "-all"}})
	s.add("example.test.", &dnsmessage.TXTResource{TXT: []string{"google-site-verification=abc"}})
	s.add("sel._domainkey.example.test.", &dnsmessage.TXTResource{TXT: []string{"v=DKIM1; k=rsa; p=MIIB"}})
	s.add("example.test.", &dnsmessage.NSResource{NS: dnsmessage.MustNewName("ns1.example.test.")})
	s.add("example.test.", &dnsmessage.UnknownResource{Type: 257, Data: append([]byte{0, 5}, "issueletsencrypt.org"...)})
	var many []string
	for i := range 40 {
		many = append(many, strings.Repeat("x", 200)+string(rune('a'+i%26)))
	}
	for _, v := range many {
		s.add("big.example.test.", &dnsmessage.TXTResource{TXT: []string{v}})
	}
	s.mu.Lock()
	s.truncate["big.example.test."] = true
	s.rcodes["gone.example.test."] = dnsmessage.RCodeNameError
	s.rcodes["broken.example.test."] = dnsmessage.RCodeServerFailure
	s.rcodes["private.example.test."] = dnsmessage.RCodeRefused
	s.silent["silent.example.test."] = true
	s.mu.Unlock()

	tests := []struct {
		name    string
		spec    tocsin.CheckSpec
		timeout time.Duration
		err     string // "" for success
	}{
		{"A", tocsin.CheckSpec{Domain: "example.test", Record: "A", Expect: []string{"192.0.2.11", "192.0.2.10"}}, 0, ""},
		{"A without expectations", tocsin.CheckSpec{Domain: "example.test"}, 0, ""},
		{"A missing", tocsin.CheckSpec{Domain: "example.test", Record: "A", Expect: []string{"192.0.2.10", "192.0.2.99"}}, 0,
			`A example.test: "192.0.2.99" not found; the answer was "192.0.2.10", "192.0.2.11"`},
		{"AAAA", tocsin.CheckSpec{Domain: "example.test", Record: "AAAA", Expect: []string{"2001:db8::1"}}, 0, ""},
		{"CNAME", tocsin.CheckSpec{Domain: "www.example.test", Record: "CNAME", Expect: []string{"Example.Test."}}, 0, ""},
		{"MX by host", tocsin.CheckSpec{Domain: "example.test", Record: "MX", Expect: []string{"mx2.example.test"}}, 0, ""},
		{"MX with preference", tocsin.CheckSpec{Domain: "example.test", Record: "MX", Expect: []string{"10 mx1.example.test"}}, 0, ""},
		{"MX wrong preference", tocsin.CheckSpec{Domain: "example.test", Record: "MX", Expect: []string{"20 mx1.example.test"}}, 0, `"20 mx1.example.test" not found`},
		{"SPF", tocsin.CheckSpec{Domain: "example.test", Record: "TXT", Expect: []string{"v=spf1"}}, 0, ""},
		{"SPF strings joined", tocsin.CheckSpec{Domain: "example.test", Record: "TXT", Expect: []string{"v=spf1 mx -all"}}, 0, ""},
		{"DKIM", tocsin.CheckSpec{Domain: "sel._domainkey.example.test", Record: "TXT", Expect: []string{"v=DKIM1"}}, 0, ""},
		{"DKIM missing", tocsin.CheckSpec{Domain: "other._domainkey.example.test", Record: "TXT", Expect: []string{"v=DKIM1"}}, 0, "other._domainkey.example.test has no TXT record"},
		{"TXT not a prefix", tocsin.CheckSpec{Domain: "example.test", Record: "TXT", Expect: []string{"-all"}}, 0, `"-all" not found`},
		{"NS", tocsin.CheckSpec{Domain: "example.test", Record: "NS", Expect: []string{"ns1.example.test"}}, 0, ""},
		{"CAA", tocsin.CheckSpec{Domain: "example.test", Record: "CAA", Expect: []string{`issue "letsencrypt.org"`}}, 0, ""},
		{"CAA with flags", tocsin.CheckSpec{Domain: "example.test", Record: "CAA", Expect: []string{`0 issue "letsencrypt.org"`}}, 0, ""},
		{"CAA other CA", tocsin.CheckSpec{Domain: "example.test", Record: "CAA", Expect: []string{`issue "pki.goog"`}}, 0, `not found; the answer was "0 issue \"letsencrypt.org\""`},
		{"truncated, then TCP", tocsin.CheckSpec{Domain: "big.example.test", Record: "TXT", Expect: []string{many[39]}}, 0, ""},
		{"NXDOMAIN", tocsin.CheckSpec{Domain: "gone.example.test"}, 0, "gone.example.test does not exist (NXDOMAIN from resolver " + s.Addr + ")"},
		{"SERVFAIL", tocsin.CheckSpec{Domain: "broken.example.test"}, 0, "resolver " + s.Addr + " answered SERVFAIL for broken.example.test"},
		{"REFUSED", tocsin.CheckSpec{Domain: "private.example.test"}, 0, "refused to answer for private.example.test"},
		{"no answer", tocsin.CheckSpec{Domain: "www.example.test", Record: "AAAA"}, 0, "www.example.test has no AAAA record"},
		{"silent resolver", tocsin.CheckSpec{Domain: "silent.example.test"}, time.Second, "timed out after 1s waiting for the answer"},
		{"metadata resolver", tocsin.CheckSpec{Domain: "example.test", Resolver: "169.254.169.254:53"}, 0, "refused to probe 169.254.169.254: it is a cloud-metadata address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.spec.Resolver == "" {
				tc.spec.Resolver = s.Addr
			}
			r := testProber().Run(t.Context(), newCheck(t, tocsin.CheckDNS, tc.spec, cmpDuration(tc.timeout, 5*time.Second)))
			if r.OK != (tc.err == "") || !strings.Contains(r.Error, tc.err) {
				t.Errorf("got ok=%v error %q; want error containing %q", r.OK, r.Error, tc.err)
			}
		})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tcpAsked == 0 {
		t.Error("the truncated answer was not asked again over TCP")
	}
}

func TestSystemResolvers(t *testing.T) {
	dir := t.TempDir()
	old := resolvConf
	t.Cleanup(func() { resolvConf = old })
	tests := []struct {
		name, conf string
		want       []string
		err        string
	}{
		{"two", "# comment\nsearch example.org\nnameserver 127.0.0.53\nnameserver ::1\noptions edns0\n", []string{"127.0.0.53:53", "[::1]:53"}, ""},
		{"garbage", "nameserver not-an-ip\n", nil, "names no nameserver; give the check a resolver"},
		{"missing", "", nil, "no resolver: cannot read"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resolvConf = filepath.Join(dir, tc.name)
			if i < 2 {
				os.WriteFile(resolvConf, []byte(tc.conf), 0o600)
			}
			got, err := systemResolvers()
			if !slices.Equal(got, tc.want) || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Errorf("got %v, %v; want %v, %q", got, err, tc.want, tc.err)
			}
		})
	}
}
