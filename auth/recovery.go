package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/tocsin-org/tocsin"
)

// RecoveryCodeCount is how many recovery codes an enrolment gives.
const RecoveryCodeCount = 10

// recoveryAlphabet is Crockford's base32 alphabet in lower case: the digits
// and the letters without i, l, o and u. HashRecoveryCode reads i and l as 1
// and o as 0, so a code read aloud or copied by hand still works. 32 symbols
// give 5 bits each, 12 symbols 60 bits.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

const recoveryGroups, recoveryGroupLen = 3, 4

// NewRecoveryCodes returns n fresh, distinct recovery codes such as
// "k7f3-9xq2-mm4p" (60 random bits each) and their HashRecoveryCode, in the
// same order. Show the codes once; store the hashes.
func NewRecoveryCodes(n int) (codes, hashes []string, err error) {
	if n < 1 || n > 100 {
		return nil, nil, tocsin.Errorf(tocsin.EINVALID, "the number of recovery codes is %d: allowed is 1 to 100", n)
	}
	seen := make(map[string]bool, n)
	buf := make([]byte, recoveryGroups*recoveryGroupLen)
	for len(codes) < n {
		if _, err := rand.Read(buf); err != nil {
			return nil, nil, fmt.Errorf("auth: reading random recovery code: %w", err)
		}
		var b strings.Builder
		for i, c := range buf {
			if i > 0 && i%recoveryGroupLen == 0 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[c&31]) // 256 is a multiple of 32: no bias
		}
		code := b.String()
		if seen[code] {
			continue
		}
		seen[code] = true
		codes = append(codes, code)
		hashes = append(hashes, HashRecoveryCode(code))
	}
	return codes, hashes, nil
}

// HashRecoveryCode returns the hex SHA-256 of the normalized code: lower
// case, without spaces and dashes, with i and l read as 1 and o as 0. So
// "K7F3 9XQ2 MM4P" and "k7f3-9xq2-mm4p" have the same hash. A fast hash is
// enough: a code has 60 random bits and sign-in attempts are throttled.
func HashRecoveryCode(code string) string {
	norm := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '\t':
			return -1
		case 'i', 'I', 'l', 'L':
			return '1'
		case 'o', 'O':
			return '0'
		}
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, code)
	sum := sha256.Sum256([]byte(norm))
	return hex.EncodeToString(sum[:])
}
