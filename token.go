package tocsin

import (
	"context"
	"time"
)

// APIToken authorizes scripts on /api/v1 with the roles it was given. Only
// the SHA-256 of the token is stored; the token is shown once at creation.
type APIToken struct {
	ID         int64
	Name       string
	Roles      Roles
	Hash       string // hex SHA-256 of the token
	CreatedBy  string // actor label
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// SetupToken is the one-time link that creates the first admin.
type SetupToken struct {
	Hash      string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// TokenService stores API and setup tokens.
type TokenService interface {
	CreateToken(ctx context.Context, a Actor, t *APIToken) error
	TokenByHash(ctx context.Context, hash string) (*APIToken, error)
	Tokens(ctx context.Context) ([]*APIToken, error)
	// RevokeToken revokes by ID or, when id is 0, by name.
	RevokeToken(ctx context.Context, a Actor, id int64, name string) error
	TouchToken(ctx context.Context, id int64, at time.Time) error

	// CreateSetupToken stores a setup token (audited: it grants the right to
	// create the first admin); ECONFLICT if an account exists.
	CreateSetupToken(ctx context.Context, t *SetupToken) error
	// SetupToken returns the setup token with this hash; ENOTFOUND if none.
	SetupToken(ctx context.Context, hash string) (*SetupToken, error)
	// UseSetupToken consumes the token and creates u (the first admin) in one
	// transaction: ECONFLICT if it was used, has expired, or an account exists;
	// ENOTFOUND if there is no such token.
	UseSetupToken(ctx context.Context, a Actor, hash string, now time.Time, u *User) error
}
