package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestMigrate(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, database string) {
		ctx := context.Background()
		db := openTest(t, database, false)
		all, err := migrations(db.Dialect())
		if err != nil || len(all) == 0 {
			t.Fatalf("migrations: %v, %d", err, len(all))
		}
		var want []string
		for _, m := range all {
			want = append(want, m.name)
		}

		applied, err := db.Migrate(ctx)
		if err != nil {
			t.Fatalf("first Migrate: %v", err)
		}
		if !slices.Equal(applied, want) {
			t.Fatalf("first Migrate applied %v, want %v", applied, want)
		}
		if want[0] != "0001_init" {
			t.Errorf("first migration is %q", want[0])
		}

		rows, err := db.r.QueryContext(ctx, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`)
		if err != nil {
			t.Fatal(err)
		}
		var recorded []string
		for rows.Next() {
			var (
				v    int
				name string
				at   time.Time
			)
			if err := rows.Scan(&v, &name, timeScan{&at}); err != nil {
				t.Fatal(err)
			}
			if time.Since(at) > time.Minute || at.Location() != time.UTC {
				t.Errorf("migration %d applied_at = %v", v, at)
			}
			recorded = append(recorded, fmt.Sprintf("%d:%s", v, name))
		}
		rows.Close()
		if len(recorded) != len(all) || recorded[0] != "1:0001_init" {
			t.Errorf("schema_migrations = %v", recorded)
		}

		applied, err = db.Migrate(ctx)
		if err != nil || len(applied) != 0 {
			t.Fatalf("second Migrate = %v, %v; want nothing applied", applied, err)
		}

		// A newer tocsin migrated this database: refuse it, at Open and at Migrate.
		newer := all[len(all)-1].version + 4
		raw(t, db, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, newer, "9999_future", time.Now())
		wantMsg := fmt.Sprintf("database schema is at version %d but this tocsin binary knows only up to %d: upgrade tocsin (or point it at another database)", newer, all[len(all)-1].version)
		if _, err := db.Migrate(ctx); err == nil || err.Error() != wantMsg {
			t.Errorf("Migrate on newer schema: %v\nwant: %s", err, wantMsg)
		}
		if db2, err := Open(ctx, database, ""); err == nil {
			db2.Close()
			t.Errorf("Open on newer schema succeeded")
		} else if !strings.Contains(err.Error(), wantMsg) {
			t.Errorf("Open on newer schema: %v\nwant: %s", err, wantMsg)
		}
	})
}

func TestMigrateConcurrentOpen(t *testing.T) {
	// Two instances starting at once both call Migrate; exactly one applies.
	forEachDatabase(t, func(t *testing.T, database string) {
		ctx := context.Background()
		a, b := openTest(t, database, false), openTest(t, database, false)
		type result struct {
			applied []string
			err     error
		}
		ch := make(chan result, 2)
		for _, db := range []*DB{a, b} {
			go func() {
				applied, err := db.Migrate(ctx)
				ch <- result{applied, err}
			}()
		}
		r1, r2 := <-ch, <-ch
		if r1.err != nil || r2.err != nil {
			t.Fatalf("Migrate: %v / %v", r1.err, r2.err)
		}
		all, _ := migrations(a.Dialect())
		if total := len(r1.applied) + len(r2.applied); total != len(all) {
			t.Errorf("applied %v and %v, want each migration applied once", r1.applied, r2.applied)
		}
	})
}
