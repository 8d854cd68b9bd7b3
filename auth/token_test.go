package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"testing"
)

func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for _, prefix := range []string{PrefixAPIToken, PrefixSession, PrefixSetup, PrefixDevice, ""} {
		t.Run("prefix "+prefix, func(t *testing.T) {
			re := regexp.MustCompile(`^` + prefix + `[A-Za-z0-9_-]{43}$`)
			for range 100 {
				plain, hash, err := NewToken(prefix)
				if err != nil {
					t.Fatal(err)
				}
				if !re.MatchString(plain) {
					t.Fatalf("token %q does not match %s", plain, re)
				}
				sum := sha256.Sum256([]byte(plain))
				if hash != hex.EncodeToString(sum[:]) || hash != HashToken(plain) {
					t.Fatalf("hash %q is not the hex SHA-256 of %q", hash, plain)
				}
				if seen[plain] {
					t.Fatalf("token %q came out twice", plain)
				}
				seen[plain] = true
			}
		})
	}
}

func TestHashToken(t *testing.T) {
	// sha256("abc"), FIPS 180-2 Appendix B.1.
	if got, want := HashToken("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Fatalf("HashToken(abc) = %s, want %s", got, want)
	}
}

func TestRandomToken(t *testing.T) {
	a, err := RandomToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := RandomToken()
	if len(a) != 43 || a == b {
		t.Fatalf("RandomToken = %q, %q: want two distinct 43-character values", a, b)
	}
}
