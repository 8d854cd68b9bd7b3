package auth

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin"
)

// NewUser validates a new account's fields, checks its password against the
// policy and hashes it. The console, the API and the command line all create
// accounts through it, so the rules are the same everywhere.
func NewUser(ctx context.Context, h *Hasher, email, name string, roles tocsin.Roles, password string) (*tocsin.User, error) {
	email, err := tocsin.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > 200 {
		return nil, tocsin.Errorf(tocsin.EINVALID, "the name must be valid text of at most 200 characters").WithKey("account.name_invalid")
	}
	if len(roles) == 0 {
		return nil, tocsin.Errorf(tocsin.EINVALID, "at least one role is required").WithKey("users.roles_required")
	}
	if err := roles.PersonRoles(); err != nil {
		return nil, err
	}
	if err := CheckAccountPassword(password, email, name); err != nil {
		return nil, err
	}
	hash, err := h.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	return &tocsin.User{Email: email, Name: name, Roles: roles, PasswordHash: hash}, nil
}

// CheckAccountPassword checks a password for the account with this e-mail
// and name: the policy, plus nothing taken from the account itself. Every
// place a password is chosen calls it, so the rules are the same everywhere.
func CheckAccountPassword(password, email, name string) error {
	local, _, _ := strings.Cut(email, "@")
	return CheckPassword(password, email, local, name, "tocsin")
}

// NewAPIToken validates a token's name and roles and makes the token. It
// returns the plain token, to show once, and the record to store (hash only).
func NewAPIToken(name string, roles tocsin.Roles, createdBy string, now time.Time) (string, *tocsin.APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 64 || strings.ContainsFunc(name, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		return "", nil, tocsin.Errorf(tocsin.EINVALID, "token name %q: use 1 to 64 letters, digits, '.', '-' or '_' (such as ci or prometheus)", name).
			WithKey("tokens.name_invalid", name)
	}
	if len(roles) == 0 {
		return "", nil, tocsin.Errorf(tocsin.EINVALID, "at least one role is required").WithKey("users.roles_required")
	}
	plain, hash, err := NewToken(PrefixAPIToken)
	if err != nil {
		return "", nil, err
	}
	return plain, &tocsin.APIToken{Name: name, Roles: roles, Hash: hash, CreatedBy: createdBy, CreatedAt: now}, nil
}
