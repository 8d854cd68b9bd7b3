package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// An incident's status is that of its newest update (by display time, then
// ID); its services, updates and revisions are read for a whole page of
// incidents at once, with the page's IDs passed as one JSON array so that
// the query text stays the same whatever the page's size.

const incidentColumns = `id, title, status, impact, show_on_sites, published_at, resolved_at, created_by, created_at, updated_at,
	scheduled_for, scheduled_until, reminded_at`

const updateColumns = `id, incident_id, status, body, display_at, created_at, author`

func scanIncident(sc rowScanner) (*tocsin.Incident, error) {
	var i tocsin.Incident
	err := sc.Scan(&i.ID, &i.Title, &i.Status, &i.Impact, &i.ShowOnSites, nullTimeScan{&i.PublishedAt}, nullTimeScan{&i.ResolvedAt},
		&i.CreatedBy, timeScan{&i.CreatedAt}, timeScan{&i.UpdatedAt},
		nullTimeScan{&i.ScheduledFor}, nullTimeScan{&i.ScheduledUntil}, nullTimeScan{&i.RemindedAt})
	if err != nil {
		return nil, err
	}
	return &i, nil
}

func scanUpdate(sc rowScanner) (*tocsin.Update, error) {
	var u tocsin.Update
	err := sc.Scan(&u.ID, &u.IncidentID, &u.Status, &u.Body, timeScan{&u.DisplayAt}, timeScan{&u.CreatedAt}, &u.Author)
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func incidentNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "incident %d does not exist", id)
}

func incidentTarget(id int64) string { return fmt.Sprintf("incident:%d", id) }

// idsIn returns a subquery listing the IDs of a JSON array of integers.
func (c conn) idsIn() string {
	if c.dialect == DialectPostgres {
		return `SELECT CAST(jsonb_array_elements_text(CAST(? AS jsonb)) AS BIGINT)`
	}
	return `SELECT value FROM json_each(?)`
}

