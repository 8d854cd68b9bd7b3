package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Pages: a page is opened in the transaction of the signal it is about
// (or by hand), pages its first level at once, and each later step is one
// transaction that moves the page's step with an UPDATE guarded by the
// step it read, so two instances never page the same step twice; the
// outbox keys (page:ID:step:S:user:U:…) would drop a repeat anyway.

// SetPageComposer sets what writes the messages of pages (texts, signed
// links). Without one, pages are plain e-mails with no link. Call it
// before any use.
func (db *DB) SetPageComposer(c tocsin.PageComposer) { db.pager = c }

func (db *DB) composer() tocsin.PageComposer {
	if db.pager != nil {
		return db.pager
	}
	return plainPages{}
}

// plainPages is the composer of last resort: the subject alone, on every
// e-mail and Matrix contact (webhooks need notify.Pages' headers).
type plainPages struct{}

func (plainPages) PageMessages(n tocsin.PageNote) []*tocsin.Message {
	var out []*tocsin.Message
	for _, c := range n.Contacts {
		if c.Kind == tocsin.ContactWebhook {
			continue
		}
		out = append(out, &tocsin.Message{
			Channel: string(c.Kind), To: c.Address, Subject: "[tocsin] page: " + n.Page.Subject, Body: n.Page.Subject + "\n",
			Key: fmt.Sprintf("page:%d:level:%d:step:%d:user:%d:%s:%d", n.Page.ID, n.Level+1, n.Step, n.User.ID, c.Kind, c.ID),
		})
	}
	return out
}

func pageNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "page %d does not exist", id).WithKey("pages.not_found", id)
}

func pageTarget(id int64) string { return fmt.Sprintf("page:%d", id) }

const pageColumns = `id, signal_id, security_incident_id, subject, state, step, next_at, opened_by, opened_at,
	acknowledged_by, acknowledged_user_id, acknowledged_at`

func scanPage(sc rowScanner) (*tocsin.Page, error) {
	var (
		p                     tocsin.Page
		signal, incident, ack sql.NullInt64
	)
	err := sc.Scan(&p.ID, &signal, &incident, &p.Subject, &p.State, &p.Step, nullTimeScan{&p.NextAt}, &p.OpenedBy,
		timeScan{&p.OpenedAt}, &p.AcknowledgedBy, &ack, nullTimeScan{&p.AcknowledgedAt})
	if err != nil {
		return nil, err
	}
	if signal.Valid {
		p.SignalID = &signal.Int64
	}
	if incident.Valid {
		p.SecurityIncidentID = &incident.Int64
	}
	p.AcknowledgedUserID = ack.Int64
	return &p, nil
}

