package deadline

import (
	"context"
	"time"
)

// Escalator is the store step that pages the next level of every page
// nobody acknowledged in time (tocsin.PagingService.EscalatePages).
type Escalator interface {
	EscalatePages(ctx context.Context) (next time.Time, err error)
}

// Escalation is the duty that escalates unacknowledged pages. The store
// decides what is due by its own clock (so an incident replays at a
// simulated time) and returns the next deadline, so the worker wakes when
// it falls due rather than at its next poll.
func Escalation(s Escalator) Duty {
	return Duty{Name: "page escalation", Run: func(ctx context.Context, _ time.Time) (time.Time, error) {
		return s.EscalatePages(ctx)
	}}
}
