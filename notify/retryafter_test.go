package notify

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// TestWorkerWaitsAsLongAsTheServerAsked: a failure carrying RetryAfter is
// tried again no sooner than asked (when that is longer than the back-off)
// and no later than the maximum back-off.
func TestWorkerWaitsAsLongAsTheServerAsked(t *testing.T) {
	tests := []struct {
		name     string
		after    time.Duration
		min, max time.Duration // of the wait before the next attempt
	}{
		{"longer than the back-off", 10 * time.Minute, 10 * time.Minute, 10 * time.Minute},
		{"shorter than the back-off", time.Second, 24 * time.Second, 30 * time.Second},
		{"past the maximum back-off", 48 * time.Hour, time.Hour, time.Hour},
		{"negative", -time.Minute, 24 * time.Second, 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := openStore(t)
			clk := newClock()
			ch := &scripted{send: func(context.Context, *tocsin.Message, int) error {
				return RetryAfter(errors.New("rate limited"), tt.after)
			}}
			startWorker(t, db, ch, WorkerOptions{Clock: clk.Now}, nil)
			m := enqueue(t, db, clk.Now(), alert("k", "ana@example.org"))[0]
			eventually(t, "the failure is recorded", func() bool {
				s := stored(t, db, m.ID)
				return s.Attempts == 1 && s.LockedUntil == nil && s.LastError != ""
			})
			s := stored(t, db, m.ID)
			if wait := s.NextAttemptAt.Sub(clk.Now()); wait < tt.min || wait > tt.max {
				t.Errorf("next attempt in %v, want between %v and %v", wait, tt.min, tt.max)
			}
			if s.LastError != "rate limited" || s.DeadAt != nil {
				t.Errorf("error %q, dead %v; want the error kept and the message retried", s.LastError, s.DeadAt)
			}
		})
	}
	if RetryAfter(nil, time.Second) != nil {
		t.Error("RetryAfter(nil) is not nil")
	}
}
