package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin/config"
)

// TestNewHasherAcceptsWhatConfigAccepts: config and auth keep separate
// copies of the argon2id limits. For every value around either side's
// bounds, a configuration that config.Validate accepts gives a Hasher, and
// none makes newHasher panic.
func TestNewHasherAcceptsWhatConfigAccepts(t *testing.T) {
	fields := []struct {
		key    string
		values []int
		set    func(*config.Password, int)
	}{
		{"password.memory_kib", []int{0, 1, 7*1024 - 1, 7 * 1024, 8*1024 - 1, 8 * 1024, 1024 * 1024, 1024*1024 + 1, 4 * 1024 * 1024, 4*1024*1024 + 1},
			func(p *config.Password, v int) { p.MemoryKiB = uint32(v) }},
		{"password.time", []int{0, 1, 16, 17, 100, 101},
			func(p *config.Password, v int) { p.Time = uint32(v) }},
		{"password.threads", []int{0, 1, 16, 17, 32, 255},
			func(p *config.Password, v int) { p.Threads = uint8(v) }},
		{"password.max_concurrent", []int{-1, 0, 1, 256, 257, 1024, 1025},
			func(p *config.Password, v int) { p.MaxConcurrent = v }},
	}
	accepted := 0
	for _, f := range fields {
		for _, v := range f.values {
			t.Run(fmt.Sprintf("%s=%d", f.key, v), func(t *testing.T) {
				c := config.Default()
				c.DataDir = t.TempDir()
				f.set(&c.Password, v)
				cfgErr := c.Validate()
				var h any
				var err error
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("newHasher panicked: %v", p)
						}
					}()
					h, err = newHasher(c)
				}()
				switch {
				case cfgErr == nil && err != nil:
					t.Errorf("config accepts %+v, newHasher refuses it: %v", c.Password, err)
				case cfgErr == nil:
					accepted++
				case err == nil && h == nil:
					t.Errorf("newHasher returned neither a Hasher nor an error")
				}
			})
		}
	}
	if accepted == 0 {
		t.Error("config accepted none of the values: the test checks nothing")
	}
}

// TestServeRefusesPasswordCostsAuthRefuses: argon2id parameters beyond
// auth's limits stop serve with a message naming the key, where they used
// to panic in auth.NewHasher.
func TestServeRefusesPasswordCostsAuthRefuses(t *testing.T) {
	for _, tc := range []struct {
		env  []string
		want []string
	}{
		{[]string{"TOCSIN_PASSWORD_THREADS", "32"}, []string{"password.threads", `"32"`, "1 to 16"}},
		{[]string{"TOCSIN_PASSWORD_TIME", "17"}, []string{"password.time", `"17"`, "1 to 16"}},
		{[]string{"TOCSIN_PASSWORD_MEMORY_KIB", "2097152"}, []string{"password.memory_kib", `"2097152"`, "1048576"}},
		{[]string{"TOCSIN_PASSWORD_MAX_CONCURRENT", "512"}, []string{"password.max_concurrent", `"512"`, "256"}},
	} {
		t.Run(strings.Join(tc.env, "="), func(t *testing.T) {
			in := newInstance(t, "sqlite").with(tc.env...)
			r := in.cli("", "serve", "--listen", "127.0.0.1:0")
			if r.code() != 1 {
				t.Fatalf("status %d (%v), want 1\n%s", r.code(), r.err, r.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(r.message(), w) {
					t.Errorf("message %q lacks %q", r.message(), w)
				}
			}
			if _, err := os.Stat(in.dataDir); err == nil {
				t.Errorf("the data directory was created before the configuration was refused")
			}
		})
	}
}
