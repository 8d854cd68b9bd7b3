// Package deadline runs the duties that fall due with time rather than
// with a request: escalating a page nobody acknowledged, reminding the
// owner of an overdue task, the incident lead of the GDPR clock, the
// communications lead of a silent status page. Each duty is a store step
// that checks, inside its own transaction, that it has not been done
// already, so a restart or a second instance never does it twice; the
// worker only decides when to look.
package deadline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// A Duty does what is due at now and returns when it next falls due (zero
// if it does not know; the worker then looks again after Poll).
type Duty struct {
	Name string
	Run  func(ctx context.Context, now time.Time) (next time.Time, err error)
}

// Worker runs its duties in the background. Set the fields, then Start it
// and Stop it; Tick does one pass (what tests call with their own clock).
type Worker struct {
	Duties []Duty
	// Poll bounds the wait between passes, so that a deadline set by
	// another instance is seen (5 s when zero).
	Poll time.Duration
	Now  func() time.Time // time.Now when nil
	Log  *slog.Logger

	stop context.CancelFunc
	done sync.WaitGroup
	wake chan struct{}
}

// Start runs passes in the background until Stop.
func (w *Worker) Start(ctx context.Context) {
	ctx, w.stop = context.WithCancel(ctx)
	w.wake = make(chan struct{}, 1)
	w.done.Go(func() { w.run(ctx) })
}

// Kick asks for a pass now, after a change that set or moved a deadline;
// it never blocks. Safe before Start (it does nothing then).
func (w *Worker) Kick() {
	if w.wake == nil {
		return
	}
	select {
	case w.wake <- struct{}{}:
	default: // a pass is already asked for
	}
}

// Stop ends the background passes and waits for the one under way.
func (w *Worker) Stop() {
	if w.stop != nil {
		w.stop()
	}
	w.done.Wait()
}

// Tick runs every duty once at now and returns the earliest next time any
// of them gave (zero if none did). A duty that fails does not stop the
// others; the errors are returned together, each named by its duty.
func (w *Worker) Tick(ctx context.Context, now time.Time) (time.Time, error) {
	var next time.Time
	var errs []error
	for _, d := range w.Duties {
		n, err := d.Run(ctx, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", d.Name, err))
		}
		if !n.IsZero() && (next.IsZero() || n.Before(next)) {
			next = n
		}
	}
	return next, errors.Join(errs...)
}

func (w *Worker) run(ctx context.Context) {
	poll := w.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	for {
		next, err := w.Tick(ctx, w.now())
		if err != nil && ctx.Err() == nil {
			w.logger().Error("deadlines", "err", err)
		}
		wait := poll
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(w.now()), 0))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-w.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) logger() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}
