package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/tocsin-org/tocsin"
)

// A scheduled maintenance is an incident with a window (incidents.go). The
// steps below act only when the maintenance is where the step expects it,
// checked inside the write transaction, so that a restarted worker, or two
// instances sharing PostgreSQL, do each step once.

// StartMaintenance moves scheduled maintenance id to in_progress with an
// update dated at (audit "maintenance.start"), and its services to
// under_maintenance (one "service.status" entry each, in the same
// transaction), and enqueues msgs (subscribers' notices) with them. It
// reports false, writing nothing, when the maintenance is not scheduled any
// more; ENOTFOUND for an unknown one, EINVALID for an
// incident.
func (db *DB) StartMaintenance(ctx context.Context, a tocsin.Actor, id int64, at time.Time, body string, msgs []*tocsin.Message) (bool, error) {
	return db.maintenanceStep(ctx, a, id, at, body, msgs, tocsin.MaintenanceInProgress, "maintenance.start",
		func(s tocsin.IncidentStatus) bool { return s == tocsin.MaintenanceScheduled })
}

// CompleteMaintenance moves open maintenance id to completed with an update
// dated at (audit "maintenance.complete"). If it was under way, each of its
// services still under maintenance goes back to:
//   - under_maintenance still, when another maintenance under way covers it;
//   - the worst status an open, published incident declares for it;
//   - operational otherwise.
//
// A service whose status someone changed during the window keeps it: the
// person who set it knows better. msgs are enqueued with the step. It
// reports false, writing nothing, for a maintenance already completed.
func (db *DB) CompleteMaintenance(ctx context.Context, a tocsin.Actor, id int64, at time.Time, body string, msgs []*tocsin.Message) (bool, error) {
	return db.maintenanceStep(ctx, a, id, at, body, msgs, tocsin.MaintenanceCompleted, "maintenance.complete",
		func(s tocsin.IncidentStatus) bool { return !s.Closed() })
}

func (db *DB) maintenanceStep(ctx context.Context, a tocsin.Actor, id int64, at time.Time, body string, msgs []*tocsin.Message,
	to tocsin.IncidentStatus, action string, from func(tocsin.IncidentStatus) bool) (bool, error) {
	at = at.UTC().Truncate(time.Microsecond)
	u := &tocsin.Update{Status: to, Body: body, DisplayAt: at}
	if err := u.Validate(at); err != nil {
		return false, err
	}
	acted := false
	err := db.update(ctx, func(tx conn) error {
		inc, err := tx.maintenance(ctx, id)
		if err != nil || !from(inc.Status) {
			return err
		}
		// Never dated before the newest update, or that one would stay the
		// newest and keep the status this step sets.
		var newest time.Time
		err = tx.queryRow(ctx, `SELECT MAX(display_at) FROM incident_updates WHERE incident_id = ?`, id).Scan(timeScan{&newest})
		if err != nil {
			return err
		}
		if u.DisplayAt.Before(newest) {
			u.DisplayAt = newest
		}
		acted = true
		return tx.appendUpdate(ctx, a, inc, u, db.now(), action, msgs)
	})
	return acted && err == nil, err
}

