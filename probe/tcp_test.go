package probe

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

func TestTCP(t *testing.T) {
	ssh := listen(t, func(c net.Conn) { c.Write([]byte("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")); c.Read(make([]byte, 1)) })
	silentClose := listen(t, func(c net.Conn) {})
	drip := listen(t, func(c net.Conn) { trickle(c, "SSH-2.0-slow") })
	flood := listen(t, func(c net.Conn) { c.Write([]byte(strings.Repeat("x", 10000))); c.Read(make([]byte, 1)) })
	partial := listen(t, func(c net.Conn) { c.Write([]byte("SSH-2.0-cut")) })
	reset := listen(t, func(c net.Conn) { c.(*net.TCPConn).SetLinger(0) })

	tests := []struct {
		name    string
		spec    tocsin.CheckSpec
		timeout time.Duration
		err     string // "" for success
	}{
		{"connect", tocsin.CheckSpec{Address: silentClose}, 0, ""},
		{"banner", tocsin.CheckSpec{Address: ssh, Banner: "OpenSSH"}, 0, ""},
		{"banner cut by the end of the stream", tocsin.CheckSpec{Address: partial, Banner: "SSH-2.0"}, 0, ""},
		{"wrong banner", tocsin.CheckSpec{Address: ssh, Banner: "Dropbear"}, 0, `the banner "SSH-2.0-OpenSSH_9.2p1 Debian-2" does not contain "Dropbear"`},
		{"no banner", tocsin.CheckSpec{Address: silentClose, Banner: "SSH"}, 0, "the server closed the connection without sending a banner"},
		{"slow drip", tocsin.CheckSpec{Address: drip, Banner: "SSH"}, 1500 * time.Millisecond, "timed out after 1.5s waiting for the banner"},
		{"endless line", tocsin.CheckSpec{Address: flood, Banner: "SSH"}, 0, "the server sent a line longer than 4096 bytes"},
		{"reset", tocsin.CheckSpec{Address: reset, Banner: "SSH"}, 0, "the server reset the connection"},
		{"refused", tocsin.CheckSpec{Address: closedPort(t)}, 0, "refused: nothing listens on that port"},
		{"metadata", tocsin.CheckSpec{Address: "100.100.100.200:80"}, 0, "refused to probe 100.100.100.200: it is a cloud-metadata address"},
		{"unknown host", tocsin.CheckSpec{Address: "nowhere.invalid:22"}, 0, "cannot resolve host nowhere.invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := testProber().Run(t.Context(), newCheck(t, tocsin.CheckTCP, tc.spec, cmpDuration(tc.timeout, 5*time.Second)))
			if r.OK != (tc.err == "") || !strings.Contains(r.Error, tc.err) {
				t.Errorf("got ok=%v error %q; want error containing %q", r.OK, r.Error, tc.err)
			}
		})
	}
}