func jsonIDs(ids []int64) string {
	b := make([]byte, 0, 8*len(ids)+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// fillIncidents reads the services, updates and revisions of incs in three
// queries.
func (c conn) fillIncidents(ctx context.Context, incs []*tocsin.Incident) error {
	if len(incs) == 0 {
		return nil
	}
	byID := make(map[int64]*tocsin.Incident, len(incs))
	ids := make([]int64, len(incs))
	for i, inc := range incs {
		byID[inc.ID], ids[i] = inc, inc.ID
		inc.Services, inc.Updates = nil, nil
	}
	arg := jsonIDs(ids)

	type impact struct {
		incidentID int64
		tocsin.ServiceImpact
	}
	impacts, err := list(ctx, c, func(sc rowScanner) (impact, error) {
		var im impact
		err := sc.Scan(&im.incidentID, &im.ServiceID, &im.Status)
		return im, err
	}, `SELECT incident_id, service_id, status FROM incident_services
		WHERE incident_id IN (`+c.idsIn()+`) ORDER BY incident_id, service_id`, arg)
	if err != nil {
		return fmt.Errorf("incident services: %w", err)
	}
	for _, im := range impacts {
		inc := byID[im.incidentID]
		inc.Services = append(inc.Services, im.ServiceImpact)
	}

	updates, err := list(ctx, c, scanUpdate, `SELECT `+updateColumns+` FROM incident_updates
		WHERE incident_id IN (`+c.idsIn()+`) ORDER BY display_at DESC, id DESC`, arg)
	if err != nil {
		return fmt.Errorf("incident updates: %w", err)
	}
	updateByID := make(map[int64]*tocsin.Update, len(updates))
	for _, u := range updates {
		updateByID[u.ID] = u
		inc := byID[u.IncidentID]
		inc.Updates = append(inc.Updates, u)
	}

	type revision struct {
		updateID int64
		tocsin.UpdateRevision
	}
	revisions, err := list(ctx, c, func(sc rowScanner) (revision, error) {
		var r revision
		err := sc.Scan(&r.updateID, &r.Body, timeScan{&r.EditedAt}, &r.EditedBy)
		return r, err
	}, `SELECT r.update_id, r.body, r.edited_at, r.edited_by
		FROM update_revisions r JOIN incident_updates u ON u.id = r.update_id
		WHERE u.incident_id IN (`+c.idsIn()+`) ORDER BY r.id`, arg)
	if err != nil {
		return fmt.Errorf("update revisions: %w", err)
	}
	for _, r := range revisions {
		if u := updateByID[r.updateID]; u != nil { // an update added between the two reads
			u.Revisions = append(u.Revisions, r.UpdateRevision)
		}
	}
	return nil
}

// incident reads one incident with its services, updates and revisions.
func (c conn) incident(ctx context.Context, id int64) (*tocsin.Incident, error) {
	return one(ctx, c, scanIncident, c.fillIncidents, incidentNotFound(id), `SELECT `+incidentColumns+` FROM incidents WHERE id = ?`, id)
}

// Incident returns one incident with its services (by service ID), its
// updates (newest first by display time, then ID) and their revisions
// (oldest first); ENOTFOUND if there is none.
func (db *DB) Incident(ctx context.Context, id int64) (*tocsin.Incident, error) {
	inc, err := db.read().incident(ctx, id)
	return inc, wrapErr(err)
}

// Incidents returns the incidents f selects, newest first by creation, each
// filled like Incident's. Limit defaults to 50 and is at most 1000. The page
// and its details take four queries whatever its size.
func (db *DB) Incidents(ctx context.Context, f tocsin.IncidentFilter) ([]*tocsin.Incident, error) {
	var (
		where []string
		args  []any
	)
	if f.Published != nil {
		if *f.Published {
			where = append(where, `published_at IS NOT NULL`)
		} else {
			where = append(where, `published_at IS NULL`)
		}
	}
	if f.Open != nil {
		if *f.Open {
			where = append(where, `status NOT IN ('resolved', 'postmortem', 'completed')`)
		} else {
			where = append(where, `status IN ('resolved', 'postmortem', 'completed')`)
		}
	}
	if f.Maintenance != nil {
		if *f.Maintenance {
			where = append(where, `scheduled_for IS NOT NULL`)
		} else {
			where = append(where, `scheduled_for IS NULL`)
		}
	}
	if !f.Since.IsZero() {
		where, args = append(where, `created_at >= ?`), append(args, f.Since)
	}
	if !f.Until.IsZero() {
		where, args = append(where, `created_at < ?`), append(args, f.Until)
	}
	q := `SELECT ` + incidentColumns + ` FROM incidents`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`
	args = append(args, limitOr(f.Limit, 50, 1000), max(f.Offset, 0))
	c := db.read()
	out, err := list(ctx, c, scanIncident, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: incidents: %w", err)
	}
	if err := c.fillIncidents(ctx, out); err != nil {
		return nil, fmt.Errorf("sqlstore: incidents: %w", err)
	}
	return out, nil
}

// checkServices returns EINVALID naming the first service of ss that does
// not exist.
func (c conn) checkServices(ctx context.Context, ss []tocsin.ServiceImpact) error {
	for _, s := range ss {
		var one int
		err := c.queryRow(ctx, `SELECT 1 FROM services WHERE id = ?`, s.ServiceID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return tocsin.Errorf(tocsin.EINVALID, "there is no service %d", s.ServiceID).WithKey("incidents.service_unknown", s.ServiceID)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (c conn) insertIncidentServices(ctx context.Context, id int64, ss []tocsin.ServiceImpact) error {
	for _, s := range ss {
		if _, err := c.exec(ctx, `INSERT INTO incident_services (incident_id, service_id, status) VALUES (?, ?, ?)`,
			id, s.ServiceID, string(s.Status)); err != nil {
			return err
		}
	}
	return nil
}

// insertUpdate inserts u, valid, into incident id and sets its ID, incident,
// author and creation time.
func (c conn) insertUpdate(ctx context.Context, a tocsin.Actor, id int64, u *tocsin.Update, now time.Time) error {
	u.IncidentID, u.CreatedAt, u.Author, u.Revisions = id, now, a.Label, nil
	u.DisplayAt = u.DisplayAt.UTC().Truncate(time.Microsecond)
	return c.queryRow(ctx, `INSERT INTO incident_updates (incident_id, status, body, display_at, created_at, author)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		id, string(u.Status), u.Body, u.DisplayAt, u.CreatedAt, u.Author).Scan(&u.ID)
}

func sortImpacts(ss []tocsin.ServiceImpact) {
	slices.SortFunc(ss, func(a, b tocsin.ServiceImpact) int { return cmp.Compare(a.ServiceID, b.ServiceID) })
}

// impactsSummary lists services as "ID:status,…" for an audit entry.
func impactsSummary(ss []tocsin.ServiceImpact) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = fmt.Sprintf("%d:%s", s.ServiceID, s.Status)
	}
	return strings.Join(parts, ",")
}

