package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/tocsin-org/tocsin"
)

// auditLock is the PostgreSQL advisory lock key that serializes appends to
// the audit chain across connections and instances.
const auditLock int64 = 0x746f6373696e_02 // "tocsin" 02

const auditColumns = `seq, at, actor_id, token_id, actor, ip, action, target, before, after, prev_hash, hash`

func scanAudit(sc rowScanner) (*tocsin.AuditEntry, error) {
	var e tocsin.AuditEntry
	err := sc.Scan(&e.Seq, timeScan{&e.At}, &e.ActorID, &e.TokenID, &e.Actor, &e.IP, &e.Action, &e.Target,
		&e.Before, &e.After, &e.PrevHash, &e.Hash)
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// audit appends one entry to the chain inside tx. Call it last in a
// mutation: in PostgreSQL it takes the chain lock, held until commit.
func (c conn) audit(ctx context.Context, a tocsin.Actor, action, target, before, after string) error {
	if c.dialect == DialectPostgres {
		if _, err := c.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, auditLock); err != nil {
			return fmt.Errorf("lock audit chain: %w", err)
		}
	}
	prev, err := scanAudit(c.queryRow(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		prev, err = nil, nil
	}
	if err != nil {
		return fmt.Errorf("read last audit entry: %w", err)
	}
	e := &tocsin.AuditEntry{
		At:      c.now(),
		ActorID: a.UserID,
		TokenID: a.TokenID,
		Actor:   a.Label,
		IP:      a.IP,
		Action:  action,
		Target:  target,
		Before:  before,
		After:   after,
	}
	e.Seal(prev)
	_, err = c.exec(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At, e.ActorID, e.TokenID, e.Actor, e.IP, e.Action, e.Target, e.Before, e.After, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	return nil
}

// AppendAudit records an action that changes nothing else.
func (db *DB) AppendAudit(ctx context.Context, a tocsin.Actor, action, target, before, after string) error {
	if strings.TrimSpace(action) == "" {
		return tocsin.Errorf(tocsin.EINVALID, "an audit entry needs an action")
	}
	return db.update(ctx, func(tx conn) error {
		return tx.audit(ctx, a, action, target, before, after)
	})
}

// AuditEntries returns matching entries, newest first (at most 1000).
func (db *DB) AuditEntries(ctx context.Context, f tocsin.AuditFilter) ([]*tocsin.AuditEntry, error) {
	var where []string
	var args []any
	if f.Actor != "" {
		where = append(where, `LOWER(actor) LIKE ? ESCAPE '\'`)
		args = append(args, "%"+likeEscape(strings.ToLower(f.Actor))+"%")
	}
	if f.Action != "" {
		where = append(where, `action LIKE ? ESCAPE '\'`)
		args = append(args, likeEscape(f.Action)+"%")
	}
	if f.Target != "" {
		where = append(where, `target = ?`)
		args = append(args, f.Target)
	}
	if !f.Since.IsZero() {
		where = append(where, `at >= ?`)
		args = append(args, f.Since)
	}
	if !f.Until.IsZero() {
		where = append(where, `at < ?`)
		args = append(args, f.Until)
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY seq DESC LIMIT ? OFFSET ?`
	args = append(args, limitOr(f.Limit, 100, 1000), max(f.Offset, 0))
	out, err := list(ctx, db.read(), scanAudit, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: audit entries: %w", err)
	}
	return out, nil
}

// likeEscape escapes the LIKE wildcards of s for ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// VerifyAudit streams the whole chain in order through a
// tocsin.ChainVerifier. It returns the number of entries read (all of them,
// also past a break) and the first break, or nil if the chain is intact.
func (db *DB) VerifyAudit(ctx context.Context) (int64, *tocsin.AuditBreak, error) {
	rows, err := db.read().query(ctx, `SELECT `+auditColumns+` FROM audit_log ORDER BY seq`)
	if err != nil {
		return 0, nil, fmt.Errorf("sqlstore: verify audit: %w", err)
	}
	defer rows.Close()
	var (
		v     tocsin.ChainVerifier
		n     int64
		first *tocsin.AuditBreak
	)
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return n, first, fmt.Errorf("sqlstore: verify audit: %w", err)
		}
		n++
		if first == nil {
			first = v.Next(e)
		}
	}
	if err := rows.Err(); err != nil {
		return n, first, fmt.Errorf("sqlstore: verify audit: %w", err)
	}
	return n, first, nil
}
