package sqlstore

import (
	"context"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// With a clock set, what the store writes is dated by it, audit entries
// included: a replay at a simulated Friday 17:40 stays consistent.
func TestSetClock(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		friday := time.Date(2026, 11, 20, 16, 40, 0, 123456789, time.UTC)
		db.SetClock(func() time.Time { return friday })
		defer db.SetClock(nil)
		want := friday.Truncate(time.Microsecond)
		ctx := context.Background()
		inc := newSecurity(t, db, "Bucket listable by anyone")
		got, err := db.SecurityIncident(ctx, inc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.CreatedAt.Equal(want) {
			t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, want)
		}
		es, _, err := db.Timeline(ctx, inc.ID, tocsin.TimelineFilter{Limit: 10})
		if err != nil || len(es) == 0 || !es[0].CreatedAt.Equal(want) {
			t.Errorf("first timeline entry = %+v, %v; want dated %v", es, err, want)
		}
		audit, err := db.AuditEntries(ctx, tocsin.AuditFilter{Limit: 1})
		if err != nil || len(audit) != 1 || !audit[0].At.Equal(want) {
			t.Errorf("newest audit entry = %+v, %v; want at %v", audit, err, want)
		}
	})
}
