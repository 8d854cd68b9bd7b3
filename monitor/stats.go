package monitor

import (
	"slices"
	"sync"
	"time"
)

// Stats is what the monitor did since it was made.
type Stats struct {
	Checks  int   // scheduled now
	Runs    int64 // runs completed
	Written int64 // results stored
	// Dropped results were never stored: the queue was full or the store
	// kept failing.
	Dropped int64
	// Skipped slots found the check's previous run still going.
	Skipped int64
	// Start delay: how late runs started after their scheduled time
	// (waiting for a global or per-host slot included), over the last
	// delaySamples runs.
	StartDelayP50 time.Duration
	StartDelayP99 time.Duration
	StartDelayMax time.Duration
}

// delaySamples bounds the start delays kept for the quantiles.
const delaySamples = 1 << 17

type stats struct {
	mu                              sync.Mutex
	runs, written, dropped, skipped int64
	delays                          []time.Duration // a ring
	next                            int
}

func newStats() stats { return stats{delays: make([]time.Duration, 0, 1024)} }

func (s *stats) delay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.delays) < delaySamples {
		s.delays = append(s.delays, d)
		return
	}
	s.delays[s.next] = d
	s.next = (s.next + 1) % delaySamples
}

func (s *stats) ran() {
	s.mu.Lock()
	s.runs++
	s.mu.Unlock()
}

func (s *stats) skip() {
	s.mu.Lock()
	s.skipped++
	s.mu.Unlock()
}

func (s *stats) wrote(n int) {
	s.mu.Lock()
	s.written += int64(n)
	s.mu.Unlock()
}

// drop counts n dropped results and returns the total.
func (s *stats) drop(n int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropped += int64(n)
	return s.dropped
}

// Stats returns what the monitor did so far.
func (m *Monitor) Stats() Stats {
	m.mu.Lock()
	checks := len(m.entries)
	m.mu.Unlock()
	s := &m.stats
	s.mu.Lock()
	out := Stats{Checks: checks, Runs: s.runs, Written: s.written, Dropped: s.dropped, Skipped: s.skipped}
	d := slices.Clone(s.delays)
	s.mu.Unlock()
	if len(d) > 0 {
		slices.Sort(d)
		q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
		out.StartDelayP50, out.StartDelayP99, out.StartDelayMax = q(0.5), q(0.99), d[len(d)-1]
	}
	return out
}
