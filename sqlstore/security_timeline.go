package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// A timeline page is one indexed range scan (incident_id, occurred_at, id)
// with the decisions it shows joined in, so that an incident with ten
// thousand entries costs what one page costs.

func scanEntry(sc rowScanner) (*tocsin.SecurityEntry, error) {
	var (
		e                                 tocsin.SecurityEntry
		decisionID, decidedBy             sql.NullInt64
		choice, options, why, email, name sql.NullString
		decidedAt                         *time.Time
	)
	err := sc.Scan(&e.ID, &e.IncidentID, &e.Kind, timeScan{&e.OccurredAt}, timeScan{&e.CreatedAt}, &e.Author, &e.Subject, &e.Old, &e.New, &e.Body,
		&decisionID, &choice, &options, &why, &decidedBy, nullTimeScan{&decidedAt}, &email, &name)
	if err != nil {
		return nil, err
	}
	if decisionID.Valid && decidedAt != nil {
		e.Decision = &tocsin.Decision{ID: decisionID.Int64, Choice: choice.String, Options: options.String, Why: why.String,
			DecidedBy: decidedBy.Int64, DecidedAt: *decidedAt, DecidedByEmail: email.String, DecidedByName: name.String}
	}
	return &e, nil
}

const entrySelect = `SELECT t.id, t.incident_id, t.kind, t.occurred_at, t.created_at, t.author, t.subject, t.old_value, t.new_value, t.body,
	d.id, d.choice, d.options, d.why, d.decided_by, d.decided_at, u.email, u.name
	FROM security_timeline t
	LEFT JOIN security_decisions d ON d.id = t.decision_id
	LEFT JOIN users u ON u.id = d.decided_by`

// Timeline returns a page of incident id's entries, oldest first by
// occurred_at then ID, and the number of entries in all. Limit defaults
// to 200 and is at most 1000; with f.Last the page is counted from the end.
// ENOTFOUND for an unknown incident.
func (db *DB) Timeline(ctx context.Context, id int64, f tocsin.TimelineFilter) ([]*tocsin.SecurityEntry, int, error) {
	c := db.read()
	var total, exists int
	err := c.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM security_incidents WHERE id = ?), (SELECT COUNT(*) FROM security_timeline WHERE incident_id = ?)`,
		id, id).Scan(&exists, &total)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: timeline: %w", err)
	}
	if exists == 0 {
		return nil, 0, securityNotFound(id)
	}
	limit := limitOr(f.Limit, 200, 1000)
	offset := max(f.Offset, 0)
	if f.Last {
		offset = max(total-limit-offset, 0)
	}
	out, err := list(ctx, c, scanEntry, entrySelect+` WHERE t.incident_id = ? ORDER BY t.occurred_at, t.id LIMIT ? OFFSET ?`, id, limit, offset)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlstore: timeline: %w", err)
	}
	return out, total, nil
}

// AddTimelineEntry validates manual entry e (tocsin.SecurityEntry's
// ValidateManual) and appends it to incident id, with the audit entry
// "security.entry". ENOTFOUND for an unknown incident.
func (db *DB) AddTimelineEntry(ctx context.Context, a tocsin.Actor, id int64, e *tocsin.SecurityEntry) error {
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		_, created, err := tx.securityStatus(ctx, id)
		if err != nil {
			return err
		}
		e.Decision, e.Subject, e.Old, e.New = nil, "", "", ""
		if err := e.ValidateManual(now, created); err != nil {
			return err
		}
		if err := tx.entry(ctx, a, id, e, now); err != nil {
			return err
		}
		if err := tx.touch(ctx, id, now); err != nil {
			return err
		}
		after := fmt.Sprintf("entry=%d kind=%s occurred_at=%s body=%s", e.ID, e.Kind, e.OccurredAt.Format(time.RFC3339), bodySummary(e.Body))
		return tx.audit(ctx, a, "security.entry", securityTarget(id), "", after)
	})
}

// RecordDecision validates d and stores it with its "decision" entry
// (dated when it was decided) and the audit entry "security.decision".
// EINVALID when who decided is not an account; ENOTFOUND for an unknown
// incident.
func (db *DB) RecordDecision(ctx context.Context, a tocsin.Actor, id int64, d *tocsin.Decision) error {
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		_, created, err := tx.securityStatus(ctx, id)
		if err != nil {
			return err
		}
		if err := d.Validate(now, created); err != nil {
			return err
		}
		err = tx.queryRow(ctx, `SELECT email, name FROM users WHERE id = ?`, d.DecidedBy).Scan(&d.DecidedByEmail, &d.DecidedByName)
		if errors.Is(err, sql.ErrNoRows) {
			return tocsin.Errorf(tocsin.EINVALID, "there is no account %d", d.DecidedBy).WithKey("security.user_unknown", d.DecidedBy)
		}
		if err != nil {
			return err
		}
		d.DecidedAt = d.DecidedAt.UTC().Truncate(time.Microsecond)
		if err := tx.queryRow(ctx, `INSERT INTO security_decisions (incident_id, choice, options, why, decided_by, decided_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, id, d.Choice, d.Options, d.Why, d.DecidedBy, d.DecidedAt).Scan(&d.ID); err != nil {
			return err
		}
		if err := tx.entry(ctx, a, id, &tocsin.SecurityEntry{Kind: tocsin.EntryDecision, OccurredAt: d.DecidedAt, Decision: d}, now); err != nil {
			return err
		}
		if err := tx.touch(ctx, id, now); err != nil {
			return err
		}
		after := fmt.Sprintf("decision=%d choice=%s by=%s", d.ID, bodySummary(d.Choice), d.DecidedByEmail)
		return tx.audit(ctx, a, "security.decision", securityTarget(id), "", after)
	})
}

