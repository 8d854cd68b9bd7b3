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

const tokenColumns = `id, name, roles, hash, created_by, created_at, last_used_at, revoked_at`

func scanToken(sc rowScanner) (*tocsin.APIToken, error) {
	var t tocsin.APIToken
	err := sc.Scan(&t.ID, &t.Name, rolesScan{&t.Roles}, &t.Hash, &t.CreatedBy, timeScan{&t.CreatedAt},
		nullTimeScan{&t.LastUsedAt}, nullTimeScan{&t.RevokedAt})
	if err != nil {
		return nil, err
	}
	return &t, nil
}

func tokenTarget(id int64) string { return fmt.Sprintf("token:%d", id) }

// CreateToken stores t and sets its ID. The name must not be held by another
// token that is not revoked. CreatedBy defaults to the actor's label.
func (db *DB) CreateToken(ctx context.Context, a tocsin.Actor, t *tocsin.APIToken) error {
	t.Name = strings.TrimSpace(t.Name)
	if t.Name == "" || t.Hash == "" {
		return tocsin.Errorf(tocsin.EINVALID, "a token needs a name and a hash")
	}
	roles, err := tocsin.ParseRoles(t.Roles.String())
	if err != nil {
		return err
	}
	t.Roles = roles
	if t.CreatedBy == "" {
		t.CreatedBy = a.Label
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = db.now()
	}
	t.CreatedAt = t.CreatedAt.UTC().Truncate(time.Microsecond)
	return db.update(ctx, func(tx conn) error {
		var n int
		if err := tx.queryRow(ctx, `SELECT COUNT(*) FROM api_tokens WHERE name = ? AND revoked_at IS NULL`, t.Name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return tocsin.Errorf(tocsin.ECONFLICT, "a token named %q already exists; revoke it first or choose another name", t.Name)
		}
		err := tx.queryRow(ctx, `INSERT INTO api_tokens (name, roles, hash, created_by, created_at, last_used_at, revoked_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			t.Name, t.Roles.String(), t.Hash, t.CreatedBy, t.CreatedAt, t.LastUsedAt, t.RevokedAt).Scan(&t.ID)
		if err != nil {
			return err
		}
		return tx.audit(ctx, a, "token.create", tokenTarget(t.ID), "", fmt.Sprintf("name=%s roles=%s", t.Name, t.Roles))
	})
}

// TokenByHash returns the token with this hash, revoked or not (the caller
// checks RevokedAt); ENOTFOUND if there is none.
func (db *DB) TokenByHash(ctx context.Context, hash string) (*tocsin.APIToken, error) {
	t, err := scanToken(db.read().queryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tocsin.Errorf(tocsin.ENOTFOUND, "no such API token")
	}
	return t, wrapErr(err)
}

// Tokens returns every token, revoked ones included, in creation order.
func (db *DB) Tokens(ctx context.Context) ([]*tocsin.APIToken, error) {
	out, err := list(ctx, db.read(), scanToken, `SELECT `+tokenColumns+` FROM api_tokens ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: tokens: %w", err)
	}
	return out, nil
}

// RevokeToken revokes by ID or, when id is 0, the unrevoked token with this
// name: ECONFLICT if it is already revoked, ENOTFOUND if there is none.
func (db *DB) RevokeToken(ctx context.Context, a tocsin.Actor, id int64, name string) error {
	return db.update(ctx, func(tx conn) error {
		var (
			t   *tocsin.APIToken
			err error
		)
		if id != 0 {
			t, err = scanToken(tx.queryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE id = ?`, id))
		} else {
			// The unrevoked one if any, else the last revoked one, to say so.
			t, err = scanToken(tx.queryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE name = ?
				ORDER BY CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END, id DESC LIMIT 1`, name))
		}
		if errors.Is(err, sql.ErrNoRows) {
			if id != 0 {
				return tocsin.Errorf(tocsin.ENOTFOUND, "token %d does not exist", id)
			}
			return tocsin.Errorf(tocsin.ENOTFOUND, "no token is named %q", name)
		}
		if err != nil {
			return err
		}
		if t.RevokedAt != nil {
			return tocsin.Errorf(tocsin.ECONFLICT, "token %q was already revoked on %s", t.Name, t.RevokedAt.Format(time.RFC3339))
		}
		if _, err := tx.exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, db.now(), t.ID); err != nil {
			return err
		}
		return tx.audit(ctx, a, "token.revoke", tokenTarget(t.ID), "name="+t.Name+" revoked=false", "name="+t.Name+" revoked=true")
	})
}

