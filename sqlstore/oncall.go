package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// On call: rotas with their members and overrides, the escalation policy
// and each user's paging contacts. Audit entries name people by user ID
// and contacts by kind, never by address.

func rotaNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "rota %d does not exist", id).WithKey("oncall.rota_not_found", id)
}

func rotaTarget(id int64) string { return fmt.Sprintf("rota:%d", id) }

func scanRota(sc rowScanner) (*tocsin.Rota, error) {
	var r tocsin.Rota
	if err := sc.Scan(&r.ID, &r.Name, &r.Zone, timeScan{&r.Start}, &r.PeriodDays, timeScan{&r.UpdatedAt}); err != nil {
		return nil, err
	}
	return &r, nil
}

const rotaColumns = `id, name, zone, start_at, period_days, updated_at`

// rota reads rota id with its members and overrides.
func (c conn) rota(ctx context.Context, id int64) (*tocsin.Rota, error) {
	r, err := scanRota(c.queryRow(ctx, `SELECT `+rotaColumns+` FROM rotas WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, rotaNotFound(id)
	}
	if err != nil {
		return nil, err
	}
	return r, c.fillRota(ctx, r)
}

func (c conn) fillRota(ctx context.Context, r *tocsin.Rota) error {
	rows, err := c.query(ctx, `SELECT user_id FROM rota_members WHERE rota_id = ? ORDER BY position`, r.ID)
	if err != nil {
		return err
	}
	defer rows.Close()
	r.Members = nil
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		r.Members = append(r.Members, id)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	r.Overrides, err = list(ctx, c, func(sc rowScanner) (tocsin.Override, error) {
		var o tocsin.Override
		err := sc.Scan(&o.ID, &o.UserID, timeScan{&o.From}, timeScan{&o.Until}, &o.Note)
		return o, err
	}, `SELECT id, user_id, from_at, until_at, note FROM rota_overrides WHERE rota_id = ? ORDER BY from_at, id`, r.ID)
	return err
}

// Rota returns one rota; ENOTFOUND if there is none.
func (db *DB) Rota(ctx context.Context, id int64) (*tocsin.Rota, error) {
	return db.rota(ctx, id)
}

func (db *DB) rota(ctx context.Context, id int64) (*tocsin.Rota, error) {
	r, err := db.read().rota(ctx, id)
	if err != nil && tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		return nil, fmt.Errorf("sqlstore: rota: %w", err)
	}
	return r, err
}

// Rotas returns every rota by name.
func (db *DB) Rotas(ctx context.Context) ([]*tocsin.Rota, error) {
	c := db.read()
	out, err := list(ctx, c, scanRota, `SELECT `+rotaColumns+` FROM rotas ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: rotas: %w", err)
	}
	for _, r := range out {
		if err := c.fillRota(ctx, r); err != nil {
			return nil, fmt.Errorf("sqlstore: rotas: %w", err)
		}
	}
	return out, nil
}

// checkUsers refuses IDs of users that do not exist or are disabled.
func (c conn) checkUsers(ctx context.Context, ids []int64) error {
	for _, id := range ids {
		u, err := c.user(ctx, id)
		if tocsin.ErrorCode(err) == tocsin.ENOTFOUND || (err == nil && u.Disabled()) {
			return tocsin.Errorf(tocsin.EINVALID, "user %d does not exist or is disabled", id).WithKey("oncall.user_unknown", id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// SaveRota creates r (ID 0) or replaces its fields and members, with the
// audit entry "rota.create" or "rota.update". Overrides are kept.
func (db *DB) SaveRota(ctx context.Context, a tocsin.Actor, r *tocsin.Rota) error {
	r.Overrides = nil
	if err := r.Validate(); err != nil {
		return err
	}
	now := db.now()
	r.Start = r.Start.UTC().Truncate(time.Second)
	return db.update(ctx, func(tx conn) error {
		if err := tx.checkUsers(ctx, r.Members); err != nil {
			return err
		}
		action, before := "rota.create", ""
		if r.ID == 0 {
			if err := tx.queryRow(ctx, `INSERT INTO rotas (name, zone, start_at, period_days, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
				r.Name, r.Zone, r.Start, r.PeriodDays, now).Scan(&r.ID); err != nil {
				return err
			}
		} else {
			old, err := tx.rota(ctx, r.ID)
			if err != nil {
				return err
			}
			action, before = "rota.update", rotaSummary(old)
			if _, err := tx.exec(ctx, `UPDATE rotas SET name = ?, zone = ?, start_at = ?, period_days = ?, updated_at = ? WHERE id = ?`,
				r.Name, r.Zone, r.Start, r.PeriodDays, now, r.ID); err != nil {
				return err
			}
			if _, err := tx.exec(ctx, `DELETE FROM rota_members WHERE rota_id = ?`, r.ID); err != nil {
				return err
			}
		}
		for i, id := range r.Members {
			if _, err := tx.exec(ctx, `INSERT INTO rota_members (rota_id, position, user_id) VALUES (?, ?, ?)`, r.ID, i, id); err != nil {
				return err
			}
		}
		r.UpdatedAt = now
		return tx.audit(ctx, a, action, rotaTarget(r.ID), before, rotaSummary(r))
	})
}

func rotaSummary(r *tocsin.Rota) string {
	ids := make([]string, len(r.Members))
	for i, id := range r.Members {
		ids[i] = fmt.Sprint(id)
	}
	return fmt.Sprintf("name=%q zone=%s start=%s period_days=%d members=%s", r.Name, r.Zone, r.Start.UTC().Format(time.RFC3339), r.PeriodDays, strings.Join(ids, ","))
}

// DeleteRota deletes a rota the policy does not use (ECONFLICT otherwise).
func (db *DB) DeleteRota(ctx context.Context, a tocsin.Actor, id int64) error {
	return db.update(ctx, func(tx conn) error {
		old, err := tx.rota(ctx, id)
		if err != nil {
			return err
		}
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM escalation_levels WHERE rota_id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return tocsin.Errorf(tocsin.ECONFLICT, "the escalation policy pages rota %d: change the policy first", id).WithKey("oncall.rota_in_use", old.Name)
		}
		if _, err := tx.exec(ctx, `DELETE FROM rotas WHERE id = ?`, id); err != nil {
			return err
		}
		return tx.audit(ctx, a, "rota.delete", rotaTarget(id), rotaSummary(old), "")
	})
}

// AddOverride puts o.UserID on call in rota rotaID from o.From to o.Until.
func (db *DB) AddOverride(ctx context.Context, a tocsin.Actor, rotaID int64, o *tocsin.Override) error {
	if err := o.Validate(); err != nil {
		return err
	}
	o.From, o.Until = o.From.UTC().Truncate(time.Second), o.Until.UTC().Truncate(time.Second)
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		if _, err := tx.rota(ctx, rotaID); err != nil {
			return err
		}
		if err := tx.checkUsers(ctx, []int64{o.UserID}); err != nil {
			return err
		}
		if err := tx.queryRow(ctx, `INSERT INTO rota_overrides (rota_id, user_id, from_at, until_at, note, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, rotaID, o.UserID, o.From, o.Until, o.Note, a.Label, now).Scan(&o.ID); err != nil {
			return err
		}
		return tx.audit(ctx, a, "rota.override", rotaTarget(rotaID), "",
			fmt.Sprintf("override=%d user=%d from=%s until=%s", o.ID, o.UserID, o.From.Format(time.RFC3339), o.Until.Format(time.RFC3339)))
	})
}

// DeleteOverride removes override id of rota rotaID.
func (db *DB) DeleteOverride(ctx context.Context, a tocsin.Actor, rotaID, id int64) error {
	return db.update(ctx, func(tx conn) error {
		err := tx.execOne(ctx, tocsin.Errorf(tocsin.ENOTFOUND, "override %d does not exist", id).WithKey("oncall.override_not_found", id),
			`DELETE FROM rota_overrides WHERE id = ? AND rota_id = ?`, id, rotaID)
		if err != nil {
			return err
		}
		return tx.audit(ctx, a, "rota.override_delete", rotaTarget(rotaID), fmt.Sprintf("override=%d", id), "")
	})
}

// EscalationPolicy returns the policy; ENOTFOUND when none was set.
func (db *DB) EscalationPolicy(ctx context.Context) (*tocsin.EscalationPolicy, error) {
	p, err := db.read().policy(ctx)
	if err != nil && tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		return nil, fmt.Errorf("sqlstore: escalation policy: %w", err)
	}
	return p, err
}

func (c conn) policy(ctx context.Context) (*tocsin.EscalationPolicy, error) {
	var p tocsin.EscalationPolicy
	err := c.queryRow(ctx, `SELECT rounds, updated_by, updated_at FROM escalation_policy WHERE id = 1`).
		Scan(&p.Repeat, &p.UpdatedBy, timeScan{&p.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tocsin.Errorf(tocsin.ENOTFOUND, "no escalation policy is set").WithKey("oncall.no_policy")
	}
	if err != nil {
		return nil, err
	}
	p.Levels, err = list(ctx, c, func(sc rowScanner) (tocsin.EscalationLevel, error) {
		var (
			l     tocsin.EscalationLevel
			rota  sql.NullInt64
			users string
			secs  int64
		)
		if err := sc.Scan(&rota, &users, &secs); err != nil {
			return l, err
		}
		l.RotaID, l.Delay = rota.Int64, time.Duration(secs)*time.Second
		return l, json.Unmarshal([]byte(users), &l.UserIDs)
	}, `SELECT rota_id, user_ids, delay_secs FROM escalation_levels ORDER BY position`)
	return &p, err
}

// SetEscalationPolicy replaces the policy, with the audit entry
// "policy.update".
func (db *DB) SetEscalationPolicy(ctx context.Context, a tocsin.Actor, p *tocsin.EscalationPolicy) error {
	if err := p.Validate(); err != nil {
		return err
	}
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		for i, l := range p.Levels {
			if l.RotaID > 0 {
				if _, err := tx.rota(ctx, l.RotaID); tocsin.ErrorCode(err) == tocsin.ENOTFOUND {
					return tocsin.Errorf(tocsin.EINVALID, "level %d: rota %d does not exist", i+1, l.RotaID).WithKey("oncall.rota_not_found", l.RotaID)
				} else if err != nil {
					return err
				}
			}
			if err := tx.checkUsers(ctx, l.UserIDs); err != nil {
				return err
			}
		}
		before := ""
		if old, err := tx.policy(ctx); err == nil {
			before = policySummary(old)
		} else if tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM escalation_levels`); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM escalation_policy`); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `INSERT INTO escalation_policy (id, rounds, updated_by, updated_at) VALUES (1, ?, ?, ?)`, p.Repeat, a.Label, now); err != nil {
			return err
		}
		for i, l := range p.Levels {
			var rota any
			if l.RotaID > 0 {
				rota = l.RotaID
			}
			ids := l.UserIDs
			if ids == nil {
				ids = []int64{}
			}
			users, _ := json.Marshal(ids)
			if _, err := tx.exec(ctx, `INSERT INTO escalation_levels (position, rota_id, user_ids, delay_secs) VALUES (?, ?, ?, ?)`,
				i, rota, string(users), int64(l.Delay/time.Second)); err != nil {
				return err
			}
		}
		p.UpdatedAt, p.UpdatedBy = now, a.Label
		return tx.audit(ctx, a, "policy.update", "policy", before, policySummary(p))
	})
}

func policySummary(p *tocsin.EscalationPolicy) string {
	var b strings.Builder
	fmt.Fprintf(&b, "repeat=%d", p.Repeat)
	for i, l := range p.Levels {
		fmt.Fprintf(&b, " level%d=rota:%d,users:%v,delay:%s", i+1, l.RotaID, l.UserIDs, l.Delay)
	}
	return b.String()
}

func contactTarget(userID int64) string { return fmt.Sprintf("user:%d", userID) }

func (c conn) contacts(ctx context.Context, userID int64) ([]*tocsin.Contact, error) {
	return list(ctx, c, func(sc rowScanner) (*tocsin.Contact, error) {
		var k tocsin.Contact
		err := sc.Scan(&k.ID, &k.UserID, &k.Kind, &k.Address, timeScan{&k.CreatedAt})
		return &k, err
	}, `SELECT id, user_id, kind, address, created_at FROM paging_contacts WHERE user_id = ? ORDER BY id`, userID)
}

// Contacts returns a user's paging contacts.
func (db *DB) Contacts(ctx context.Context, userID int64) ([]*tocsin.Contact, error) {
	out, err := db.read().contacts(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: contacts: %w", err)
	}
	return out, nil
}

// AddContact validates and stores a paging contact, with the audit entry
// "contact.add" (its kind, not its address). ECONFLICT for a duplicate.
func (db *DB) AddContact(ctx context.Context, a tocsin.Actor, k *tocsin.Contact) error {
	if err := k.Validate(); err != nil {
		return err
	}
	now := db.now()
	return db.update(ctx, func(tx conn) error {
		if _, err := tx.user(ctx, k.UserID); err != nil {
			return err
		}
		var n, same int
		if err := tx.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN kind = ? AND address = ? THEN 1 ELSE 0 END), 0) FROM paging_contacts WHERE user_id = ?`,
			string(k.Kind), k.Address, k.UserID).Scan(&n, &same); err != nil {
			return err
		}
		if same > 0 {
			return tocsin.Errorf(tocsin.ECONFLICT, "this contact is already there").WithKey("oncall.contact_twice")
		}
		if n >= tocsin.MaxContacts {
			return tocsin.Errorf(tocsin.EINVALID, "a person has at most %d contacts", tocsin.MaxContacts).WithKey("oncall.contacts_many", tocsin.MaxContacts)
		}
		if err := tx.queryRow(ctx, `INSERT INTO paging_contacts (user_id, kind, address, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			k.UserID, string(k.Kind), k.Address, now).Scan(&k.ID); err != nil {
			return err
		}
		k.CreatedAt = now
		return tx.audit(ctx, a, "contact.add", contactTarget(k.UserID), "", fmt.Sprintf("contact=%d kind=%s", k.ID, k.Kind))
	})
}

// DeleteContact removes contact id of user userID.
func (db *DB) DeleteContact(ctx context.Context, a tocsin.Actor, userID, id int64) error {
	return db.update(ctx, func(tx conn) error {
		err := tx.execOne(ctx, tocsin.Errorf(tocsin.ENOTFOUND, "contact %d does not exist", id).WithKey("oncall.contact_not_found", id),
			`DELETE FROM paging_contacts WHERE id = ? AND user_id = ?`, id, userID)
		if err != nil {
			return err
		}
		return tx.audit(ctx, a, "contact.delete", contactTarget(userID), fmt.Sprintf("contact=%d", id), "")
	})
}
