package probe

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/tocsin-org/tocsin"
)

// errorf makes a failure whose text is shown as it is.
func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }

// Phases of a run, named in timeouts and resets so that a person knows
// where it stalled.
const (
	phaseResolve   = "while resolving the name"
	phaseConnect   = "while connecting"
	phaseHandshake = "during the TLS handshake"
	phaseAnswer    = "waiting for the answer"
	phaseBody      = "while reading the body"
	phaseGreeting  = "waiting for the greeting"
	phaseBanner    = "waiting for the banner"
	phaseCommand   = "waiting for the reply to %s"
)

// phaseError is err that happened in phase.
type phaseError struct {
	phase string
	err   error
}

func (e *phaseError) Error() string { return e.err.Error() + " (" + e.phase + ")" }
func (e *phaseError) Unwrap() error { return e.err }

// inPhase marks err as happening in phase (the innermost phase wins).
func inPhase(phase string, err error) error {
	if err == nil {
		return nil
	}
	var pe *phaseError
	if errors.As(err, &pe) {
		return err
	}
	return &phaseError{phase: phase, err: err}
}

// certError is a certificate that did not verify, in words.
type certError struct{ msg string }

func (e *certError) Error() string { return e.msg }

// describe turns a probe error into words a person can act on: what went
// wrong, where (which phase), and what to look at.
func describe(ctx context.Context, c *tocsin.Check, err error) string {
	phase := ""
	var pe *phaseError
	if errors.As(err, &pe) {
		phase = pe.phase
	}
	var (
		refused *refusedError
		cert    *certError
		dnsErr  *net.DNSError
	)
	switch {
	case errors.As(err, &refused):
		return refused.Error()
	case errors.As(err, &cert):
		return cert.msg
	case errors.As(err, &dnsErr):
		switch {
		case dnsErr.IsNotFound:
			return fmt.Sprintf("cannot resolve host %s: no such host", dnsErr.Name)
		case dnsErr.IsTimeout:
			return fmt.Sprintf("cannot resolve host %s: the DNS server did not answer in time", dnsErr.Name)
		}
		return fmt.Sprintf("cannot resolve host %s: %s", dnsErr.Name, dnsErr.Err)
	}
	if timedOut(ctx, err) {
		if phase == "" {
			phase = phaseAnswer
		}
		return fmt.Sprintf("timed out after %s %s", c.Timeout, phase)
	}
	at := ""
	if phase != "" {
		at = " " + phase
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("connection to %s refused: nothing listens on that port, or a firewall rejects it", target(c))
	case errors.Is(err, syscall.ECONNRESET):
		return "the server reset the connection" + at
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Sprintf("cannot reach %s: no route to the host", target(c))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "the server closed the connection" + at
	case errors.Is(err, errTooManyRedirects), errors.Is(err, errRedirectLoop):
		return unwrapURL(err).Error()
	}
	var re tls.RecordHeaderError
	if errors.As(err, &re) {
		return "the server does not speak TLS on this port" + at
	}
	var alert tls.AlertError
	if errors.As(err, &alert) {
		return fmt.Sprintf("the TLS handshake failed: the server sent the alert %q", alert.Error())
	}
	var ue x509.UnknownAuthorityError
	if errors.As(err, &ue) && ue.Cert != nil {
		return chainWords(err, ue.Cert, time.Now())
	}
	msg := unwrapURL(err).Error()
	if phase != "" && !strings.Contains(msg, phase) {
		msg += " (" + phase + ")"
	}
	return msg
}

// timedOut reports whether err is the run's deadline or a network timeout.
func timedOut(ctx context.Context, err error) bool {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// target is what the check connects to, for messages.
func target(c *tocsin.Check) string {
	if c.Spec.Address != "" {
		return c.Spec.Address
	}
	if c.Spec.Resolver != "" {
		return c.Spec.Resolver
	}
	return c.Host()
}

// unwrapURL drops net/http's `Get "URL": ` prefix, which repeats the check.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
