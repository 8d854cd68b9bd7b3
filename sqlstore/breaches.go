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

// Personal data breaches: one record per security incident marked, its
// notification decisions, and the register they make. Every mutation
// writes its timeline entry and its audit entry (target "security:N",
// actions "breach.*") in one transaction.

const breachColumns = `b.incident_id, i.title, b.answer, b.aware_at, b.breach_type, b.risk, b.status, b.categories, b.people, b.records,
	b.consequences, b.remedial, b.authority_at, b.authority_ref, b.subjects_at, b.subjects_count, b.subjects_how,
	b.nis2_early_warning, b.nis2_notification, b.nis2_final_report, b.created_at, b.updated_at`

const breachFrom = ` FROM breaches b JOIN security_incidents i ON i.id = b.incident_id`

// clockColumns are the NIS2 clocks' columns.
var clockColumns = map[tocsin.ClockKind]string{
	tocsin.ClockNIS2EarlyWarning: "nis2_early_warning",
	tocsin.ClockNIS2Notification: "nis2_notification",
	tocsin.ClockNIS2FinalReport:  "nis2_final_report",
}

func scanBreach(sc rowScanner) (*tocsin.Breach, error) {
	var (
		b                    tocsin.Breach
		people, records, sc2 sql.NullInt64
		early, notif, final  *time.Time
	)
	err := sc.Scan(&b.IncidentID, &b.Title, &b.Answer, timeScan{&b.AwareAt}, &b.Type, &b.Risk, &b.Status, &b.Categories, &people, &records,
		&b.Consequences, &b.Remedial, nullTimeScan{&b.AuthorityAt}, &b.AuthorityRef, nullTimeScan{&b.SubjectsAt}, &sc2, &b.SubjectsHow,
		nullTimeScan{&early}, nullTimeScan{&notif}, nullTimeScan{&final}, timeScan{&b.CreatedAt}, timeScan{&b.UpdatedAt})
	if err != nil {
		return nil, err
	}
	num := func(n sql.NullInt64) *int64 {
		if !n.Valid {
			return nil
		}
		v := n.Int64
		return &v
	}
	b.People, b.Records, b.SubjectsCount = num(people), num(records), num(sc2)
	b.ClocksDone = map[tocsin.ClockKind]time.Time{}
	for k, t := range map[tocsin.ClockKind]*time.Time{tocsin.ClockNIS2EarlyWarning: early, tocsin.ClockNIS2Notification: notif, tocsin.ClockNIS2FinalReport: final} {
		if t != nil {
			b.ClocksDone[k] = *t
		}
	}
	return &b, nil
}

func breachNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "security incident %d is not marked as a personal data breach", id).WithKey("breach.not_found", id)
}

// fillBreaches reads the decisions of bs in one query.
func (c conn) fillBreaches(ctx context.Context, bs []*tocsin.Breach) error {
	if len(bs) == 0 {
		return nil
	}
	byID := make(map[int64]*tocsin.Breach, len(bs))
	ids := make([]int64, len(bs))
	for i, b := range bs {
		byID[b.IncidentID], ids[i] = b, b.IncidentID
		b.Decisions = nil
	}
	type dec struct {
		incidentID int64
		tocsin.BreachDecision
	}
	ds, err := list(ctx, c, func(sc rowScanner) (dec, error) {
		var d dec
		err := sc.Scan(&d.incidentID, &d.ID, &d.Subjects, &d.Notify, &d.Why, &d.Late, &d.LateReason, &d.DecidedBy,
			timeScan{&d.DecidedAt}, &d.DecisionID, &d.ByEmail)
		return d, err
	}, `SELECT d.incident_id, d.id, d.subjects, d.notify, d.why, d.late, d.late_reason, d.decided_by, d.decided_at, d.decision_id, u.email
		FROM breach_decisions d JOIN users u ON u.id = d.decided_by
		WHERE d.incident_id IN (`+c.idsIn()+`) ORDER BY d.incident_id, d.decided_at, d.id`, jsonIDs(ids))
	if err != nil {
		return fmt.Errorf("breach decisions: %w", err)
	}
	for _, d := range ds {
		b := byID[d.incidentID]
		b.Decisions = append(b.Decisions, d.BreachDecision)
	}
	return nil
}

func (c conn) breach(ctx context.Context, id int64) (*tocsin.Breach, error) {
	return one(ctx, c, scanBreach, c.fillBreaches, breachNotFound(id), `SELECT `+breachColumns+breachFrom+` WHERE b.incident_id = ?`, id)
}

