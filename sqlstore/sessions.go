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

const sessionColumns = `id, user_id, created_at, last_seen_at, expires_at, ip, user_agent, verified`

func scanSession(sc rowScanner) (*tocsin.Session, error) {
	var s tocsin.Session
	err := sc.Scan(&s.ID, &s.UserID, timeScan{&s.CreatedAt}, timeScan{&s.LastSeenAt}, timeScan{&s.ExpiresAt},
		&s.IP, &s.UserAgent, &s.Verified)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

func sessionNotFound() error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "this session does not exist or has ended")
}

// sessionRef names a session in audit summaries by the start of its ID: the
// ID is already a hash of the cookie, but a prefix is all a reader needs.
func sessionRef(id string) string {
	if len(id) > 12 {
		id = id[:12]
	}
	return "session=" + id
}

func (c conn) session(ctx context.Context, id string) (*tocsin.Session, error) {
	s, err := scanSession(c.queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sessionNotFound()
	}
	return s, err
}

// CreateSession stores s, records the successful sign-in in (if not nil)
// and enqueues msgs, in one transaction.
func (db *DB) CreateSession(ctx context.Context, a tocsin.Actor, s *tocsin.Session, in *tocsin.SignIn, msgs []*tocsin.Message) error {
	if s.ID == "" || s.UserID == 0 {
		return tocsin.Errorf(tocsin.EINVALID, "a session needs an ID and a user")
	}
	now := db.now()
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	if s.LastSeenAt.IsZero() {
		s.LastSeenAt = s.CreatedAt
	}
	return db.update(ctx, func(tx conn) error {
		if _, err := tx.user(ctx, s.UserID); err != nil {
			return err
		}
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM sessions WHERE id = ?`, s.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return tocsin.Errorf(tocsin.ECONFLICT, "this session already exists")
		}
		_, err := tx.exec(ctx, `INSERT INTO sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			s.ID, s.UserID, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.IP, s.UserAgent, s.Verified)
		if err != nil {
			return err
		}
		if in != nil {
			in.Success = true
			if err := tx.insertSignIn(ctx, in, now); err != nil {
				return err
			}
		}
		if err := tx.enqueue(ctx, msgs); err != nil {
			return err
		}
		return tx.audit(ctx, a, "session.create", userTarget(s.UserID), "",
			fmt.Sprintf("%s ip=%s verified=%t", sessionRef(s.ID), s.IP, s.Verified))
	})
}

// Session returns the session with this ID; ENOTFOUND if there is none.
// Expiry is the caller's to check.
func (db *DB) Session(ctx context.Context, id string) (*tocsin.Session, error) {
	s, err := db.read().session(ctx, id)
	return s, wrapErr(err)
}

// TouchSession moves LastSeenAt forward to at (never back).
func (db *DB) TouchSession(ctx context.Context, id string, at time.Time) error {
	return db.update(ctx, func(tx conn) error {
		return tx.execOne(ctx, sessionNotFound(),
			`UPDATE sessions SET last_seen_at = CASE WHEN last_seen_at < ? THEN ? ELSE last_seen_at END WHERE id = ?`, at, at, id)
	})
}

// VerifySession marks the session as past its second factor.
func (db *DB) VerifySession(ctx context.Context, a tocsin.Actor, id, newID string, in *tocsin.SignIn) error {
	if newID == "" || newID == id {
		return tocsin.Errorf(tocsin.EINVALID, "a verified session needs a new ID")
	}
	return db.update(ctx, func(tx conn) error {
		s, err := tx.session(ctx, id)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE sessions SET id = ?, verified = ? WHERE id = ?`, newID, true, id); err != nil {
			return err
		}
		if in != nil {
			in.UserID, in.Success = s.UserID, true
			if err := tx.insertSignIn(ctx, in, db.now()); err != nil {
				return err
			}
		}
		return tx.audit(ctx, a, "session.verify", userTarget(s.UserID),
			fmt.Sprintf("%s verified=%t", sessionRef(id), s.Verified), sessionRef(newID)+" verified=true")
	})
}

// DeleteSession signs one session out.
func (db *DB) DeleteSession(ctx context.Context, a tocsin.Actor, id string) error {
	return db.update(ctx, func(tx conn) error {
		s, err := tx.session(ctx, id)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
			return err
		}
		return tx.audit(ctx, a, "session.delete", userTarget(s.UserID),
			fmt.Sprintf("%s ip=%s", sessionRef(id), s.IP), "")
	})
}

// DeleteUserSessions signs a user out everywhere except keepID ("" for all).
func (db *DB) DeleteUserSessions(ctx context.Context, a tocsin.Actor, userID int64, keepID string) error {
	return db.update(ctx, func(tx conn) error {
		if _, err := tx.user(ctx, userID); err != nil {
			return err
		}
		var before int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM sessions WHERE user_id = ?`, userID).Scan(&before); err != nil {
			return err
		}
		n, err := tx.deleteSessions(ctx, userID, keepID)
		if err != nil {
			return err
		}
		return tx.audit(ctx, a, "session.delete_all", userTarget(userID),
			fmt.Sprintf("sessions=%d", before), fmt.Sprintf("sessions=%d", before-n))
	})
}

