package tocsin

import (
	"context"
	"slices"
	"time"
)

// A scheduled maintenance is an Incident with a window: the same updates,
// revisions, backdating, pages and feeds, with Statuspage's maintenance
// statuses. During its window its services are under maintenance: a worker
// starts and completes it on time, and a communicator may move it by hand
// (an update in_progress starts it early, completed ends or cancels it).

const (
	MaintenanceScheduled  IncidentStatus = "scheduled"
	MaintenanceInProgress IncidentStatus = "in_progress"
	MaintenanceVerifying  IncidentStatus = "verifying"
	MaintenanceCompleted  IncidentStatus = "completed"
)

// MaintenanceStatuses lists a maintenance's statuses in their usual order.
var MaintenanceStatuses = []IncidentStatus{MaintenanceScheduled, MaintenanceInProgress, MaintenanceVerifying, MaintenanceCompleted}

// ImpactMaintenance is the impact of every scheduled maintenance, as
// Statuspage reports it.
const ImpactMaintenance Impact = "maintenance"

// DefaultReminderLead is how long before its window a maintenance's
// reminder is due.
const DefaultReminderLead = time.Hour

// Underway reports whether a maintenance in this status has started and not
// ended: its services are under maintenance.
func (s IncidentStatus) Underway() bool {
	return s == MaintenanceInProgress || s == MaintenanceVerifying
}

// Maintenance reports whether the incident is a scheduled maintenance.
func (i *Incident) Maintenance() bool { return i.ScheduledFor != nil || i.ScheduledUntil != nil }

// Cancelled reports whether a maintenance was completed without ever being
// under way: the iCalendar feed marks it CANCELLED.
func (i *Incident) Cancelled() bool {
	if !i.Maintenance() || i.Status != MaintenanceCompleted {
		return false
	}
	return !slices.ContainsFunc(i.Updates, func(u *Update) bool { return u.Status.Underway() })
}

func (i *Incident) validateWindow() error {
	if !i.Maintenance() {
		return nil
	}
	if i.ScheduledFor == nil || i.ScheduledUntil == nil {
		return Errorf(EINVALID, "a maintenance needs a start and an end").WithKey("maintenance.window_missing")
	}
	if !i.ScheduledUntil.After(*i.ScheduledFor) {
		return Errorf(EINVALID, "the maintenance window ends (%s) before or when it starts (%s)",
			i.ScheduledUntil.UTC().Format(time.RFC3339), i.ScheduledFor.UTC().Format(time.RFC3339)).WithKey("maintenance.window_order")
	}
	if i.ScheduledUntil.Sub(*i.ScheduledFor) > MaxMaintenance {
		return Errorf(EINVALID, "a maintenance window lasts at most %d days", int(MaxMaintenance/(24*time.Hour))).
			WithKey("maintenance.window_long", int(MaxMaintenance/(24*time.Hour)))
	}
	return nil
}

// MaxMaintenance bounds a window: a longer one is a typo more often than a plan.
const MaxMaintenance = 31 * 24 * time.Hour

// StatusFits checks that status is one an incident of this kind takes:
// maintenance statuses for a maintenance, incident statuses otherwise.
func (i *Incident) StatusFits(status IncidentStatus) error {
	if i.Maintenance() && !slices.Contains(MaintenanceStatuses, status) {
		return Errorf(EINVALID, "status %q is not a maintenance's: allowed are scheduled, in_progress, verifying, completed", status).
			WithKey("maintenance.status_invalid", string(status))
	}
	if !i.Maintenance() && !slices.Contains(IncidentStatuses, status) {
		return Errorf(EINVALID, "status %q is a maintenance's: an incident's are investigating, identified, monitoring, resolved, postmortem", status).
			WithKey("incidents.status_unknown", string(status))
	}
	return nil
}

// MaintenanceStep is what a maintenance needs from the worker.
type MaintenanceStep int

const (
	StepNone     MaintenanceStep = iota
	StepRemind                   // the reminder point has passed
	StepStart                    // the window has begun: in progress, services under maintenance
	StepComplete                 // the window has ended: completed, services back
)

// Due says which step a published maintenance needs at now, with reminders
// lead before the window. A window wholly missed (tocsin was down) goes
// straight to completion; a missed reminder is not sent once the window began.
func (i *Incident) Due(now time.Time, lead time.Duration) MaintenanceStep {
	if !i.Maintenance() || !i.Published() || i.Status.Closed() {
		return StepNone
	}
	switch {
	case !now.Before(*i.ScheduledUntil):
		return StepComplete
	case i.Status != MaintenanceScheduled:
		return StepNone
	case !now.Before(*i.ScheduledFor):
		return StepStart
	case i.RemindedAt == nil && !now.Before(i.ScheduledFor.Add(-lead)):
		return StepRemind
	}
	return StepNone
}

// NextStepAt is the next time after now at which Due may change, the zero
// time when none will.
func (i *Incident) NextStepAt(now time.Time, lead time.Duration) time.Time {
	if !i.Maintenance() || !i.Published() || i.Status.Closed() {
		return time.Time{}
	}
	for _, t := range []time.Time{i.ScheduledFor.Add(-lead), *i.ScheduledFor, *i.ScheduledUntil} {
		if t.After(now) {
			return t
		}
	}
	return time.Time{}
}

// MaintenanceService moves scheduled maintenances through their window.
// Each method acts only when the maintenance is still where the step
// expects it (and reports whether it acted), so that a worker restarted, or
// running on two instances, does each step once.
type MaintenanceService interface {
	// StartMaintenance moves a scheduled maintenance to in_progress with an
	// update dated at, and its services to under_maintenance.
	StartMaintenance(ctx context.Context, a Actor, id int64, at time.Time, body string, msgs []*Message) (bool, error)
	// CompleteMaintenance moves an open maintenance to completed with an
	// update dated at, and puts back the services it had put under
	// maintenance (see sqlstore for which status each goes back to).
	CompleteMaintenance(ctx context.Context, a Actor, id int64, at time.Time, body string, msgs []*Message) (bool, error)
	// RemindMaintenance records, once, that the reminder of a scheduled
	// maintenance is due.
	//
	// Each step enqueues msgs in its own transaction, and only if it acted.
	RemindMaintenance(ctx context.Context, a Actor, id int64, at time.Time, msgs []*Message) (bool, error)
}
