package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"time"

	"github.com/tocsin-org/tocsin"
)

func (p *Prober) runTLS(ctx context.Context, c *tocsin.Check, r *tocsin.CheckResult) error {
	return errorf("tls checks are not built yet")
}

// observeTLS records what a handshake showed of the certificate: key
// fingerprint, serial, validity, chain and host-name verification against
// roots (the system's when nil).
func observeTLS(cs *tls.ConnectionState, serverName string, roots *x509.CertPool, now time.Time) *tocsin.TLSObservation {
	return nil
}