func (c conn) page(ctx context.Context, id int64) (*tocsin.Page, error) {
	p, err := scanPage(c.queryRow(ctx, `SELECT `+pageColumns+` FROM pages WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, pageNotFound(id)
	}
	return p, err
}

func (c conn) fillNotifications(ctx context.Context, p *tocsin.Page) error {
	var err error
	p.Notifications, err = list(ctx, c, func(sc rowScanner) (tocsin.PageNotification, error) {
		var n tocsin.PageNotification
		err := sc.Scan(&n.Step, &n.Level, &n.Round, &n.UserID, &n.UserLabel, &n.Contacts, timeScan{&n.PagedAt})
		return n, err
	}, `SELECT n.step, n.level, n.round, n.user_id, u.email, n.contacts, n.paged_at
		FROM page_notifications n JOIN users u ON u.id = n.user_id WHERE n.page_id = ? ORDER BY n.step, n.user_id`, p.ID)
	return err
}

// Page returns one page with who was paged when.
func (db *DB) Page(ctx context.Context, id int64) (*tocsin.Page, error) {
	c := db.read()
	p, err := c.page(ctx, id)
	if err == nil {
		err = c.fillNotifications(ctx, p)
	}
	if err != nil && tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		return nil, fmt.Errorf("sqlstore: page: %w", err)
	}
	return p, err
}

// Pages returns pages newest first (open ones only with f.Open), with who
// was paged when. Limit defaults to 100, at most 500.
func (db *DB) Pages(ctx context.Context, f tocsin.PageFilter) ([]*tocsin.Page, error) {
	c := db.read()
	q := `SELECT ` + pageColumns + ` FROM pages`
	if f.Open {
		q += ` WHERE state <> 'acknowledged'`
	}
	q += ` ORDER BY opened_at DESC, id DESC LIMIT ?`
	out, err := list(ctx, c, scanPage, q, limitOr(f.Limit, 100, 500))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: pages: %w", err)
	}
	for _, p := range out {
		if err := c.fillNotifications(ctx, p); err != nil {
			return nil, fmt.Errorf("sqlstore: pages: %w", err)
		}
	}
	return out, nil
}

// openPage inserts p and pages its first step in tx. Without an escalation
// policy there is nobody to page: it does nothing and reports false.
func (c conn) openPage(ctx context.Context, pc tocsin.PageComposer, a tocsin.Actor, p *tocsin.Page, sig *tocsin.Signal) (bool, error) {
	pol, err := c.policy(ctx)
	if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	now := c.now()
	p.State, p.Step, p.OpenedAt, p.OpenedBy = tocsin.PageOpen, 0, now, a.Label
	if err := c.queryRow(ctx, `INSERT INTO pages (signal_id, security_incident_id, subject, state, step, opened_by, opened_at)
		VALUES (?, ?, ?, ?, 0, ?, ?) RETURNING id`, p.SignalID, p.SecurityIncidentID, p.Subject, string(p.State), p.OpenedBy, now).Scan(&p.ID); err != nil {
		return false, err
	}
	if err := c.audit(ctx, a, "page.open", pageTarget(p.ID), "", pageSummary(p)); err != nil {
		return false, err
	}
	return true, c.pageStep(ctx, pc, pol, p, sig, now)
}

func pageSummary(p *tocsin.Page) string {
	s := fmt.Sprintf("state=%s step=%d", p.State, p.Step)
	if p.SignalID != nil {
		s += fmt.Sprintf(" signal=%d", *p.SignalID)
	}
	if p.SecurityIncidentID != nil {
		s += fmt.Sprintf(" security_incident=%d", *p.SecurityIncidentID)
	}
	return s
}

// pageStep pages step p.Step of the policy at now: everyone its level names
// on every contact (their account's e-mail when they have none), records
// who was paged and sets when the next step is due. A policy whose rounds
// ran out leaves the page exhausted, with nothing due.
func (c conn) pageStep(ctx context.Context, pc tocsin.PageComposer, pol *tocsin.EscalationPolicy, p *tocsin.Page, sig *tocsin.Signal, now time.Time) error {
	level, round, ok := pol.Step(p.Step)
	if !ok {
		p.State, p.NextAt = tocsin.PageExhausted, nil
		_, err := c.exec(ctx, `UPDATE pages SET state = ?, next_at = NULL WHERE id = ?`, string(p.State), p.ID)
		return err
	}
	l := pol.Levels[level]
	var who []int64
	if l.RotaID > 0 {
		r, err := c.rota(ctx, l.RotaID)
		if err != nil {
			return err
		}
		id, err := r.OnCall(now)
		if err != nil {
			return err
		}
		if id > 0 {
			who = append(who, id)
		}
	}
	for _, id := range l.UserIDs {
		if !slices.Contains(who, id) {
			who = append(who, id)
		}
	}
	var paged []string
	for _, id := range who {
		u, err := c.user(ctx, id)
		if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
			continue
		}
		if err != nil {
			return err
		}
		if u.Disabled() {
			continue
		}
		contacts, err := c.contacts(ctx, id)
		if err != nil {
			return err
		}
		if len(contacts) == 0 {
			contacts = []*tocsin.Contact{{Kind: tocsin.ContactEmail, UserID: id, Address: u.Email}}
		}
		msgs := pc.PageMessages(tocsin.PageNote{Page: p, Signal: sig, Step: p.Step, Level: level, Round: round, User: u, Contacts: contacts, At: now})
		if err := c.enqueue(ctx, msgs); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `INSERT INTO page_notifications (page_id, step, level, round, user_id, contacts, paged_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Step, level, round, id, len(msgs), now); err != nil {
			return err
		}
		paged = append(paged, u.Email)
	}
	if p.SecurityIncidentID != nil && len(paged) > 0 {
		if err := c.notified(ctx, *p.SecurityIncidentID, "page", paged, strconv.Itoa(level+1), now); err != nil {
			return err
		}
	}
	next := now.Add(l.Delay)
	p.NextAt = &next
	_, err := c.exec(ctx, `UPDATE pages SET next_at = ? WHERE id = ?`, next, p.ID)
	return err
}

// OpenPage opens a page by hand (about a security incident) and pages the
// first level; ENOTFOUND when no escalation policy is set.
func (db *DB) OpenPage(ctx context.Context, a tocsin.Actor, p *tocsin.Page) error {
	if err := validatePageSubject(p); err != nil {
		return err
	}
	p.SignalID = nil
	return db.update(ctx, func(tx conn) error {
		if p.SecurityIncidentID != nil {
			if _, err := tx.securityIncident(ctx, *p.SecurityIncidentID); err != nil {
				return err
			}
		}
		opened, err := tx.openPage(ctx, db.composer(), a, p, nil)
		if err == nil && !opened {
			err = tocsin.Errorf(tocsin.ENOTFOUND, "no escalation policy is set: nobody to page").WithKey("oncall.no_policy")
		}
		return err
	})
}

func validatePageSubject(p *tocsin.Page) error {
	s := tocsin.Signal{Source: tocsin.SourceAPI, Subject: p.Subject, Body: "-"}
	if err := s.Validate(); err != nil {
		return err
	}
	p.Subject = s.Subject
	return nil
}

// AcknowledgePage stops page id's escalation, with the audit entry
// "page.acknowledge", and acknowledges its signal when still open.
// ECONFLICT (saying who acknowledged) once acknowledged.
func (db *DB) AcknowledgePage(ctx context.Context, a tocsin.Actor, id int64) error {
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		p, err := tx.page(ctx, id)
		if err != nil {
			return err
		}
		if p.State == tocsin.PageAcknowledged {
			return tocsin.Errorf(tocsin.ECONFLICT, "page %d was already acknowledged by %s", id, p.AcknowledgedBy).
				WithKey("pages.already_acknowledged", p.AcknowledgedBy, p.AcknowledgedAt.Format(time.RFC3339))
		}
		var user any
		if a.UserID > 0 {
			user = a.UserID
		}
		if err := tx.execOne(ctx, pageNotFound(id), `UPDATE pages SET state = ?, next_at = NULL, acknowledged_by = ?, acknowledged_user_id = ?, acknowledged_at = ?
			WHERE id = ? AND state <> ?`, string(tocsin.PageAcknowledged), a.Label, user, now, id, string(tocsin.PageAcknowledged)); err != nil {
			return err
		}
		if err := tx.audit(ctx, a, "page.acknowledge", pageTarget(id), "state="+string(p.State), "state=acknowledged"); err != nil {
			return err
		}
		if p.SignalID == nil {
			return nil
		}
		var state tocsin.SignalState
		if err := tx.queryRow(ctx, `SELECT state FROM signals WHERE id = ?`, *p.SignalID).Scan(&state); err != nil {
			return err
		}
		if state != tocsin.SignalOpen {
			return nil
		}
		if _, err := tx.exec(ctx, `UPDATE signals SET state = ?, acknowledged_by = ?, acknowledged_at = ? WHERE id = ?`,
			string(tocsin.SignalAcknowledged), a.Label, now, *p.SignalID); err != nil {
			return err
		}
		return tx.audit(ctx, a, "signal.acknowledge", signalTarget(*p.SignalID), "state=open", "state=acknowledged")
	})
}

