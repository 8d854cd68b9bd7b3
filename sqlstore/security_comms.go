package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tocsin-org/tocsin"
)

// The public side of security incidents: each change to the public
// incident made from the room goes through the public incident's own
// writes (createIncident, addUpdate, savePostmortem) in the transaction
// that writes the room's timeline entry and audit entry.

const publicLinkSelect = `SELECT l.security_id, l.incident_id, i.title, i.status, i.published_at, l.cadence_minutes,
	(SELECT MAX(u.created_at) FROM incident_updates u WHERE u.incident_id = l.incident_id), l.reminded_since, l.linked_by, l.linked_at
	FROM security_public_links l JOIN incidents i ON i.id = l.incident_id`

func scanPublicLink(sc rowScanner) (*tocsin.PublicLink, error) {
	var (
		l               tocsin.PublicLink
		published, last *time.Time
		minutes         int
	)
	err := sc.Scan(&l.SecurityID, &l.IncidentID, &l.Title, &l.Status, nullTimeScan{&published}, &minutes,
		nullTimeScan{&last}, nullTimeScan{&l.RemindedSince}, &l.LinkedBy, timeScan{&l.LinkedAt})
	if err != nil {
		return nil, err
	}
	l.Cadence = time.Duration(minutes) * time.Minute
	if published != nil {
		l.Published, l.LastPublic = true, *published
		if last != nil && last.After(l.LastPublic) {
			l.LastPublic = *last
		}
	}
	return &l, nil
}

func noPublicLink(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "security incident %d has no public incident linked", id).WithKey("comms.no_link", id)
}

func (c conn) publicLink(ctx context.Context, id int64) (*tocsin.PublicLink, error) {
	l, err := scanPublicLink(c.queryRow(ctx, publicLinkSelect+` WHERE l.security_id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, noPublicLink(id)
	}
	return l, err
}

// PublicLink returns security incident id's public incident; ENOTFOUND
// when none is linked (or there is no such incident).
func (db *DB) PublicLink(ctx context.Context, id int64) (*tocsin.PublicLink, error) {
	l, err := db.read().publicLink(ctx, id)
	return l, wrapErr(err)
}

// link records the link of security incident id to public incident
// incidentID with its "public_link" entry and the audit entry
// action; ECONFLICT when the incident has one already.
func (tx conn) link(ctx context.Context, a tocsin.Actor, id, incidentID int64, title, action string, now time.Time) error {
	if _, _, err := tx.securityStatus(ctx, id); err != nil {
		return err
	}
	if l, err := tx.publicLink(ctx, id); err == nil {
		return tocsin.Errorf(tocsin.ECONFLICT, "this incident already speaks through public incident #%d", l.IncidentID).
			WithKey("comms.already_linked", l.IncidentID)
	} else if tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		return err
	}
	if _, err := tx.exec(ctx, `INSERT INTO security_public_links (security_id, incident_id, linked_by, linked_at) VALUES (?, ?, ?, ?)`,
		id, incidentID, a.Label, now); err != nil {
		return err
	}
	e := &tocsin.SecurityEntry{Kind: tocsin.EntryPublicLink, New: strconv.FormatInt(incidentID, 10), Body: title}
	if err := tx.entry(ctx, a, id, e, now); err != nil {
		return err
	}
	if err := tx.touch(ctx, id, now); err != nil {
		return err
	}
	return tx.audit(ctx, a, action, securityTarget(id), "", fmt.Sprintf("%s title=%s", incidentTarget(incidentID), bodySummary(title)))
}

// CreatePublicIncident validates and creates public incident inc with its
// first update, as CreateIncident does (published now when inc.PublishedAt
// is set; subscribers hear of it), and links it to security incident id, with
// the audit entries "incident.create" and "security.public_create".
func (db *DB) CreatePublicIncident(ctx context.Context, a tocsin.Actor, id int64, inc *tocsin.Incident, first *tocsin.Update, msgs []*tocsin.Message) error {
	if first == nil {
		return tocsin.Errorf(tocsin.EINVALID, "an incident needs a first update").WithKey("incidents.body_empty")
	}
	now := db.now()
	if err := inc.Validate(); err != nil {
		return err
	}
	if inc.Maintenance() {
		return tocsin.Errorf(tocsin.EINVALID, "a security incident speaks through an incident, not a maintenance").WithKey("comms.maintenance")
	}
	if err := first.Validate(now); err != nil {
		return err
	}
	if err := inc.StatusFits(first.Status); err != nil {
		return err
	}
	if inc.PublishedAt != nil { // published now, by the store's clock
		at := now
		inc.PublishedAt = &at
	}
	return db.update(ctx, func(tx conn) error {
		if _, _, err := tx.securityStatus(ctx, id); err != nil {
			return err
		}
		if err := tx.createIncident(ctx, a, inc, first, msgs, now); err != nil {
			return err
		}
		return tx.link(ctx, a, id, inc.ID, inc.Title, "security.public_create", now)
	})
}

// LinkPublicIncident links existing public incident incidentID (not a
// maintenance) to security incident id, with the audit entry
// "security.public_link". ENOTFOUND for an unknown incident, ECONFLICT
// when one is linked already.
func (db *DB) LinkPublicIncident(ctx context.Context, a tocsin.Actor, id, incidentID int64) error {
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		inc, err := scanIncident(tx.queryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = ?`, incidentID))
		if errors.Is(err, sql.ErrNoRows) {
			return incidentNotFound(incidentID)
		}
		if err != nil {
			return err
		}
		if inc.Maintenance() {
			return tocsin.Errorf(tocsin.EINVALID, "a security incident speaks through an incident, not a maintenance").WithKey("comms.maintenance")
		}
		return tx.link(ctx, a, id, incidentID, inc.Title, "security.public_link", now)
	})
}

