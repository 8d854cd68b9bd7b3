// Package notify delivers the outbox: a Worker claims due messages from a
// tocsin.OutboxService and hands each to the Channel named by the
// message, retrying with back-off until it is sent or given up.
package notify

import (
	"context"
	"errors"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Channel is one way of delivering a message (e-mail, a webhook, a chat
// room). Each lives in its own file.
type Channel interface {
	// Name is the channel's name, the tocsin.Message.Channel it serves.
	Name() string
	// Validate checks the configuration; a *tocsin.Error with EINVALID says
	// what to fix.
	Validate() error
	// Send delivers one message. An error wrapped with Permanent means that
	// sending again cannot succeed; any other error is worth a retry.
	Send(ctx context.Context, m *tocsin.Message) error
}

// permanentError marks a failure that a retry cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// Permanent wraps err to say "do not retry": the recipient was refused, the
// message cannot be encoded. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, came from
// Permanent.
func IsPermanent(err error) bool {
	var p *permanentError
	return errors.As(err, &p)
}

// retryAfterError carries the wait a server asked for before the next try.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// RetryAfter wraps err, worth a retry, with the wait the server asked for
// (a rate limit's retry-after): the worker waits at least that long, and
// at most its maximum back-off. RetryAfter(nil, d) is nil.
func RetryAfter(err error, d time.Duration) error {
	if err == nil {
		return nil
	}
	return &retryAfterError{err, d}
}

// retryAfter returns the wait err asks for, 0 if none.
func retryAfter(err error) time.Duration {
	var r *retryAfterError
	if errors.As(err, &r) {
		return max(r.after, 0)
	}
	return 0
}
