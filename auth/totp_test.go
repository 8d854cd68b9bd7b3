package auth

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"image/png"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestTOTPRFC6238 checks the test vectors of RFC 6238 Appendix B (8 digits)
// for the three hashes, and that TOTPCode gives their last 6 digits.
func TestTOTPRFC6238(t *testing.T) {
	seed1 := []byte("12345678901234567890")
	seed256 := []byte("12345678901234567890123456789012")
	seed512 := []byte("1234567890123456789012345678901234567890123456789012345678901234")
	tests := []struct {
		unix                 int64
		sha1, sha256, sha512 string
	}{
		{59, "94287082", "46119246", "90693936"},
		{1111111109, "07081804", "68084774", "25091201"},
		{1111111111, "14050471", "67062674", "99943326"},
		{1234567890, "89005924", "91819424", "93441116"},
		{2000000000, "69279037", "90698825", "38618901"},
		{20000000000, "65353130", "77737706", "47863826"},
	}
	for _, tt := range tests {
		tm := time.Unix(tt.unix, 0)
		t.Run(tm.UTC().Format(time.RFC3339), func(t *testing.T) {
			for _, c := range []struct {
				name string
				h    func() hash.Hash
				seed []byte
				want string
			}{
				{"SHA1", sha1.New, seed1, tt.sha1},
				{"SHA256", sha256.New, seed256, tt.sha256},
				{"SHA512", sha512.New, seed512, tt.sha512},
			} {
				if got := hotp(c.h, c.seed, totpStep(tm), 8); got != c.want {
					t.Errorf("%s: got %s, want %s", c.name, got, c.want)
				}
			}
			if got, want := TOTPCode(seed1, tm), tt.sha1[2:]; got != want {
				t.Errorf("TOTPCode = %s, want %s", got, want)
			}
			step, ok := ValidateTOTP(seed1, tt.sha1[2:], tm)
			if !ok || step != tt.unix/30 {
				t.Errorf("ValidateTOTP = %d, %v; want %d, true", step, ok, tt.unix/30)
			}
		})
	}
}

func TestValidateTOTP(t *testing.T) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1234567890, 0) // step 41152263, 0 s into the step
	cur := now.Unix() / 30
	at := func(step int64) string { return TOTPCode(secret, time.Unix(step*30, 0)) }
	tests := []struct {
		name     string
		secret   []byte
		code     string
		wantOK   bool
		wantStep int64
	}{
		{"current", secret, at(cur), true, cur},
		{"previous step", secret, at(cur - 1), true, cur - 1},
		{"next step", secret, at(cur + 1), true, cur + 1},
		{"two steps old", secret, at(cur - 2), false, 0},
		{"two steps ahead", secret, at(cur + 2), false, 0},
		{"spaces", secret, at(cur)[:3] + " " + at(cur)[3:], true, cur},
		{"spaces around", secret, "  " + at(cur) + " ", true, cur},
		{"wrong", secret, wrongCode(at(cur)), false, 0},
		{"other secret", []byte("09876543210987654321"), at(cur), false, 0},
		{"empty secret", nil, TOTPCode(nil, now), false, 0},
		{"empty", secret, "", false, 0},
		{"5 digits", secret, at(cur)[:5], false, 0},
		{"7 digits", secret, at(cur) + "0", false, 0},
		{"8-digit code", secret, "89005924", false, 0},
		{"letters", secret, "12a456", false, 0},
		{"dash", secret, at(cur)[:3] + "-" + at(cur)[3:], false, 0},
		{"tab", secret, at(cur)[:3] + "\t" + at(cur)[3:], false, 0},
		{"plus", secret, "+" + at(cur)[1:], false, 0},
		{"arabic-indic digits", secret, "٠١٢٣٤٥", false, 0},
		{"fullwidth digits", secret, "００５９２４", false, 0},
		{"nul", secret, at(cur)[:5] + "\x00", false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step, ok := ValidateTOTP(tt.secret, tt.code, now)
			if ok != tt.wantOK || step != tt.wantStep {
				t.Fatalf("ValidateTOTP(%q) = %d, %v; want %d, %v", tt.code, step, ok, tt.wantStep, tt.wantOK)
			}
		})
	}
	t.Run("end of step", func(t *testing.T) {
		late := now.Add(29 * time.Second)
		if step, ok := ValidateTOTP(secret, at(cur+1), late); !ok || step != cur+1 {
			t.Fatalf("ValidateTOTP at the end of the step = %d, %v; want %d, true", step, ok, cur+1)
		}
		if _, ok := ValidateTOTP(secret, at(cur-1), now.Add(30*time.Second)); ok {
			t.Fatal("a code two steps old was accepted")
		}
	})
}

