package config

import (
	"fmt"
	"strings"
	"testing"
)

// TestPasswordLimits: the argon2id cost is refused at load time beyond
// what auth.PasswordParams.Validate allows (auth/password.go), so that a
// configuration that loads never makes auth.NewHasher refuse it at start.
func TestPasswordLimits(t *testing.T) {
	tests := []struct {
		key   string
		value int
		valid bool
	}{
		{"password.memory_kib", 0, true},
		{"password.memory_kib", 7*1024 - 1, false},
		{"password.memory_kib", 7 * 1024, true},
		{"password.memory_kib", 1024 * 1024, true},
		{"password.memory_kib", 1024*1024 + 1, false},
		{"password.memory_kib", 4 * 1024 * 1024, false},
		{"password.time", 0, true},
		{"password.time", 1, true},
		{"password.time", 16, true},
		{"password.time", 17, false},
		{"password.time", 100, false},
		{"password.threads", 0, true},
		{"password.threads", 1, true},
		{"password.threads", 16, true},
		{"password.threads", 17, false},
		{"password.threads", 32, false},
		{"password.threads", 255, false},
		{"password.max_concurrent", -1, false},
		{"password.max_concurrent", 0, true},
		{"password.max_concurrent", 256, true},
		{"password.max_concurrent", 257, false},
		{"password.max_concurrent", 1024, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s=%d", tt.key, tt.value), func(t *testing.T) {
			c := Default()
			c.DataDir = t.TempDir()
			switch tt.key {
			case "password.memory_kib":
				c.Password.MemoryKiB = uint32(tt.value)
			case "password.time":
				c.Password.Time = uint32(tt.value)
			case "password.threads":
				c.Password.Threads = uint8(tt.value)
			case "password.max_concurrent":
				c.Password.MaxConcurrent = tt.value
			}
			err := c.Validate()
			switch {
			case tt.valid && err != nil:
				t.Errorf("refused: %v", err)
			case !tt.valid && err == nil:
				t.Errorf("accepted %+v", c.Password)
			case !tt.valid && !strings.Contains(err.Error(), tt.key):
				t.Errorf("error %q does not name %s", err, tt.key)
			}
		})
	}
}