// bodySummary is what an audit entry keeps of an update's body.
func bodySummary(body string) string { return fmt.Sprintf("%q", cut(body, 60)) }

// windowSummary is " window=START/END" for a maintenance, "" otherwise.
func windowSummary(inc *tocsin.Incident) string {
	if !inc.Maintenance() {
		return ""
	}
	return " window=" + inc.ScheduledFor.Format(time.RFC3339) + "/" + inc.ScheduledUntil.Format(time.RFC3339)
}

// utcPtr is t in UTC at the store's precision; nil stays nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC().Truncate(time.Microsecond)
	return &u
}

func sameTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

func publishedSummary(at *time.Time) string {
	if at == nil {
		return "draft"
	}
	return "published_at=" + at.Format(time.RFC3339)
}

// CreateIncident validates inc and first and stores them with inc's
// services, in one transaction with the audit entry "incident.create" and
// msgs. The incident takes first's status (and is resolved at its display
// time if that status is closed), the actor as creator, and stays a draft
// unless PublishedAt is set. Unknown services are EINVALID.
func (db *DB) CreateIncident(ctx context.Context, a tocsin.Actor, inc *tocsin.Incident, first *tocsin.Update, msgs []*tocsin.Message) error {
	if first == nil {
		return tocsin.Errorf(tocsin.EINVALID, "an incident needs a first update").WithKey("incidents.body_empty")
	}
	now := db.now()
	if err := inc.Validate(); err != nil {
		return err
	}
	if inc.Maintenance() && first.Status == "" {
		first.Status = tocsin.MaintenanceScheduled
	}
	if err := first.Validate(now); err != nil {
		return err
	}
	if err := inc.StatusFits(first.Status); err != nil {
		return err
	}
	if inc.Maintenance() && first.Status != tocsin.MaintenanceScheduled {
		// Starting one moves services: the worker (or an update) does it.
		return tocsin.Errorf(tocsin.EINVALID, "a maintenance is created scheduled; it starts at its window").WithKey("maintenance.first_scheduled")
	}
	inc.ScheduledFor, inc.ScheduledUntil, inc.RemindedAt = utcPtr(inc.ScheduledFor), utcPtr(inc.ScheduledUntil), nil
	return db.update(ctx, func(tx conn) error { return tx.createIncident(ctx, a, inc, first, msgs, now) })
}

