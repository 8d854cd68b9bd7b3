package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Compaction folds each complete hour of raw results into the checks' day
// weeks (check_weeks) and marks them folded, in one transaction per hour:
// the UPDATE … RETURNING that marks them is also what reads them, so a
// second instance compacting at the same time finds them marked and folds
// nothing twice. Results arriving late (an agent that was cut off) are
// unmarked rows of an older hour, and are folded by the next run.

// dayNumber is t's UTC day, counted from 1970-01-01.
func dayNumber(t time.Time) int64 {
	s := t.Unix()
	if s < 0 {
		return (s - 86399) / 86400
	}
	return s / 86400
}

func dayStart(n int64) time.Time { return time.Unix(n*86400, 0).UTC() }

// unfolded is the condition (on the table alias, "r." or "") the partial index check_results_unfolded
// answers, written as each dialect's index is.
func (c conn) unfolded(alias string) string {
	if c.dialect == DialectPostgres {
		return "NOT " + alias + "folded"
	}
	return alias + "folded = 0"
}

// compactLock is the PostgreSQL advisory lock key that serializes the
// compaction's transactions between instances: two folding hours of the
// same week at once would each rewrite the week's row from what it read.
// (SQLite's single writer serializes them already.)
const compactLock int64 = 0x746f6373696e_03 // "tocsin" 03

// lockCompaction takes compactLock until the transaction ends.
func (c conn) lockCompaction(ctx context.Context) error {
	if c.dialect != DialectPostgres {
		return nil
	}
	_, err := c.exec(ctx, `SELECT pg_advisory_xact_lock(?)`, compactLock)
	return err
}

// maxFoldHours bounds one run: after a long stop, the rest waits for the
// next hour's run rather than holding the database for long.
const maxFoldHours = 24 * 31

// CompactCheckResults folds every complete hour (before now's hour) of
// results not yet folded, packs the folded ones into blocks
// (check_blocks.go), then deletes folded raw results older than
// now − retention and weeks older than tocsin.HistoryKeep. It returns
// how many results it folded.
func (db *DB) CompactCheckResults(ctx context.Context, now time.Time, retention time.Duration) (int, error) {
	if retention <= 0 {
		return 0, tocsin.Errorf(tocsin.EINVALID, "the retention of raw results must be positive, not %s", retention)
	}
	cutoff := now.UTC().Truncate(time.Hour)
	folded := 0
	for range maxFoldHours {
		n, more, err := db.foldHour(ctx, cutoff)
		folded += n
		if err != nil {
			return folded, fmt.Errorf("sqlstore: compact check results: %w", err)
		}
		if !more {
			break
		}
	}
	if err := db.packHours(ctx, cutoff); err != nil {
		return folded, fmt.Errorf("sqlstore: pack check results: %w", err)
	}
	if err := db.pruneCheckHistory(ctx, now.Add(-retention), now.Add(-tocsin.HistoryKeep)); err != nil {
		return folded, fmt.Errorf("sqlstore: prune check results: %w", err)
	}
	return folded, nil
}

// rawResult is what compaction and history read of a raw result.
type rawResult struct {
	checkID  int64
	at       time.Time
	duration time.Duration
	ok, deg  bool
}

func scanRawResult(sc rowScanner) (rawResult, error) {
	var (
		r  rawResult
		us int64
	)
	err := sc.Scan(&r.checkID, timeScan{&r.at}, &us, &r.ok, &r.deg)
	r.duration = time.Duration(us) * time.Microsecond
	return r, err
}

// foldHour folds the oldest hour before cutoff that has unfolded results,
// and reports whether there may be more.
func (db *DB) foldHour(ctx context.Context, cutoff time.Time) (int, bool, error) {
	folded, more := 0, false
	err := db.update(ctx, func(tx conn) error {
		if err := tx.lockCompaction(ctx); err != nil {
			return err
		}
		var first *time.Time
		if err := tx.queryRow(ctx, `SELECT MIN(started_at) FROM check_results WHERE `+tx.unfolded("")+` AND started_at < ?`, cutoff).
			Scan(nullTimeScan{&first}); err != nil {
			return err
		}
		if first == nil {
			return nil
		}
		more = true
		hour := first.Truncate(time.Hour)
		end := hour.Add(time.Hour)
		if end.After(cutoff) {
			end = cutoff
		}
		results, err := list(ctx, tx, scanRawResult, `UPDATE check_results SET folded = ? WHERE `+tx.unfolded("")+`
			AND started_at >= ? AND started_at < ? RETURNING check_id, started_at, duration_us, ok, degraded`, true, hour, end)
		if err != nil {
			return err
		}
		folded = len(results)
		return tx.foldResults(ctx, dayNumber(hour), results)
	})
	return folded, more, err
}

