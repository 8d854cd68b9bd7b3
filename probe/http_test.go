package probe

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/tocsin-org/tocsin"
)

func TestHTTP(t *testing.T) {
	var gotUA, gotHeader atomic.Value
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		gotUA.Store(r.UserAgent())
		if h := r.Header.Get("X-Probe"); h != "" {
			gotHeader.Store(h)
		}
		fmt.Fprint(w, "hello, version 4.2 is up")
	})
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "broken", 500) })
	mux.HandleFunc("/created", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(201) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop2", http.StatusFound) })
	mux.HandleFunc("/loop2", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/chain/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		http.Redirect(w, r, fmt.Sprintf("/chain/%d", n+1), http.StatusFound)
	})
	mux.HandleFunc("/metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	mux.HandleFunc("/endless", func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("a", 4096))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/drip", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		for r.Context().Err() == nil {
			w.Write([]byte("x"))
			w.(http.Flusher).Flush()
			time.Sleep(time.Second)
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(30 * time.Second):
		}
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	reset := listen(t, func(c net.Conn) {
		c.Read(make([]byte, 1024))
		c.(*net.TCPConn).SetLinger(0) // close with RST
	})
	hangUp := listen(t, func(c net.Conn) { c.Read(make([]byte, 1024)) })

	tests := []struct {
		name    string
		spec    tocsin.CheckSpec
		timeout time.Duration
		ok      bool
		status  int
		err     string // a part of the error
	}{
		{name: "ok", spec: tocsin.CheckSpec{URL: srv.URL + "/ok", Headers: map[string]string{"X-Probe": "yes"}}, ok: true, status: 200},
		{name: "server error", spec: tocsin.CheckSpec{URL: srv.URL + "/fail"}, status: 500, err: "status 500 Internal Server Error, expected 200 to 399"},
		{name: "expected status", spec: tocsin.CheckSpec{URL: srv.URL + "/created", ExpectStatus: []int{201}}, ok: true, status: 201},
		{name: "unexpected status", spec: tocsin.CheckSpec{URL: srv.URL + "/ok", ExpectStatus: []int{201, 204}}, status: 200, err: "expected 201, 204"},
		{name: "body contains", spec: tocsin.CheckSpec{URL: srv.URL + "/ok", BodyContains: "hello"}, ok: true, status: 200},
		{name: "body lacks", spec: tocsin.CheckSpec{URL: srv.URL + "/ok", BodyContains: "goodbye"}, status: 200, err: `the body does not contain "goodbye"`},
		{name: "body regex", spec: tocsin.CheckSpec{URL: srv.URL + "/ok", BodyRegex: `version \d+\.\d+`}, ok: true, status: 200},
		{name: "body regex fails", spec: tocsin.CheckSpec{URL: srv.URL + "/ok", BodyRegex: `^down`}, status: 200, err: "does not match"},
		{name: "redirect followed", spec: tocsin.CheckSpec{URL: srv.URL + "/moved", BodyContains: "hello"}, ok: true, status: 200},
		{name: "redirect not followed", spec: tocsin.CheckSpec{URL: srv.URL + "/moved", NoRedirects: true}, ok: true, status: 302},
		{name: "redirect not expected", spec: tocsin.CheckSpec{URL: srv.URL + "/moved", NoRedirects: true, ExpectStatus: []int{200}}, status: 302, err: "(redirect to /ok)"},
		{name: "redirect loop", spec: tocsin.CheckSpec{URL: srv.URL + "/loop"}, err: "redirect loop: " + srv.URL + "/loop2 leads back to " + srv.URL + "/loop"},
		{name: "too many redirects", spec: tocsin.CheckSpec{URL: srv.URL + "/chain/0"}, err: "too many redirects: more than 10"},
		{name: "redirect to metadata", spec: tocsin.CheckSpec{URL: srv.URL + "/metadata"}, err: "refused to probe 169.254.169.254: it is a cloud-metadata address"},
		{name: "endless body found", spec: tocsin.CheckSpec{URL: srv.URL + "/endless", BodyContains: "aaaa"}, ok: true, status: 200},
		{name: "endless body", spec: tocsin.CheckSpec{URL: srv.URL + "/endless", BodyContains: "needle"}, status: 200, err: "only the first 65536 bytes were read"},
		{name: "slow drip body", spec: tocsin.CheckSpec{URL: srv.URL + "/drip"}, timeout: 1500 * time.Millisecond, status: 200, err: "timed out after 1.5s while reading the body"},
		{name: "slow answer", spec: tocsin.CheckSpec{URL: srv.URL + "/slow"}, timeout: time.Second, err: "timed out after 1s waiting for the answer"},
		{name: "refused", spec: tocsin.CheckSpec{URL: "http://" + closedPort(t) + "/"}, err: "refused: nothing listens on that port"},
		{name: "reset", spec: tocsin.CheckSpec{URL: "http://" + reset + "/"}, err: "the server reset the connection"},
		{name: "hang up", spec: tocsin.CheckSpec{URL: "http://" + hangUp + "/"}, err: "the server closed the connection"},
		{name: "metadata IP", spec: tocsin.CheckSpec{URL: "http://169.254.169.254/latest/meta-data/"}, err: "refused to probe 169.254.169.254: it is a cloud-metadata address; set checks.allow_private"},
		{name: "link-local IP", spec: tocsin.CheckSpec{URL: "http://169.254.10.1/"}, err: "it is a link-local address"},
		{name: "metadata IPv6", spec: tocsin.CheckSpec{URL: "http://[fd00:ec2::254]/"}, err: "it is a cloud-metadata address"},
		{name: "metadata name", spec: tocsin.CheckSpec{URL: "http://metadata.google.internal/computeMetadata/v1/"}, err: "refused to probe metadata.google.internal: it is a cloud-metadata name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := testProber()
			p.BodyLimit = 64 << 10
			c := newCheck(t, tocsin.CheckHTTP, tc.spec, cmpDuration(tc.timeout, 5*time.Second))
			r := p.Run(t.Context(), c)
			if r.OK != tc.ok || r.StatusCode != tc.status || !strings.Contains(r.Error, tc.err) {
				t.Errorf("got ok=%v status=%d error %q; want ok=%v status=%d error containing %q", r.OK, r.StatusCode, r.Error, tc.ok, tc.status, tc.err)
			}
			if tc.ok && r.Error != "" {
				t.Errorf("error %q on success", r.Error)
			}
		})
	}
	if ua, _ := gotUA.Load().(string); ua != testProber().UserAgent {
		t.Errorf("User-Agent %q, want %q", ua, testProber().UserAgent)
	}
	if h, _ := gotHeader.Load().(string); h != "yes" {
		t.Errorf("header X-Probe %q, want yes", h)
	}
}

