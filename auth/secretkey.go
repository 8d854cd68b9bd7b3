package auth

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/tocsin-org/tocsin"
)

// SecretKeyFile is the name of the key file in the data directory.
const SecretKeyFile = "secret.key"

const (
	secretKeyLen = 32 // AES-256
	nonceLen     = 12 // the GCM standard nonce
)

// Box seals and opens small secrets (TOTP secrets) with AES-256-GCM, so that
// a copy of the database alone does not give the second factors away. Its
// key lives outside the database: in TOCSIN_SECRET_KEY or in
// <data dir>/secret.key.
type Box struct {
	aead cipher.AEAD
	key  []byte
}

// NewBox returns a Box with a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != secretKeyLen {
		return nil, tocsin.Errorf(tocsin.EINVALID, "the secret key must be %d bytes, not %d", secretKeyLen, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &Box{aead: aead, key: bytes.Clone(key)}, nil
}

// Seal encrypts plaintext and returns nonce ‖ ciphertext ‖ tag, with a fresh
// random 12-byte nonce. additionalData binds the result to its place (for
// example "totp:user:42"): Open fails with any other. Random nonces are safe
// for far more than the 2^32 messages NIST allows per key; tocsin seals one
// secret per enrolment.
func (b *Box) Seal(plaintext, additionalData []byte) ([]byte, error) {
	out := make([]byte, nonceLen, nonceLen+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, fmt.Errorf("auth: reading random nonce: %w", err)
	}
	return b.aead.Seal(out, out[:nonceLen], plaintext, additionalData), nil
}

// ErrOpen is returned by Open for a sealed value that was altered, sealed
// with another key, or sealed with other additional data.
var ErrOpen = errors.New("auth: cannot open sealed secret (tampered, other key or other context)")

// Open decrypts what Seal returned with the same additionalData.
func (b *Box) Open(sealed, additionalData []byte) ([]byte, error) {
	if len(sealed) < nonceLen+b.aead.Overhead() {
		return nil, ErrOpen
	}
	out, err := b.aead.Open(nil, sealed[:nonceLen], sealed[nonceLen:], additionalData)
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}

// LoadOrCreateKey returns the Box for the secret key. When envValue (the
// value of TOCSIN_SECRET_KEY) is not empty, it must be the base64 of 32
// bytes. Otherwise the key is read from <dataDir>/secret.key, which is
// created on first start (0600, in a directory created 0700, never
// overwriting an existing file). An existing key file that other users may
// read or write is refused, with the chmod that fixes it.
//
// Losing the key loses every enrolled second factor (users then sign in
// with a recovery code or an admin resets their 2FA), so back it up with
// the database, but not in the same place.
func LoadOrCreateKey(dataDir string, envValue string) (*Box, error) {
	if envValue != "" {
		key, err := decodeKey(envValue)
		if err != nil {
			return nil, tocsin.Errorf(tocsin.EINVALID, "TOCSIN_SECRET_KEY %s", err)
		}
		return NewBox(key)
	}
	if dataDir == "" {
		return nil, tocsin.Errorf(tocsin.EINVALID, "no data directory for %s and TOCSIN_SECRET_KEY is not set", SecretKeyFile)
	}
	path := filepath.Join(dataDir, SecretKeyFile)
	key, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKeyFile(dataDir, path)
		if errors.Is(err, fs.ErrExist) { // another process created it first
			key, err = readKeyFile(path)
		}
	}
	if err != nil {
		return nil, err
	}
	return NewBox(key)
}

// decodeKey parses base64 (standard or URL alphabet, padded or not) of
// exactly 32 bytes.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != secretKeyLen {
				return nil, fmt.Errorf("must be the base64 of %d bytes, not %d (generate one with: openssl rand -base64 32)", secretKeyLen, len(key))
			}
			return key, nil
		}
	}
	return nil, fmt.Errorf("is not base64: it must be the base64 of %d random bytes (generate one with: openssl rand -base64 32)", secretKeyLen)
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // fs.ErrNotExist is handled by the caller
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, tocsin.Errorf(tocsin.EINVALID, "%s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, tocsin.Errorf(tocsin.EINVALID, "%s is accessible to other users (mode %04o): it holds the key of the second factors; run chmod 600 %s", path, perm, path)
	}
	buf, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(buf))) == 0 {
		return nil, tocsin.Errorf(tocsin.EINVALID, "%s is empty: restore it from a backup, or delete it to create a new key (every enrolled second factor is then lost)", path)
	}
	key, err := decodeKey(string(buf))
	if err != nil {
		return nil, tocsin.Errorf(tocsin.EINVALID, "%s %s", path, err)
	}
	return key, nil
}

func createKeyFile(dataDir, path string) (key []byte, err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	key = make([]byte, secretKeyLen)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("auth: reading random key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cerr := f.Close(); err == nil && cerr != nil {
			err = cerr
		}
		if err != nil {
			os.Remove(path) // never leave a half-written key behind
		}
	}()
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	if d, err := os.Open(dataDir); err == nil { // make the new name durable too
		d.Sync()
		d.Close()
	}
	return key, nil
}

// DeriveKey returns a 32-byte key for another purpose (such as signing CSRF
// tokens), derived from the secret key with HMAC-SHA256 over label, so that
// one secret serves several uses without one use revealing another's key.
func (b *Box) DeriveKey(label string) []byte {
	mac := hmac.New(sha256.New, b.key)
	mac.Write([]byte("tocsin derive: " + label))
	return mac.Sum(nil)
}