// createIncident stores a validated inc and its first update in tx (see
// CreateIncident); a security incident's room creates its public incident
// with it, in the transaction that links them.
func (tx conn) createIncident(ctx context.Context, a tocsin.Actor, inc *tocsin.Incident, first *tocsin.Update, msgs []*tocsin.Message, now time.Time) error {
	if err := tx.checkServices(ctx, inc.Services); err != nil {
		return err
	}
	first.DisplayAt = first.DisplayAt.UTC().Truncate(time.Microsecond)
	inc.Status, inc.ResolvedAt = first.Status, nil
	if inc.Status.Closed() {
		at := first.DisplayAt
		inc.ResolvedAt = &at
	}
	if inc.PublishedAt != nil {
		at := inc.PublishedAt.UTC().Truncate(time.Microsecond)
		inc.PublishedAt = &at
	}
	inc.CreatedBy, inc.CreatedAt, inc.UpdatedAt = a.Label, now, now
	err := tx.queryRow(ctx, `INSERT INTO incidents (title, status, impact, show_on_sites, published_at, resolved_at, created_by, created_at, updated_at,
		scheduled_for, scheduled_until)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		inc.Title, string(inc.Status), string(inc.Impact), inc.ShowOnSites, inc.PublishedAt, inc.ResolvedAt,
		inc.CreatedBy, inc.CreatedAt, inc.UpdatedAt, inc.ScheduledFor, inc.ScheduledUntil).Scan(&inc.ID)
	if err != nil {
		return err
	}
	if err := tx.insertIncidentServices(ctx, inc.ID, inc.Services); err != nil {
		return err
	}
	if err := tx.insertUpdate(ctx, a, inc.ID, first, now); err != nil {
		return err
	}
	sortImpacts(inc.Services)
	inc.Updates = []*tocsin.Update{first}
	after := fmt.Sprintf("title=%s status=%s impact=%s services=%s %s%s", bodySummary(inc.Title), inc.Status, inc.Impact,
		impactsSummary(inc.Services), publishedSummary(inc.PublishedAt), windowSummary(inc))
	if err := tx.audit(ctx, a, "incident.create", incidentTarget(inc.ID), "", after); err != nil {
		return err
	}
	if inc.PublishedAt != nil { // subscribers hear of published incidents only
		if err := tx.noticeOfUpdate(ctx, inc.ID, first.ID); err != nil {
			return err
		}
	}
	return tx.enqueue(ctx, msgs)
}

// PublishIncident makes the draft id public at at (now when zero), with the
// audit entry "incident.publish" and msgs. ENOTFOUND for an unknown
// incident, ECONFLICT for one already published.
func (db *DB) PublishIncident(ctx context.Context, a tocsin.Actor, id int64, at time.Time, msgs []*tocsin.Message) error {
	now := db.now()
	if at.IsZero() {
		at = now
	}
	at = at.UTC().Truncate(time.Microsecond)
	return db.update(ctx, func(tx conn) error {
		var published *time.Time
		err := tx.queryRow(ctx, `SELECT published_at FROM incidents WHERE id = ?`, id).Scan(nullTimeScan{&published})
		if errors.Is(err, sql.ErrNoRows) {
			return incidentNotFound(id)
		}
		if err != nil {
			return err
		}
		if published != nil {
			return tocsin.Errorf(tocsin.ECONFLICT, "incident %d is already published (%s)", id, published.Format(time.RFC3339))
		}
		if _, err := tx.exec(ctx, `UPDATE incidents SET published_at = ?, updated_at = ? WHERE id = ?`, at, now, id); err != nil {
			return err
		}
		if err := tx.audit(ctx, a, "incident.publish", incidentTarget(id), "draft", publishedSummary(&at)); err != nil {
			return err
		}
		var newest int64
		if err := tx.queryRow(ctx, `SELECT id FROM incident_updates WHERE incident_id = ? ORDER BY display_at DESC, id DESC LIMIT 1`,
			id).Scan(&newest); err != nil {
			return err
		}
		if err := tx.noticeOfUpdate(ctx, id, newest); err != nil {
			return err
		}
		return tx.enqueue(ctx, msgs)
	})
}

// AddUpdate validates u and appends it to incident incidentID, with the
// audit entry "incident.update" and msgs. The incident's status becomes
// that of its newest update by display time, u's unless u is dated before
// another; reaching a closed status sets ResolvedAt to that update's
// display time if it was not set. ENOTFOUND for an unknown incident;
// ECONFLICT, and nothing written, when the incident is closed and u is not
// a post-mortem note.
func (db *DB) AddUpdate(ctx context.Context, a tocsin.Actor, incidentID int64, u *tocsin.Update, msgs []*tocsin.Message) error {
	now := db.now()
	if err := u.Validate(now); err != nil {
		return err
	}
	return db.update(ctx, func(tx conn) error { return tx.addUpdate(ctx, a, incidentID, u, msgs, now) })
}

// addUpdate appends a validated u to incident incidentID in tx (see
// AddUpdate); a security incident's room publishes through it.
func (tx conn) addUpdate(ctx context.Context, a tocsin.Actor, incidentID int64, u *tocsin.Update, msgs []*tocsin.Message, now time.Time) error {
	inc, err := scanIncident(tx.queryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = ?`, incidentID))
	if errors.Is(err, sql.ErrNoRows) {
		return incidentNotFound(incidentID)
	}
	if err != nil {
		return err
	}
	if err := inc.StatusFits(u.Status); err != nil {
		return err
	}
	if inc.Maintenance() && inc.Status.Closed() {
		return tocsin.Errorf(tocsin.ECONFLICT, "This maintenance is completed: schedule a new one.").WithKey("maintenance.closed")
	}
	if inc.Status.Closed() && u.Status != tocsin.IncidentPostmortem {
		return tocsin.Errorf(tocsin.ECONFLICT, "This incident is resolved: add a post-mortem note, or declare a new incident.").WithKey("incidents.closed")
	}
	return tx.appendUpdate(ctx, a, inc, u, now, "incident.update", msgs)
}

