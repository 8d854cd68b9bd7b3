package auth

import (
	"math"
	"testing"
	"time"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Free: 5, Base: time.Second, Max: 15 * time.Minute}
	tests := []struct {
		failures int
		want     time.Duration
	}{
		{-1, 0}, {0, 0}, {1, 0}, {5, 0},
		{6, time.Second},
		{7, 2 * time.Second},
		{8, 4 * time.Second},
		{15, 512 * time.Second},
		{16, 15 * time.Minute}, // 1024 s, capped at 900 s
		{100, 15 * time.Minute},
		{math.MaxInt, 15 * time.Minute},
	}
	for _, tt := range tests {
		if got := b.Delay(tt.failures); got != tt.want {
			t.Errorf("Delay(%d) = %v, want %v", tt.failures, got, tt.want)
		}
	}
}

func TestBackoffEdges(t *testing.T) {
	tests := []struct {
		name     string
		b        Backoff
		failures int
		want     time.Duration
	}{
		{"no base", Backoff{Free: 0, Base: 0, Max: time.Minute}, 10, 0},
		{"no cap", Backoff{Free: 0, Base: time.Second}, 11, 1024 * time.Second},
		{"no cap, no overflow", Backoff{Free: 0, Base: time.Second}, math.MaxInt, time.Second << 32}, // the first doubling past 2^61 ns
		{"base over max", Backoff{Free: 0, Base: time.Hour, Max: time.Minute}, 1, time.Minute},
		{"defaults per IP", IPBackoff, 10, 0},
		{"defaults per IP 11", IPBackoff, 11, time.Second},
		{"defaults per account", AccountBackoff, 6, time.Second},
		{"defaults per account and IP", AccountIPBackoff, 6, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.b.Delay(tt.failures); got != tt.want || got < 0 {
				t.Fatalf("Delay(%d) = %v, want %v", tt.failures, got, tt.want)
			}
		})
	}
	for _, b := range []Backoff{IPBackoff, AccountBackoff, AccountIPBackoff} {
		if b.Max <= 0 || b.Max > time.Hour {
			t.Errorf("default %+v: the cap must exist and stay short, or it is a lockout", b)
		}
	}
}

func TestBackoffWait(t *testing.T) {
	b := Backoff{Free: 1, Base: 10 * time.Second, Max: time.Minute}
	last := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		failures int
		now      time.Time
		want     time.Duration
	}{
		{"free", 1, last, 0},
		{"just failed", 2, last, 10 * time.Second},
		{"half way", 2, last.Add(4 * time.Second), 6 * time.Second},
		{"over", 2, last.Add(time.Minute), 0},
		{"capped", 50, last, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := b.Wait(tt.failures, last, tt.now); got != tt.want {
				t.Fatalf("Wait = %v, want %v", got, tt.want)
			}
		})
	}
}
