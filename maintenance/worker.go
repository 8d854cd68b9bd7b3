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
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/deadline"
	"github.com/tocsin-org/tocsin/i18n"
)

// Store is what the worker needs of tocsin's store.
type Store interface {
	Incidents(ctx context.Context, f tocsin.IncidentFilter) ([]*tocsin.Incident, error)
	tocsin.MaintenanceService
}

// Worker moves published maintenances through their windows. It runs as
// one of the deadline worker's duties (Duty), which wakes it when the next
// step falls due and when the server kicks it after a change; Tick does
// one pass (what tests call with their own clock).
type Worker struct {
	Store Store
	Lang  string           // of the automatic updates' text
	Lead  time.Duration    // reminder before a window; tocsin.DefaultReminderLead when zero
	Now   func() time.Time // time.Now when nil
	// Messages, when set, returns the messages that announce step (the
	// reminder, the start or the end) of maintenance m, one per subscriber.
	// They are enqueued in the transaction of the step, and only if the
	// step acts, so each goes out once however many workers run.
	Messages func(ctx context.Context, m *tocsin.Incident, step tocsin.MaintenanceStep) ([]*tocsin.Message, error)
	// Changed is called after a pass that changed what the public sees
	// (the server's RefreshPublic).
	Changed func(ctx context.Context) error
}

func (w *Worker) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Worker) lead() time.Duration {
	if w.Lead > 0 {
		return w.Lead
	}
	return tocsin.DefaultReminderLead
}

// Duty is the worker as a deadline duty, run at the deadline worker's now.
func (w *Worker) Duty() deadline.Duty {
	return deadline.Duty{Name: "maintenance", Run: w.tickAt}
}

// Tick does every step due now and returns when the next one is known to
// be due (zero if none). A step that fails is logged and retried at the
// next pass; the others go on.
func (w *Worker) Tick(ctx context.Context) (time.Time, error) { return w.tickAt(ctx, w.now()) }

func (w *Worker) tickAt(ctx context.Context, now time.Time) (time.Time, error) {
	yes := true
	open, err := w.Store.Incidents(ctx, tocsin.IncidentFilter{Maintenance: &yes, Open: &yes, Published: &yes, Limit: 1000})
	if err != nil {
		return time.Time{}, err
	}
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
