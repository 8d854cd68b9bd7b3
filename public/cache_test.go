package public

import (
	"bytes"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// A Builder that has built earlier versions gives, for each change, the
// same bytes as a fresh one: the caches never serve a stale rendering.
func TestBuilderRebuildEqualsFreshBuild(t *testing.T) {
	// Each change is applied to a fresh copy of incidentSnapshot, so that
	// the snapshots the warm builder saw are left as they were.
	changes := []struct {
		name   string
		change func(s *Snapshot)
	}{
		{"unchanged", func(s *Snapshot) {}},
		{"an update added", func(s *Snapshot) {
			inc := *s.Incidents[1]
			at := s.Now.Add(time.Minute)
			inc.Updates = append([]*tocsin.Update{{ID: 14, IncidentID: 1, Status: tocsin.IncidentResolved, Body: "Fixed.", DisplayAt: at, CreatedAt: at}}, inc.Updates...)
			inc.Status, inc.UpdatedAt = tocsin.IncidentResolved, at
			s.Incidents[1] = &inc
		}},
		{"an update's body corrected", func(s *Snapshot) {
			inc := *s.Incidents[2]
			u := *inc.Updates[1]
			u.Body = "Mail is slow for some."
			inc.Updates = []*tocsin.Update{inc.Updates[0], &u}
			s.Incidents[2] = &inc
		}},
		{"an incident renamed", func(s *Snapshot) {
			inc := *s.Incidents[2]
			inc.Title = "Mail delayed for hours"
			s.Incidents[2] = &inc
		}},
		{"a service's status", func(s *Snapshot) {
			svc := *s.Services[2]
			svc.Status = tocsin.StatusMajorOutage
			s.Services[2] = &svc
			s.History = append(s.History, tocsin.StatusChange{ServiceID: 3, Status: tocsin.StatusMajorOutage, At: s.Now.Add(-time.Hour)})
		}},
		{"a service renamed", func(s *Snapshot) {
			svc := *s.Services[1]
			svc.Name = "PeerTube"
			s.Services[1] = &svc
		}},
		{"the clock, a day later", func(s *Snapshot) { s.Now = s.Now.AddDate(0, 0, 1) }},
		{"the page's title and zone", func(s *Snapshot) { s.Title, s.Location = "Other status", time.UTC }},
	}
	warm := NewBuilder()
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			s := incidentSnapshot()
			s.Services = append([]*tocsin.Service(nil), s.Services...)
			s.Incidents = append([]*tocsin.Incident(nil), s.Incidents...)
			if _, err := warm.Build(s); err != nil { // the version before the change
				t.Fatal(err)
			}
			c.change(&s)
			got, err := warm.Build(s)
			if err != nil {
				t.Fatal(err)
			}
			want, err := NewBuilder().Build(s)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Resources) != len(want.Resources) {
				t.Errorf("%d resources, want %d", len(got.Resources), len(want.Resources))
			}
			for path, w := range want.Resources {
				g := got.Resources[path]
				if g == nil || !bytes.Equal(g.Body, w.Body) || g.ETag != w.ETag {
					t.Errorf("%s differs from a fresh build", path)
				}
			}
		})
	}
}
