package public

import (
	"fmt"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// bigSnapshot is the size the targets name: 200 services in 20
// groups, with a status change every few days over the 90-day window.
func bigSnapshot() Snapshot {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	start := now.AddDate(0, 0, -100)
	var svcs []*tocsin.Service
	var history []tocsin.StatusChange
	for i := range 200 {
		s := &tocsin.Service{ID: int64(i + 1), Name: fmt.Sprintf("Service %d", i+1), Group: fmt.Sprintf("Group %d", i/10+1),
			Description: "A service of the host", Status: tocsin.StatusOperational, CreatedAt: start, UpdatedAt: start}
		svcs = append(svcs, s)
		history = append(history, tocsin.StatusChange{ServiceID: s.ID, Status: tocsin.StatusOperational, At: start})
		for d := 5 + i%7; d < 100; d += 7 {
			at := start.AddDate(0, 0, d).Add(time.Duration(i) * time.Minute)
			history = append(history,
				tocsin.StatusChange{ServiceID: s.ID, Status: tocsin.StatusPartialOutage, At: at},
				tocsin.StatusChange{ServiceID: s.ID, Status: tocsin.StatusOperational, At: at.Add(40 * time.Minute)})
		}
	}
	return Snapshot{Title: "Example Host status", Location: paris, Lang: "fr", Now: now, Services: svcs, History: history}
}

// BenchmarkBuild is the time to re-render the whole public site after a
// change (target: under 50 ms at this size).
func BenchmarkBuild(b *testing.B) {
	s := bigSnapshot()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(s); err != nil {
			b.Fatal(err)
		}
	}
}
