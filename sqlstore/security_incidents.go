package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Private security incidents: every mutation writes its timeline entries
// and its audit entry (target "security:N") in one transaction.

const securityColumns = `id, title, summary, severity, status, kind, exposure_started, exposure_ended, detected, reported,
	acknowledged, contained, logs_reviewed, resolved, created_by, created_at, updated_at, closed_at`

// momentColumns are the key moments' columns, in tocsin.AllKeyMoments' order.
var momentColumns = []string{"exposure_started", "exposure_ended", "detected", "reported", "acknowledged", "contained", "logs_reviewed", "resolved"}

func scanSecurity(sc rowScanner) (*tocsin.SecurityIncident, error) {
	var i tocsin.SecurityIncident
	m := &i.Moments
	err := sc.Scan(&i.ID, &i.Title, &i.Summary, &i.Severity, &i.Status, &i.Kind,
		nullTimeScan{&m.ExposureStarted}, nullTimeScan{&m.ExposureEnded}, nullTimeScan{&m.Detected}, nullTimeScan{&m.Reported},
		nullTimeScan{&m.Acknowledged}, nullTimeScan{&m.Contained}, nullTimeScan{&m.LogsReviewed}, nullTimeScan{&m.Resolved},
		&i.CreatedBy, timeScan{&i.CreatedAt}, timeScan{&i.UpdatedAt}, nullTimeScan{&i.ClosedAt})
	if err != nil {
		return nil, err
	}
	return &i, nil
}

func securityNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "security incident %d does not exist", id).WithKey("security.not_found", id)
}

func securityTarget(id int64) string { return "security:" + strconv.FormatInt(id, 10) }

// fillSecurity reads the roles and links of incs in two queries.
func (c conn) fillSecurity(ctx context.Context, incs []*tocsin.SecurityIncident) error {
	if len(incs) == 0 {
		return nil
	}
	byID := make(map[int64]*tocsin.SecurityIncident, len(incs))
	ids := make([]int64, len(incs))
	for i, inc := range incs {
		byID[inc.ID], ids[i] = inc, inc.ID
		inc.Roles, inc.Links = nil, nil
	}
	arg := jsonIDs(ids)
	type holder struct {
		incidentID int64
		tocsin.RoleHolder
	}
	holders, err := list(ctx, c, func(sc rowScanner) (holder, error) {
		var h holder
		var disabled *time.Time
		err := sc.Scan(&h.incidentID, &h.Role, &h.UserID, &h.Email, &h.Name, nullTimeScan{&disabled})
		h.Disabled = disabled != nil
		return h, err
	}, `SELECT r.incident_id, r.role, u.id, u.email, u.name, u.disabled_at FROM security_roles r JOIN users u ON u.id = r.user_id
		WHERE r.incident_id IN (`+c.idsIn()+`)
		ORDER BY r.incident_id, CASE r.role WHEN 'lead' THEN 0 WHEN 'comms' THEN 1 WHEN 'scribe' THEN 2 ELSE 3 END, u.email`, arg)
	if err != nil {
		return fmt.Errorf("security roles: %w", err)
	}
	for _, h := range holders {
		inc := byID[h.incidentID]
		inc.Roles = append(inc.Roles, h.RoleHolder)
	}
	type link struct {
		incidentID int64
		tocsin.SecurityLink
	}
	// Each stored link is seen from both ends: from from_id as stored,
	// from to_id as its inverse.
	links, err := list(ctx, c, func(sc rowScanner) (link, error) {
		var l link
		var reversed bool
		err := sc.Scan(&l.incidentID, &l.Kind, &reversed, &l.OtherID, &l.Title, &l.Status)
		if reversed {
			l.Kind = l.Kind.Inverse()
		}
		return l, err
	}, `SELECT l.from_id, l.kind, false, o.id, o.title, o.status FROM security_links l JOIN security_incidents o ON o.id = l.to_id
		WHERE l.from_id IN (`+c.idsIn()+`)
		UNION ALL
		SELECT l.to_id, l.kind, true, o.id, o.title, o.status FROM security_links l JOIN security_incidents o ON o.id = l.from_id
		WHERE l.to_id IN (`+c.idsIn()+`)
		ORDER BY 1, 4`, arg, arg)
	if err != nil {
		return fmt.Errorf("security links: %w", err)
	}
	for _, l := range links {
		inc := byID[l.incidentID]
		inc.Links = append(inc.Links, l.SecurityLink)
	}
	return nil
}