// Breach returns incident id's breach record with its decisions;
// ENOTFOUND when the incident was never marked.
func (db *DB) Breach(ctx context.Context, id int64) (*tocsin.Breach, error) {
	b, err := db.read().breach(ctx, id)
	return b, wrapErr(err)
}

// Breaches returns the register: every record answered yes or likely,
// oldest awareness first, with its decisions.
func (db *DB) Breaches(ctx context.Context) ([]*tocsin.Breach, error) {
	c := db.read()
	out, err := list(ctx, c, scanBreach, `SELECT `+breachColumns+breachFrom+` WHERE b.answer <> 'no' ORDER BY b.aware_at, b.incident_id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: breaches: %w", err)
	}
	if err := c.fillBreaches(ctx, out); err != nil {
		return nil, fmt.Errorf("sqlstore: breaches: %w", err)
	}
	return out, nil
}

// MarkBreach records whether incident id is a personal data breach and
// when the host became aware of it (zero: now), refusing a moment in the
// future or more than tocsin.EarliestPast before the incident. Each change
// of the answer or of the moment is a "breach" timeline entry; the audit
// entry is "breach.mark". The same answer and moment again writes nothing.
func (db *DB) MarkBreach(ctx context.Context, a tocsin.Actor, id int64, answer tocsin.BreachAnswer, aware time.Time) error {
	answer, err := tocsin.ParseBreachAnswer(string(answer))
	if err != nil {
		return err
	}
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		_, created, err := tx.securityStatus(ctx, id)
		if err != nil {
			return err
		}
		if aware, err = tocsin.CheckAwareness(aware, now, created); err != nil {
			return err
		}
		old, err := tx.breach(ctx, id)
		if err != nil && tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			return err
		}
		var oldAnswer, oldAware string
		if old == nil {
			if _, err := tx.exec(ctx, `INSERT INTO breaches (incident_id, answer, aware_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`,
				id, string(answer), aware, now, now); err != nil {
				return err
			}
		} else {
			oldAnswer, oldAware = string(old.Answer), momentText(&old.AwareAt)
			if old.Answer == answer && old.AwareAt.Equal(aware) {
				return nil
			}
			if _, err := tx.exec(ctx, `UPDATE breaches SET answer = ?, aware_at = ?, updated_at = ? WHERE incident_id = ?`,
				string(answer), aware, now, id); err != nil {
				return err
			}
		}
		if oldAnswer != string(answer) {
			if err := tx.entry(ctx, a, id, &tocsin.SecurityEntry{Kind: tocsin.EntryBreach, Subject: "answer", Old: oldAnswer, New: string(answer)}, now); err != nil {
				return err
			}
		}
		if newAware := momentText(&aware); oldAware != newAware {
			if err := tx.entry(ctx, a, id, &tocsin.SecurityEntry{Kind: tocsin.EntryBreach, Subject: "aware", Old: oldAware, New: newAware}, now); err != nil {
				return err
			}
		}
		if err := tx.touch(ctx, id, now); err != nil {
			return err
		}
		before := ""
		if old != nil {
			before = "answer=" + oldAnswer + " aware_at=" + oldAware
		}
		return tx.audit(ctx, a, "breach.mark", securityTarget(id), before, "answer="+string(answer)+" aware_at="+momentText(&aware))
	})
}

// SetBreachRegister validates b (tocsin.Breach's ValidateRegister) and
// replaces the register's fields of incident b.IncidentID, with a
// "breach" entry naming the fields changed and the audit entry
// "breach.register". ENOTFOUND when the incident is not marked.
func (db *DB) SetBreachRegister(ctx context.Context, a tocsin.Actor, b *tocsin.Breach) error {
	now := db.now()
	if err := b.ValidateRegister(now); err != nil {
		return err
	}
	b.AuthorityAt, b.SubjectsAt = utcPtr(b.AuthorityAt), utcPtr(b.SubjectsAt)
	return db.update(ctx, func(tx conn) error {
		if _, _, err := tx.securityStatus(ctx, b.IncidentID); err != nil {
			return err
		}
		old, err := tx.breach(ctx, b.IncidentID)
		if err != nil {
			return err
		}
		numText := func(n *int64) string {
			if n == nil {
				return ""
			}
			return strconv.FormatInt(*n, 10)
		}
		fields := []struct{ name, o, n string }{
			{"type", old.Type, b.Type}, {"risk", string(old.Risk), string(b.Risk)}, {"status", string(old.Status), string(b.Status)},
			{"categories", old.Categories, b.Categories}, {"people", numText(old.People), numText(b.People)},
			{"records", numText(old.Records), numText(b.Records)}, {"consequences", old.Consequences, b.Consequences},
			{"remedial", old.Remedial, b.Remedial}, {"authority_at", momentText(old.AuthorityAt), momentText(b.AuthorityAt)},
			{"authority_ref", old.AuthorityRef, b.AuthorityRef}, {"subjects_at", momentText(old.SubjectsAt), momentText(b.SubjectsAt)},
			{"subjects_count", numText(old.SubjectsCount), numText(b.SubjectsCount)}, {"subjects_how", old.SubjectsHow, b.SubjectsHow},
		}
		var changed, before, after []string
		for _, f := range fields {
			if f.o == f.n {
				continue
			}
			changed = append(changed, f.name)
			before, after = append(before, f.name+"="+bodySummary(f.o)), append(after, f.name+"="+bodySummary(f.n))
		}
		if len(changed) == 0 {
			return nil
		}
		if _, err := tx.exec(ctx, `UPDATE breaches SET breach_type = ?, risk = ?, status = ?, categories = ?, people = ?, records = ?,
			consequences = ?, remedial = ?, authority_at = ?, authority_ref = ?, subjects_at = ?, subjects_count = ?, subjects_how = ?, updated_at = ?
			WHERE incident_id = ?`, b.Type, string(b.Risk), string(b.Status), b.Categories, b.People, b.Records,
			b.Consequences, b.Remedial, b.AuthorityAt, b.AuthorityRef, b.SubjectsAt, b.SubjectsCount, b.SubjectsHow, now, b.IncidentID); err != nil {
			return err
		}
		e := &tocsin.SecurityEntry{Kind: tocsin.EntryBreach, Subject: "register", Body: strings.Join(changed, ", ")}
		if old.Status != b.Status {
			e.Old, e.New = string(old.Status), string(b.Status)
		}
		if err := tx.entry(ctx, a, b.IncidentID, e, now); err != nil {
			return err
		}
		if err := tx.touch(ctx, b.IncidentID, now); err != nil {
			return err
		}
		return tx.audit(ctx, a, "breach.register", securityTarget(b.IncidentID), strings.Join(before, " "), strings.Join(after, " "))
	})
}

// RecordBreachDecision validates d against the GDPR deadline (a late
// decision needs the reason for the delay and is flagged late) and stores
// it with a decision on the incident's timeline (dated when decided) and
// the audit entry "breach.decision". ENOTFOUND when the incident is not
// marked; ECONFLICT when it is marked "no".
func (db *DB) RecordBreachDecision(ctx context.Context, a tocsin.Actor, id int64, d *tocsin.BreachDecision) error {
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		_, created, err := tx.securityStatus(ctx, id)
		if err != nil {
			return err
		}
		b, err := tx.breach(ctx, id)
		if err != nil {
			return err
		}
		if err := b.ValidateDecision(d, now); err != nil {
			return err
		}
		if err := tocsin.NotTooEarly(d.DecidedAt, created); err != nil {
			return err
		}
		if err := tx.queryRow(ctx, `SELECT email FROM users WHERE id = ?`, d.DecidedBy).Scan(&d.ByEmail); errors.Is(err, sql.ErrNoRows) {
			return tocsin.Errorf(tocsin.EINVALID, "there is no account %d", d.DecidedBy).WithKey("security.user_unknown", d.DecidedBy)
		} else if err != nil {
			return err
		}
		who, choice := "authority", "do not notify the supervisory authority"
		if d.Notify {
			choice = "notify the supervisory authority"
		}
		if d.Subjects {
			who, choice = "subjects", "do not notify the people concerned"
			if d.Notify {
				choice = "notify the people concerned"
			}
		}
		why := d.Why
		if d.Late && strings.TrimSpace(d.LateReason) != "" {
			why += "\n\nLate (after the 72 hours): " + d.LateReason
		}
		dec := &tocsin.Decision{Choice: choice, Options: "notify / do not notify", Why: why, DecidedBy: d.DecidedBy, DecidedAt: d.DecidedAt}
		if err := tx.queryRow(ctx, `INSERT INTO security_decisions (incident_id, choice, options, why, decided_by, decided_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, id, dec.Choice, dec.Options, dec.Why, dec.DecidedBy, dec.DecidedAt).Scan(&dec.ID); err != nil {
			return err
		}
		d.DecisionID = dec.ID
		if err := tx.queryRow(ctx, `INSERT INTO breach_decisions (incident_id, subjects, notify, why, late, late_reason, decided_by, decided_at, decision_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, d.Subjects, d.Notify, d.Why, d.Late, d.LateReason, d.DecidedBy, d.DecidedAt, dec.ID).Scan(&d.ID); err != nil {
			return err
		}
		if err := tx.entry(ctx, a, id, &tocsin.SecurityEntry{Kind: tocsin.EntryDecision, OccurredAt: d.DecidedAt, Decision: dec}, now); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE breaches SET updated_at = ? WHERE incident_id = ?`, now, id); err != nil {
			return err
		}
		if err := tx.touch(ctx, id, now); err != nil {
			return err
		}
		after := fmt.Sprintf("decision=%d who=%s notify=%t late=%t by=%s why=%s", d.ID, who, d.Notify, d.Late, d.ByEmail, bodySummary(d.Why))
		return tx.audit(ctx, a, "breach.decision", securityTarget(id), "", after)
	})
}