// appendUpdate inserts u, valid, into inc (read in this transaction) and
// sets the incident's status to its newest update's, with the audit entry
// action. A maintenance that this moves into or out of its underway
// statuses moves its services too (maintenance.go).
func (tx conn) appendUpdate(ctx context.Context, a tocsin.Actor, inc *tocsin.Incident, u *tocsin.Update, now time.Time, action string, msgs []*tocsin.Message) error {
	old, resolvedAt, incidentID := inc.Status, inc.ResolvedAt, inc.ID
	if err := tx.insertUpdate(ctx, a, incidentID, u, now); err != nil {
		return err
	}
	newest, err := scanUpdate(tx.queryRow(ctx, `SELECT `+updateColumns+` FROM incident_updates WHERE incident_id = ?
		ORDER BY display_at DESC, id DESC LIMIT 1`, incidentID))
	if err != nil {
		return err
	}
	if newest.Status.Closed() && resolvedAt == nil {
		resolvedAt = &newest.DisplayAt
	}
	// A published post-mortem set the status to postmortem with no
	// update of its own; a later note, even backdated, keeps it.
	status := newest.Status
	if old == tocsin.IncidentPostmortem {
		status = old
	}
	if _, err := tx.exec(ctx, `UPDATE incidents SET status = ?, resolved_at = ?, updated_at = ? WHERE id = ?`,
		string(status), resolvedAt, now, incidentID); err != nil {
		return err
	}
	if inc.Maintenance() {
		if err := tx.moveMaintenanceServices(ctx, a, inc, old, status, newest.DisplayAt); err != nil {
			return err
		}
	}
	after := fmt.Sprintf("status=%s update=%d body=%s", status, u.ID, bodySummary(u.Body))
	if err := tx.audit(ctx, a, action, incidentTarget(incidentID), "status="+string(old), after); err != nil {
		return err
	}
	if inc.PublishedAt != nil { // subscribers hear of published incidents only
		if err := tx.noticeOfUpdate(ctx, incidentID, u.ID); err != nil {
			return err
		}
	}
	return tx.enqueue(ctx, msgs)
}

// EditUpdate replaces the body of update updateID, keeping the previous one
// as a revision by the actor, with the audit entry "incident.update.edit"
// (target the incident). An unchanged body writes nothing. EINVALID for an
// empty or oversized body, ENOTFOUND for an unknown update.
func (db *DB) EditUpdate(ctx context.Context, a tocsin.Actor, updateID int64, body string) error {
	now := db.now()
	check := tocsin.Update{Status: tocsin.IncidentInvestigating, Body: body, DisplayAt: now}
	if err := check.Validate(now); err != nil {
		return err
	}
	return db.update(ctx, func(tx conn) error {
		var (
			incidentID int64
			old        string
		)
		err := tx.queryRow(ctx, `SELECT incident_id, body FROM incident_updates WHERE id = ?`, updateID).Scan(&incidentID, &old)
		if errors.Is(err, sql.ErrNoRows) {
			return tocsin.Errorf(tocsin.ENOTFOUND, "update %d does not exist", updateID)
		}
		if err != nil {
			return err
		}
		if old == body {
			return nil
		}
		if _, err := tx.exec(ctx, `INSERT INTO update_revisions (update_id, body, edited_at, edited_by) VALUES (?, ?, ?, ?)`,
			updateID, old, now, a.Label); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE incident_updates SET body = ? WHERE id = ?`, body, updateID); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE incidents SET updated_at = ? WHERE id = ?`, now, incidentID); err != nil {
			return err
		}
		before, after := bodySummary(old), bodySummary(body)
		if before == after {
			before, after = fmt.Sprintf("(%d bytes)", len(old)), fmt.Sprintf("(%d bytes)", len(body))
		}
		prefix := fmt.Sprintf("update=%d body=", updateID)
		return tx.audit(ctx, a, "incident.update.edit", incidentTarget(incidentID), prefix+before, prefix+after)
	})
}