// SetCadence sets security incident id's own cadence (0: the configured
// one), with the audit entry "security.cadence". ENOTFOUND without a link.
func (db *DB) SetCadence(ctx context.Context, a tocsin.Actor, id int64, every time.Duration) error {
	if err := tocsin.CheckCadence(every); err != nil {
		return err
	}
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		l, err := tx.publicLink(ctx, id)
		if err != nil {
			return err
		}
		if l.Cadence == every {
			return nil
		}
		if _, err := tx.exec(ctx, `UPDATE security_public_links SET cadence_minutes = ? WHERE security_id = ?`, int(every/time.Minute), id); err != nil {
			return err
		}
		if err := tx.touch(ctx, id, now); err != nil {
			return err
		}
		return tx.audit(ctx, a, "security.cadence", securityTarget(id), fmt.Sprintf("cadence=%s", l.Cadence), fmt.Sprintf("cadence=%s", every))
	})
}

// PublishSecurityUpdate validates u and appends it to security incident
// id's public incident exactly as AddUpdate does (audit entry
// "incident.update", subscribers' notice), with a "public_update" entry on
// the room's timeline and the audit entry "security.public_update".
// ENOTFOUND without a link; ECONFLICT as AddUpdate.
func (db *DB) PublishSecurityUpdate(ctx context.Context, a tocsin.Actor, id int64, u *tocsin.Update, msgs []*tocsin.Message) error {
	now := db.now()
	if err := u.Validate(now); err != nil {
		return err
	}
	return db.update(ctx, func(tx conn) error {
		l, err := tx.publicLink(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.addUpdate(ctx, a, l.IncidentID, u, msgs, now); err != nil {
			return err
		}
		e := &tocsin.SecurityEntry{Kind: tocsin.EntryPublicUpdate, Subject: string(u.Status), New: strconv.FormatInt(u.ID, 10), Body: u.Body}
		if err := tx.entry(ctx, a, id, e, now); err != nil {
			return err
		}
		if err := tx.touch(ctx, id, now); err != nil {
			return err
		}
		after := fmt.Sprintf("%s update=%d status=%s body=%s", incidentTarget(l.IncidentID), u.ID, u.Status, bodySummary(u.Body))
		return tx.audit(ctx, a, "security.public_update", securityTarget(id), "", after)
	})
}

// RemindCadence queues a reminder for each linked public incident, open
// and published, silent for longer than its cadence and not reminded of
// this silence yet: in one transaction it marks the silence reminded (an
// UPDATE guarded by the silence it read, so a second instance finds
// nothing to do), queues build's message (key unique per silence), writes
// the "cadence_reminder" entry and the audit entry "security.cadence_remind".
// The reminder goes to the communications lead, else the incident lead;
// nobody named, nobody is reminded (the room shows the cadence). It
// returns the earliest cadence falling due after now.
func (db *DB) RemindCadence(ctx context.Context, now time.Time, def time.Duration, build func(*tocsin.CadenceReminder) *tocsin.Message) (time.Time, error) {
	links, err := list(ctx, db.read(), scanPublicLink, publicLinkSelect+`
		WHERE i.published_at IS NOT NULL AND i.status NOT IN ('resolved', 'postmortem', 'completed') ORDER BY l.security_id`)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlstore: cadence: %w", err)
	}
	var next time.Time
	for _, l := range links {
		due, ok := l.Due(def)
		if !ok || l.Reminded() {
			continue
		}
		if due.After(now) {
			if next.IsZero() || due.Before(next) {
				next = due
			}
			continue
		}
		if err := db.remindCadence(ctx, l, def, now, build); err != nil {
			return next, fmt.Errorf("sqlstore: cadence of security incident %d: %w", l.SecurityID, err)
		}
	}
	return next, nil
}

