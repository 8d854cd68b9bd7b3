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

const userColumns = `id, email, name, roles, lang, password_hash, must_change_password, totp_secret, totp_last_step,
	disabled_at, created_at, updated_at`

func scanUser(sc rowScanner) (*tocsin.User, error) {
	var u tocsin.User
	err := sc.Scan(&u.ID, &u.Email, &u.Name, rolesScan{&u.Roles}, &u.Lang, &u.PasswordHash, &u.MustChangePassword,
		&u.TOTPSecret, &u.TOTPLastStep, nullTimeScan{&u.DisabledAt}, timeScan{&u.CreatedAt}, timeScan{&u.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func userNotFound(id int64) error {
	return tocsin.Errorf(tocsin.ENOTFOUND, "user %d does not exist", id)
}

func userTarget(id int64) string { return fmt.Sprintf("user:%d", id) }

// user reads one user inside a transaction (or the read pool).
func (c conn) user(ctx context.Context, id int64) (*tocsin.User, error) {
	u, err := scanUser(c.queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, userNotFound(id)
	}
	return u, err
}

// insertUser validates u, normalizes its e-mail, inserts it and sets its ID
// and times. It returns the summary for the audit entry.
func (c conn) insertUser(ctx context.Context, u *tocsin.User, now time.Time) (string, error) {
	email, err := tocsin.NormalizeEmail(u.Email)
	if err != nil {
		return "", err
	}
	if len(u.Roles) == 0 {
		return "", tocsin.Errorf(tocsin.EINVALID, "at least one role is required: viewer, responder, communicator, approver or admin")
	}
	roles, err := tocsin.ParseRoles(u.Roles.String())
	if err != nil {
		return "", err
	}
	if err := roles.PersonRoles(); err != nil {
		return "", err
	}
	if err := tocsin.ValidateLang(u.Lang); err != nil {
		return "", err
	}
	var n int
	if err := c.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE email = ?`, email).Scan(&n); err != nil {
		return "", err
	}
	if n > 0 {
		return "", tocsin.Errorf(tocsin.ECONFLICT, "an account with the e-mail %s already exists", email)
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now
	}
	u.Email, u.Roles = email, roles
	u.CreatedAt = u.CreatedAt.UTC().Truncate(time.Microsecond)
	u.UpdatedAt = u.CreatedAt
	err = c.queryRow(ctx, `INSERT INTO users (email, name, roles, lang, password_hash, must_change_password, totp_secret, totp_last_step, disabled_at, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Email, u.Name, u.Roles.String(), u.Lang, u.PasswordHash, u.MustChangePassword, nullBytes(u.TOTPSecret), u.TOTPLastStep,
		u.DisabledAt, u.CreatedAt, u.UpdatedAt).Scan(&u.ID)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("email=%s roles=%s", u.Email, u.Roles), nil
}

// CreateUser inserts u and sets its ID; ECONFLICT if the e-mail is taken.
func (db *DB) CreateUser(ctx context.Context, a tocsin.Actor, u *tocsin.User) error {
	return db.update(ctx, func(tx conn) error {
		after, err := tx.insertUser(ctx, u, db.now())
		if err != nil {
			return err
		}
		return tx.audit(ctx, a, "user.create", userTarget(u.ID), "", after)
	})
}

// User returns the user with this ID; ENOTFOUND if there is none.
func (db *DB) User(ctx context.Context, id int64) (*tocsin.User, error) {
	u, err := db.read().user(ctx, id)
	return u, wrapErr(err)
}

// UserByEmail finds a user by e-mail, case-insensitively; ENOTFOUND if none.
func (db *DB) UserByEmail(ctx context.Context, email string) (*tocsin.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	u, err := scanUser(db.read().queryRow(ctx, `SELECT `+userColumns+` FROM users WHERE email = ?`, email))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, tocsin.Errorf(tocsin.ENOTFOUND, "no account has the e-mail %s", email)
	}
	return u, wrapErr(err)
}

// Users returns every user in creation order.
func (db *DB) Users(ctx context.Context) ([]*tocsin.User, error) {
	out, err := list(ctx, db.read(), scanUser, `SELECT `+userColumns+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: users: %w", err)
	}
	return out, nil
}

// CountUsers counts accounts, disabled ones included.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := db.read().queryRow(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlstore: count users: %w", err)
	}
	return n, nil
}

