package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash"
	"strings"
	"time"

	"rsc.io/qr"
)

// TOTP as in RFC 6238, with the parameters every authenticator app
// supports: HMAC-SHA1, 30-second steps, 6 digits.
const (
	TOTPPeriod = 30 // seconds per step
	TOTPDigits = 6
	totpSecret = 20 // bytes, the HMAC-SHA1 output size RFC 4226 recommends
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewTOTPSecret returns a fresh 160-bit TOTP secret.
func NewTOTPSecret() ([]byte, error) {
	b := make([]byte, totpSecret)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("auth: reading random TOTP secret: %w", err)
	}
	return b, nil
}

// TOTPSecretText returns the secret as people type it into an app that
// cannot scan the QR code: base32 without padding, in groups of four.
func TOTPSecretText(secret []byte) string {
	s := b32.EncodeToString(secret)
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

// TOTPURI returns the otpauth:// URI authenticator apps read from a QR code
// (the Key Uri Format of Google Authenticator), such as
// otpauth://totp/Example%20Status:alice@example.org?secret=…&issuer=Example%20Status&algorithm=SHA1&digits=6&period=30.
// Issuer and account are percent-encoded, spaces as %20 (some apps show a
// "+" literally), so a ":" in either cannot split the label.
func TOTPURI(secret []byte, issuer, account string) string {
	label := otpEscape(account)
	if issuer != "" {
		label = otpEscape(issuer) + ":" + label
	}
	uri := "otpauth://totp/" + label + "?secret=" + b32.EncodeToString(secret)
	if issuer != "" {
		uri += "&issuer=" + otpEscape(issuer)
	}
	return uri + fmt.Sprintf("&algorithm=SHA1&digits=%d&period=%d", TOTPDigits, TOTPPeriod)
}

// otpEscape percent-encodes every byte except RFC 3986's unreserved
// characters and "@", which is valid in both a path and a query.
func otpEscape(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~@", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// TOTPQRCodePNG returns uri as a QR code in PNG, for an inline data: image
// on the enrolment page.
func TOTPQRCodePNG(uri string) ([]byte, error) {
	c, err := qr.Encode(uri, qr.M)
	if err != nil {
		return nil, fmt.Errorf("auth: encoding QR code: %w", err)
	}
	c.Scale = 5
	return c.PNG(), nil
}

// TOTPCode returns the 6-digit code for secret at t.
func TOTPCode(secret []byte, t time.Time) string {
	return hotp(sha1.New, secret, totpStep(t), TOTPDigits)
}

// ValidateTOTP reports whether code is the code of secret for the step of
// now or the step before or after it (clocks drift), and returns the
// matched step. The caller must refuse the code when step is not above the
// last step it accepted for this user, or the same code could be replayed
// within its 90-second window. Spaces in code are ignored ("123 456"); any
// other non-digit, or a length other than 6, fails. Every candidate step is
// compared in constant time.
func ValidateTOTP(secret []byte, code string, now time.Time) (step int64, ok bool) {
	code = strings.ReplaceAll(code, " ", "")
	if len(secret) == 0 || !isDigits(code, TOTPDigits) {
		return 0, false
	}
	cur := totpStep(now)
	for _, s := range []int64{cur - 1, cur, cur + 1} {
		if subtle.ConstantTimeCompare([]byte(hotp(sha1.New, secret, s, TOTPDigits)), []byte(code)) == 1 && !ok {
			step, ok = s, true
		}
	}
	return step, ok
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// totpStep is RFC 6238's T: whole periods since the Unix epoch.
func totpStep(t time.Time) int64 {
	u := t.Unix()
	s := u / TOTPPeriod
	if u < 0 && u%TOTPPeriod != 0 {
		s-- // floor, not truncation, before 1970
	}
	return s
}

// hotp is RFC 4226's HOTP with RFC 6238's choice of hash.
func hotp(h func() hash.Hash, secret []byte, counter int64, digits int) string {
	mac := hmac.New(h, secret)
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(counter))
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}
