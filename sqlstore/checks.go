package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Checks: their definitions (the spec as JSON, the form the file and the
// API use), created by people or kept equal to the configuration file,
// and their standing (check_status, one row each, made with the check).

const checkColumns = `id, service_id, name, kind, spec, interval_ms, timeout_ms, fail_threshold, pass_threshold, quorum,
	fail_status, page, severity, paused, config_managed, created_at, updated_at`

// checkScan holds a row of checkColumns on its way to a Check.
type checkScan struct {
	c                     tocsin.Check
	spec                  string
	intervalMS, timeoutMS int64
}

func (s *checkScan) dests() []any {
	c := &s.c
	return []any{&c.ID, &c.ServiceID, &c.Name, &c.Kind, &s.spec, &s.intervalMS, &s.timeoutMS, &c.FailThreshold, &c.PassThreshold,
		&c.Quorum, &c.FailStatus, &c.Page, &c.Severity, &c.Paused, &c.ConfigManaged, timeScan{&c.CreatedAt}, timeScan{&c.UpdatedAt}}
}

func (s *checkScan) finish() (*tocsin.Check, error) {
	c := s.c
	if err := json.Unmarshal([]byte(s.spec), &c.Spec); err != nil {
		return nil, fmt.Errorf("check %d spec: %w", c.ID, err)
	}
	c.Interval, c.Timeout = time.Duration(s.intervalMS)*time.Millisecond, time.Duration(s.timeoutMS)*time.Millisecond
	return &c, nil
}

func scanCheck(sc rowScanner) (*tocsin.Check, error) {
	var s checkScan
	if err := sc.Scan(s.dests()...); err != nil {
		return nil, err
	}
	return s.finish()
}

func checkNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "check %d does not exist", id).WithKey("checks.not_found", id)
}

func checkTarget(id int64) string { return fmt.Sprintf("check:%d", id) }