func cmpDuration(a, b time.Duration) time.Duration {
	if a != 0 {
		return a
	}
	return b
}

// TestHTTPSafetyByName: a name that resolves to a metadata address is
// refused on the resolved IP, before any packet is sent to it.
func TestHTTPSafetyByName(t *testing.T) {
	dns := startDNS(t)
	dns.add("meta.test.", &dnsmessage.AResource{A: [4]byte{169, 254, 169, 254}})
	dns.add("lan.test.", &dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}})
	dns.mu.Lock()
	dns.silent["mute.test."] = true
	dns.mu.Unlock()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	p := testProber()
	p.Resolver = resolverFor(dns)
	r := p.Run(t.Context(), newCheck(t, tocsin.CheckHTTP, tocsin.CheckSpec{URL: "http://meta.test/"}, 5*time.Second))
	if want := "refused to probe meta.test (169.254.169.254): it is a cloud-metadata address"; r.OK || !strings.Contains(r.Error, want) {
		t.Errorf("meta.test: ok=%v error %q, want %q", r.OK, r.Error, want)
	}
	r = p.Run(t.Context(), newCheck(t, tocsin.CheckHTTP, tocsin.CheckSpec{URL: "http://lan.test:" + port + "/"}, 5*time.Second))
	if !r.OK {
		t.Errorf("lan.test (loopback) refused: %s", r.Error)
	}
	r = p.Run(t.Context(), newCheck(t, tocsin.CheckHTTP, tocsin.CheckSpec{URL: "http://nowhere.test/"}, 5*time.Second))
	if want := "cannot resolve host nowhere.test: no such host"; r.OK || r.Error != want {
		t.Errorf("nowhere.test: error %q, want %q", r.Error, want)
	}
	r = p.Run(t.Context(), newCheck(t, tocsin.CheckHTTP, tocsin.CheckSpec{URL: "http://mute.test/"}, time.Second))
	if want := "timed out after 1s while resolving the name"; r.OK || r.Error != want {
		t.Errorf("mute.test: error %q, want %q", r.Error, want)
	}
}

func TestBlockedAddr(t *testing.T) {
	for addr, want := range map[string]string{
		"169.254.169.254":        "a cloud-metadata address",
		"::ffff:169.254.169.254": "a cloud-metadata address",
		"fd00:ec2::254":          "a cloud-metadata address",
		"100.100.100.200":        "a cloud-metadata address",
		"169.254.0.1":            "a link-local address",
		"fe80::1":                "a link-local address",
		"127.0.0.1":              "",
		"10.0.0.1":               "",
		"192.168.1.1":            "",
		"172.16.0.1":             "",
		"::1":                    "",
		"100.100.100.201":        "",
	} {
		t.Run(addr, func(t *testing.T) {
			if got := blockedAddr(mustAddr(t, addr)); got != want {
				t.Errorf("blockedAddr(%s) = %q, want %q", addr, got, want)
			}
		})
	}
	if blockedName("Metadata.Google.Internal.") == "" || blockedName("www.example.org") != "" {
		t.Error("blockedName")
	}
}

