// Package maintenance runs scheduled maintenances on time: at the reminder
// point before a window it records the reminder, at the window's start it
// moves the maintenance to in_progress and its services under maintenance,
// at its end to completed and the services back. The Messages hook gives
// each step the messages to enqueue with it (subscribers' notices). The
// store does each step once (it checks the maintenance's state in the
// step's transaction), so a restart in the middle of a window, or two
// instances, change nothing twice.
package maintenance

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// Store is what the worker needs of tocsin's store.
type Store interface {
	Incidents(ctx context.Context, f tocsin.IncidentFilter) ([]*tocsin.Incident, error)
	tocsin.MaintenanceService
}

// Worker moves published maintenances through their windows. Set the
// fields, then Start it and Stop it; Tick does one pass (what tests call
// with their own clock).
type Worker struct {
	Store Store
	Lang  string        // of the automatic updates' text
	Lead  time.Duration // reminder before a window; tocsin.DefaultReminderLead when zero
	// Poll bounds the wait between passes, so that a maintenance created or
	// moved meanwhile is seen (30 s when zero); the worker also wakes at
	// the next known step.
	Poll time.Duration
	Now  func() time.Time // time.Now when nil
	// Messages, when set, returns the messages that announce step (the
	// reminder, the start or the end) of maintenance m, one per subscriber.
	// They are enqueued in the transaction of the step, and only if the
	// step acts, so each goes out once however many workers run.
	Messages func(ctx context.Context, m *tocsin.Incident, step tocsin.MaintenanceStep) ([]*tocsin.Message, error)
	// Changed is called after a pass that changed what the public sees
	// (the server's RefreshPublic).
	Changed func(ctx context.Context) error
	Log     *slog.Logger

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

// Kick asks for a pass now, after a change that may have scheduled, moved
// or ended a maintenance; it never blocks. Safe before Start (it does
// nothing then).
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

func (w *Worker) run(ctx context.Context) {
	poll := w.Poll
	if poll <= 0 {
		poll = 30 * time.Second
	}
	for {
		next, err := w.Tick(ctx)
		if err != nil && ctx.Err() == nil {
			w.logger().Error("scheduled maintenances", "err", err)
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

func (w *Worker) lead() time.Duration {
	if w.Lead > 0 {
		return w.Lead
	}
	return tocsin.DefaultReminderLead
}

// Tick does every step due now and returns when the next one is known to
// be due (zero if none). A step that fails is logged and retried at the
// next pass; the others go on.
func (w *Worker) Tick(ctx context.Context) (time.Time, error) {
	yes := true
	open, err := w.Store.Incidents(ctx, tocsin.IncidentFilter{Maintenance: &yes, Open: &yes, Published: &yes, Limit: 1000})
	if err != nil {
		return time.Time{}, err
	}
	now := w.now()
	var (
		next    time.Time
		changed bool
		errs    []error
	)
	for _, m := range open {
		acted, err := w.step(ctx, m, now)
		if err != nil {
			errs = append(errs, err)
		}
		changed = changed || acted
		if t := m.NextStepAt(now, w.lead()); !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if changed && w.Changed != nil {
		if err := w.Changed(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return next, errors.Join(errs...)
}

// step does what m needs at now; acted reports a change the public sees.
func (w *Worker) step(ctx context.Context, m *tocsin.Incident, now time.Time) (acted bool, err error) {
	step := m.Due(now, w.lead())
	if step == tocsin.StepNone {
		return false, nil
	}
	var msgs []*tocsin.Message
	if w.Messages != nil {
		if msgs, err = w.Messages(ctx, m, step); err != nil {
			return false, err
		}
	}
	switch step {
	case tocsin.StepRemind:
		_, err = w.Store.RemindMaintenance(ctx, tocsin.System, m.ID, now, msgs)
		return false, err
	case tocsin.StepStart:
		return w.Store.StartMaintenance(ctx, tocsin.System, m.ID, now, i18n.T(w.Lang, "maintenance.auto_started"), msgs)
	default: // StepComplete
		at := now
		if m.Status.Underway() {
			at = *m.ScheduledUntil // completed when its window says, even if noticed late
		}
		return w.Store.CompleteMaintenance(ctx, tocsin.System, m.ID, at, i18n.T(w.Lang, "maintenance.auto_completed"), msgs)
	}
}
