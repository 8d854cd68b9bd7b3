package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

const messageColumns = `id, channel, recipient, subject, body, headers, key, attempts,
	next_attempt_at, locked_until, sent_at, dead_at, last_error, created_at`

func scanMessage(sc rowScanner) (*tocsin.Message, error) {
	var (
		m       tocsin.Message
		headers string
	)
	err := sc.Scan(&m.ID, &m.Channel, &m.To, &m.Subject, &m.Body, &headers, &m.Key, &m.Attempts,
		timeScan{&m.NextAttemptAt}, nullTimeScan{&m.LockedUntil}, nullTimeScan{&m.SentAt},
		nullTimeScan{&m.DeadAt}, &m.LastError, timeScan{&m.CreatedAt})
	if err != nil {
		return nil, err
	}
	if headers != "" && headers != "{}" {
		if err := json.Unmarshal([]byte(headers), &m.Headers); err != nil {
			return nil, fmt.Errorf("message %d headers: %w", m.ID, err)
		}
	}
	return &m, nil
}

// enqueue writes msgs to the outbox inside tx, the transaction of the change
// that causes them; every mutation that sends something passes its messages
// here. A message whose key is already queued is skipped, and m.ID is set to
// the stored message's ID either way.
func (c conn) enqueue(ctx context.Context, msgs []*tocsin.Message) error {
	now := c.now()
	for _, m := range msgs {
		if m == nil {
			continue
		}
		if strings.TrimSpace(m.Key) == "" || m.Channel == "" || m.To == "" {
			return tocsin.Errorf(tocsin.EINVALID, "an outgoing message needs a key, a channel and a recipient")
		}
		headers := []byte("{}")
		if len(m.Headers) > 0 {
			var err error
			if headers, err = json.Marshal(m.Headers); err != nil {
				return fmt.Errorf("message headers: %w", err)
			}
		}
		if m.NextAttemptAt.IsZero() {
			m.NextAttemptAt = now
		}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = now
		}
		m.NextAttemptAt = m.NextAttemptAt.UTC().Truncate(time.Microsecond)
		m.CreatedAt = m.CreatedAt.UTC().Truncate(time.Microsecond)
		_, err := c.exec(ctx, `INSERT INTO messages (channel, recipient, subject, body, headers, key, attempts, next_attempt_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)
			ON CONFLICT (key) DO NOTHING`,
			m.Channel, m.To, m.Subject, m.Body, string(headers), m.Key, m.NextAttemptAt, m.CreatedAt)
		if err != nil {
			return fmt.Errorf("enqueue message: %w", err)
		}
		if err := c.queryRow(ctx, `SELECT id FROM messages WHERE key = ?`, m.Key).Scan(&m.ID); err != nil {
			return fmt.Errorf("enqueue message: %w", err)
		}
	}
	return nil
}

// ClaimMessages leases up to limit due messages until now+lease and counts
// an attempt on each, oldest due first. In PostgreSQL, rows another claimer
// holds are skipped, so two instances never claim the same message.
func (db *DB) ClaimMessages(ctx context.Context, now time.Time, lease time.Duration, limit int, channels []string) ([]*tocsin.Message, error) {
	if lease <= 0 {
		return nil, tocsin.Errorf(tocsin.EINVALID, "a lease must be longer than zero")
	}
	if len(channels) == 0 {
		return nil, nil
	}
	args := []any{now.Add(lease), now, now}
	for _, c := range channels {
		args = append(args, c)
	}
	args = append(args, limitOr(limit, 10, 1000))
	lock := ""
	if db.dialect == DialectPostgres {
		lock = ` FOR UPDATE SKIP LOCKED`
	}
	q := `UPDATE messages SET locked_until = ?, attempts = attempts + 1
		WHERE id IN (
			SELECT id FROM messages
			WHERE sent_at IS NULL AND dead_at IS NULL AND next_attempt_at <= ?
				AND (locked_until IS NULL OR locked_until <= ?)
				AND channel IN (?` + strings.Repeat(", ?", len(channels)-1) + `)
			ORDER BY next_attempt_at, id
			LIMIT ?` + lock + `)
		RETURNING ` + messageColumns
	var out []*tocsin.Message
	err := db.update(ctx, func(tx conn) error {
		var err error
		out, err = list(ctx, tx, scanMessage, q, args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	// RETURNING gives no order.
	slices.SortFunc(out, func(a, b *tocsin.Message) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

func messageNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "message %d does not exist", id)
}

// MarkSent records delivery and releases the lease.
func (db *DB) MarkSent(ctx context.Context, id int64, at time.Time) error {
	return db.update(ctx, func(tx conn) error {
		return tx.execOne(ctx, messageNotFound(id),
			`UPDATE messages SET sent_at = ?, locked_until = NULL, last_error = '' WHERE id = ?`, at, id)
	})
}

// MarkRetry releases the lease and schedules the next attempt.
func (db *DB) MarkRetry(ctx context.Context, id int64, errText string, next time.Time) error {
	return db.update(ctx, func(tx conn) error {
		return tx.execOne(ctx, messageNotFound(id),
			`UPDATE messages SET locked_until = NULL, next_attempt_at = ?, last_error = ? WHERE id = ?`, next, errText, id)
	})
}

// MarkDead gives up on a message.
func (db *DB) MarkDead(ctx context.Context, id int64, errText string, at time.Time) error {
	return db.update(ctx, func(tx conn) error {
		return tx.execOne(ctx, messageNotFound(id),
			`UPDATE messages SET dead_at = ?, locked_until = NULL, last_error = ? WHERE id = ?`, at, errText, id)
	})
}

// OutboxStats counts messages by state.
// PruneMessages deletes messages sent or given up before before.
func (db *DB) PruneMessages(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.update(ctx, func(tx conn) error {
		res, err := tx.exec(ctx, `DELETE FROM messages WHERE sent_at < ? OR dead_at < ?`, before, before)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

func (db *DB) OutboxStats(ctx context.Context) (tocsin.OutboxStats, error) {
	var s tocsin.OutboxStats
	err := db.read().queryRow(ctx, `SELECT
			COUNT(CASE WHEN sent_at IS NULL AND dead_at IS NULL THEN 1 END),
			COUNT(CASE WHEN sent_at IS NULL AND dead_at IS NOT NULL THEN 1 END),
			COUNT(CASE WHEN sent_at IS NOT NULL THEN 1 END)
		FROM messages`).Scan(&s.Pending, &s.Dead, &s.Sent)
	if err != nil {
		return s, fmt.Errorf("sqlstore: outbox stats: %w", err)
	}
	return s, nil
}

// Messages returns the newest messages first (at most 1000).
func (db *DB) Messages(ctx context.Context, limit int) ([]*tocsin.Message, error) {
	out, err := list(ctx, db.read(), scanMessage, `SELECT `+messageColumns+` FROM messages ORDER BY created_at DESC, id DESC LIMIT ?`,
		limitOr(limit, 100, 1000))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: messages: %w", err)
	}
	return out, nil
}
