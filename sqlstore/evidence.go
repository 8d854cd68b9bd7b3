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

// Evidence of security incidents. An item is always read with its
// incident's ID in the WHERE clause, so that an ID of another incident's
// item is not found. Content is stored sealed by the caller (auth.Box);
// this package never sees it in the clear.

const evidenceColumns = `id, incident_id, kind, description, sha256, size, media_type, filename, location, source,
	collected_by, collected_at, added_by, added_at, withdrawn_at, withdrawn_by, withdrawn_reason`

func scanEvidence(sc rowScanner) (*tocsin.Evidence, error) {
	var e tocsin.Evidence
	err := sc.Scan(&e.ID, &e.IncidentID, &e.Kind, &e.Description, &e.SHA256, &e.Size, &e.MediaType, &e.Filename, &e.Location,
		&e.Source, &e.CollectedBy, timeScan{&e.CollectedAt}, &e.AddedBy, timeScan{&e.AddedAt}, nullTimeScan{&e.WithdrawnAt},
		&e.WithdrawnBy, &e.WithdrawnReason)
	if err != nil {
		return nil, err
	}
	return &e, nil
}

func evidenceNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "evidence %d does not exist on this incident", id).WithKey("evidence.not_found", id)
}

func evidenceTarget(incidentID, id int64) string {
	return fmt.Sprintf("security:%d:evidence:%d", incidentID, id)
}

// custody appends one event to an item's chain of custody.
func (c conn) custody(ctx context.Context, a tocsin.Actor, id int64, action tocsin.CustodyAction, detail string, now time.Time) error {
	_, err := c.exec(ctx, `INSERT INTO security_custody (evidence_id, action, actor, occurred_at, detail) VALUES (?, ?, ?, ?, ?)`,
		id, string(action), a.Label, now, detail)
	return err
}

// AddEvidence validates e against the clock and the incident's earliest
// known moment and stores it on incident incidentID, with its sealed
// content (a file; nil for a reference), the "added" custody event, an
// "evidence" timeline entry and the audit entry "evidence.add".
func (db *DB) AddEvidence(ctx context.Context, a tocsin.Actor, incidentID int64, e *tocsin.Evidence, sealed []byte) error {
	if (e.Kind == tocsin.EvidenceFile) != (sealed != nil) {
		return errors.New("sqlstore: evidence: a file has content and a reference none")
	}
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		if _, _, err := tx.securityStatus(ctx, incidentID); err != nil {
			return err
		}
		inc, err := tx.securityIncident(ctx, incidentID)
		if err != nil {
			return err
		}
		if err := e.Validate(now, tocsin.EvidenceEarliest(inc)); err != nil {
			return err
		}
		e.IncidentID, e.AddedBy, e.AddedAt = incidentID, a.Label, now
		e.CollectedAt = e.CollectedAt.UTC().Truncate(time.Microsecond)
		e.WithdrawnAt, e.WithdrawnBy, e.WithdrawnReason = nil, "", ""
		err = tx.queryRow(ctx, `INSERT INTO security_evidence (incident_id, kind, description, sha256, size, media_type, filename, location,
			source, collected_by, collected_at, added_by, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			incidentID, string(e.Kind), e.Description, e.SHA256, e.Size, e.MediaType, e.Filename, e.Location, e.Source,
			e.CollectedBy, e.CollectedAt, e.AddedBy, now).Scan(&e.ID)
		if err != nil {
			return err
		}
		if sealed != nil {
			if _, err := tx.exec(ctx, `INSERT INTO security_evidence_content (evidence_id, sealed) VALUES (?, ?)`, e.ID, sealed); err != nil {
				return err
			}
		}
		if err := tx.custody(ctx, a, e.ID, tocsin.CustodyAdded, "", now); err != nil {
			return err
		}
		entry := &tocsin.SecurityEntry{Kind: tocsin.EntryEvidence, Subject: strconv.FormatInt(e.ID, 10), New: e.SHA256, Body: e.Description}
		if err := tx.entry(ctx, a, incidentID, entry, now); err != nil {
			return err
		}
		if err := tx.touch(ctx, incidentID, now); err != nil {
			return err
		}
		return tx.audit(ctx, a, "evidence.add", evidenceTarget(incidentID, e.ID), "",
			fmt.Sprintf("kind=%s sha256=%s size=%d", e.Kind, e.SHA256, e.Size))
	})
}

// EvidenceList returns incident incidentID's items, oldest first;
// ENOTFOUND for an unknown incident.
func (db *DB) EvidenceList(ctx context.Context, incidentID int64) ([]*tocsin.Evidence, error) {
	c := db.read()
	var one int
	err := c.queryRow(ctx, `SELECT 1 FROM security_incidents WHERE id = ?`, incidentID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, securityNotFound(incidentID)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: evidence: %w", err)
	}
	out, err := list(ctx, c, scanEvidence, `SELECT `+evidenceColumns+` FROM security_evidence WHERE incident_id = ? ORDER BY id`, incidentID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: evidence: %w", err)
	}
	return out, nil
}

func (c conn) evidence(ctx context.Context, incidentID, id int64) (*tocsin.Evidence, error) {
	e, err := scanEvidence(c.queryRow(ctx, `SELECT `+evidenceColumns+` FROM security_evidence WHERE id = ? AND incident_id = ?`, id, incidentID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, evidenceNotFound(id)
	}
	return e, err
}

// EvidenceItem returns item id of incident incidentID and its custody log,
// oldest first; ENOTFOUND when the item is not that incident's.
func (db *DB) EvidenceItem(ctx context.Context, incidentID, id int64) (*tocsin.Evidence, []*tocsin.CustodyEvent, error) {
	c := db.read()
	e, err := c.evidence(ctx, incidentID, id)
	if err != nil {
		return nil, nil, wrapErr(err)
	}
	log, err := list(ctx, c, func(sc rowScanner) (*tocsin.CustodyEvent, error) {
		var ev tocsin.CustodyEvent
		err := sc.Scan(&ev.ID, &ev.EvidenceID, &ev.Action, &ev.Actor, timeScan{&ev.At}, &ev.Detail)
		return &ev, err
	}, `SELECT id, evidence_id, action, actor, occurred_at, detail FROM security_custody WHERE evidence_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlstore: custody: %w", err)
	}
	return e, log, nil
}

