package sqlstore

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// BenchmarkCheckStorage simulates checks run every minute for days into a
// fresh store, compacting a minute past each simulated hour with a
// retention of 7 days as serve's janitor does, and reports the storage it
// takes just before the next compaction (with the hour in progress as
// rows): the raw results (bounded by the retention) and the roll-ups
// (growing with days, projected to a year). Raw rows are inserted in bulk, the rest goes
// through the real compaction. TOCSIN_STORAGE_CHECKS (1000) and
// TOCSIN_STORAGE_DAYS (30) change the size; PostgreSQL is measured too
// when TOCSIN_TEST_POSTGRES is set. Run it with
//
//	go test ./sqlstore/ -run XXX -bench CheckStorage -benchtime 1x
func BenchmarkCheckStorage(b *testing.B) {
	checks, days := envInt("TOCSIN_STORAGE_CHECKS", 1000), envInt("TOCSIN_STORAGE_DAYS", 30)
	b.Run("sqlite", func(b *testing.B) {
		for b.Loop() {
			path := filepath.Join(b.TempDir(), "tocsin.db")
			db := openBench(b, "sqlite:"+path)
			end := simulateChecks(b, db, checks, days)
			timeReads(b, db, end)
			before, _ := sqliteTableBytes(b, db)
			if _, err := db.w.Exec(`VACUUM`); err != nil {
				b.Fatal(err)
			}
			// Pages that updates left part-empty are counted dense: what
			// the data takes, not how a B-tree happened to split.
			rawBytes, dayBytes := sqliteTableBytes(b, db)
			b.Logf("raw results before VACUUM: %.1f MB", float64(before)/1e6)
			logSizes(b, db)
			db.w.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`) //nolint:errcheck // measured below either way
			st, err := os.Stat(path)
			if err != nil {
				b.Fatal(err)
			}
			report(b, checks, days, st.Size(), rawBytes, dayBytes)
		}
	})
	b.Run("postgres", func(b *testing.B) {
		for b.Loop() {
			db := openBench(b, testpeer.PostgresSchema(b))
			timeReads(b, db, simulateChecks(b, db, checks, days))
			size := func(table string) int64 {
				var n int64
				if err := db.w.QueryRow(`SELECT pg_total_relation_size('` + table + `')`).Scan(&n); err != nil {
					b.Fatal(err)
				}
				return n
			}
			// As autovacuum left the tables, then packed: the space that
			// rows deleted or updated leave is reused, not returned.
			b.Logf("as they stand: raw results %.1f MB (rows %.1f MB, blocks %.1f MB), roll-ups %.1f MB",
				float64(size("check_results")+size("check_blocks"))/1e6, float64(size("check_results"))/1e6,
				float64(size("check_blocks"))/1e6, float64(size("check_weeks"))/1e6)
			for _, table := range []string{"check_results", "check_weeks", "check_blocks"} {
				if _, err := db.w.Exec(`VACUUM FULL ` + table); err != nil {
					b.Fatal(err)
				}
			}
			b.Logf("rows of the hour in progress: %.1f MB", float64(size("check_results"))/1e6)
			logSizes(b, db)
			raw, rolled := size("check_results")+size("check_blocks"), size("check_weeks")
			report(b, checks, days, raw+rolled, raw, rolled)
		}
	})
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func openBench(b *testing.B, database string) *DB {
	b.Helper()
	db, err := Open(context.Background(), database, "")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return db
}

func report(b *testing.B, checks, days int, total, raw, rolled int64) {
	perYear := float64(rolled) / float64(days) * 365
	b.ReportMetric(float64(total)/1e6, "MB-total")
	b.ReportMetric(float64(raw)/1e6, "MB-raw-7d")
	b.ReportMetric(float64(rolled)/1e6, "MB-rollups")
	b.ReportMetric(perYear/1e6, "MB-rollups/year")
	b.ReportMetric(float64(rolled)/float64(checks*days), "B/check-day")
	b.Logf("%d checks × %d days at 60 s: %.1f MB in all, raw results (7 days) %.1f MB, roll-ups %.2f MB → %.1f MB a year (%.0f bytes a check-day)",
		checks, days, float64(total)/1e6, float64(raw)/1e6, float64(rolled)/1e6, perYear/1e6, float64(rolled)/float64(checks*days))
}

// simulateChecks creates checks (10 per service) and their results, one
// a minute each for days and an hour more, compacting a minute past every
// hour but the last.
func simulateChecks(b *testing.B, db *DB, checks, days int) time.Time {
	ctx := context.Background()
	var ids []int64
	var service *tocsin.Service
	for i := range checks {
		if i%10 == 0 {
			service = &tocsin.Service{Name: fmt.Sprintf("Service %d", i/10)}
			if err := db.CreateService(ctx, admin, service); err != nil {
				b.Fatal(err)
			}
		}
		c := &tocsin.Check{ServiceID: service.ID, Kind: tocsin.CheckHTTP, Spec: tocsin.CheckSpec{URL: fmt.Sprintf("https://h%d.example.org/", i)}}
		c.ApplyDefaults(tocsin.CheckDefaults{})
		if err := c.Validate(); err != nil {
			b.Fatal(err)
		}
		if err := db.CreateCheck(ctx, admin, c); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	// Each check has its own typical latency (5 ms to 500 ms) with a
	// log-normal spread, fails now and then, and is down for an hour
	// once in a while.
	rng := rand.New(rand.NewPCG(1, 2))
	base := make([]float64, len(ids))
	for i := range base {
		base[i] = math.Log(5000) + rng.Float64()*math.Log(100)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for h := range days*24 + 1 {
		hour := start.Add(time.Duration(h) * time.Hour)
		err := db.update(ctx, func(tx conn) error {
			const perStmt = 500
			var q strings.Builder
			args := make([]any, 0, perStmt*7)
			flush := func() error {
				if len(args) == 0 {
					return nil
				}
				n := len(args) / 7
				q.Reset()
				q.WriteString(`INSERT INTO check_results (check_id, started_at, duration_us, ok, degraded, status_code, error) VALUES (?, ?, ?, ?, ?, ?, ?)`)
				q.WriteString(strings.Repeat(", (?, ?, ?, ?, ?, ?, ?)", n-1))
				_, err := tx.exec(ctx, q.String(), args...)
				args = args[:0]
				return err
			}
			for i, id := range ids {
				outage := rng.IntN(2000) == 0
				for m := range 60 {
					// Spread over the minute by check, with the scheduler's
					// jitter of ±1 s (monitor.jitter), within the hour.
					at := hour.Add(time.Duration(m)*time.Minute + time.Duration(i)*time.Millisecond*59 + time.Duration(rng.IntN(2_000_000)-1_000_000)*time.Microsecond)
					if at.Before(hour) {
						at = hour
					}
					us := int64(math.Exp(base[i] + rng.NormFloat64()*0.25))
					ok := !outage && rng.IntN(1000) != 0
					code, msg := 200, ""
					if !ok {
						code, msg, us = 0, "dial tcp: connection refused", 10_000_000
					}
					args = append(args, id, at, us, ok, ok && us > 2_000_000, code, msg)
					if len(args) == perStmt*7 {
						if err := flush(); err != nil {
							return err
						}
					}
				}
			}
			return flush()
		})
		if err != nil {
			b.Fatal(err)
		}
		if h == days*24 {
			break // the hour in progress
		}
		if _, err := db.CompactCheckResults(ctx, hour.Add(time.Hour+time.Minute), 7*24*time.Hour); err != nil {
			b.Fatal(err)
		}
		if db.dialect == DialectPostgres {
			// What autovacuum does in the hour between two compactions,
			// which the simulation runs in a second: mark the space of
			// deleted and updated rows for reuse.
			if _, err := db.w.Exec(`VACUUM check_results, check_blocks, check_weeks`); err != nil {
				b.Fatal(err)
			}
		}
	}
	return start.Add(time.Duration(days)*24*time.Hour + time.Hour)
}

// timeReads logs how long the public page's and the console's reads of
// the history take at the simulation's end.
func timeReads(b *testing.B, db *DB, now time.Time) {
	ctx := context.Background()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	cd, err := db.ServiceCheckDays(ctx, now.AddDate(0, 0, -90), paris)
	if err != nil {
		b.Fatal(err)
	}
	t1 := time.Now()
	days, err := db.CheckHistory(ctx, 1, now.AddDate(0, 0, -90), now, 24*time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	t2 := time.Now()
	hours, err := db.CheckHistory(ctx, 1, now.AddDate(0, 0, -7), now, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	t3 := time.Now()
	raw, err := db.CheckResults(ctx, 1, now.Add(-24*time.Hour), 2000)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("reads: ServiceCheckDays (Europe/Paris, 90 days) %d days in %s; CheckHistory 90 days by day %d points in %s, 7 days by hour %d points in %s; CheckResults 24 h %d in %s",
		len(cd), t1.Sub(t0).Round(time.Millisecond), len(days), t2.Sub(t1).Round(time.Millisecond), len(hours), t3.Sub(t2).Round(time.Millisecond),
		len(raw), time.Since(t3).Round(time.Millisecond))
}

// sqliteTableBytes sums the pages of the raw results (rows and blocks,
// with their indexes) and of the roll-ups, from SQLite's dbstat table.
func sqliteTableBytes(b *testing.B, db *DB) (raw, rolled int64) {
	rows, err := db.w.Query(`SELECT name, SUM(pgsize) FROM dbstat GROUP BY name`)
	if err != nil {
		b.Logf("dbstat: %v", err)
		return 0, 0
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			b.Fatal(err)
		}
		name = strings.TrimPrefix(name, "sqlite_autoindex_") // a table's key
		switch {
		case strings.HasPrefix(name, "check_results"), strings.HasPrefix(name, "check_blocks"):
			raw += n
		case strings.HasPrefix(name, "check_weeks"):
			rolled += n
		}
	}
	return raw, rolled
}

// logSizes logs what a block, a check's week and a day take on average,
// in bytes.
func logSizes(b *testing.B, db *DB) {
	var blocks, blockBytes int64
	if err := db.w.QueryRow(`SELECT COUNT(*), COALESCE(SUM(LENGTH(results)), 0) FROM check_blocks`).Scan(&blocks, &blockBytes); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d blocks of %.0f bytes on average (%.1f MB of blobs)", blocks, float64(blockBytes)/float64(max(blocks, 1)), float64(blockBytes)/1e6)
	rows, err := list(context.Background(), db.read(), scanWeekRow, `SELECT check_id, week, days FROM check_weeks`)
	if err != nil {
		b.Fatal(err)
	}
	var weekBytes, days, hist, hours int
	for _, row := range rows {
		weekBytes += len(row.days)
		err := row.forDays(math.MinInt64, math.MaxInt64, func(_ int64, d *dayRollup) error {
			days++
			hist += len(d.hist)
			hours += len(d.hours)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	days = max(days, 1)
	b.Logf("%d weeks of %.0f bytes on average; a check-day: %.0f bytes, of which histogram %.0f, hours %.0f",
		len(rows), float64(weekBytes)/float64(max(len(rows), 1)), float64(weekBytes)/float64(days), float64(hist)/float64(days), float64(hours)/float64(days))
}

// BenchmarkServiceCheckDays reads what the status page's 90-day bars read:
// every service's days, in a zone whose days straddle two UTC days, from
// 1,000 checks with 91 days of history each.
func BenchmarkServiceCheckDays(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) {
		benchServiceCheckDays(b, openBench(b, "sqlite:"+filepath.Join(b.TempDir(), "tocsin.db")))
	})
	b.Run("postgres", func(b *testing.B) {
		benchServiceCheckDays(b, openBench(b, testpeer.PostgresSchema(b)))
	})
}

func benchServiceCheckDays(b *testing.B, db *DB) {
	ctx := context.Background()
	end := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	var ids []int64
	for i := range 1000 {
		if i%10 == 0 {
			s := &tocsin.Service{Name: fmt.Sprintf("Service %d", i/10)}
			if err := db.CreateService(ctx, admin, s); err != nil {
				b.Fatal(err)
			}
			ids = append(ids, s.ID)
		}
		c := &tocsin.Check{ServiceID: ids[len(ids)-1], Kind: tocsin.CheckHTTP, Spec: tocsin.CheckSpec{URL: fmt.Sprintf("https://h%d.example.org/", i)}}
		c.ApplyDefaults(tocsin.CheckDefaults{})
		if err := db.CreateCheck(ctx, admin, c); err != nil {
			b.Fatal(err)
		}
	}
	checks := make([]int64, 1000)
	for i := range checks {
		checks[i] = int64(i + 1)
	}
	hours := steadyDay()
	var hist latencyHist
	for _, q := range hours[0].Q {
		hist[q] += 480
	}
	day := dayRollup{runs: 1440, hist: encodeHist(&hist), hours: encodeHours(&hours)}
	first, last := dayNumber(end)-91, dayNumber(end)-1
	for week := weekOf(first); week <= weekOf(last); week++ {
		weeks := map[int64]*weekRollup{}
		for _, id := range checks {
			w := &weekRollup{}
			for i := range w {
				if d := week*7 + int64(i); d >= first && d <= last {
					w[i] = &day
				}
			}
			weeks[id] = w
		}
		if err := db.update(ctx, func(tx conn) error { return tx.saveWeeks(ctx, week, weeks, checks) }); err != nil {
			b.Fatal(err)
		}
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		days, err := db.ServiceCheckDays(ctx, end.AddDate(0, 0, -90), paris)
		if err != nil || len(days) != 100*91 {
			b.Fatalf("%d days, %v; want %d", len(days), err, 100*91)
		}
	}
}