func (db *DB) remindCadence(ctx context.Context, l *tocsin.PublicLink, def time.Duration, now time.Time, build func(*tocsin.CadenceReminder) *tocsin.Message) error {
	return db.update(ctx, func(tx conn) error {
		cur, err := tx.publicLink(ctx, l.SecurityID)
		if err != nil || !cur.LastPublic.Equal(l.LastPublic) || cur.Reminded() {
			return err // unlinked, updated or reminded meanwhile: nothing to do
		}
		inc, err := tx.securityIncident(ctx, l.SecurityID)
		if err != nil {
			return err
		}
		res, err := tx.exec(ctx, `UPDATE security_public_links SET reminded_since = ?
			WHERE security_id = ? AND (reminded_since IS NULL OR reminded_since <> ?)`, l.LastPublic, l.SecurityID, l.LastPublic)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		who := inc.Speaker()
		if who == nil || who.Disabled {
			return nil
		}
		r := &tocsin.CadenceReminder{SecurityID: l.SecurityID, IncidentID: l.IncidentID, PublicTitle: l.Title,
			Since: l.LastPublic, Every: l.Every(def), Email: who.Email, Name: who.Name}
		if err := tx.queryRow(ctx, `SELECT lang FROM users WHERE id = ?`, who.UserID).Scan(&r.Lang); err != nil {
			return err
		}
		m := build(r)
		if m == nil {
			return nil
		}
		if m.Key == "" {
			m.Key = r.Key()
		}
		if err := tx.enqueue(ctx, []*tocsin.Message{m}); err != nil {
			return err
		}
		e := &tocsin.SecurityEntry{Kind: tocsin.EntryCadence, Subject: who.Email, Old: l.LastPublic.UTC().Format(time.RFC3339),
			New: tocsin.FormatDuration(r.Every)}
		if err := tx.entry(ctx, tocsin.System, l.SecurityID, e, now); err != nil {
			return err
		}
		return tx.audit(ctx, tocsin.System, "security.cadence_remind", securityTarget(l.SecurityID), "",
			fmt.Sprintf("%s to=%s since=%s key=%s", incidentTarget(l.IncidentID), who.Email, l.LastPublic.UTC().Format(time.RFC3339), m.Key))
	})
}

// SaveSecurityPostmortem validates p and saves it as the post-mortem of
// security incident id's public incident, exactly as SavePostmortem does
// (a new revision, a as contributor, ECONFLICT once published), with a
// "postmortem_draft" entry and the audit entry "security.postmortem".
func (db *DB) SaveSecurityPostmortem(ctx context.Context, a tocsin.Actor, id int64, p *tocsin.Postmortem) error {
	now := db.now()
	if err := p.Validate(now); err != nil {
		return err
	}
	return db.update(ctx, func(tx conn) error {
		l, err := tx.publicLink(ctx, id)
		if err != nil {
			return err
		}
		p.IncidentID = l.IncidentID
		if err := tx.savePostmortem(ctx, a, p, now); err != nil {
			return err
		}
		e := &tocsin.SecurityEntry{Kind: tocsin.EntryPostmortem, New: strconv.FormatInt(l.IncidentID, 10), Subject: strconv.Itoa(p.Revision)}
		if err := tx.entry(ctx, a, id, e, now); err != nil {
			return err
		}
		if err := tx.touch(ctx, id, now); err != nil {
			return err
		}
		return tx.audit(ctx, a, "security.postmortem", securityTarget(id), "", fmt.Sprintf("%s revision=%d", postmortemTarget(l.IncidentID), p.Revision))
	})
}
