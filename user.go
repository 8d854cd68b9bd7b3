package tocsin

import (
	"context"
	"net/mail"
	"strings"
	"time"
)

// User is an account of the private console.
type User struct {
	ID           int64
	Email        string
	Name         string
	Roles        Roles
	Lang         string // "fr", "en" or "" (follow the browser)
	PasswordHash string // argon2id PHC string; never the password
	// MustChangePassword is set when someone else (an admin) chose the
	// password: its owner picks a new one before anything else.
	MustChangePassword bool

	// TOTPSecret is the sealed (AES-GCM encrypted) TOTP secret; nil when the
	// user has not enrolled. The key that opens it is not in the database.
	TOTPSecret   []byte
	TOTPLastStep int64 // last accepted time step; a code is refused at or below it (replay)

	DisabledAt *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// TwoFactorEnabled reports whether the user has enrolled a TOTP secret.
func (u *User) TwoFactorEnabled() bool { return len(u.TOTPSecret) > 0 }

// Disabled reports whether the account is disabled.
func (u *User) Disabled() bool { return u.DisabledAt != nil }

// NormalizeEmail validates an e-mail address and returns it lower-cased.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || !strings.Contains(s, "@") || len(s) > 254 {
		return "", Errorf(EINVALID, "%q is not an e-mail address (expected name@example.org)", s).WithKey("form.email_invalid")
	}
	return strings.ToLower(s), nil
}

// ValidateLang checks a language preference.
func ValidateLang(s string) error {
	switch s {
	case "", "fr", "en":
		return nil
	}
	return Errorf(EINVALID, "unknown language %q: allowed are fr and en", s)
}

// PasswordChange is one change of an account's password.
type PasswordChange struct {
	Hash string
	// Temporary marks a password chosen by someone else (an admin): its
	// owner must choose their own at next sign-in.
	Temporary bool
	// EndSessions signs the account out everywhere but KeepSession, so that
	// whoever knew the old password is out. A rehash (same password, new
	// parameters) leaves sessions alone.
	EndSessions bool
	KeepSession string
	Notices     []*Message // e-mails to the owner, sent with the change
}

// UserService stores accounts. Every mutation writes its audit entry in the
// same transaction.
type UserService interface {
	// CreateUser inserts u and sets its ID; ECONFLICT if the e-mail is taken.
	CreateUser(ctx context.Context, a Actor, u *User) error
	User(ctx context.Context, id int64) (*User, error)
	UserByEmail(ctx context.Context, email string) (*User, error)
	Users(ctx context.Context) ([]*User, error)
	CountUsers(ctx context.Context) (int, error)

	// SetPassword applies a password change in one transaction: the hash,
	// the sessions it ends and the notices it sends.
	SetPassword(ctx context.Context, a Actor, id int64, ch PasswordChange) error
	SetRoles(ctx context.Context, a Actor, id int64, roles Roles) error
	SetLang(ctx context.Context, a Actor, id int64, lang string) error
	// DisableUser disables the account and deletes its sessions.
	DisableUser(ctx context.Context, a Actor, id int64) error
	EnableUser(ctx context.Context, a Actor, id int64) error

	// EnableTwoFactor stores a sealed TOTP secret, the step of the code that
	// confirmed it, and the hashes of fresh recovery codes (replacing old
	// ones); ECONFLICT if the user already has one (two enrolments raced).
	EnableTwoFactor(ctx context.Context, a Actor, id int64, sealed []byte, step int64, recoveryHashes []string) error
	// ResetTwoFactor removes the secret and recovery codes and deletes the
	// user's sessions, so the next sign-in enrols again.
	ResetTwoFactor(ctx context.Context, a Actor, id int64, msgs []*Message) error
	// UseTOTPStep records step as used; ECONFLICT if step is not above the
	// last used one (a replayed code).
	UseTOTPStep(ctx context.Context, id int64, step int64) error
	// UseRecoveryCode consumes the code with this hash; ENOTFOUND if there is
	// no unused one.
	UseRecoveryCode(ctx context.Context, a Actor, id int64, hash string) error
	RemainingRecoveryCodes(ctx context.Context, id int64) (int, error)
}