func (c conn) securityIncident(ctx context.Context, id int64) (*tocsin.SecurityIncident, error) {
	return one(ctx, c, scanSecurity, c.fillSecurity, securityNotFound(id), `SELECT `+securityColumns+` FROM security_incidents WHERE id = ?`, id)
}

// SecurityIncident returns one incident with its roles and links;
// ENOTFOUND if there is none.
func (db *DB) SecurityIncident(ctx context.Context, id int64) (*tocsin.SecurityIncident, error) {
	inc, err := db.read().securityIncident(ctx, id)
	return inc, wrapErr(err)
}

// SecurityIncidents returns the incidents f selects: open ones first, then
// by severity (SEV1 first), newest first. Limit defaults to 100, at most 1000.
func (db *DB) SecurityIncidents(ctx context.Context, f tocsin.SecurityIncidentFilter) ([]*tocsin.SecurityIncident, error) {
	q := `SELECT ` + securityColumns + ` FROM security_incidents`
	var args []any
	if f.Open != nil {
		if *f.Open {
			q += ` WHERE status <> 'closed'`
		} else {
			q += ` WHERE status = 'closed'`
		}
	}
	q += ` ORDER BY CASE status WHEN 'closed' THEN 1 ELSE 0 END, severity, created_at DESC, id DESC LIMIT ? OFFSET ?`
	args = append(args, limitOr(f.Limit, 100, 1000), max(f.Offset, 0))
	c := db.read()
	out, err := list(ctx, c, scanSecurity, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: security incidents: %w", err)
	}
	if err := c.fillSecurity(ctx, out); err != nil {
		return nil, fmt.Errorf("sqlstore: security incidents: %w", err)
	}
	return out, nil
}

