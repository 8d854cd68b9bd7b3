package deadline

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestTick(t *testing.T) {
	now := time.Date(2026, 11, 27, 17, 40, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return now.Add(d) }
	tests := []struct {
		name     string
		duties   []Duty
		wantNext time.Time
		wantErr  string
	}{
		{"none", nil, time.Time{}, ""},
		{"earliest next wins", []Duty{
			{"a", func(context.Context, time.Time) (time.Time, error) { return at(time.Hour), nil }},
			{"b", func(context.Context, time.Time) (time.Time, error) { return at(time.Minute), nil }},
			{"c", func(context.Context, time.Time) (time.Time, error) { return time.Time{}, nil }},
		}, at(time.Minute), ""},
		{"a failing duty names itself and the others still run", []Duty{
			{"escalation", func(context.Context, time.Time) (time.Time, error) {
				return time.Time{}, errors.New("database is locked")
			}},
			{"tasks", func(context.Context, time.Time) (time.Time, error) { return at(2 * time.Minute), nil }},
		}, at(2 * time.Minute), "escalation: database is locked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &Worker{Duties: tt.duties}
			next, err := w.Tick(context.Background(), now)
			if !next.Equal(tt.wantNext) {
				t.Errorf("next = %v, want %v", next, tt.wantNext)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestTickPassesTheClock(t *testing.T) {
	now := time.Date(2026, 11, 27, 17, 40, 0, 0, time.UTC)
	var got time.Time
	w := &Worker{Duties: []Duty{{"x", func(_ context.Context, at time.Time) (time.Time, error) { got = at; return time.Time{}, nil }}}}
	if _, err := w.Tick(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	if !got.Equal(now) {
		t.Fatalf("duty saw %v, want %v", got, now)
	}
}

// A duty whose next time is near is run again without waiting for Poll,
// and Kick wakes the worker at once; Stop waits for the pass under way.
func TestStartKickStop(t *testing.T) {
	var runs atomic.Int32
	ran := make(chan struct{}, 100)
	w := &Worker{Poll: time.Hour, Duties: []Duty{{"count", func(context.Context, time.Time) (time.Time, error) {
		runs.Add(1)
		ran <- struct{}{}
		return time.Time{}, nil
	}}}}
	w.Kick() // before Start: does nothing, does not block
	w.Start(context.Background())
	<-ran // the first pass
	w.Kick()
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("Kick did not wake the worker")
	}
	w.Stop()
	n := runs.Load()
	w.Kick() // after Stop: does not block
	if runs.Load() != n {
		t.Fatal("a pass ran after Stop")
	}
}
