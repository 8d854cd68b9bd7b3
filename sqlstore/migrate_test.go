package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
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

// migratedTo opens database migrated up to version, with a service to
// attach checks to: the schema an older tocsin left, for a migration's
// test to fill.
func migratedTo(t *testing.T, database string, version int) (*DB, *tocsin.Service) {
	t.Helper()
	db := openTest(t, database, false)
	if _, err := db.migrateTo(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return db, newService(t, db, &tocsin.Service{Name: "Website"})
}

// Migration 0018 moves the day rows of check_days into weeks: the history
// reads the same before and after.
func TestMigrateCheckDaysToWeeks(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, database string) {
		ctx := context.Background()
		db, web := migratedTo(t, database, 17)
		a := newCheck(t, db, httpCheck(web.ID, "https://a.example.org/"))
		b := newCheck(t, db, httpCheck(web.ID, "https://b.example.org/"))
		// Check a on three days of two weeks, check b on one; the hours
		// say 10 o'clock, the histograms 40 and 300 ms.
		dayRow := func(id int64, day time.Time, runs, failures uint32, ms int) {
			var hist latencyHist
			for range runs - failures {
				hist.add(time.Duration(ms) * time.Millisecond)
			}
			var hours dayHours
			hours[10] = hourFrom(runs, failures, 0, &hist)
			raw(t, db, `INSERT INTO check_days (check_id, day, runs, failures, degraded, hist, hours) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				id, dayNumber(day), runs, failures, 0, encodeHist(&hist), encodeHours(&hours))
		}
		dayRow(a.ID, day0, 60, 5, 40)
		dayRow(a.ID, day0.AddDate(0, 0, 1), 60, 0, 40)
		dayRow(a.ID, day0.AddDate(0, 0, 9), 30, 1, 40)
		dayRow(b.ID, day0, 60, 0, 300)
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		from, to := day0.AddDate(0, 0, -1), day0.AddDate(0, 0, 20)
		wantPoints(t, history(t, db, a.ID, from, to, 24*time.Hour), []pointSummary{
			{day0, 60, 5, 0}, {day0.AddDate(0, 0, 1), 60, 0, 0}, {day0.AddDate(0, 0, 9), 30, 1, 0}}, 40*time.Millisecond)
		wantPoints(t, history(t, db, a.ID, from, to, time.Hour), []pointSummary{
			{day0.Add(10 * time.Hour), 60, 5, 0}, {day0.AddDate(0, 0, 1).Add(10 * time.Hour), 60, 0, 0},
			{day0.AddDate(0, 0, 9).Add(10 * time.Hour), 30, 1, 0}}, 40*time.Millisecond)
		wantPoints(t, history(t, db, b.ID, from, to, 24*time.Hour), []pointSummary{{day0, 60, 0, 0}}, 300*time.Millisecond)
		if n := count(t, db, `SELECT COUNT(*) FROM check_weeks`); n != 3 {
			t.Errorf("%d week rows, want 3 (two weeks of a, one of b)", n)
		}
		if _, err := db.w.ExecContext(ctx, `SELECT COUNT(*) FROM check_days`); err == nil {
			t.Errorf("check_days is still there")
		}
	})
}

// Migration 0019 merges hourly blocks into blocks of six hours: the raw
// results read the same before and after.
func TestMigrateBlocksToSixHours(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, database string) {
		ctx := context.Background()
		db, web := migratedTo(t, database, 18)
		a := newCheck(t, db, httpCheck(web.ID, "https://a.example.org/"))
		// Hours 10, 11 and 12 as hourly blocks, 13 o'clock as rows.
		rs := minuteResults(a.ID, day0.Add(10*time.Hour), 4*60, 40, map[int]bool{70: true})
		for h := range 3 {
			hour := day0.Add(time.Duration(10+h) * time.Hour)
			blob, err := encodeBlock(hour, rs[h*60:(h+1)*60])
			if err != nil {
				t.Fatal(err)
			}
			raw(t, db, `INSERT INTO check_blocks (check_id, hour, results) VALUES (?, ?, ?)`, a.ID, hourNumber(hour), blob)
		}
		record(t, db, rs[180:])
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		wantResults(t, db, a.ID, rs)
		if n := count(t, db, `SELECT COUNT(*) FROM check_blocks WHERE check_id = ?`, a.ID); n != 2 {
			t.Errorf("%d blocks, want 2 (from 6 and from 12 o'clock)", n)
		}
		if _, err := db.w.ExecContext(ctx, `SELECT COUNT(*) FROM check_blocks_hourly`); err == nil {
			t.Errorf("check_blocks_hourly is still there")
		}
	})
}