// SetIncident validates inc and replaces the title, impact, services and
// ShowOnSites of incident inc.ID, with the audit entry "incident.set" listing
// what changed; a change to nothing writes nothing. inc is then filled from
// the store. ENOTFOUND for an unknown incident, EINVALID for unknown
// services.
func (db *DB) SetIncident(ctx context.Context, a tocsin.Actor, inc *tocsin.Incident) error {
	if err := inc.Validate(); err != nil {
		return err
	}
	return db.update(ctx, func(tx conn) error {
		old, err := tx.incident(ctx, inc.ID)
		if err != nil {
			return err
		}
		if err := tx.checkServices(ctx, inc.Services); err != nil {
			return err
		}
		if old.Maintenance() != inc.Maintenance() {
			return tocsin.Errorf(tocsin.EINVALID, "an incident cannot become a maintenance, nor a maintenance an incident").WithKey("maintenance.kind_fixed")
		}
		inc.ScheduledFor, inc.ScheduledUntil = utcPtr(inc.ScheduledFor), utcPtr(inc.ScheduledUntil)
		reminded := old.RemindedAt
		if !sameTime(old.ScheduledFor, inc.ScheduledFor) && old.Status == tocsin.MaintenanceScheduled {
			reminded = nil // moved: the reminder is due again before the new start
		}
		services := slices.Clone(inc.Services)
		sortImpacts(services)
		var b, af []string
		add := func(key, o, n string) {
			if o != n {
				b, af = append(b, key+"="+o), append(af, key+"="+n)
			}
		}
		if old.Title != inc.Title {
			o, n := bodySummary(old.Title), bodySummary(inc.Title)
			if o == n {
				o, n = "(changed)", "(changed)"
			}
			b, af = append(b, "title="+o), append(af, "title="+n)
		}
		add("impact", string(old.Impact), string(inc.Impact))
		add("services", impactsSummary(old.Services), impactsSummary(services))
		add("show_on_sites", strconv.FormatBool(old.ShowOnSites), strconv.FormatBool(inc.ShowOnSites))
		window := func(inc *tocsin.Incident) string { return strings.TrimPrefix(windowSummary(inc), " window=") }
		add("window", window(old), window(inc))
		if len(b) > 0 {
			now := db.now()
			if _, err := tx.exec(ctx, `UPDATE incidents SET title = ?, impact = ?, show_on_sites = ?, updated_at = ?,
				scheduled_for = ?, scheduled_until = ?, reminded_at = ? WHERE id = ?`,
				inc.Title, string(inc.Impact), inc.ShowOnSites, now, inc.ScheduledFor, inc.ScheduledUntil, reminded, inc.ID); err != nil {
				return err
			}
			if _, err := tx.exec(ctx, `DELETE FROM incident_services WHERE incident_id = ?`, inc.ID); err != nil {
				return err
			}
			if err := tx.insertIncidentServices(ctx, inc.ID, services); err != nil {
				return err
			}
			if old.Status.Underway() {
				if err := tx.moveEditedServices(ctx, a, inc.ID, old.Services, services, now); err != nil {
					return err
				}
			}
			if err := tx.audit(ctx, a, "incident.set", incidentTarget(inc.ID), strings.Join(b, " "), strings.Join(af, " ")); err != nil {
				return err
			}
			if old, err = tx.incident(ctx, inc.ID); err != nil {
				return err
			}
		}
		*inc = *old
		return nil
	})
}
