package auth

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
)

func testBox(t testing.TB) *Box {
	b, err := NewBox(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBoxSealOpen(t *testing.T) {
	b := testBox(t)
	secret := []byte("12345678901234567890")
	aad := []byte("totp:user:42")
	sealed, err := b.Seal(secret, aad)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != 12+len(secret)+16 {
		t.Fatalf("sealed is %d bytes, want nonce + plaintext + tag = %d", len(sealed), 12+len(secret)+16)
	}
	again, _ := b.Seal(secret, aad)
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of the same secret are equal: the nonce is not random")
	}
	got, err := b.Open(sealed, aad)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v; want %q", got, err, secret)
	}

	other, _ := NewBox(bytes.Repeat([]byte{8}, 32))
	tests := []struct {
		name   string
		box    *Box
		sealed []byte
		aad    []byte
	}{
		{"other user", b, sealed, []byte("totp:user:43")},
		{"no aad", b, sealed, nil},
		{"other key", other, sealed, aad},
		{"truncated", b, sealed[:len(sealed)-1], aad},
		{"nonce only", b, sealed[:12], aad},
		{"shorter than a tag", b, sealed[:27], aad},
		{"empty", b, nil, aad},
		{"extended", b, append(bytes.Clone(sealed), 0), aad},
	}
	for i := range sealed {
		for _, bit := range []byte{0x01, 0x80} {
			tampered := bytes.Clone(sealed)
			tampered[i] ^= bit
			tests = append(tests, struct {
				name   string
				box    *Box
				sealed []byte
				aad    []byte
			}{"flip byte " + string(rune('A'+i%26)) + string(rune('0'+i/26)), b, tampered, aad})
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.box.Open(tt.sealed, tt.aad)
			if !errors.Is(err, ErrOpen) || got != nil {
				t.Fatalf("Open = %q, %v; want nil, ErrOpen", got, err)
			}
		})
	}
}

func TestNewBoxKeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 24, 31, 33} {
		if _, err := NewBox(make([]byte, n)); tocsin.ErrorCode(err) != tocsin.EINVALID {
			t.Errorf("NewBox with %d bytes: err = %v, want EINVALID", n, err)
		}
	}
}

func TestLoadOrCreateKeyFromEnv(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	sealed, _ := testBox(t).Seal([]byte("s"), nil)
	tests := []struct {
		name    string
		env     string
		wantErr string
	}{
		{"std", base64.StdEncoding.EncodeToString(key), ""},
		{"std newline", base64.StdEncoding.EncodeToString(key) + "\n", ""},
		{"raw", base64.RawStdEncoding.EncodeToString(key), ""},
		{"url", base64.URLEncoding.EncodeToString(key), ""},
		{"16 bytes", base64.StdEncoding.EncodeToString(key[:16]), "TOCSIN_SECRET_KEY must be the base64 of 32 bytes, not 16"},
		{"64 bytes", base64.StdEncoding.EncodeToString(append(key, key...)), "not 64"},
		{"not base64", "this is not base64!", "TOCSIN_SECRET_KEY is not base64"},
		{"hex", strings.Repeat("07", 32), "TOCSIN_SECRET_KEY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			b, err := LoadOrCreateKey(dir, tt.env)
			if tt.wantErr != "" {
				if tocsin.ErrorCode(err) != tocsin.EINVALID || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want EINVALID containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Open(sealed, nil); err != nil {
				t.Fatalf("the box from the environment does not open what the same key sealed: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, SecretKeyFile)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a key file was written although the key came from the environment (%v)", err)
			}
		})
	}
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	b1, err := LoadOrCreateKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, SecretKeyFile)
	if runtime.GOOS != "windows" {
		for p, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != want {
				t.Errorf("%s has mode %04o, want %04o", p, got, want)
			}
		}
	}
	raw, _ := os.ReadFile(path)
	if k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw))); err != nil || len(k) != 32 {
		t.Fatalf("the key file holds %q, not the base64 of 32 bytes", raw)
	}
	sealed, _ := b1.Seal([]byte("secret"), []byte("totp:user:1"))

	b2, err := LoadOrCreateKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := b2.Open(sealed, []byte("totp:user:1")); err != nil || string(got) != "secret" {
		t.Fatalf("the key read back does not open what the created one sealed: %q, %v", got, err)
	}
	raw2, _ := os.ReadFile(path)
	if !bytes.Equal(raw, raw2) {
		t.Fatal("the key file was rewritten")
	}
}

func TestLoadOrCreateKeyFileRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permissions")
	}
	good := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)) + "\n"
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		wantErr string
	}{
		{"world readable", good, 0o644, "run chmod 600 "},
		{"group readable", good, 0o640, "(mode 0640)"},
		{"world writable", good, 0o602, "chmod 600"},
		{"empty", "", 0o600, "is empty"},
		{"short key", base64.StdEncoding.EncodeToString([]byte("short")), 0o600, "base64 of 32 bytes, not 5"},
		{"garbage", "not a key at all", 0o600, "is not base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, SecretKeyFile)
			if err := os.WriteFile(path, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // umask may have narrowed it
				t.Fatal(err)
			}
			_, err := LoadOrCreateKey(dir, "")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
				t.Fatalf("err = %v, want one naming %s and containing %q", err, path, tt.wantErr)
			}
			after, _ := os.ReadFile(path)
			if string(after) != tt.content {
				t.Fatal("a refused key file was modified")
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, SecretKeyFile), 0o700); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateKey(dir, ""); err == nil {
			t.Fatal("a directory named secret.key was accepted")
		}
	})
	t.Run("no data dir", func(t *testing.T) {
		if _, err := LoadOrCreateKey("", ""); tocsin.ErrorCode(err) != tocsin.EINVALID {
			t.Fatalf("err = %v, want EINVALID", err)
		}
	})
}

func FuzzBoxOpen(f *testing.F) {
	b := testBox(f)
	plain, aad := []byte("12345678901234567890"), []byte("totp:user:42")
	// A seal with a fixed nonce: fuzzing runs this function again in each
	// worker process, and every one must know the same genuine value.
	nonce := []byte("fixed nonce!")
	sealed := b.aead.Seal(bytes.Clone(nonce), nonce, plain, aad)
	f.Add(sealed, aad)
	f.Add(sealed[:12], aad)
	f.Add([]byte{}, []byte{})
	f.Add(bytes.Repeat([]byte{0}, 48), []byte("totp:user:42"))
	f.Fuzz(func(t *testing.T, data, ad []byte) {
		got, err := b.Open(data, ad)
		if err != nil {
			if !errors.Is(err, ErrOpen) || got != nil {
				t.Fatalf("Open = %q, %v; want nil, ErrOpen", got, err)
			}
			return
		}
		// Only the one genuine seal opens.
		if !bytes.Equal(data, sealed) || !bytes.Equal(ad, aad) || !bytes.Equal(got, plain) {
			t.Fatalf("Open(%x, %q) = %q: a forged value opened", data, ad, got)
		}
	})
}
