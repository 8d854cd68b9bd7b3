package probe

import (
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// https, smtp and imap checks scan what their server accepts once per
// ScanEvery: a run within the hour reuses the last scan (one connection),
// the first run after it sees the server's new configuration.
func TestScanOften(t *testing.T) {
	ca := newCA(t)
	now := time.Now()
	cert := ca.issue(t, now.Add(-time.Hour), now.Add(24*time.Hour), false, "127.0.0.1")
	for _, kind := range []tocsin.CheckKind{tocsin.CheckHTTP, tocsin.CheckSMTP, tocsin.CheckIMAP} {
		t.Run(string(kind), func(t *testing.T) {
			// The server accepts TLS 1.0 until fixed, which takes effect
			// from the next handshake.
			var fixed atomic.Bool
			var conns atomic.Int64
			cfg := &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
				min := uint16(tls.VersionTLS10)
				if fixed.Load() {
					min = tls.VersionTLS12
				}
				return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: min}, nil
			}}
			var spec tocsin.CheckSpec
			switch kind {
			case tocsin.CheckHTTP:
				srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
				srv.TLS = cfg
				srv.Config.ErrorLog = log.New(io.Discard, "", 0)
				srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
					if s == http.StateNew {
						conns.Add(1)
					}
				}
				srv.StartTLS()
				t.Cleanup(srv.Close)
				spec = tocsin.CheckSpec{URL: srv.URL}
			case tocsin.CheckSMTP:
				spec = tocsin.CheckSpec{Address: counted(t, &conns, smtpServerTLS(t, "220 mx.test ESMTP\r\n", []string{"STARTTLS"}, "220 go ahead\r\n", cfg))}
			case tocsin.CheckIMAP:
				spec = tocsin.CheckSpec{Address: counted(t, &conns, imapServerTLS(t, "* OK ready\r\n", "IMAP4rev1 STARTTLS", cfg))}
			}
			spec.CAFile = ca.file
			c := newCheck(t, kind, spec, 5*time.Second)
			clock := now
			p := testProber()
			p.Now = func() time.Time { return clock }
			run := func(what string, want []string) {
				t.Helper()
				before := conns.Load()
				r := p.Run(t.Context(), c)
				if !r.OK || r.TLS == nil || !r.TLS.Scanned {
					t.Fatalf("%s: ok=%v %q, TLS %+v; want a scanned success", what, r.OK, r.Error, r.TLS)
				}
				if !slices.Equal(r.TLS.OldVersions, want) {
					t.Errorf("%s: old versions %v, want %v", what, r.TLS.OldVersions, want)
				}
				if what == "within the hour" && conns.Load()-before != 1 {
					t.Errorf("%s: %d connections, want 1 (the scan reused)", what, conns.Load()-before)
				}
			}
			old := []string{"TLS 1.0", "TLS 1.1"}
			run("first run", old)
			fixed.Store(true)
			clock = clock.Add(ScanEvery - time.Second)
			run("within the hour", old)
			clock = clock.Add(time.Second)
			run("an hour later", nil)
		})
	}
}

// counted forwards connections to addr, counting them.
func counted(t *testing.T, n *atomic.Int64, addr string) string {
	return listen(t, func(c net.Conn) {
		n.Add(1)
		up, err := net.Dial("tcp", addr)
		if err != nil {
			return
		}
		defer up.Close()
		go func() { io.Copy(up, c); up.Close() }()
		io.Copy(c, up)
	})
}

func TestScanCache(t *testing.T) {
	t0 := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	weak := tlsScan{OldVersions: []string{"TLS 1.0"}, Complete: true}
	c := &scanCache{}
	c.put("a", weak, t0)
	for _, tc := range []struct {
		name string
		at   time.Time
		ok   bool
	}{
		{"just kept", t0, true},
		{"within the hour", t0.Add(ScanEvery - time.Nanosecond), true},
		{"an hour later", t0.Add(ScanEvery), false},
		{"the clock went back", t0.Add(-time.Second), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s, ok := c.get("a", tc.at); ok != tc.ok || (ok && !slices.Equal(s.OldVersions, weak.OldVersions)) {
				t.Errorf("get = %+v, %v; want found %v", s, ok, tc.ok)
			}
		})
	}
	if _, ok := c.get("b", t0); ok {
		t.Error("an endpoint never scanned is found")
	}
	c.put("b", weak, t0.Add(2*ScanEvery))
	if _, kept := c.scans["a"]; kept || len(c.scans) != 1 {
		t.Errorf("after two hours, entries %v: want the old one dropped", c.scans)
	}
	var none *scanCache
	none.put("a", weak, t0)
	if _, ok := none.get("a", t0); ok {
		t.Error("a nil cache keeps a scan")
	}
}