// RecordClockDone records when the report NIS2 clock k asks for was sent
// (zero: now; not in the future), with a "breach" entry and the audit
// entry "breach.clock". EINVALID for the GDPR clock, which a decision stops.
func (db *DB) RecordClockDone(ctx context.Context, a tocsin.Actor, id int64, k tocsin.ClockKind, at time.Time) error {
	col, ok := clockColumns[k]
	if !ok {
		return tocsin.Errorf(tocsin.EINVALID, "unknown clock %q", k).WithKey("breach.clock_unknown", string(k))
	}
	now := db.now()
	if at.IsZero() {
		at = now
	}
	if err := tocsin.NotFuture(at, now); err != nil {
		return err
	}
	at = at.UTC().Truncate(time.Microsecond)
	return db.update(ctx, func(tx conn) error {
		_, created, err := tx.securityStatus(ctx, id)
		if err != nil {
			return err
		}
		if err := tocsin.NotTooEarly(at, created); err != nil {
			return err
		}
		old, err := tx.breach(ctx, id)
		if err != nil {
			return err
		}
		var before string
		if t, ok := old.ClocksDone[k]; ok {
			if t.Equal(at) {
				return nil
			}
			before = momentText(&t)
		}
		if _, err := tx.exec(ctx, `UPDATE breaches SET `+col+` = ?, updated_at = ? WHERE incident_id = ?`, at, now, id); err != nil {
			return err
		}
		if err := tx.entry(ctx, a, id, &tocsin.SecurityEntry{Kind: tocsin.EntryBreach, Subject: string(k), Old: before, New: momentText(&at), OccurredAt: at}, now); err != nil {
			return err
		}
		if err := tx.touch(ctx, id, now); err != nil {
			return err
		}
		return tx.audit(ctx, a, "breach.clock", securityTarget(id), string(k)+"="+before, string(k)+"="+momentText(&at))
	})
}

// RemindBreach enqueues msgs, the reminders of one clock threshold of
// incident id (what names it: "gdpr:24h"), with the audit entry
// "breach.remind", in one transaction. Messages whose key is already in
// the outbox are left out; when none is left it writes nothing and
// reports false, so that several instances remind once.
func (db *DB) RemindBreach(ctx context.Context, a tocsin.Actor, id int64, what string, msgs []*tocsin.Message) (bool, error) {
	acted := false
	err := db.update(ctx, func(tx conn) error {
		var fresh []*tocsin.Message
		for _, m := range msgs {
			var n int
			if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM messages WHERE key = ?`, m.Key).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				fresh = append(fresh, m)
			}
		}
		if len(fresh) == 0 {
			return nil
		}
		if err := tx.enqueue(ctx, fresh); err != nil {
			return err
		}
		acted = true
		to := make([]string, len(fresh))
		for i, m := range fresh {
			to[i] = m.To
		}
		if err := tx.notified(ctx, id, "gdpr", to, what, tx.now()); err != nil {
			return err
		}
		return tx.audit(ctx, a, "breach.remind", securityTarget(id), "", what+" to="+strings.Join(to, ","))
	})
	return acted && err == nil, err
}