func TestHTTPS(t *testing.T) {
	ca := newCA(t)
	now := time.Now()
	good := ca.issue(t, now.Add(-time.Hour), now.Add(24*time.Hour), false, "127.0.0.1", "www.example.org")
	expired := ca.issue(t, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC), false, "127.0.0.1")
	other := ca.issue(t, now.Add(-time.Hour), now.Add(24*time.Hour), false, "other.example")
	clientCert, clientKey := writeKeyPair(t, ca.issue(t, now.Add(-time.Hour), now.Add(24*time.Hour), true, "client.example"))
	clientPool := x509.NewCertPool()
	clientPool.AddCert(ca.cert)

	serve := func(cert tls.Certificate, requireClient bool) string {
		srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "secure") }))
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		if requireClient {
			srv.TLS.ClientAuth, srv.TLS.ClientCAs = tls.RequireAndVerifyClientCert, clientPool
		}
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshakes are the point
		srv.StartTLS()
		t.Cleanup(srv.Close)
		return srv.URL
	}
	goodURL, expiredURL, otherURL, mtlsURL := serve(good, false), serve(expired, false), serve(other, false), serve(good, true)
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer plain.Close()

	tests := []struct {
		name string
		spec tocsin.CheckSpec
		err  string // "" for success
	}{
		{"trusted with ca_file", tocsin.CheckSpec{URL: goodURL, CAFile: ca.file, BodyContains: "secure"}, ""},
		{"server_name", tocsin.CheckSpec{URL: goodURL, CAFile: ca.file, ServerName: "www.example.org"}, ""},
		{"untrusted without ca_file", tocsin.CheckSpec{URL: goodURL}, "the certificate is signed by an unknown authority (issuer tocsin test CA)"},
		{"expired", tocsin.CheckSpec{URL: expiredURL, CAFile: ca.file}, "certificate expired on 2026-01-02"},
		{"other name", tocsin.CheckSpec{URL: otherURL, CAFile: ca.file, ServerName: "www.example.org"}, "certificate is for other.example, not www.example.org"},
		{"other name by IP", tocsin.CheckSpec{URL: otherURL, CAFile: ca.file}, "certificate is for other.example, not 127.0.0.1"},
		{"client certificate", tocsin.CheckSpec{URL: mtlsURL, CAFile: ca.file, ClientCert: clientCert, ClientKey: clientKey}, ""},
		{"client certificate missing", tocsin.CheckSpec{URL: mtlsURL, CAFile: ca.file}, "certificate required"},
		{"client certificate unreadable", tocsin.CheckSpec{URL: mtlsURL, ClientCert: "/nonexistent/c.pem", ClientKey: "/nonexistent/k.pem"}, "client_cert: cannot load /nonexistent/c.pem"},
		{"ca_file missing", tocsin.CheckSpec{URL: goodURL, CAFile: "/nonexistent/ca.pem"}, "ca_file: cannot read /nonexistent/ca.pem: no such file or directory"},
		{"ca_file not PEM", tocsin.CheckSpec{URL: goodURL, CAFile: clientKey}, "holds no PEM certificate"},
		{"plain HTTP on the TLS port", tocsin.CheckSpec{URL: strings.Replace(plain.URL, "http:", "https:", 1)}, "the server does not speak TLS on this port"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := testProber().Run(t.Context(), newCheck(t, tocsin.CheckHTTP, tc.spec, 5*time.Second))
			if r.OK != (tc.err == "") || !strings.Contains(r.Error, tc.err) {
				t.Errorf("got ok=%v error %q; want error containing %q", r.OK, r.Error, tc.err)
			}
		})
	}
}

func TestHTTPMaxLatency(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { time.Sleep(50 * time.Millisecond) }))
	defer srv.Close()
	r := testProber().Run(t.Context(), newCheck(t, tocsin.CheckHTTP, tocsin.CheckSpec{URL: srv.URL, MaxLatency: tocsin.Duration(time.Millisecond)}, 5*time.Second))
	if !r.OK || !r.Degraded || r.Error != "slower than 1ms" {
		t.Errorf("got ok=%v degraded=%v error %q, want a degraded success", r.OK, r.Degraded, r.Error)
	}
}