// SetPassword replaces the password hash.
func (db *DB) SetPassword(ctx context.Context, a tocsin.Actor, id int64, ch tocsin.PasswordChange) error {
	if ch.Hash == "" {
		return tocsin.Errorf(tocsin.EINVALID, "a password hash is required")
	}
	return db.update(ctx, func(tx conn) error {
		err := tx.execOne(ctx, userNotFound(id), `UPDATE users SET password_hash = ?, must_change_password = ?, updated_at = ? WHERE id = ?`,
			ch.Hash, ch.Temporary, db.now(), id)
		if err != nil {
			return err
		}
		after := "password changed"
		if ch.Temporary {
			after = "temporary password set, to change at next sign-in"
		}
		if ch.EndSessions {
			n, err := tx.deleteSessions(ctx, id, ch.KeepSession)
			if err != nil {
				return err
			}
			after += fmt.Sprintf("; sessions_deleted=%d", n)
		}
		if err := tx.enqueue(ctx, ch.Notices); err != nil {
			return err
		}
		return tx.audit(ctx, a, "user.password", userTarget(id), "", after)
	})
}

// SetRoles replaces the user's roles.
func (db *DB) SetRoles(ctx context.Context, a tocsin.Actor, id int64, roles tocsin.Roles) error {
	roles, err := tocsin.ParseRoles(roles.String())
	if err != nil {
		return err
	}
	if err := roles.PersonRoles(); err != nil {
		return err
	}
	return db.update(ctx, func(tx conn) error {
		u, err := tx.user(ctx, id)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE users SET roles = ?, updated_at = ? WHERE id = ?`, roles.String(), db.now(), id); err != nil {
			return err
		}
		return tx.audit(ctx, a, "user.roles", userTarget(id), "roles="+u.Roles.String(), "roles="+roles.String())
	})
}

// SetLang sets the language preference ("" follows the browser).
func (db *DB) SetLang(ctx context.Context, a tocsin.Actor, id int64, lang string) error {
	if err := tocsin.ValidateLang(lang); err != nil {
		return err
	}
	return db.update(ctx, func(tx conn) error {
		u, err := tx.user(ctx, id)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE users SET lang = ?, updated_at = ? WHERE id = ?`, lang, db.now(), id); err != nil {
			return err
		}
		return tx.audit(ctx, a, "user.lang", userTarget(id), "lang="+u.Lang, "lang="+lang)
	})
}

// DisableUser disables the account and deletes its sessions. Disabling a
// disabled account keeps the first date.
func (db *DB) DisableUser(ctx context.Context, a tocsin.Actor, id int64) error {
	return db.update(ctx, func(tx conn) error {
		u, err := tx.user(ctx, id)
		if err != nil {
			return err
		}
		now := db.now()
		if _, err := tx.exec(ctx, `UPDATE users SET disabled_at = COALESCE(disabled_at, ?), updated_at = ? WHERE id = ?`, now, now, id); err != nil {
			return err
		}
		n, err := tx.deleteSessions(ctx, id, "")
		if err != nil {
			return err
		}
		return tx.audit(ctx, a, "user.disable", userTarget(id),
			fmt.Sprintf("disabled=%t", u.Disabled()), fmt.Sprintf("disabled=true sessions_deleted=%d", n))
	})
}