// EvidenceContent returns the sealed content of file id of incident
// incidentID; ENOTFOUND for a reference or another incident's item.
func (db *DB) EvidenceContent(ctx context.Context, incidentID, id int64) ([]byte, error) {
	var sealed []byte
	err := db.read().queryRow(ctx, `SELECT c.sealed FROM security_evidence_content c JOIN security_evidence e ON e.id = c.evidence_id
		WHERE e.id = ? AND e.incident_id = ?`, id, incidentID).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, evidenceNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: evidence content: %w", err)
	}
	return sealed, nil
}

// RecordCustody appends a viewed, downloaded or verified event to item id
// of incident incidentID with the audit entry "evidence.ACTION"; a
// verification that found another hash also goes on the timeline.
func (db *DB) RecordCustody(ctx context.Context, a tocsin.Actor, incidentID, id int64, action tocsin.CustodyAction, detail string) error {
	if !slices.Contains([]tocsin.CustodyAction{tocsin.CustodyViewed, tocsin.CustodyDownloaded, tocsin.CustodyVerified}, action) {
		return fmt.Errorf("sqlstore: custody: %q is recorded by its own method", action)
	}
	detail = cut(detail, 500)
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		e, err := tx.evidence(ctx, incidentID, id)
		if err != nil {
			return err
		}
		if err := tx.custody(ctx, a, id, action, detail, now); err != nil {
			return err
		}
		if action == tocsin.CustodyVerified && detail != tocsin.VerifyMatch {
			entry := &tocsin.SecurityEntry{Kind: tocsin.EntryEvidence, Subject: strconv.FormatInt(id, 10), Old: tocsin.VerifyMismatch, New: e.SHA256, Body: detail}
			if err := tx.entry(ctx, a, incidentID, entry, now); err != nil {
				return err
			}
		}
		return tx.audit(ctx, a, "evidence."+string(action), evidenceTarget(incidentID, id), "", detail)
	})
}

// WithdrawEvidence marks item id of incident incidentID withdrawn for
// reason, with its custody event, an "evidence" timeline entry and the
// audit entry "evidence.withdraw". ECONFLICT when it already is.
func (db *DB) WithdrawEvidence(ctx context.Context, a tocsin.Actor, incidentID, id int64, reason string) error {
	reason, err := tocsin.ValidateReason(reason)
	if err != nil {
		return tocsin.Errorf(tocsin.EINVALID, "say why the item is withdrawn, in at most %d characters", tocsin.MaxSignalReason).
			WithKey("evidence.reason_invalid", tocsin.MaxSignalReason)
	}
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		if _, _, err := tx.securityStatus(ctx, incidentID); err != nil {
			return err
		}
		e, err := tx.evidence(ctx, incidentID, id)
		if err != nil {
			return err
		}
		if e.Withdrawn() {
			return tocsin.Errorf(tocsin.ECONFLICT, "evidence %d was already withdrawn", id).WithKey("evidence.already_withdrawn", id)
		}
		if _, err := tx.exec(ctx, `UPDATE security_evidence SET withdrawn_at = ?, withdrawn_by = ?, withdrawn_reason = ? WHERE id = ?`,
			now, a.Label, reason, id); err != nil {
			return err
		}
		if err := tx.custody(ctx, a, id, tocsin.CustodyWithdrawn, reason, now); err != nil {
			return err
		}
		entry := &tocsin.SecurityEntry{Kind: tocsin.EntryEvidence, Subject: strconv.FormatInt(id, 10), Old: "withdrawn", New: e.SHA256, Body: reason}
		if err := tx.entry(ctx, a, incidentID, entry, now); err != nil {
			return err
		}
		if err := tx.touch(ctx, incidentID, now); err != nil {
			return err
		}
		return tx.audit(ctx, a, "evidence.withdraw", evidenceTarget(incidentID, id), "", "reason="+bodySummary(reason))
	})
}