// entry appends an automatic or manual timeline entry, setting its ID.
func (c conn) entry(ctx context.Context, a tocsin.Actor, id int64, e *tocsin.SecurityEntry, now time.Time) error {
	e.IncidentID, e.CreatedAt, e.Author = id, now, a.Label
	if e.OccurredAt.IsZero() {
		e.OccurredAt = now
	}
	e.OccurredAt = e.OccurredAt.UTC().Truncate(time.Microsecond)
	var decision *int64
	if e.Decision != nil {
		decision = &e.Decision.ID
	}
	return c.queryRow(ctx, `INSERT INTO security_timeline (incident_id, kind, occurred_at, created_at, author, subject, old_value, new_value, body, decision_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		id, string(e.Kind), e.OccurredAt, e.CreatedAt, e.Author, e.Subject, e.Old, e.New, e.Body, decision).Scan(&e.ID)
}

// notified records on incident id's timeline that messages were just
// enqueued about it: what ("page", "gdpr", "task") to whom, about what.
func (c conn) notified(ctx context.Context, id int64, what string, to []string, about string, now time.Time) error {
	return c.entry(ctx, tocsin.System, id, &tocsin.SecurityEntry{Kind: tocsin.EntryNotified, Subject: what, New: strings.Join(to, ", "), Body: about}, now)
}

// touch stamps an incident as changed.
func (c conn) touch(ctx context.Context, id int64, now time.Time) error {
	_, err := c.exec(ctx, `UPDATE security_incidents SET updated_at = ? WHERE id = ?`, now, id)
	return err
}

// CreateSecurityIncident validates inc and stores it in triage with its
// "created" entry and the audit entry "security.create".
func (db *DB) CreateSecurityIncident(ctx context.Context, a tocsin.Actor, inc *tocsin.SecurityIncident) error {
	inc.Status = tocsin.SecTriage
	if err := inc.Validate(); err != nil {
		return err
	}
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		return tx.createSecurity(ctx, a, inc, nil, now)
	})
}

// createSecurity inserts validated inc with its "created" entry and audit
// entry; from, when set, is the signal it is opened from: its receipt is
// the "reported" moment and its acknowledgement (a page's, often) the
// "acknowledged" one, both also on the timeline, so the time to
// acknowledge is known from the start; the created entry's Subject names
// its receipt.
func (c conn) createSecurity(ctx context.Context, a tocsin.Actor, inc *tocsin.SecurityIncident, from *tocsin.Signal, now time.Time) error {
	inc.CreatedBy, inc.CreatedAt, inc.UpdatedAt, inc.ClosedAt = a.Label, now, now, nil
	inc.Moments, inc.Roles, inc.Links = tocsin.KeyMoments{}, nil, nil
	created := &tocsin.SecurityEntry{Kind: tocsin.EntryCreated, New: string(inc.Severity), Body: inc.Title}
	after := fmt.Sprintf("title=%s severity=%s kind=%s", bodySummary(inc.Title), inc.Severity, inc.Kind)
	if from != nil {
		reported := from.ReceivedAt.UTC()
		inc.Moments.Reported = &reported
		if at := from.AcknowledgedAt; at != nil && !at.Before(reported) {
			ack := at.UTC()
			inc.Moments.Acknowledged = &ack
		}
		created.Subject = from.Receipt
		after += fmt.Sprintf(" signal=%d receipt=%s", from.ID, from.Receipt)
	}
	err := c.queryRow(ctx, `INSERT INTO security_incidents (title, summary, severity, status, kind, reported, acknowledged, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		inc.Title, inc.Summary, string(inc.Severity), string(inc.Status), string(inc.Kind), inc.Moments.Reported, inc.Moments.Acknowledged,
		inc.CreatedBy, now, now).Scan(&inc.ID)
	if err != nil {
		return err
	}
	if err := c.entry(ctx, a, inc.ID, created, now); err != nil {
		return err
	}
	for _, m := range []tocsin.KeyMoment{tocsin.MomentReported, tocsin.MomentAcknowledged} {
		if at := inc.Moments.At(m); at != nil {
			moment := &tocsin.SecurityEntry{Kind: tocsin.EntryMoment, Subject: string(m), New: momentText(at), OccurredAt: *at}
			if err := c.entry(ctx, a, inc.ID, moment, now); err != nil {
				return err
			}
		}
	}
	return c.audit(ctx, a, "security.create", securityTarget(inc.ID), "", after)
}

// SetSecurityIncident replaces title, summary, severity and kind of inc.ID,
// with a "severity" entry when the severity changed, an "edited" entry
// naming the other fields changed, and the audit entry "security.set". A
// change to nothing writes nothing. inc is then filled from the store.
func (db *DB) SetSecurityIncident(ctx context.Context, a tocsin.Actor, inc *tocsin.SecurityIncident) error {
	inc.Status = ""
	if err := inc.Validate(); err != nil {
		return err
	}
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		if _, _, err := tx.securityStatus(ctx, inc.ID); err != nil {
			return err
		}
		old, err := tx.securityIncident(ctx, inc.ID)
		if err != nil {
			return err
		}
		var fields, before, after []string
		if old.Title != inc.Title {
			fields = append(fields, "title")
			before, after = append(before, "title="+bodySummary(old.Title)), append(after, "title="+bodySummary(inc.Title))
		}
		if old.Summary != inc.Summary {
			fields = append(fields, "summary")
			before, after = append(before, fmt.Sprintf("summary=(%d bytes)", len(old.Summary))), append(after, fmt.Sprintf("summary=(%d bytes)", len(inc.Summary)))
		}
		if old.Kind != inc.Kind {
			fields = append(fields, "kind")
			before, after = append(before, "kind="+string(old.Kind)), append(after, "kind="+string(inc.Kind))
		}
		if old.Severity != inc.Severity {
			before, after = append(before, "severity="+string(old.Severity)), append(after, "severity="+string(inc.Severity))
			if err := tx.entry(ctx, a, inc.ID, &tocsin.SecurityEntry{Kind: tocsin.EntrySeverity, Old: string(old.Severity), New: string(inc.Severity)}, now); err != nil {
				return err
			}
		}
		if len(before) > 0 {
			if len(fields) > 0 {
				if err := tx.entry(ctx, a, inc.ID, &tocsin.SecurityEntry{Kind: tocsin.EntryEdited, Subject: strings.Join(fields, ",")}, now); err != nil {
					return err
				}
			}
			if _, err := tx.exec(ctx, `UPDATE security_incidents SET title = ?, summary = ?, severity = ?, kind = ?, updated_at = ? WHERE id = ?`,
				inc.Title, inc.Summary, string(inc.Severity), string(inc.Kind), now, inc.ID); err != nil {
				return err
			}
			if err := tx.audit(ctx, a, "security.set", securityTarget(inc.ID), strings.Join(before, " "), strings.Join(after, " ")); err != nil {
				return err
			}
			if old, err = tx.securityIncident(ctx, inc.ID); err != nil {
				return err
			}
		}
		*inc = *old
		return nil
	})
}