// TouchToken records a use of the token.
func (db *DB) TouchToken(ctx context.Context, id int64, at time.Time) error {
	return db.update(ctx, func(tx conn) error {
		return tx.execOne(ctx, tocsin.Errorf(tocsin.ENOTFOUND, "token %d does not exist", id),
			`UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, at, id)
	})
}

// CreateSetupToken stores a setup token; ECONFLICT if an account exists.
func (db *DB) CreateSetupToken(ctx context.Context, t *tocsin.SetupToken) error {
	if t.Hash == "" || t.ExpiresAt.IsZero() {
		return tocsin.Errorf(tocsin.EINVALID, "a setup token needs a hash and an expiry")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = db.now()
	}
	t.CreatedAt = t.CreatedAt.UTC().Truncate(time.Microsecond)
	t.ExpiresAt = t.ExpiresAt.UTC().Truncate(time.Microsecond)
	return db.update(ctx, func(tx conn) error {
		if err := tx.noUsers(ctx); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO setup_tokens (hash, created_at, expires_at, used_at) VALUES (?, ?, ?, ?)`,
			t.Hash, t.CreatedAt, t.ExpiresAt, t.UsedAt)
		if err != nil {
			return err
		}
		return tx.audit(ctx, tocsin.System, "setup.create", "setup", "", "link valid until "+t.ExpiresAt.Format(time.RFC3339))
	})
}

// SetupToken returns the setup token with this hash; ENOTFOUND if none.
func (db *DB) SetupToken(ctx context.Context, hash string) (*tocsin.SetupToken, error) {
	return db.read().setupToken(ctx, hash)
}

func (c conn) setupToken(ctx context.Context, hash string) (*tocsin.SetupToken, error) {
	var st tocsin.SetupToken
	err := c.queryRow(ctx, `SELECT hash, created_at, expires_at, used_at FROM setup_tokens WHERE hash = ?`, hash).
		Scan(&st.Hash, timeScan{&st.CreatedAt}, timeScan{&st.ExpiresAt}, nullTimeScan{&st.UsedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tocsin.Errorf(tocsin.ENOTFOUND, "this setup link is not valid")
	}
	return &st, wrapErr(err)
}

func (c conn) noUsers(ctx context.Context) error {
	var n int
	if err := c.queryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return tocsin.Errorf(tocsin.ECONFLICT, "an account already exists: setup is done, sign in instead")
	}
	return nil
}

// UseSetupToken consumes the token and creates u, the first account, in one
// transaction with one audit entry (setup.use).
func (db *DB) UseSetupToken(ctx context.Context, a tocsin.Actor, hash string, now time.Time, u *tocsin.User) error {
	return db.update(ctx, func(tx conn) error {
		st, err := tx.setupToken(ctx, hash)
		if err != nil {
			return err
		}
		switch {
		case st.UsedAt != nil:
			return tocsin.Errorf(tocsin.ECONFLICT, "this setup link was already used")
		case !now.Before(st.ExpiresAt):
			return tocsin.Errorf(tocsin.ECONFLICT, "this setup link expired on %s; restart tocsin on the empty database for a new one", st.ExpiresAt.Format(time.RFC3339))
		}
		if err := tx.noUsers(ctx); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE setup_tokens SET used_at = ? WHERE hash = ?`, now, hash); err != nil {
			return err
		}
		after, err := tx.insertUser(ctx, u, now)
		if err != nil {
			return err
		}
		return tx.audit(ctx, a, "setup.use", userTarget(u.ID), "", after)
	})
}