// dayFold is a check's day being folded: what was stored, with the new
// results' counts and histograms per hour.
type dayFold struct {
	runs, failures, degraded uint64
	hist                     latencyHist
	hours                    dayHours
	newHours                 map[int]*hourFold
}

type hourFold struct {
	runs, failures, degraded uint32
	hist                     latencyHist
}

func (h *hourFold) add(r rawResult) {
	h.runs++
	switch {
	case !r.ok:
		h.failures++
	default:
		if r.deg {
			h.degraded++
		}
		h.hist.add(r.duration)
	}
}

// foldResults adds results, all of UTC day day, to their checks' weeks.
func (c conn) foldResults(ctx context.Context, day int64, results []rawResult) error {
	if len(results) == 0 {
		return nil
	}
	folds := map[int64]*dayFold{}
	for _, r := range results {
		f := folds[r.checkID]
		if f == nil {
			f = &dayFold{newHours: map[int]*hourFold{}}
			folds[r.checkID] = f
		}
		h := r.at.UTC().Hour()
		hf := f.newHours[h]
		if hf == nil {
			hf = &hourFold{}
			f.newHours[h] = hf
		}
		hf.add(r)
	}
	ids := make([]int64, 0, len(folds))
	for id := range folds {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	week := weekOf(day)
	weeks, err := c.loadWeeks(ctx, week, ids)
	if err != nil {
		return err
	}
	for _, id := range ids {
		w := weeks[id]
		if w == nil {
			w = &weekRollup{}
			weeks[id] = w
		}
		f := folds[id]
		if stored := w[day-week*7]; stored != nil {
			if err := f.load(stored); err != nil {
				return fmt.Errorf("check %d, day %s: %w", id, dayStart(day).Format(time.DateOnly), err)
			}
		}
		f.apply()
		w[day-week*7] = &dayRollup{runs: f.runs, failures: f.failures, degraded: f.degraded,
			hist: encodeHist(&f.hist), hours: encodeHours(&f.hours)}
	}
	return c.saveWeeks(ctx, week, weeks, ids)
}

// load starts the fold from the day as stored.
func (f *dayFold) load(d *dayRollup) error {
	hist, err := decodeHist(d.hist)
	if err != nil {
		return err
	}
	if f.hours, err = decodeHours(d.hours); err != nil {
		return err
	}
	f.runs, f.failures, f.degraded, f.hist = d.runs, d.failures, d.degraded, hist
	return nil
}

// apply adds the new results to the day: exactly to its counts and
// histogram; to an hour that had runs already, through the approximate
// histogram of its quantiles.
func (f *dayFold) apply() {
	for h, hf := range f.newHours {
		f.runs += uint64(hf.runs)
		f.failures += uint64(hf.failures)
		f.degraded += uint64(hf.degraded)
		f.hist.merge(&hf.hist)
		old := f.hours[h]
		hist := old.approxHist()
		hist.merge(&hf.hist)
		f.hours[h] = hourFrom(old.Runs+hf.runs, old.Failures+hf.failures, old.Degraded+hf.degraded, &hist)
	}
}

// pruneCheckHistory deletes folded raw results started before rawBefore
// (rows left from before packing, or of hours not yet packed), check by
// check so that each delete walks the (check_id, started_at) index, blocks
// of hours before rawBefore, and the weeks that begin before daysBefore's
// week (a day is kept up to a week past its keep).
func (db *DB) pruneCheckHistory(ctx context.Context, rawBefore, daysBefore time.Time) error {
	ids, err := list(ctx, db.read(), func(sc rowScanner) (int64, error) {
		var id int64
		return id, sc.Scan(&id)
	}, `SELECT id FROM checks ORDER BY id`)
	if err != nil {
		return err
	}
	for len(ids) > 0 {
		n := min(len(ids), 100)
		part := ids[:n]
		ids = ids[n:]
		err := db.update(ctx, func(tx conn) error {
			for _, id := range part {
				if _, err := tx.exec(ctx, `DELETE FROM check_results WHERE check_id = ? AND started_at < ? AND folded = ?`, id, rawBefore, true); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return db.update(ctx, func(tx conn) error {
		// A block goes when all its hours are past.
		if _, err := tx.exec(ctx, `DELETE FROM check_blocks WHERE hour <= ?`, hourNumber(rawBefore)-blockHours); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `DELETE FROM check_weeks WHERE week < ?`, weekOf(dayNumber(daysBefore)))
		return err
	})
}