// securityStatus reads an incident's status and creation time inside a
// write transaction, locking its row in PostgreSQL so that changes to one
// incident (status moves, single roles) are serialized as SQLite's single
// writer serializes them.
func (c conn) securityStatus(ctx context.Context, id int64) (tocsin.SecurityStatus, time.Time, error) {
	var (
		st      tocsin.SecurityStatus
		created time.Time
	)
	lock := ""
	if c.dialect == DialectPostgres {
		lock = ` FOR UPDATE`
	}
	err := c.queryRow(ctx, `SELECT status, created_at FROM security_incidents WHERE id = ?`+lock, id).Scan(&st, timeScan{&created})
	if errors.Is(err, sql.ErrNoRows) {
		return "", created, securityNotFound(id)
	}
	return st, created, err
}

// moveStatus writes a status change and its entry and audit entry.
func (c conn) moveStatus(ctx context.Context, a tocsin.Actor, id int64, from, to tocsin.SecurityStatus, reason string, kind tocsin.EntryKind, action string, now time.Time) error {
	var closedAt *time.Time
	if to == tocsin.SecClosed {
		closedAt = &now
	}
	if _, err := c.exec(ctx, `UPDATE security_incidents SET status = ?, closed_at = ?, updated_at = ? WHERE id = ?`, string(to), closedAt, now, id); err != nil {
		return err
	}
	if err := c.entry(ctx, a, id, &tocsin.SecurityEntry{Kind: kind, Old: string(from), New: string(to), Body: strings.TrimSpace(reason)}, now); err != nil {
		return err
	}
	after := "status=" + string(to)
	if strings.TrimSpace(reason) != "" {
		after += " reason=" + bodySummary(reason)
	}
	return c.audit(ctx, a, action, securityTarget(id), "status="+string(from), after)
}

// SetSecurityStatus moves incident id to status to (tocsin.CheckStatusChange's
// rules), with a "status" entry and the audit entry "security.status".
func (db *DB) SetSecurityStatus(ctx context.Context, a tocsin.Actor, id int64, to tocsin.SecurityStatus, reason string) error {
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		from, _, err := tx.securityStatus(ctx, id)
		if err != nil {
			return err
		}
		if err := tocsin.CheckStatusChange(from, to, reason); err != nil {
			return err
		}
		return tx.moveStatus(ctx, a, id, from, to, reason, tocsin.EntryStatus, "security.status", now)
	})
}