// EnableUser lifts a disable.
func (db *DB) EnableUser(ctx context.Context, a tocsin.Actor, id int64) error {
	return db.update(ctx, func(tx conn) error {
		u, err := tx.user(ctx, id)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE users SET disabled_at = NULL, updated_at = ? WHERE id = ?`, db.now(), id); err != nil {
			return err
		}
		return tx.audit(ctx, a, "user.enable", userTarget(id), fmt.Sprintf("disabled=%t", u.Disabled()), "disabled=false")
	})
}

// EnableTwoFactor stores the sealed TOTP secret, the step that confirmed it,
// and fresh recovery code hashes (replacing any old ones).
func (db *DB) EnableTwoFactor(ctx context.Context, a tocsin.Actor, id int64, sealed []byte, step int64, recoveryHashes []string) error {
	if len(sealed) == 0 {
		return tocsin.Errorf(tocsin.EINVALID, "a TOTP secret is required")
	}
	return db.update(ctx, func(tx conn) error {
		u, err := tx.user(ctx, id)
		if err != nil {
			return err
		}
		// Only over no secret: of two enrolments racing, one wins and the
		// other is told, rather than silently replacing the first.
		err = tx.execOne(ctx, tocsin.Errorf(tocsin.ECONFLICT, "two-factor authentication is already set up for this account"),
			`UPDATE users SET totp_secret = ?, totp_last_step = ?, updated_at = ? WHERE id = ? AND totp_secret IS NULL`,
			sealed, step, db.now(), id)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, id); err != nil {
			return err
		}
		for _, h := range recoveryHashes {
			if _, err := tx.exec(ctx, `INSERT INTO recovery_codes (user_id, hash) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, h); err != nil {
				return err
			}
		}
		return tx.audit(ctx, a, "user.2fa.enable", userTarget(id),
			"2fa="+onOff(u.TwoFactorEnabled()), fmt.Sprintf("2fa=on recovery_codes=%d", len(recoveryHashes)))
	})
}

// ResetTwoFactor removes the secret, last step and recovery codes and
// deletes the user's sessions.
func (db *DB) ResetTwoFactor(ctx context.Context, a tocsin.Actor, id int64, msgs []*tocsin.Message) error {
	return db.update(ctx, func(tx conn) error {
		u, err := tx.user(ctx, id)
		if err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `UPDATE users SET totp_secret = NULL, totp_last_step = 0, updated_at = ? WHERE id = ?`, db.now(), id); err != nil {
			return err
		}
		if _, err := tx.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, id); err != nil {
			return err
		}
		n, err := tx.deleteSessions(ctx, id, "")
		if err != nil {
			return err
		}
		if err := tx.enqueue(ctx, msgs); err != nil {
			return err
		}
		return tx.audit(ctx, a, "user.2fa.reset", userTarget(id),
			"2fa="+onOff(u.TwoFactorEnabled()), fmt.Sprintf("2fa=off sessions_deleted=%d", n))
	})
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// UseTOTPStep records step as used; ECONFLICT if it is not above the last
// used one, so a code cannot be replayed even by two requests at once.
func (db *DB) UseTOTPStep(ctx context.Context, id int64, step int64) error {
	return db.update(ctx, func(tx conn) error {
		res, err := tx.exec(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, id, step)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
		if _, err := tx.user(ctx, id); err != nil {
			return err
		}
		return tocsin.Errorf(tocsin.ECONFLICT, "this code was already used; wait for the next one")
	})
}

// UseRecoveryCode consumes the unused code with this hash; ENOTFOUND if there
// is none.
func (db *DB) UseRecoveryCode(ctx context.Context, a tocsin.Actor, id int64, hash string) error {
	return db.update(ctx, func(tx conn) error {
		err := tx.execOne(ctx, tocsin.Errorf(tocsin.ENOTFOUND, "this recovery code is not valid or was already used"),
			`UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at IS NULL`, db.now(), id, hash)
		if err != nil {
			return err
		}
		left, err := tx.remainingRecoveryCodes(ctx, id)
		if err != nil {
			return err
		}
		return tx.audit(ctx, a, "user.recovery.use", userTarget(id), "", fmt.Sprintf("recovery_codes_left=%d", left))
	})
}

// RemainingRecoveryCodes counts the user's unused recovery codes.
func (db *DB) RemainingRecoveryCodes(ctx context.Context, id int64) (int, error) {
	n, err := db.read().remainingRecoveryCodes(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: recovery codes: %w", err)
	}
	return n, nil
}

func (c conn) remainingRecoveryCodes(ctx context.Context, id int64) (int, error) {
	var n int
	err := c.queryRow(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, id).Scan(&n)
	return n, err
}
