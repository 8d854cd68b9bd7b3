package probe

import (
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// unansweredPort is a 127.0.0.1 port whose listener never accepts and whose
// queue is full, so that Linux drops further SYNs: a connection to it
// neither succeeds nor is refused, as behind a firewall that drops.
func unansweredPort(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	for range 16 {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			return addr // the queue is full
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Fatalf("%s still accepts connections into its queue", addr)
	return ""
}

// A server that never answers the connection is a timeout while
// connecting, for every kind that connects.
func TestConnectTimeout(t *testing.T) {
	addr := unansweredPort(t)
	for _, tc := range []struct {
		kind tocsin.CheckKind
		spec tocsin.CheckSpec
	}{
		{tocsin.CheckTCP, tocsin.CheckSpec{Address: addr}},
		{tocsin.CheckHTTP, tocsin.CheckSpec{URL: "http://" + addr + "/"}},
		{tocsin.CheckSMTP, tocsin.CheckSpec{Address: addr}},
		{tocsin.CheckIMAP, tocsin.CheckSpec{Address: addr}},
		{tocsin.CheckTLS, tocsin.CheckSpec{Address: addr}},
		{tocsin.CheckBucket, tocsin.CheckSpec{URL: "http://" + addr + "/media"}},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			r := testProber().Run(t.Context(), newCheck(t, tc.kind, tc.spec, time.Second))
			if want := "timed out after 1s while connecting"; r.OK || r.Error != want {
				t.Errorf("ok=%v %q, want %q", r.OK, r.Error, want)
			}
			if want := "no connection within the timeout: nothing answered at that address"; tc.kind == tocsin.CheckBucket &&
				(r.Bucket == nil || r.Bucket.Probed[0].Answer != want) {
				t.Errorf("bucket %+v, want the URL's answer %q", r.Bucket, want)
			}
		})
	}
}
