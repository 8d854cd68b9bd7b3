package public

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// bigSnapshot is the size the targets name: 200 services in 20
// groups, with a status change every few days over the 90-day window, and
// 2,000 published incidents spread over those 90 days (three updates each,
// two services affected; the newest one still open).
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
	var incidents []*tocsin.Incident
	for i := range 2000 {
		created := now.Add(-time.Duration(i) * (90 * 24 * time.Hour / 2000)).Add(-time.Hour)
		id := int64(i + 1)
		inc := &tocsin.Incident{
			ID: id, Title: fmt.Sprintf("Incident %d: uploads fail", id), Status: tocsin.IncidentResolved, Impact: tocsin.ImpactMinor,
			Services: []tocsin.ServiceImpact{{ServiceID: int64(i%200 + 1), Status: tocsin.StatusPartialOutage},
				{ServiceID: int64((i+7)%200 + 1), Status: tocsin.StatusDegraded}},
			PublishedAt: &created, CreatedAt: created, UpdatedAt: created.Add(time.Hour),
		}
		for j, st := range []tocsin.IncidentStatus{tocsin.IncidentResolved, tocsin.IncidentIdentified, tocsin.IncidentInvestigating} {
			at := created.Add(time.Duration(2-j) * 30 * time.Minute)
			inc.Updates = append(inc.Updates, &tocsin.Update{ID: id*10 + int64(j), IncidentID: id, Status: st, DisplayAt: at, CreatedAt: at,
				Body: "We are **looking** into slow uploads on [the instance](https://example.org).\nMore in a moment."})
		}
		if i == 0 {
			inc.Status, inc.Updates = tocsin.IncidentIdentified, inc.Updates[1:]
		} else {
			inc.ResolvedAt = &inc.Updates[0].DisplayAt
		}
		incidents = append(incidents, inc)
	}
	return Snapshot{Title: "Example Host status", Location: paris, Lang: "fr", Now: now, Services: svcs, History: history, Incidents: incidents}
}

// BenchmarkBuild is the time to re-render the whole public site after a
// change (target: under 50 ms at this size).
func BenchmarkBuild(b *testing.B) {
	s := bigSnapshot()
	// A first build fills the render cache, as the server's start does;
	// what is measured is a rebuild after a change.
	if _, err := Build(s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublish is what the target measures: on a warm site of
// bigSnapshot's size, one update is added to one incident and the site is
// rebuilt (target: under 50 ms).
func BenchmarkPublish(b *testing.B) {
	s := bigSnapshot()
	builder := NewBuilder()
	if _, err := builder.Build(s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// Each round adds one update to the same base, so that the
		// incident does not grow from round to round.
		if _, err := builder.Build(withNewUpdate(s, i)); err != nil {
			b.Fatal(err)
		}
	}
}

// withNewUpdate returns s with one more update on its open incident, as the
// store would read it after a publish: a new incident value, the others
// shared, a little later.
func withNewUpdate(s Snapshot, i int) Snapshot {
	incs := slices.Clone(s.Incidents)
	inc := *incs[0]
	at := s.Now.Add(time.Duration(i+1) * time.Second)
	inc.Updates = append(slices.Clone(inc.Updates), &tocsin.Update{ID: int64(1_000_000 + i), IncidentID: inc.ID,
		Status: tocsin.IncidentMonitoring, DisplayAt: at, CreatedAt: at, Body: fmt.Sprintf("Update %d: a fix is **deployed**.", i)})
	inc.Status, inc.UpdatedAt = tocsin.IncidentMonitoring, at
	incs[0] = &inc
	s.Incidents = incs
	s.Now = at // the clock moved: today's uptime and the page's date follow it
	return s
}