// deleteSessions deletes the user's sessions but keepID and counts them.
func (c conn) deleteSessions(ctx context.Context, userID int64, keepID string) (int, error) {
	res, err := c.exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, keepID)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// UserSessions returns the user's sessions, most recently seen first.
func (db *DB) UserSessions(ctx context.Context, userID int64) ([]*tocsin.Session, error) {
	out, err := list(ctx, db.read(), scanSession, `SELECT `+sessionColumns+` FROM sessions WHERE user_id = ? ORDER BY last_seen_at DESC, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: user sessions: %w", err)
	}
	return out, nil
}

// DeleteExpiredSessions deletes sessions idle since before idleBefore or
// past their absolute expiry, and counts them.
func (db *DB) DeleteExpiredSessions(ctx context.Context, idleBefore, now time.Time) (int, error) {
	var n int64
	err := db.update(ctx, func(tx conn) error {
		res, err := tx.exec(ctx, `DELETE FROM sessions WHERE last_seen_at < ? OR expires_at < ?`, idleBefore, now)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

const signInColumns = `id, user_id, email, at, ip, user_agent, device, factor, success`

// PruneSignIns deletes sign-in attempts older than before.
func (db *DB) PruneSignIns(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := db.update(ctx, func(tx conn) error {
		res, err := tx.exec(ctx, `DELETE FROM sign_ins WHERE at < ?`, before)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

func (c conn) insertSignIn(ctx context.Context, in *tocsin.SignIn, now time.Time) error {
	if in.At.IsZero() {
		in.At = now
	}
	in.At = in.At.UTC().Truncate(time.Microsecond)
	in.Email = strings.ToLower(strings.TrimSpace(in.Email))
	if in.Factor == "" {
		in.Factor = tocsin.FactorPassword
	}
	var userID any
	if in.UserID != 0 {
		userID = in.UserID
	}
	return c.queryRow(ctx, `INSERT INTO sign_ins (user_id, email, at, ip, user_agent, device, factor, success, net)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		userID, in.Email, in.At, in.IP, in.UserAgent, in.Device, in.Factor, in.Success, tocsin.ThrottleNet(in.IP)).Scan(&in.ID)
}

// RecordFailedSignIn stores a failed attempt and enqueues msgs with it.
func (db *DB) RecordFailedSignIn(ctx context.Context, in *tocsin.SignIn, msgs []*tocsin.Message) error {
	in.Success = false
	return db.update(ctx, func(tx conn) error {
		if err := tx.insertSignIn(ctx, in, db.now()); err != nil {
			return err
		}
		return tx.enqueue(ctx, msgs)
	})
}

// CountSignIns counts the attempts matching f.
func (db *DB) CountSignIns(ctx context.Context, f tocsin.SignInFilter) (int, error) {
	where := []string{`at >= ?`}
	args := []any{f.Since}
	if f.UserID != 0 {
		where = append(where, `user_id = ?`)
		args = append(args, f.UserID)
	}
	if f.Email != "" {
		where = append(where, `email = ?`)
		args = append(args, strings.ToLower(strings.TrimSpace(f.Email)))
	}
	if f.IP != "" {
		where = append(where, `net = ?`)
		args = append(args, tocsin.ThrottleNet(f.IP))
	}
	if f.Device != "" {
		where = append(where, `device = ?`)
		args = append(args, f.Device)
	}
	if f.Factor != "" {
		where = append(where, `factor = ?`)
		args = append(args, f.Factor)
	}
	if f.Success != nil {
		where = append(where, `success = ?`)
		args = append(args, *f.Success)
	}
	var n int
	err := db.read().queryRow(ctx, `SELECT COUNT(*) FROM sign_ins WHERE `+strings.Join(where, ` AND `), args...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: count sign-ins: %w", err)
	}
	return n, nil
}

// LastSignIns returns the newest successful sign-ins of a user, newest first.
func (db *DB) LastSignIns(ctx context.Context, userID int64, limit int) ([]*tocsin.SignIn, error) {
	out, err := list(ctx, db.read(), scanSignIn, `SELECT `+signInColumns+` FROM sign_ins
		WHERE user_id = ? AND success = ? ORDER BY at DESC, id DESC LIMIT ?`, userID, true, limitOr(limit, 10, 1000))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: last sign-ins: %w", err)
	}
	return out, nil
}

func scanSignIn(sc rowScanner) (*tocsin.SignIn, error) {
	var (
		in     tocsin.SignIn
		userID sql.NullInt64
	)
	if err := sc.Scan(&in.ID, &userID, &in.Email, timeScan{&in.At}, &in.IP, &in.UserAgent, &in.Device, &in.Factor, &in.Success); err != nil {
		return nil, err
	}
	in.UserID = userID.Int64
	return &in, nil
}
