package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Signals: the triage queue. The audit entries name a signal by its ID,
// source and receipt, never by its contact (personal data) or its text.

const signalColumns = `id, receipt, source, subject, body, contact, attachments, message_id, source_net, received_at,
	state, acknowledged_by, acknowledged_at, closed_by, closed_at, reason, security_incident_id`

func scanSignal(sc rowScanner) (*tocsin.Signal, error) {
	var (
		s           tocsin.Signal
		attachments string
		messageID   sql.NullString
		incident    sql.NullInt64
	)
	err := sc.Scan(&s.ID, &s.Receipt, &s.Source, &s.Subject, &s.Body, &s.Contact, &attachments, &messageID, &s.SourceNet,
		timeScan{&s.ReceivedAt}, &s.State, &s.AcknowledgedBy, nullTimeScan{&s.AcknowledgedAt}, &s.ClosedBy,
		nullTimeScan{&s.ClosedAt}, &s.Reason, &incident)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(attachments), &s.Attachments); err != nil {
		return nil, fmt.Errorf("signal %d attachments: %w", s.ID, err)
	}
	s.MessageID = messageID.String
	if incident.Valid {
		s.SecurityIncidentID = &incident.Int64
	}
	return &s, nil
}

func signalTarget(id int64) string { return fmt.Sprintf("signal:%d", id) }

func signalNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "signal %d does not exist", id).WithKey("signals.not_found", id)
}

// CreateSignal validates s and stores it as open under a new receipt, with
// the audit entry "signal.create", and opens its page (see openPage) in the
// same transaction. ReceivedAt is now unless s carries an
// earlier time (an e-mail's arrival in the mailbox). A MessageID already
// stored is ECONFLICT, and nothing is written.
func (db *DB) CreateSignal(ctx context.Context, a tocsin.Actor, s *tocsin.Signal) error {
	if err := s.Validate(); err != nil {
		return err
	}
	now := db.now()
	if s.ReceivedAt.IsZero() || s.ReceivedAt.After(now) {
		s.ReceivedAt = now
	}
	s.ReceivedAt = s.ReceivedAt.UTC().Truncate(time.Microsecond)
	return db.update(ctx, func(tx conn) error {
		if err := tx.insertSignal(ctx, a, s); err != nil {
			return err
		}
		// Every new signal pages whoever is on call, in this transaction.
		_, err := tx.openPage(ctx, db.composer(), tocsin.System, &tocsin.Page{SignalID: &s.ID, Subject: s.Subject}, s)
		return err
	})
}

