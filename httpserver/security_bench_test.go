package httpserver

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// BenchmarkSecurityRoom10k measures the target: the room of an
// incident with 10,000 timeline entries, from a real SQLite store, through
// the whole handler (session, CSRF cookie, store reads, template) over
// loopback HTTP. The room shows the newest page of 200 entries; the store
// still counts and skips through all 10,000 to find it. "first-page" asks
// for the oldest page instead.
func BenchmarkSecurityRoom10k(b *testing.B) {
	e := newTestEnv(b)
	ann := e.createUser("ann@example.org", tocsin.RoleResponder)
	bob := e.createUser("bob@example.org", tocsin.RoleResponder)
	inc := &tocsin.SecurityIncident{Title: "Bucket world-listable", Summary: "A storage bucket listed its objects to anyone.",
		Severity: tocsin.SEV1, Kind: tocsin.KindDataExposure}
	if err := e.store.CreateSecurityIncident(e.ctx, tocsin.CLI, inc); err != nil {
		b.Fatal(err)
	}
	for _, r := range []struct {
		role tocsin.IncidentRole
		user int64
	}{{tocsin.RoleLead, ann.ID}, {tocsin.RoleScribe, bob.ID}, {tocsin.RoleMember, bob.ID}} {
		if err := e.store.AssignSecurityRole(e.ctx, tocsin.CLI, inc.ID, r.role, r.user); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now().Add(-30 * 24 * time.Hour)
	for i := range 10000 - e.count(inc.ID) { // created and three roles are entries already
		at := start.Add(time.Duration(i) * 4 * time.Minute)
		var err error
		switch {
		case i%100 == 0:
			err = e.store.RecordDecision(e.ctx, tocsin.CLI, inc.ID, &tocsin.Decision{Choice: fmt.Sprintf("decision %d: revoke the keys", i),
				Options: "revoke all; revoke some", Why: "accounts safe; some users lose history", DecidedBy: ann.ID, DecidedAt: at})
		case i%2 == 0:
			err = e.store.AddTimelineEntry(e.ctx, tocsin.CLI, inc.ID, &tocsin.SecurityEntry{Kind: tocsin.EntryObservation, OccurredAt: at,
				Body: fmt.Sprintf("observation %d: GET /bucket?list-type=2 from 203.0.113.%d <not html>", i, i%250)})
		default:
			err = e.store.AddTimelineEntry(e.ctx, tocsin.CLI, inc.ID, &tocsin.SecurityEntry{Kind: tocsin.EntryAction, OccurredAt: at,
				Body: fmt.Sprintf("action %d: rotated credential %d", i, i)})
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if n := e.count(inc.ID); n != 10000 {
		b.Fatalf("%d entries", n)
	}
	br := e.signedIn(ann, "127.0.0.1")
	for _, bc := range []struct{ name, query string }{{"newest-page", ""}, {"first-page", "?page=1"}} {
		b.Run(bc.name, func(b *testing.B) {
			path := roomPath(inc.ID, "") + bc.query
			r := br.get(path)
			if r.Status != http.StatusOK || strings.Count(r.Body, `<li id="entry-`) != roomPageSize || !strings.Contains(r.Text, "10000 entries") {
				b.Fatalf("room: %d, %d entries shown", r.Status, strings.Count(r.Body, `<li id="entry-`))
			}
			b.SetBytes(int64(len(r.Body)))
			b.ResetTimer()
			for b.Loop() {
				br.get(path)
			}
		})
	}
}

// count returns how many entries incident id's timeline holds.
func (e *testEnv) count(id int64) int {
	_, total, err := e.store.Timeline(e.ctx, id, tocsin.TimelineFilter{Limit: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	return total
}