// EscalatePages pages the next step of every open page due by the store's
// clock. Each page is its own transaction, guarded by the step it read:
// another instance that got there first makes it a no-op. It returns when
// the next open page falls due (zero if none).
func (db *DB) EscalatePages(ctx context.Context) (time.Time, error) {
	now := db.now()
	rows, err := list(ctx, db.read(), func(sc rowScanner) (int64, error) {
		var id int64
		return id, sc.Scan(&id)
	}, `SELECT id FROM pages WHERE state = 'open' AND next_at <= ? ORDER BY next_at, id LIMIT 500`, now)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlstore: due pages: %w", err)
	}
	var errs []error
	for _, id := range rows {
		if err := db.escalate(ctx, id, now); err != nil {
			errs = append(errs, fmt.Errorf("page %d: %w", id, err))
		}
	}
	var next *time.Time
	if err := db.read().queryRow(ctx, `SELECT MIN(next_at) FROM pages WHERE state = 'open'`).Scan(nullTimeScan{&next}); err != nil {
		errs = append(errs, fmt.Errorf("sqlstore: next page: %w", err))
	}
	if next == nil {
		return time.Time{}, errors.Join(errs...)
	}
	return *next, errors.Join(errs...)
}

func (db *DB) escalate(ctx context.Context, id int64, now time.Time) error {
	return db.update(ctx, func(tx conn) error {
		p, err := tx.page(ctx, id)
		if err != nil {
			return err
		}
		if p.State != tocsin.PageOpen || p.NextAt == nil || p.NextAt.After(now) {
			return nil // acknowledged, or another instance did this step
		}
		pol, err := tx.policy(ctx)
		if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
			_, err = tx.exec(ctx, `UPDATE pages SET state = ?, next_at = NULL WHERE id = ?`, string(tocsin.PageExhausted), id)
			return err
		}
		if err != nil {
			return err
		}
		res, err := tx.exec(ctx, `UPDATE pages SET step = ? WHERE id = ? AND step = ? AND state = 'open'`, p.Step+1, id, p.Step)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		before := pageSummary(p)
		p.Step++
		var sig *tocsin.Signal
		if p.SignalID != nil {
			if sig, err = scanSignal(tx.queryRow(ctx, `SELECT `+signalColumns+` FROM signals WHERE id = ?`, *p.SignalID)); err != nil {
				return err
			}
		}
		if err := tx.pageStep(ctx, db.composer(), pol, p, sig, now); err != nil {
			return err
		}
		return tx.audit(ctx, tocsin.System, "page.escalate", pageTarget(id), before, pageSummary(p))
	})
}
