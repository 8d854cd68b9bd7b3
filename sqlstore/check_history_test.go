package sqlstore

import (
	"context"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// day0 is the day the history tests run on.
var day0 = time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)

// minuteResults are one result a minute of check id over [from, from+n min):
// the minutes listed in fail fail, the others take ms milliseconds.
func minuteResults(id int64, from time.Time, n int, ms int, fail map[int]bool) []*tocsin.CheckResult {
	out := make([]*tocsin.CheckResult, n)
	for i := range out {
		out[i] = &tocsin.CheckResult{CheckID: id, StartedAt: from.Add(time.Duration(i) * time.Minute),
			Duration: time.Duration(ms) * time.Millisecond, OK: !fail[i]}
		if fail[i] {
			out[i].Error = "connection refused"
		}
	}
	return out
}

// wantResults checks that CheckResults returns want, newest first,
// whichever form they are stored in; a limit keeps the newest.
func wantResults(t *testing.T, db *DB, id int64, want []*tocsin.CheckResult) {
	t.Helper()
	want = slices.Clone(want)
	slices.SortStableFunc(want, func(a, b *tocsin.CheckResult) int { return b.StartedAt.Compare(a.StartedAt) })
	for _, limit := range []int{1000, 7} {
		got, err := db.CheckResults(context.Background(), id, day0, limit)
		if err != nil {
			t.Fatal(err)
		}
		w := want[:min(limit, len(want))]
		if len(got) != len(w) {
			t.Fatalf("limit %d: %d results, want %d", limit, len(got), len(w))
		}
		for i := range got {
			if !got[i].StartedAt.Equal(w[i].StartedAt) {
				t.Fatalf("limit %d, result %d: started %s, want %s", limit, i, got[i].StartedAt, w[i].StartedAt)
			}
			g, wc := *got[i], *w[i]
			g.StartedAt, wc.StartedAt = time.Time{}, time.Time{}
			if !reflect.DeepEqual(g, wc) {
				t.Fatalf("limit %d, result %d:\n got %+v\nwant %+v", limit, i, g, wc)
			}
		}
	}
}

func record(t *testing.T, db *DB, results []*tocsin.CheckResult) {
	t.Helper()
	if err := db.RecordCheckResults(context.Background(), results); err != nil {
		t.Fatalf("RecordCheckResults: %v", err)
	}
}

// pointSummary is a point without its quantiles, which are compared
// within their error bound.
type pointSummary struct {
	At                       time.Time
	Runs, Failures, Degraded int
}

func history(t *testing.T, db *DB, id int64, from, to time.Time, step time.Duration) []tocsin.CheckPoint {
	t.Helper()
	p, err := db.CheckHistory(context.Background(), id, from, to, step)
	if err != nil {
		t.Fatalf("CheckHistory: %v", err)
	}
	return p
}

func wantPoints(t *testing.T, got []tocsin.CheckPoint, want []pointSummary, p50 time.Duration) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d points %+v, want %d %+v", len(got), got, len(want), want)
	}
	for i, p := range got {
		if s := (pointSummary{p.At, p.Runs, p.Failures, p.Degraded}); s != want[i] {
			t.Errorf("point %d: %+v, want %+v", i, s, want[i])
		}
		if d := p.P50 - p50; d > p50/20 || -d > p50/20 {
			t.Errorf("point %d: p50 %s, want %s within 5 %%", i, p.P50, p50)
		}
	}
}

func compact(t *testing.T, db *DB, now time.Time, want int) {
	t.Helper()
	n, err := db.CompactCheckResults(context.Background(), now, 7*24*time.Hour)
	if err != nil {
		t.Fatalf("CompactCheckResults: %v", err)
	}
	if n != want {
		t.Fatalf("compaction at %s folded %d results, want %d", now.Format(time.RFC3339), n, want)
	}
}