// ReopenSecurityIncident reopens closed incident id in status to with the
// reason, as a "reopened" entry and the audit entry "security.reopen".
func (db *DB) ReopenSecurityIncident(ctx context.Context, a tocsin.Actor, id int64, to tocsin.SecurityStatus, reason string) error {
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		from, _, err := tx.securityStatus(ctx, id)
		if err != nil {
			return err
		}
		if err := tocsin.ReopenCheck(from, to, reason); err != nil {
			return err
		}
		return tx.moveStatus(ctx, a, id, from, to, reason, tocsin.EntryReopened, "security.reopen", now)
	})
}

// activeUser returns the e-mail of an enabled account; EINVALID naming it
// when it is unknown or disabled.
func (c conn) activeUser(ctx context.Context, userID int64) (string, error) {
	var (
		email    string
		disabled *time.Time
	)
	err := c.queryRow(ctx, `SELECT email, disabled_at FROM users WHERE id = ?`, userID).Scan(&email, nullTimeScan{&disabled})
	if errors.Is(err, sql.ErrNoRows) {
		return "", tocsin.Errorf(tocsin.EINVALID, "there is no account %d", userID).WithKey("security.user_unknown", userID)
	}
	if err != nil {
		return "", err
	}
	if disabled != nil {
		return "", tocsin.Errorf(tocsin.EINVALID, "the account %s is disabled: a disabled account cannot hold a role", email).
			WithKey("security.user_disabled", email)
	}
	return email, nil
}

// AssignSecurityRole gives role on incident id to account userID, with a
// "role" entry and the audit entry "security.role". For a single role the
// previous holder loses it. ECONFLICT when the account already holds it.
func (db *DB) AssignSecurityRole(ctx context.Context, a tocsin.Actor, id int64, role tocsin.IncidentRole, userID int64) error {
	if _, err := tocsin.ParseIncidentRole(string(role)); err != nil {
		return err
	}
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		if _, _, err := tx.securityStatus(ctx, id); err != nil {
			return err
		}
		email, err := tx.activeUser(ctx, userID)
		if err != nil {
			return err
		}
		var held int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM security_roles WHERE incident_id = ? AND role = ? AND user_id = ?`, id, string(role), userID).Scan(&held); err != nil {
			return err
		}
		if held > 0 {
			return tocsin.Errorf(tocsin.ECONFLICT, "%s already holds this role", email).WithKey("security.role_held", email)
		}
		previous := ""
		if role.Single() {
			err := tx.queryRow(ctx, `SELECT u.email FROM security_roles r JOIN users u ON u.id = r.user_id WHERE r.incident_id = ? AND r.role = ?`,
				id, string(role)).Scan(&previous)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if _, err := tx.exec(ctx, `DELETE FROM security_roles WHERE incident_id = ? AND role = ?`, id, string(role)); err != nil {
				return err
			}
		}
		if _, err := tx.exec(ctx, `INSERT INTO security_roles (incident_id, role, user_id) VALUES (?, ?, ?)`, id, string(role), userID); err != nil {
			return err
		}
		if err := tx.entry(ctx, a, id, &tocsin.SecurityEntry{Kind: tocsin.EntryRole, Subject: string(role), Old: previous, New: email}, now); err != nil {
			return err
		}
		if err := tx.touch(ctx, id, now); err != nil {
			return err
		}
		return tx.audit(ctx, a, "security.role", securityTarget(id), string(role)+"="+previous, string(role)+"="+email)
	})
}

// UnassignSecurityRole takes role on incident id from account userID, with
// a "role" entry (New empty) and the audit entry "security.role".
// ENOTFOUND when the account does not hold it.
func (db *DB) UnassignSecurityRole(ctx context.Context, a tocsin.Actor, id int64, role tocsin.IncidentRole, userID int64) error {
	if _, err := tocsin.ParseIncidentRole(string(role)); err != nil {
		return err
	}
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		if _, _, err := tx.securityStatus(ctx, id); err != nil {
			return err
		}
		var email string
		err := tx.queryRow(ctx, `SELECT u.email FROM security_roles r JOIN users u ON u.id = r.user_id
			WHERE r.incident_id = ? AND r.role = ? AND r.user_id = ?`, id, string(role), userID).Scan(&email)
		if errors.Is(err, sql.ErrNoRows) {
			return tocsin.Errorf(tocsin.ENOTFOUND, "account %d does not hold the role %s on this incident", userID, role).WithKey("security.role_not_held")
		}
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM security_roles WHERE incident_id = ? AND role = ? AND user_id = ?`, id, string(role), userID); err != nil {
			return err
		}
		if err := tx.entry(ctx, a, id, &tocsin.SecurityEntry{Kind: tocsin.EntryRole, Subject: string(role), Old: email}, now); err != nil {
			return err
		}
		if err := tx.touch(ctx, id, now); err != nil {
			return err
		}
		return tx.audit(ctx, a, "security.role", securityTarget(id), string(role)+"="+email, string(role)+"=")
	})
}

