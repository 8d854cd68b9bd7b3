package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// Token prefixes tell what a token is when it turns up in a log, a shell
// history or a secret scanner.
const (
	PrefixAPIToken = "tcn_" // API token for /api/v1
	PrefixSession  = "tcs_" // session cookie
	PrefixSetup    = "tcu_" // one-time setup link for the first admin
	PrefixDevice   = "tcd_" // known-device cookie
)

const tokenBytes = 32 // 256 bits

// NewToken returns a fresh token, prefix followed by 32 random bytes in
// URL-safe base64 without padding (43 characters), and its HashToken. Store
// only the hash; show plain once.
func NewToken(prefix string) (plain, hash string, err error) {
	r, err := RandomToken()
	if err != nil {
		return "", "", err
	}
	plain = prefix + r
	return plain, HashToken(plain), nil
}

// HashToken returns the hex SHA-256 of a token, the form stored and looked
// up. A plain hash (no salt, no slow function) is right here: the token has
// 256 random bits, so there is nothing to guess.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// RandomToken returns 32 random bytes in URL-safe base64 without padding,
// for any value that must be unguessable (CSRF tokens, nonces).
func RandomToken() (string, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: reading random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