func TestCheckHistoryCompaction(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		web := newService(t, db, &tocsin.Service{Name: "Website"})
		a := newCheck(t, db, httpCheck(web.ID, "https://a.example.org/"))
		b := newCheck(t, db, httpCheck(web.ID, "https://b.example.org/"))
		// Check a: 10:00–12:59, 40 ms, five failures in the 11 o'clock
		// hour; check b: 10:00–10:59, 300 ms.
		ra := minuteResults(a.ID, day0.Add(10*time.Hour), 180, 40, map[int]bool{61: true, 62: true, 63: true, 64: true, 65: true})
		rb := minuteResults(b.ID, day0.Add(10*time.Hour), 60, 300, nil)
		rb[7].Location, rb[7].Key, rb[7].StatusCode = "paris", "paris-7", 204
		rb[8].TLS = &tocsin.TLSObservation{SPKISHA256: "ab12", Serial: "01", NotAfter: day0.AddDate(0, 3, 0), Version: "TLS 1.3"}
		rb[9].Bucket = &tocsin.BucketObservation{Listable: []string{"https://s3.example.org/media"}}
		record(t, db, ra)
		record(t, db, rb)
		hours := []pointSummary{{day0.Add(10 * time.Hour), 60, 0, 0}, {day0.Add(11 * time.Hour), 60, 5, 0}, {day0.Add(12 * time.Hour), 60, 0, 0}}
		days := []pointSummary{{day0, 180, 5, 0}}
		from, to := day0, day0.Add(24*time.Hour)

		// Raw results only, then after each compaction: the same history.
		for _, step := range []struct {
			name   string
			now    time.Time
			folded int
		}{
			{"raw", time.Time{}, 0},
			{"two hours folded", day0.Add(12*time.Hour + 30*time.Minute), 180},
			{"again: nothing folded twice", day0.Add(12*time.Hour + 30*time.Minute), 0},
			{"the third hour", day0.Add(25 * time.Hour), 60},
		} {
			t.Run(step.name, func(t *testing.T) {
				if !step.now.IsZero() {
					compact(t, db, step.now, step.folded)
				}
				wantPoints(t, history(t, db, a.ID, from, to, time.Hour), hours, 40*time.Millisecond)
				wantPoints(t, history(t, db, a.ID, from, to, 24*time.Hour), days, 40*time.Millisecond)
				wantPoints(t, history(t, db, b.ID, from, to, time.Hour), []pointSummary{{day0.Add(10 * time.Hour), 60, 0, 0}}, 300*time.Millisecond)
			})
		}
		if n := count(t, db, `SELECT COUNT(*) FROM check_weeks`); n != 2 {
			t.Fatalf("%d week rows, want 2", n)
		}
		// Folded results are packed in blocks of six hours, and read back
		// the same.
		if n := count(t, db, `SELECT COUNT(*) FROM check_results`); n != 0 {
			t.Fatalf("%d rows left after packing", n)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM check_blocks`); n != 3 {
			t.Fatalf("%d blocks, want 3 (a's 10 and 11 o'clock, a's 12 o'clock, b's 10 o'clock)", n)
		}
		wantResults(t, db, a.ID, ra)
		wantResults(t, db, b.ID, rb)

		// A late result of an hour already folded is folded by the next run.
		late := minuteResults(a.ID, day0.Add(10*time.Hour+30*time.Second), 1, 40, nil)
		late[0].Degraded = true
		record(t, db, late)
		hours[0].Runs, hours[0].Degraded, days[0].Runs, days[0].Degraded = 61, 1, 181, 1
		wantPoints(t, history(t, db, a.ID, from, to, time.Hour), hours, 40*time.Millisecond)
		withLate := append(slices.Clone(ra), late...)
		wantResults(t, db, a.ID, withLate) // a row and blocks
		compact(t, db, day0.Add(25*time.Hour), 1)
		wantResults(t, db, a.ID, withLate) // blocks only
		if n := count(t, db, `SELECT COUNT(*) FROM check_results`); n != 0 {
			t.Fatalf("%d rows left after packing", n)
		}
		wantPoints(t, history(t, db, a.ID, from, to, time.Hour), hours, 40*time.Millisecond)
		wantPoints(t, history(t, db, a.ID, from, to, 24*time.Hour), days, 40*time.Millisecond)

		// Per service and day of a zone: 11 hours behind UTC, the 10
		// o'clock hour (UTC) is the evening before.
		zone := time.FixedZone("UTC-11", -11*3600)
		for _, tc := range []struct {
			loc  *time.Location
			want []tocsin.CheckDay
		}{
			{time.UTC, []tocsin.CheckDay{{ServiceID: web.ID, Day: day0, Runs: 241, Failures: 5}}},
			{zone, []tocsin.CheckDay{
				{ServiceID: web.ID, Day: time.Date(2026, 3, 9, 0, 0, 0, 0, zone), Runs: 121},
				{ServiceID: web.ID, Day: time.Date(2026, 3, 10, 0, 0, 0, 0, zone), Runs: 120, Failures: 5}}},
		} {
			got, err := db.ServiceCheckDays(ctx, day0.Add(-48*time.Hour), tc.loc)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%s: %+v, want %+v", tc.loc, got, tc.want)
			}
			for i := range got {
				if got[i].ServiceID != tc.want[i].ServiceID || !got[i].Day.Equal(tc.want[i].Day) || got[i].Runs != tc.want[i].Runs || got[i].Failures != tc.want[i].Failures {
					t.Errorf("%s: day %d = %+v, want %+v", tc.loc, i, got[i], tc.want[i])
				}
			}
		}

		// A block goes when its last hour is past the retention: at 15:00
		// seven days later, a's block from noon stays, the others go.
		compact(t, db, day0.Add(7*24*time.Hour+15*time.Hour), 0)
		if n := count(t, db, `SELECT COUNT(*) FROM check_blocks`); n != 1 {
			t.Fatalf("%d blocks when one has hours within the retention, want 1", n)
		}
		if rs, err := db.CheckResults(ctx, a.ID, day0.Add(15*time.Hour), 1000); err != nil || len(rs) != 0 {
			t.Fatalf("a's results after 15:00: %d, %v; want none", len(rs), err)
		}
		if rs, err := db.CheckResults(ctx, a.ID, day0.Add(12*time.Hour), 1000); err != nil || len(rs) != 60 {
			t.Fatalf("a's results from noon: %d, %v; want 60", len(rs), err)
		}

		// Past the retention the raw results go, the history stays.
		compact(t, db, day0.Add(8*24*time.Hour+time.Hour), 0)
		if rs, err := db.CheckResults(ctx, a.ID, day0, 1000); err != nil || len(rs) != 0 {
			t.Fatalf("raw results past the retention: %d, %v", len(rs), err)
		}
		wantPoints(t, history(t, db, a.ID, from, to, 24*time.Hour), days, 40*time.Millisecond)

		if n := count(t, db, `SELECT COUNT(*) FROM check_blocks`); n != 0 {
			t.Fatalf("%d blocks past the retention", n)
		}
		// The history is kept 400 days, by whole weeks: a day goes with
		// its week, up to a week after its 400 days.
		compact(t, db, day0.Add(tocsin.HistoryKeep), 0)
		if n := count(t, db, `SELECT COUNT(*) FROM check_weeks`); n != 2 {
			t.Fatalf("%d week rows at 400 days, want 2", n)
		}
		compact(t, db, day0.Add(tocsin.HistoryKeep+8*24*time.Hour), 0)
		if n := count(t, db, `SELECT COUNT(*) FROM check_weeks`); n != 0 {
			t.Fatalf("%d week rows past 400 days and a week", n)
		}
	})
}

func TestCheckHistoryDeletedWithCheck(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		web := newService(t, db, &tocsin.Service{Name: "Website"})
		a := newCheck(t, db, httpCheck(web.ID, "https://a.example.org/"))
		record(t, db, minuteResults(a.ID, day0, 5*60+30, 40, nil))
		compact(t, db, day0.Add(5*time.Hour+30*time.Minute), 5*60)
		for table, want := range map[string]int{"check_weeks": 1, "check_blocks": 1, "check_results": 30} {
			if n := count(t, db, `SELECT COUNT(*) FROM `+table+` WHERE check_id = ?`, a.ID); n != want {
				t.Fatalf("%d rows in %s, want %d", n, table, want)
			}
		}
		if err := db.DeleteCheck(context.Background(), admin, a.ID); err != nil {
			t.Fatal(err)
		}
		for _, table := range []string{"check_weeks", "check_blocks", "check_results"} {
			if n := count(t, db, `SELECT COUNT(*) FROM `+table+` WHERE check_id = ?`, a.ID); n != 0 {
				t.Fatalf("%d rows left in %s after the check was deleted", n, table)
			}
		}
	})
}

// Two instances compacting at once fold every result exactly once.
func TestCheckHistoryTwoInstances(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, database string) {
		one := openTest(t, database, true)
		two := openTest(t, database, false)
		web := newService(t, one, &tocsin.Service{Name: "Website"})
		var ids []int64
		for _, host := range []string{"a", "b", "c"} {
			c := newCheck(t, one, httpCheck(web.ID, "https://"+host+".example.org/"))
			ids = append(ids, c.ID)
			record(t, one, minuteResults(c.ID, day0, 6*60, 40, nil))
		}
		var wg sync.WaitGroup
		folded := make([]int, 2)
		errs := make([]error, 2)
		for i, db := range []*DB{one, two} {
			wg.Go(func() {
				folded[i], errs[i] = db.CompactCheckResults(context.Background(), day0.Add(6*time.Hour), 7*24*time.Hour)
			})
		}
		wg.Wait()
		if errs[0] != nil || errs[1] != nil {
			t.Fatalf("compactions: %v, %v", errs[0], errs[1])
		}
		if folded[0]+folded[1] != 3*6*60 {
			t.Fatalf("folded %d + %d results, want %d in all", folded[0], folded[1], 3*6*60)
		}
		for _, id := range ids {
			wantPoints(t, history(t, one, id, day0, day0.Add(24*time.Hour), 24*time.Hour), []pointSummary{{day0, 360, 0, 0}}, 40*time.Millisecond)
		}
	})
}

func TestCheckHistoryRefuses(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		for _, tc := range []struct {
			name     string
			from, to time.Time
			step     time.Duration
		}{
			{"by the minute", day0, day0.Add(time.Hour), time.Minute},
			{"end before start", day0, day0.Add(-time.Hour), time.Hour},
			{"too long", day0, day0.Add(500 * 24 * time.Hour), time.Hour},
		} {
			t.Run(tc.name, func(t *testing.T) {
				_, err := db.CheckHistory(ctx, 1, tc.from, tc.to, tc.step)
				wantCode(t, err, tocsin.EINVALID)
			})
		}
		_, err := db.CompactCheckResults(ctx, day0, 0)
		wantCode(t, err, tocsin.EINVALID)
	})
}
