// Package probe runs one check once: it dials, asks, reads at most a
// bounded answer within the check's timeout, and returns what it saw as a
// tocsin.CheckResult. It keeps no state and writes nothing; the monitor
// package schedules it and the store judges its results.
package probe

import (
	"context"
	"net"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Prober runs checks. Its zero value is not usable: use New.
type Prober struct {
	// UserAgent names tocsin and the instance, on every HTTP request.
	UserAgent string
	// BodyLimit is how many bytes of an answer are read at most.
	BodyLimit int64
	// AllowPrivate lets checks reach link-local and cloud-metadata
	// addresses, which are refused by default.
	AllowPrivate bool
	// Resolver resolves the names of targets (net.DefaultResolver when
	// nil); tests point it at their own DNS server.
	Resolver *net.Resolver
	// Location names where results come from ("" for tocsin itself).
	Location string
	// Now is the clock (time.Now outside tests).
	Now func() time.Time
	// Getenv reads a bucket check's secret key (os.Getenv outside tests).
	Getenv func(string) string

	// scans keeps endpoints' recent scans (see scanOften); a Prober made
	// without New scans on every run.
	scans *scanCache
}

// New returns a Prober with the given User-Agent and default limits.
func New(userAgent string) *Prober {
	return &Prober{UserAgent: userAgent, BodyLimit: tocsin.DefaultBodyLimit, Now: time.Now, scans: &scanCache{}}
}

// Run runs c once and returns its result; it never panics on what a
// server answers and returns within c.Timeout (plus scheduling).
func (p *Prober) Run(ctx context.Context, c *tocsin.Check) *tocsin.CheckResult {
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	r := &tocsin.CheckResult{CheckID: c.ID, Location: p.Location, StartedAt: p.Now().UTC()}
	start := time.Now()
	var err error
	switch c.Kind {
	case tocsin.CheckHTTP:
		err = p.runHTTP(ctx, c, r)
	case tocsin.CheckTCP:
		err = p.runTCP(ctx, c, r)
	case tocsin.CheckDNS:
		err = p.runDNS(ctx, c, r)
	case tocsin.CheckSMTP, tocsin.CheckIMAP:
		err = p.runMail(ctx, c, r)
	case tocsin.CheckTLS:
		err = p.runTLS(ctx, c, r)
	case tocsin.CheckBucket:
		err = p.runBucket(ctx, c, r)
	default:
		err = errorf("unknown check kind %q", c.Kind)
	}
	if r.Duration == 0 { // a kind may time only what a client would wait for
		r.Duration = time.Since(start)
	}
	if err != nil {
		r.OK, r.Error = false, describe(ctx, c, err)
		return r
	}
	r.OK = true
	if max := time.Duration(c.Spec.MaxLatency); max > 0 && r.Duration > max {
		r.Degraded = true
		r.Error = "slower than " + max.String()
	}
	return r
}