// RemindMaintenance records at as the reminder time of scheduled
// maintenance id, once (audit "maintenance.remind"), and enqueues msgs —
// the subscribers' reminders — in the same transaction. It reports false,
// writing nothing, when the reminder was already recorded or the
// maintenance is no longer scheduled. A published maintenance's reminder is
// a notice to the subscribers of its services, in the same transaction.
func (db *DB) RemindMaintenance(ctx context.Context, a tocsin.Actor, id int64, at time.Time, msgs []*tocsin.Message) (bool, error) {
	at = at.UTC().Truncate(time.Microsecond)
	acted := false
	err := db.update(ctx, func(tx conn) error {
		inc, err := tx.maintenance(ctx, id)
		if err != nil || inc.Status != tocsin.MaintenanceScheduled || inc.RemindedAt != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE incidents SET reminded_at = ? WHERE id = ?`, at, id); err != nil {
			return err
		}
		acted = true
		if err := tx.audit(ctx, a, "maintenance.remind", incidentTarget(id), "", "reminded_at="+at.Format(time.RFC3339)+windowSummary(inc)); err != nil {
			return err
		}
		if err := tx.noticeOfReminder(ctx, id); err != nil {
			return err
		}
		return tx.enqueue(ctx, msgs)
	})
	return acted && err == nil, err
}

// maintenance reads maintenance id's own row; EINVALID for an incident.
func (c conn) maintenance(ctx context.Context, id int64) (*tocsin.Incident, error) {
	inc, err := scanIncident(c.queryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, incidentNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	if !inc.Maintenance() {
		return nil, tocsin.Errorf(tocsin.EINVALID, "incident %d is not a scheduled maintenance", id).WithKey("maintenance.not_maintenance", id)
	}
	return inc, nil
}

// moveMaintenanceServices puts inc's services under maintenance when its
// status enters the underway ones, and back (see CompleteMaintenance) when
// it leaves them, whoever moved it: the worker or a communicator's update.
func (c conn) moveMaintenanceServices(ctx context.Context, a tocsin.Actor, inc *tocsin.Incident, from, to tocsin.IncidentStatus, at time.Time) error {
	if from.Underway() == to.Underway() {
		return nil
	}
	ids, err := list(ctx, c, func(sc rowScanner) (int64, error) {
		var id int64
		err := sc.Scan(&id)
		return id, err
	}, `SELECT service_id FROM incident_services WHERE incident_id = ? ORDER BY service_id`, inc.ID)
	if err != nil {
		return err
	}
	now := c.now()
	for _, id := range ids {
		status := tocsin.StatusMaintenance
		if !to.Underway() {
			var keep bool
			if status, keep, err = c.statusAfterMaintenance(ctx, inc.ID, id); err != nil {
				return err
			}
			if keep {
				continue
			}
		}
		if err := c.setServiceStatus(ctx, a, id, status, at, now); err != nil {
			return err
		}
	}
	return nil
}

// moveEditedServices follows an edit of the services of maintenance id while
// it is under way: a service added goes under maintenance, one removed goes
// back as at the end of the maintenance.
func (c conn) moveEditedServices(ctx context.Context, a tocsin.Actor, id int64, was, is []tocsin.ServiceImpact, now time.Time) error {
	has := func(list []tocsin.ServiceImpact, svc int64) bool {
		return slices.ContainsFunc(list, func(s tocsin.ServiceImpact) bool { return s.ServiceID == svc })
	}
	for _, s := range is {
		if !has(was, s.ServiceID) {
			if err := c.setServiceStatus(ctx, a, s.ServiceID, tocsin.StatusMaintenance, now, now); err != nil {
				return err
			}
		}
	}
	for _, s := range was {
		if has(is, s.ServiceID) {
			continue
		}
		status, keep, err := c.statusAfterMaintenance(ctx, id, s.ServiceID)
		if err != nil {
			return err
		}
		if !keep {
			if err := c.setServiceStatus(ctx, a, s.ServiceID, status, now, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// statusAfterMaintenance is the status service id goes back to when
// maintenance incidentID ends, or keep when it should stay as it is.
func (c conn) statusAfterMaintenance(ctx context.Context, incidentID, id int64) (status tocsin.ServiceStatus, keep bool, err error) {
	svc, err := c.service(ctx, id)
	if err != nil || svc.Status != tocsin.StatusMaintenance {
		return "", true, err // changed meanwhile by someone who knows better
	}
	var others int
	err = c.queryRow(ctx, `SELECT COUNT(*) FROM incidents i JOIN incident_services s ON s.incident_id = i.id
		WHERE s.service_id = ? AND i.id <> ? AND i.scheduled_for IS NOT NULL AND i.status IN ('in_progress', 'verifying')`,
		id, incidentID).Scan(&others)
	if err != nil || others > 0 {
		return "", true, err
	}
	declared, err := list(ctx, c, func(sc rowScanner) (tocsin.ServiceStatus, error) {
		var st tocsin.ServiceStatus
		err := sc.Scan(&st)
		return st, err
	}, `SELECT s.status FROM incidents i JOIN incident_services s ON s.incident_id = i.id
		WHERE s.service_id = ? AND i.scheduled_for IS NULL AND i.published_at IS NOT NULL
		AND i.status NOT IN ('resolved', 'postmortem')`, id)
	if err != nil {
		return "", false, err
	}
	status = tocsin.StatusOperational
	for _, st := range declared {
		if slices.Index(tocsin.ServiceStatuses, st) > slices.Index(tocsin.ServiceStatuses, status) {
			status = st
		}
	}
	return status, false, nil
}