func momentText(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// SetKeyMoments replaces incident id's key moments with m after
// KeyMoments.Check and a check that none is more than
// tocsin.EarliestPast before the incident. Each change is a "moment" entry
// dated at the new time (now when cleared); the audit entry
// "security.moments" lists them. No change writes nothing.
func (db *DB) SetKeyMoments(ctx context.Context, a tocsin.Actor, id int64, m tocsin.KeyMoments) error {
	now := db.now()
	for _, km := range tocsin.AllKeyMoments {
		if p := m.Ref(km); *p != nil {
			t := (*p).UTC().Truncate(time.Microsecond)
			*p = &t
		}
	}
	if err := m.Check(now); err != nil {
		return err
	}
	return db.update(ctx, func(tx conn) error {
		if _, _, err := tx.securityStatus(ctx, id); err != nil {
			return err
		}
		old, err := scanSecurity(tx.queryRow(ctx, `SELECT `+securityColumns+` FROM security_incidents WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return securityNotFound(id)
		}
		if err != nil {
			return err
		}
		var before, after, sets []string
		var args []any
		for i, km := range tocsin.AllKeyMoments {
			o, n := momentText(old.Moments.At(km)), momentText(m.At(km))
			if o == n {
				continue
			}
			if t := m.At(km); t != nil {
				if err := tocsin.NotTooEarly(*t, old.CreatedAt); err != nil {
					return err
				}
			}
			at := now
			if t := m.At(km); t != nil {
				at = *t
			}
			if err := tx.entry(ctx, a, id, &tocsin.SecurityEntry{Kind: tocsin.EntryMoment, Subject: string(km), Old: o, New: n, OccurredAt: at}, now); err != nil {
				return err
			}
			before, after = append(before, string(km)+"="+o), append(after, string(km)+"="+n)
			sets, args = append(sets, momentColumns[i]+" = ?"), append(args, m.At(km))
		}
		if len(sets) == 0 {
			return nil
		}
		args = append(args, now, id)
		if _, err := tx.exec(ctx, `UPDATE security_incidents SET `+strings.Join(sets, ", ")+`, updated_at = ? WHERE id = ?`, args...); err != nil {
			return err
		}
		return tx.audit(ctx, a, "security.moments", securityTarget(id), strings.Join(before, " "), strings.Join(after, " "))
	})
}