// insertSignal stores valid signal s (ReceivedAt set) as open under a new
// receipt, with the audit entry "signal.create"; ECONFLICT for a
// MessageID already stored. It pages nobody: its callers decide.
func (c conn) insertSignal(ctx context.Context, a tocsin.Actor, s *tocsin.Signal) error {
	if s.Attachments == nil {
		s.Attachments = []tocsin.Attachment{}
	}
	attachments, err := json.Marshal(s.Attachments)
	if err != nil {
		return err
	}
	var messageID any
	if s.MessageID != "" {
		messageID = s.MessageID
	}
	s.State, s.AcknowledgedBy, s.AcknowledgedAt, s.ClosedBy, s.ClosedAt, s.Reason, s.SecurityIncidentID = tocsin.SignalOpen, "", nil, "", nil, "", nil
	if s.MessageID != "" {
		var id int64
		err := c.queryRow(ctx, `SELECT id FROM signals WHERE message_id = ?`, s.MessageID).Scan(&id)
		if err == nil {
			return tocsin.Errorf(tocsin.ECONFLICT, "this message is already signal %d", id)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	// 40 random bits: a collision is rare but would be a refusal for
	// no fault of the reporter, so another number is drawn.
	for range 5 {
		s.Receipt = tocsin.NewReceipt()
		var one int
		err := c.queryRow(ctx, `SELECT 1 FROM signals WHERE receipt = ?`, s.Receipt).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return err
		}
	}
	err = c.queryRow(ctx, `INSERT INTO signals (receipt, source, subject, body, contact, attachments, message_id, source_net, received_at, state)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		s.Receipt, string(s.Source), s.Subject, s.Body, s.Contact, string(attachments), messageID, s.SourceNet,
		s.ReceivedAt, string(s.State)).Scan(&s.ID)
	if err != nil {
		return err
	}
	after := fmt.Sprintf("source=%s receipt=%s state=open", s.Source, s.Receipt)
	return c.audit(ctx, a, "signal.create", signalTarget(s.ID), "", after)
}

// Signal returns one signal; ENOTFOUND if there is none.
func (db *DB) Signal(ctx context.Context, id int64) (*tocsin.Signal, error) {
	s, err := scanSignal(db.read().queryRow(ctx, `SELECT `+signalColumns+` FROM signals WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, signalNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: signal: %w", err)
	}
	return s, nil
}

// Signals returns the signals f selects: open ones first, then
// acknowledged, then closed, each newest first. Limit defaults to 100 and
// is at most 1000.
func (db *DB) Signals(ctx context.Context, f tocsin.SignalFilter) ([]*tocsin.Signal, error) {
	q := `SELECT ` + signalColumns + ` FROM signals`
	var args []any
	if f.State != "" {
		q += ` WHERE state = ?`
		args = append(args, string(f.State))
	}
	q += ` ORDER BY CASE state WHEN 'open' THEN 0 WHEN 'acknowledged' THEN 1 ELSE 2 END, received_at DESC, id DESC LIMIT ? OFFSET ?`
	args = append(args, limitOr(f.Limit, 100, 1000), max(f.Offset, 0))
	out, err := list(ctx, db.read(), scanSignal, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: signals: %w", err)
	}
	return out, nil
}

// CountSignalsFrom counts the signals received from ip's network (see
// tocsin.ThrottleNet) since since, and returns the newest one's time.
func (db *DB) CountSignalsFrom(ctx context.Context, ip string, since time.Time) (int, time.Time, error) {
	var (
		n      int
		newest *time.Time
	)
	err := db.read().queryRow(ctx, `SELECT COUNT(*), MAX(received_at) FROM signals WHERE source_net = ? AND received_at >= ?`,
		tocsin.ThrottleNet(ip), since).Scan(&n, nullTimeScan{&newest})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlstore: count signals: %w", err)
	}
	if newest == nil {
		return n, time.Time{}, nil
	}
	return n, *newest, nil
}

// moveSignal reads signal id's state in tx and refuses a move the state
// machine does not allow with ECONFLICT saying where the signal stands.
func (c conn) moveSignal(ctx context.Context, id int64, next tocsin.SignalState) (tocsin.SignalState, error) {
	var state tocsin.SignalState
	err := c.queryRow(ctx, `SELECT state FROM signals WHERE id = ?`, id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return "", signalNotFound(id)
	}
	if err != nil {
		return "", err
	}
	if !state.CanMoveTo(next) {
		return "", tocsin.Errorf(tocsin.ECONFLICT, "signal %d is %s; it cannot become %s", id, state, next).
			WithKey("signals.cannot_move", id, state, next)
	}
	return state, nil
}

// AcknowledgeSignal marks open signal id as acknowledged by the actor, with
// the audit entry "signal.acknowledge". ENOTFOUND for an unknown signal,
// ECONFLICT for one no longer open.
func (db *DB) AcknowledgeSignal(ctx context.Context, a tocsin.Actor, id int64) error {
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		old, err := tx.moveSignal(ctx, id, tocsin.SignalAcknowledged)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE signals SET state = ?, acknowledged_by = ?, acknowledged_at = ? WHERE id = ?`,
			string(tocsin.SignalAcknowledged), a.Label, now, id); err != nil {
			return err
		}
		return tx.audit(ctx, a, "signal.acknowledge", signalTarget(id), "state="+string(old), "state=acknowledged")
	})
}

// DismissSignal closes signal id as not a problem, for reason, with the
// audit entry "signal.dismiss" (which holds the reason). EINVALID without a
// reason, ENOTFOUND for an unknown signal, ECONFLICT for a closed one.
func (db *DB) DismissSignal(ctx context.Context, a tocsin.Actor, id int64, reason string) error {
	reason, err := tocsin.ValidateReason(reason)
	if err != nil {
		return err
	}
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		old, err := tx.moveSignal(ctx, id, tocsin.SignalDismissed)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE signals SET state = ?, closed_by = ?, closed_at = ?, reason = ? WHERE id = ?`,
			string(tocsin.SignalDismissed), a.Label, now, reason, id); err != nil {
			return err
		}
		return tx.audit(ctx, a, "signal.dismiss", signalTarget(id), "state="+string(old),
			"state=dismissed reason="+bodySummary(reason))
	})
}