func (c conn) check(ctx context.Context, id int64) (*tocsin.Check, error) {
	ch, err := scanCheck(c.queryRow(ctx, `SELECT `+checkColumns+` FROM checks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, checkNotFound(id)
	}
	return ch, err
}

// Checks returns every check, by service then name.
func (db *DB) Checks(ctx context.Context) ([]*tocsin.Check, error) {
	out, err := list(ctx, db.read(), scanCheck, `SELECT `+checkColumns+` FROM checks ORDER BY service_id, name, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: checks: %w", err)
	}
	return out, nil
}

// Check returns one check; ENOTFOUND if there is none.
func (db *DB) Check(ctx context.Context, id int64) (*tocsin.Check, error) {
	c, err := db.read().check(ctx, id)
	return c, wrapErr(err)
}

// checkSummary is a check's fields for an audit entry.
func checkSummary(c *tocsin.Check) string {
	spec, _ := json.Marshal(c.Spec)
	return fmt.Sprintf("service=%d name=%q kind=%s spec=%s interval=%s timeout=%s fail=%d pass=%d quorum=%d fail_status=%s page=%t severity=%s paused=%t",
		c.ServiceID, c.Name, c.Kind, cut(string(spec), 300), c.Interval, c.Timeout, c.FailThreshold, c.PassThreshold, c.Quorum,
		c.FailStatus, c.Page, c.Severity, c.Paused)
}

// validCheck validates c and checks its service exists (EINVALID if not)
// and no other check of it has its name (ECONFLICT).
func (c conn) validCheck(ctx context.Context, ch *tocsin.Check) error {
	if err := ch.Validate(); err != nil {
		return err
	}
	var one int
	err := c.queryRow(ctx, `SELECT 1 FROM services WHERE id = ?`, ch.ServiceID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return tocsin.Errorf(tocsin.EINVALID, "service %d does not exist: attach the check to an existing service", ch.ServiceID).
			WithKey("checks.service_unknown", ch.ServiceID)
	}
	if err != nil {
		return err
	}
	var other int64
	err = c.queryRow(ctx, `SELECT id FROM checks WHERE service_id = ? AND name = ? AND id <> ?`, ch.ServiceID, ch.Name, ch.ID).Scan(&other)
	if err == nil {
		return tocsin.Errorf(tocsin.ECONFLICT, "this service already has a check named %q; choose another name", ch.Name).
			WithKey("checks.name_taken", ch.Name)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return nil
}

func (c conn) insertCheck(ctx context.Context, ch *tocsin.Check, now time.Time) error {
	spec, err := json.Marshal(ch.Spec)
	if err != nil {
		return err
	}
	ch.CreatedAt, ch.UpdatedAt = now, now
	err = c.queryRow(ctx, `INSERT INTO checks (service_id, name, kind, spec, interval_ms, timeout_ms, fail_threshold, pass_threshold, quorum,
		fail_status, page, severity, paused, config_managed, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		ch.ServiceID, ch.Name, string(ch.Kind), string(spec), ch.Interval.Milliseconds(), ch.Timeout.Milliseconds(), ch.FailThreshold,
		ch.PassThreshold, ch.Quorum, string(ch.FailStatus), ch.Page, ch.Severity, ch.Paused, ch.ConfigManaged, now, now).Scan(&ch.ID)
	if err != nil {
		return err
	}
	state := tocsin.CheckPending
	if ch.Paused {
		state = tocsin.CheckPaused
	}
	_, err = c.exec(ctx, `INSERT INTO check_status (check_id, state) VALUES (?, ?)`, ch.ID, string(state))
	return err
}

func (c conn) updateCheckFields(ctx context.Context, ch *tocsin.Check) error {
	spec, err := json.Marshal(ch.Spec)
	if err != nil {
		return err
	}
	_, err = c.exec(ctx, `UPDATE checks SET service_id = ?, name = ?, kind = ?, spec = ?, interval_ms = ?, timeout_ms = ?, fail_threshold = ?,
		pass_threshold = ?, quorum = ?, fail_status = ?, page = ?, severity = ?, paused = ?, config_managed = ?, updated_at = ? WHERE id = ?`,
		ch.ServiceID, ch.Name, string(ch.Kind), string(spec), ch.Interval.Milliseconds(), ch.Timeout.Milliseconds(), ch.FailThreshold,
		ch.PassThreshold, ch.Quorum, string(ch.FailStatus), ch.Page, ch.Severity, ch.Paused, ch.ConfigManaged, ch.UpdatedAt, ch.ID)
	return err
}

// afterCheckChange follows an edit of a check that moved, paused or
// resumed it, or changed what it probes or its thresholds: its standing
// starts over
// (paused, or pending) and the services it left or joined take their
// checks' status again.
func (c conn) afterCheckChange(ctx context.Context, was, is *tocsin.Check, now time.Time) error {
	wasSpec, _ := json.Marshal(was.Spec)
	isSpec, _ := json.Marshal(is.Spec)
	restart := was.Paused != is.Paused || was.Kind != is.Kind || was.ServiceID != is.ServiceID || string(wasSpec) != string(isSpec) ||
		was.FailThreshold != is.FailThreshold || was.PassThreshold != is.PassThreshold || was.Quorum != is.Quorum
	if restart {
		state := tocsin.CheckPending
		if is.Paused {
			state = tocsin.CheckPaused
		}
		st := &tocsin.CheckStatus{CheckID: is.ID, State: state}
		if err := c.saveCheckStatuses(ctx, []*tocsin.CheckStatus{st}); err != nil {
			return err
		}
	}
	if restart || was.FailStatus != is.FailStatus {
		for _, id := range slices.Compact([]int64{was.ServiceID, is.ServiceID}) {
			if err := c.applyServiceStatus(ctx, id, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// CreateCheck validates and inserts c (pending, or paused), with the
// audit entry "check.create". Checks made here are never config-managed.
// EINVALID for an unknown service, ECONFLICT for a name the service's
// other checks have.
func (db *DB) CreateCheck(ctx context.Context, a tocsin.Actor, c *tocsin.Check) error {
	c.ID, c.ConfigManaged = 0, false
	return db.update(ctx, func(tx conn) error {
		if err := tx.validCheck(ctx, c); err != nil {
			return err
		}
		if err := tx.insertCheck(ctx, c, db.now()); err != nil {
			return err
		}
		return tx.audit(ctx, a, "check.create", checkTarget(c.ID), "", checkSummary(c))
	})
}

// UpdateCheck replaces check c.ID's fields with c's, with the audit entry
// "check.update"; an update that changes nothing writes nothing. Moving a
// check to another service, pausing or resuming it, or changing what it
// probes or its thresholds starts its standing over. ENOTFOUND for an unknown check,
// ECONFLICT for a config-managed one (the file owns it).
func (db *DB) UpdateCheck(ctx context.Context, a tocsin.Actor, c *tocsin.Check) error {
	return db.update(ctx, func(tx conn) error {
		old, err := tx.check(ctx, c.ID)
		if err != nil {
			return err
		}
		if old.ConfigManaged {
			return checkConfigManagedErr(old)
		}
		if err := tx.validCheck(ctx, c); err != nil {
			return err
		}
		c.ConfigManaged, c.CreatedAt, c.UpdatedAt = false, old.CreatedAt, old.UpdatedAt
		before, after := checkSummary(old), checkSummary(c)
		if before == after {
			return nil
		}
		now := db.now()
		c.UpdatedAt = now
		if err := tx.updateCheckFields(ctx, c); err != nil {
			return err
		}
		if err := tx.afterCheckChange(ctx, old, c, now); err != nil {
			return err
		}
		return tx.audit(ctx, a, "check.update", checkTarget(c.ID), before, after)
	})
}

func checkConfigManagedErr(c *tocsin.Check) error {
	return tocsin.Errorf(tocsin.ECONFLICT, "check %q is declared in the configuration file; change it there", c.Name).
		WithKey("checks.config_managed", c.Name)
}

// DeleteCheck removes a check and, by cascade, its standing, results,
// findings and certificate history, with the audit entry "check.delete";
// its service takes its other checks' status. ENOTFOUND for an unknown
// check, ECONFLICT for a config-managed one.
func (db *DB) DeleteCheck(ctx context.Context, a tocsin.Actor, id int64) error {
	return db.update(ctx, func(tx conn) error {
		old, err := tx.check(ctx, id)
		if err != nil {
			return err
		}
		if old.ConfigManaged {
			return checkConfigManagedErr(old)
		}
		if err := tx.deleteCheck(ctx, old, db.now()); err != nil {
			return err
		}
		return tx.audit(ctx, a, "check.delete", checkTarget(id), checkSummary(old), "")
	})
}

func (c conn) deleteCheck(ctx context.Context, ch *tocsin.Check, now time.Time) error {
	if _, err := c.exec(ctx, `DELETE FROM checks WHERE id = ?`, ch.ID); err != nil {
		return err
	}
	return c.applyServiceStatus(ctx, ch.ServiceID, now)
}

// SyncConfigChecks makes the config-managed checks those of specs (each
// with its ServiceID), keyed by service and name, in one transaction with
// one audit entry ("check.sync", target "checks"): missing checks are
// created, existing ones (config-managed or not) take the spec's fields
// and become config-managed, and config-managed checks absent from specs
// are deleted. A sync that changes nothing writes nothing. Each spec gets
// its stored check's ID and times.
func (db *DB) SyncConfigChecks(ctx context.Context, a tocsin.Actor, specs []*tocsin.Check) error {
	type key struct {
		service int64
		name    string
	}
	seen := make(map[key]bool, len(specs))
	for i, c := range specs {
		if err := c.Validate(); err != nil {
			return tocsin.Errorf(tocsin.EINVALID, "configured check %d (%q): %s", i+1, c.Name, tocsin.ErrorMessage(err))
		}
		k := key{c.ServiceID, c.Name}
		if seen[k] {
			return tocsin.Errorf(tocsin.EINVALID, "the check %q is declared twice for one service: give each a distinct name", c.Name)
		}
		seen[k] = true
	}
	return db.update(ctx, func(tx conn) error {
		all, err := list(ctx, tx, scanCheck, `SELECT `+checkColumns+` FROM checks`)
		if err != nil {
			return err
		}
		byKey := make(map[key]*tocsin.Check, len(all))
		for _, c := range all {
			byKey[key{c.ServiceID, c.Name}] = c
		}
		now := db.now()
		var created, updated, deleted int
		for i, spec := range specs {
			spec.ConfigManaged = true
			old := byKey[key{spec.ServiceID, spec.Name}]
			if old == nil {
				var one int
				err := tx.queryRow(ctx, `SELECT 1 FROM services WHERE id = ?`, spec.ServiceID).Scan(&one)
				if errors.Is(err, sql.ErrNoRows) {
					return tocsin.Errorf(tocsin.EINVALID, "configured check %d (%q): service %d does not exist", i+1, spec.Name, spec.ServiceID)
				}
				if err != nil {
					return err
				}
				if err := tx.insertCheck(ctx, spec, now); err != nil {
					return err
				}
				created++
				continue
			}
			spec.ID, spec.CreatedAt, spec.UpdatedAt = old.ID, old.CreatedAt, old.UpdatedAt
			if old.ConfigManaged && checkSummary(old) == checkSummary(spec) {
				continue
			}
			spec.UpdatedAt = now
			if err := tx.updateCheckFields(ctx, spec); err != nil {
				return err
			}
			if err := tx.afterCheckChange(ctx, old, spec, now); err != nil {
				return err
			}
			updated++
		}
		for _, c := range all {
			if c.ConfigManaged && !seen[key{c.ServiceID, c.Name}] {
				if err := tx.deleteCheck(ctx, c, now); err != nil {
					return err
				}
				deleted++
			}
		}
		if created+updated+deleted == 0 {
			return nil
		}
		return tx.audit(ctx, a, "check.sync", "checks", "", fmt.Sprintf("created=%d updated=%d deleted=%d", created, updated, deleted))
	})
}

// Check standing.

const checkStatusColumns = `check_id, state, fails, passes, flapping, locations, last_started_at, last_ok, last_degraded,
	last_duration_us, last_status_code, last_error, last_location, last_success, changed_at, transitions`

// statusScan holds a row of checkStatusColumns on its way to a CheckStatus.
type statusScan struct {
	s                      tocsin.CheckStatus
	locations, transitions string
	lastStarted            *time.Time
	last                   tocsin.CheckResult
	durationUS             int64
}

func (x *statusScan) dests() []any {
	s := &x.s
	return []any{&s.CheckID, &s.State, &s.Fails, &s.Passes, &s.Flapping, &x.locations, nullTimeScan{&x.lastStarted}, &x.last.OK,
		&x.last.Degraded, &x.durationUS, &x.last.StatusCode, &x.last.Error, &x.last.Location, nullTimeScan{&s.LastSuccess},
		nullTimeScan{&s.ChangedAt}, &x.transitions}
}

func (x *statusScan) finish() (*tocsin.CheckStatus, error) {
	s := x.s
	if err := json.Unmarshal([]byte(x.locations), &s.Locations); err != nil {
		return nil, fmt.Errorf("check %d locations: %w", s.CheckID, err)
	}
	if err := json.Unmarshal([]byte(x.transitions), &s.Transitions); err != nil {
		return nil, fmt.Errorf("check %d transitions: %w", s.CheckID, err)
	}
	if x.lastStarted != nil {
		last := x.last
		last.CheckID, last.StartedAt, last.Duration = s.CheckID, *x.lastStarted, time.Duration(x.durationUS)*time.Microsecond
		s.LastResult = &last
	}
	return &s, nil
}

func scanCheckStatus(sc rowScanner) (*tocsin.CheckStatus, error) {
	var x statusScan
	if err := sc.Scan(x.dests()...); err != nil {
		return nil, err
	}
	return x.finish()
}

// CheckStatuses returns every check's standing, by check.
func (db *DB) CheckStatuses(ctx context.Context) ([]*tocsin.CheckStatus, error) {
	out, err := list(ctx, db.read(), scanCheckStatus, `SELECT `+checkStatusColumns+` FROM check_status ORDER BY check_id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: check statuses: %w", err)
	}
	return out, nil
}

// saveCheckStatuses writes statuses, one statement for all.
func (c conn) saveCheckStatuses(ctx context.Context, statuses []*tocsin.CheckStatus) error {
	const cols = 16
	for len(statuses) > 0 {
		n := min(len(statuses), 500)
		chunk := statuses[:n]
		statuses = statuses[n:]
		var b strings.Builder
		b.WriteString(`INSERT INTO check_status (` + checkStatusColumns + `) VALUES `)
		args := make([]any, 0, n*cols)
		for i, s := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			locations, err := json.Marshal(s.Locations)
			if err != nil {
				return err
			}
			if s.Locations == nil {
				locations = []byte("{}")
			}
			transitions, err := json.Marshal(s.Transitions)
			if err != nil {
				return err
			}
			if s.Transitions == nil {
				transitions = []byte("[]")
			}
			var (
				last                     tocsin.CheckResult
				lastStarted, lastSuccess any
				changed                  any
			)
			if s.LastResult != nil {
				last, lastStarted = *s.LastResult, s.LastResult.StartedAt
			}
			if s.LastSuccess != nil {
				lastSuccess = *s.LastSuccess
			}
			if s.ChangedAt != nil {
				changed = *s.ChangedAt
			}
			args = append(args, s.CheckID, string(s.State), s.Fails, s.Passes, s.Flapping, string(locations), lastStarted, last.OK,
				last.Degraded, last.Duration.Microseconds(), last.StatusCode, cut(last.Error, 2000), last.Location, lastSuccess, changed,
				string(transitions))
		}
		b.WriteString(` ON CONFLICT (check_id) DO UPDATE SET state = excluded.state, fails = excluded.fails, passes = excluded.passes,
			flapping = excluded.flapping, locations = excluded.locations, last_started_at = excluded.last_started_at,
			last_ok = excluded.last_ok, last_degraded = excluded.last_degraded, last_duration_us = excluded.last_duration_us,
			last_status_code = excluded.last_status_code, last_error = excluded.last_error, last_location = excluded.last_location,
			last_success = excluded.last_success, changed_at = excluded.changed_at, transitions = excluded.transitions`)
		if _, err := c.exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// serviceUnderMaintenance reports whether a maintenance is in progress for
// service id: under way by its status, or scheduled with its window open
// (the worker not having started it yet).
func (c conn) servicesUnderMaintenance(ctx context.Context, now time.Time) (map[int64]bool, error) {
	ids, err := list(ctx, c, func(sc rowScanner) (int64, error) {
		var id int64
		err := sc.Scan(&id)
		return id, err
	}, `SELECT DISTINCT s.service_id FROM incidents i JOIN incident_services s ON s.incident_id = i.id
		WHERE i.scheduled_for IS NOT NULL AND (i.status IN ('in_progress', 'verifying')
			OR (i.status = 'scheduled' AND i.scheduled_for <= ? AND i.scheduled_until > ?))`, now, now)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]bool, len(ids))
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// applyServiceStatus sets service id to the worst status its checks give
// it (see tocsin.CheckStatus.ServiceStatus), as tocsin.Monitor, dated at —
// unless its status is pinned or a maintenance is in progress for it.
func (c conn) applyServiceStatus(ctx context.Context, id int64, at time.Time) error {
	svc, err := c.service(ctx, id)
	if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
		return nil // deleted with its checks
	}
	if err != nil {
		return err
	}
	if svc.StatusPinned {
		return nil
	}
	under, err := c.servicesUnderMaintenance(ctx, c.now())
	if err != nil || under[id] {
		return err
	}
	type row struct {
		check  tocsin.Check
		status *tocsin.CheckStatus
	}
	rows, err := list(ctx, c, func(sc rowScanner) (row, error) {
		var (
			r               row
			lastOK, lastDeg bool
			lastStarted     *time.Time
		)
		r.status = &tocsin.CheckStatus{}
		err := sc.Scan(&r.check.ID, &r.check.FailStatus, &r.check.Paused, &r.status.State, &r.status.Flapping, &lastOK, &lastDeg,
			nullTimeScan{&lastStarted})
		if lastStarted != nil {
			r.status.LastResult = &tocsin.CheckResult{OK: lastOK, Degraded: lastDeg, StartedAt: *lastStarted}
		}
		return r, err
	}, `SELECT c.id, c.fail_status, c.paused, s.state, s.flapping, s.last_ok, s.last_degraded, s.last_started_at
		FROM checks c JOIN check_status s ON s.check_id = c.id WHERE c.service_id = ?`, id)
	if err != nil {
		return err
	}
	var statuses []tocsin.ServiceStatus
	for _, r := range rows {
		statuses = append(statuses, r.status.ServiceStatus(&r.check))
	}
	want := tocsin.WorstStatus(statuses...)
	if want == svc.Status {
		return nil
	}
	return c.setServiceStatus(ctx, tocsin.Monitor, id, want, at, c.now())
}

// UnpinServiceStatus returns service id to automatic status, with the
// audit entry "service.unpin", and sets at once the status its checks give
// it (unless a maintenance is in progress for it). A service not pinned is
// left alone; ENOTFOUND for an unknown one.
func (db *DB) UnpinServiceStatus(ctx context.Context, a tocsin.Actor, id int64) error {
	return db.update(ctx, func(tx conn) error {
		svc, err := tx.service(ctx, id)
		if err != nil || !svc.StatusPinned {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE services SET status_pinned = ? WHERE id = ?`, false, id); err != nil {
			return err
		}
		if err := tx.audit(ctx, a, "service.unpin", serviceTarget(id), "pinned=true", "pinned=false"); err != nil {
			return err
		}
		now := db.now()
		return tx.applyServiceStatus(ctx, id, now)
	})
}
