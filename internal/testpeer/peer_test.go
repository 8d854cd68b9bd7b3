package testpeer

import (
	"fmt"
	"testing"
)

// outcomeTB records how unavailable ended the test instead of ending it.
type outcomeTB struct {
	testing.TB
	skipped, failed string
}

func (o *outcomeTB) Helper() {}
func (o *outcomeTB) Skipf(format string, args ...any) {
	o.skipped = fmt.Sprintf(format, args...)
}
func (o *outcomeTB) Fatalf(format string, args ...any) {
	o.failed = fmt.Sprintf(format, args...)
}

func TestMissingPeerSkipsUnlessCIRequiresPeers(t *testing.T) {
	t.Setenv(RequireEnv, "")
	o := &outcomeTB{TB: t}
	unavailable(o, "smtpd not found")
	if o.skipped == "" || o.failed != "" {
		t.Errorf("without %s: skipped %q, failed %q; want a skip", RequireEnv, o.skipped, o.failed)
	}

	t.Setenv(RequireEnv, "1")
	o = &outcomeTB{TB: t}
	unavailable(o, "smtpd not found")
	if o.failed == "" || o.skipped != "" {
		t.Errorf("with %s=1: skipped %q, failed %q; want a failure", RequireEnv, o.skipped, o.failed)
	}
}