// LinkSignal closes signal id as part of security incident incidentID, with
// the audit entry "signal.link" and a "signal" entry on the incident's
// timeline; a signal linked straight from open counts as acknowledged by
// the actor too. ENOTFOUND for an unknown signal, ECONFLICT for a closed
// one, EINVALID for a security incident that does not exist.
func (db *DB) LinkSignal(ctx context.Context, a tocsin.Actor, id, incidentID int64) error {
	if incidentID <= 0 {
		return tocsin.Errorf(tocsin.EINVALID, "no security incident %d", incidentID).WithKey("signals.incident_unknown", incidentID)
	}
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		if _, _, err := tx.securityStatus(ctx, incidentID); err != nil {
			if tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
				return tocsin.Errorf(tocsin.EINVALID, "no security incident %d", incidentID).WithKey("signals.incident_unknown", incidentID)
			}
			return err
		}
		sig, err := tx.signalFor(ctx, id, tocsin.SignalLinked)
		if err != nil {
			return err
		}
		return tx.linkSignal(ctx, a, sig, incidentID, now)
	})
}

// signalFor reads signal id in tx and refuses, naming its state, a move to
// next that the state machine does not allow (see moveSignal).
func (c conn) signalFor(ctx context.Context, id int64, next tocsin.SignalState) (*tocsin.Signal, error) {
	if _, err := c.moveSignal(ctx, id, next); err != nil {
		return nil, err
	}
	return scanSignal(c.queryRow(ctx, `SELECT `+signalColumns+` FROM signals WHERE id = ?`, id))
}

// linkSignal writes the link of sig to incidentID: the signal's state, the
// incident's "signal" entry (dated at the signal's receipt) and the audit entry.
func (c conn) linkSignal(ctx context.Context, a tocsin.Actor, sig *tocsin.Signal, incidentID int64, now time.Time) error {
	// Guarded by the state read: of two links of one signal at once (in
	// PostgreSQL), the second finds it linked and its whole transaction,
	// an incident opened from it included, is refused.
	err := c.execOne(ctx, tocsin.Errorf(tocsin.ECONFLICT, "signal %d changed meanwhile; reload it", sig.ID).WithKey("signals.changed", sig.ID),
		`UPDATE signals SET state = ?, closed_by = ?, closed_at = ?, security_incident_id = ?,
		acknowledged_by = CASE WHEN acknowledged_at IS NULL THEN ? ELSE acknowledged_by END,
		acknowledged_at = COALESCE(acknowledged_at, ?) WHERE id = ? AND state = ?`,
		string(tocsin.SignalLinked), a.Label, now, incidentID, a.Label, now, sig.ID, string(sig.State))
	if err != nil {
		return err
	}
	e := &tocsin.SecurityEntry{Kind: tocsin.EntrySignal, Subject: strconv.FormatInt(sig.ID, 10), New: sig.Receipt, Body: sig.Subject, OccurredAt: sig.ReceivedAt}
	if err := c.entry(ctx, a, incidentID, e, now); err != nil {
		return err
	}
	if err := c.touch(ctx, incidentID, now); err != nil {
		return err
	}
	return c.audit(ctx, a, "signal.link", signalTarget(sig.ID), "state="+string(sig.State),
		fmt.Sprintf("state=linked security_incident=%d", incidentID))
}

// OpenSecurityIncident creates inc (title defaulting to the signal's
// subject) from signal id and links the signal to it, in one transaction:
// the audit entries "security.create" (naming the signal) and
// "signal.link", the "created" entry naming the receipt, the "reported"
// moment at the signal's receipt and the "signal" entry. ECONFLICT naming
// the state for a signal already linked or dismissed; nothing is written.
func (db *DB) OpenSecurityIncident(ctx context.Context, a tocsin.Actor, id int64, inc *tocsin.SecurityIncident) error {
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		sig, err := tx.signalFor(ctx, id, tocsin.SignalLinked)
		if err != nil {
			return err
		}
		if strings.TrimSpace(inc.Title) == "" {
			inc.Title = sig.Subject
		}
		inc.Status = tocsin.SecTriage
		if err := inc.Validate(); err != nil {
			return err
		}
		if err := tx.createSecurity(ctx, a, inc, sig, now); err != nil {
			return err
		}
		return tx.linkSignal(ctx, a, sig, inc.ID, now)
	})
}