// LinkSecurityIncidents links id to other as kind (read from id), with a
// "link" entry on each and the audit entry "security.link" on id. EINVALID
// for a self-link or an unknown other; ECONFLICT when the two are already
// linked in any way.
func (db *DB) LinkSecurityIncidents(ctx context.Context, a tocsin.Actor, id, other int64, kind tocsin.LinkKind) error {
	if _, err := tocsin.ParseLinkKind(string(kind)); err != nil {
		return err
	}
	if id == other {
		return tocsin.Errorf(tocsin.EINVALID, "an incident cannot be linked to itself").WithKey("security.link_self")
	}
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		// Both rows are locked, the lower ID first, so that two links made
		// at once between the same pair cannot deadlock.
		if id < other {
			if _, _, err := tx.securityStatus(ctx, id); err != nil {
				return err
			}
		}
		if _, _, err := tx.securityStatus(ctx, other); err != nil {
			if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
				return tocsin.Errorf(tocsin.EINVALID, "there is no security incident %d", other).WithKey("security.link_unknown_incident", other)
			}
			return err
		}
		if id > other {
			if _, _, err := tx.securityStatus(ctx, id); err != nil {
				return err
			}
		}
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM security_links WHERE (from_id = ? AND to_id = ?) OR (from_id = ? AND to_id = ?)`,
			id, other, other, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return tocsin.Errorf(tocsin.ECONFLICT, "these incidents are already linked").WithKey("security.link_exists", other)
		}
		from, to, stored := id, other, kind
		switch kind {
		case tocsin.LinkDuplicated, tocsin.LinkChild:
			from, to, stored = other, id, kind.Inverse()
		case tocsin.LinkRelated:
			from, to = min(id, other), max(id, other)
		}
		if _, err := tx.exec(ctx, `INSERT INTO security_links (from_id, to_id, kind, created_at) VALUES (?, ?, ?, ?)`, from, to, string(stored), now); err != nil {
			return err
		}
		if err := tx.entry(ctx, a, id, &tocsin.SecurityEntry{Kind: tocsin.EntryLink, Subject: string(kind), New: strconv.FormatInt(other, 10)}, now); err != nil {
			return err
		}
		if err := tx.entry(ctx, a, other, &tocsin.SecurityEntry{Kind: tocsin.EntryLink, Subject: string(kind.Inverse()), New: strconv.FormatInt(id, 10)}, now); err != nil {
			return err
		}
		if err := tx.touch(ctx, id, now); err != nil {
			return err
		}
		if err := tx.touch(ctx, other, now); err != nil {
			return err
		}
		return tx.audit(ctx, a, "security.link", securityTarget(id), "", fmt.Sprintf("%s=%s", kind, securityTarget(other)))
	})
}