func wrongCode(c string) string {
	b := []byte(c)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestTOTPStepBeforeEpoch(t *testing.T) {
	for _, tt := range []struct {
		unix, want int64
	}{{0, 0}, {29, 0}, {30, 1}, {-1, -1}, {-30, -1}, {-31, -2}} {
		if got := totpStep(time.Unix(tt.unix, 0)); got != tt.want {
			t.Errorf("totpStep(%d) = %d, want %d", tt.unix, got, tt.want)
		}
	}
}

func TestNewTOTPSecret(t *testing.T) {
	a, err := NewTOTPSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewTOTPSecret()
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 20 || bytes.Equal(a, b) {
		t.Fatalf("secrets %x and %x: want 20 random bytes", a, b)
	}
}

func TestTOTPURI(t *testing.T) {
	secret := []byte("12345678901234567890")
	const wantSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	tests := []struct {
		name, issuer, account, wantPrefix string
	}{
		{"plain", "Tocsin", "alice@example.org", "otpauth://totp/Tocsin:alice@example.org?secret=" + wantSecret + "&issuer=Tocsin&"},
		{"spaces and colon", "ACME: Status & Co", "bob+ops@example.org", "otpauth://totp/ACME%3A%20Status%20%26%20Co:bob%2Bops@example.org?secret=" + wantSecret + "&issuer=ACME%3A%20Status%20%26%20Co&"},
		{"unicode", "Hébergeur", "zoé@example.fr", "otpauth://totp/H%C3%A9bergeur:zo%C3%A9@example.fr?"},
		{"no issuer", "", "alice@example.org", "otpauth://totp/alice@example.org?secret=" + wantSecret + "&algorithm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			uri := TOTPURI(secret, tt.issuer, tt.account)
			if !strings.HasPrefix(uri, tt.wantPrefix) {
				t.Fatalf("TOTPURI = %s\nwant prefix %s", uri, tt.wantPrefix)
			}
			if strings.Contains(uri, "+") || strings.Contains(uri, "=") && strings.Contains(uri, "==") {
				t.Errorf("TOTPURI = %s: has a + or base32 padding", uri)
			}
			u, err := url.Parse(uri)
			if err != nil {
				t.Fatal(err)
			}
			q := u.Query()
			if u.Scheme != "otpauth" || u.Host != "totp" || q.Get("secret") != wantSecret || q.Get("issuer") != tt.issuer ||
				q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" {
				t.Errorf("TOTPURI = %s: parsed as %s %s %v", uri, u.Scheme, u.Host, q)
			}
			label := strings.TrimPrefix(u.Path, "/")
			if want := tt.issuer + ":" + tt.account; tt.issuer != "" && label != want || tt.issuer == "" && label != tt.account {
				t.Errorf("label = %q", label)
			}
		})
	}
}

func TestTOTPSecretText(t *testing.T) {
	if got, want := TOTPSecretText([]byte("12345678901234567890")), "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ"; got != want {
		t.Fatalf("TOTPSecretText = %q, want %q", got, want)
	}
}

func TestTOTPQRCodePNG(t *testing.T) {
	uri := TOTPURI([]byte("12345678901234567890"), "Tocsin", "alice@example.org")
	b, err := TOTPQRCodePNG(uri)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if r := img.Bounds(); r.Dx() < 100 || r.Dx() != r.Dy() {
		t.Fatalf("QR code bounds %v, want a square of 100 px or more", r)
	}
	if _, err := TOTPQRCodePNG(strings.Repeat("x", 10000)); err == nil {
		t.Fatal("a 10 kB text fit in a QR code")
	}
}

func FuzzValidateTOTP(f *testing.F) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1234567890, 0)
	f.Add(TOTPCode(secret, now))
	f.Add("005 924")
	f.Add("")
	f.Add("89005924")
	f.Add("٠١٢٣٤٥")
	f.Add("12345\x00")
	f.Fuzz(func(t *testing.T, code string) {
		step, ok := ValidateTOTP(secret, code, now)
		if !ok {
			return
		}
		norm := strings.ReplaceAll(code, " ", "")
		if cur := now.Unix() / 30; step < cur-1 || step > cur+1 {
			t.Fatalf("ValidateTOTP(%q) accepted step %d, outside the window", code, step)
		}
		if want := TOTPCode(secret, time.Unix(step*30, 0)); norm != want {
			t.Fatalf("ValidateTOTP(%q) accepted step %d whose code is %s", code, step, want)
		}
	})
}
