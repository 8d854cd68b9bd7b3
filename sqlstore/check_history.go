package sqlstore

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tocsin-org/tocsin"
)

// History reads the weeks of check_weeks and adds the raw results not
// yet folded into them, so that the last hour shows before its compaction.

// maxHistorySteps bounds one answer: 400 days of hours.
const maxHistorySteps = 400 * 24

// CheckHistory returns check checkID's points over the steps (UTC hours
// or days) that overlap [from, to), oldest first, leaving out steps
// without runs. A day's quantiles come from its histogram; an hour's from
// its stored quantiles (merged with its unfolded results, if any,
// through their approximate histogram).
func (db *DB) CheckHistory(ctx context.Context, checkID int64, from, to time.Time, step time.Duration) ([]tocsin.CheckPoint, error) {
	if step != time.Hour && step != 24*time.Hour {
		return nil, tocsin.Errorf(tocsin.EINVALID, "a check's history is read by the hour or by the day, not by %s", step)
	}
	from, to = from.UTC().Truncate(step), to.UTC()
	if !to.After(from) {
		return nil, tocsin.Errorf(tocsin.EINVALID, "the history's end %s is not after its start %s", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if to.Sub(from)/step > maxHistorySteps {
		return nil, tocsin.Errorf(tocsin.EINVALID, "at most %d steps of history at once: ask for a shorter time or by the day", maxHistorySteps)
	}
	r := db.read()
	first, last := dayNumber(from), dayNumber(to.Add(-time.Nanosecond))
	weeks, err := list(ctx, r, scanWeekRow, `SELECT check_id, week, days FROM check_weeks WHERE check_id = ? AND week >= ? AND week <= ? ORDER BY week`,
		checkID, weekOf(first), weekOf(last))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: check history: %w", err)
	}
	raw, err := list(ctx, r, scanRawResult, `SELECT check_id, started_at, duration_us, ok, degraded FROM check_results
		WHERE check_id = ? AND started_at >= ? AND started_at < ? AND folded = ?`, checkID, from, to, false)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: check history: %w", err)
	}
	// Each step's stored aggregate and its unfolded results.
	type stepAgg struct {
		runs, failures, degraded uint64
		hist                     latencyHist
		hour                     *hourAgg // stored hour (hour steps)
		fresh                    hourFold // unfolded results
	}
	steps := map[time.Time]*stepAgg{}
	get := func(at time.Time) *stepAgg {
		s := steps[at]
		if s == nil {
			s = &stepAgg{}
			steps[at] = s
		}
		return s
	}
	for _, w := range weeks {
		err := w.forDays(first, last, func(day int64, d *dayRollup) error {
			start := dayStart(day)
			if step == 24*time.Hour {
				h, err := decodeHist(d.hist)
				if err != nil {
					return fmt.Errorf("day %s: %w", start.Format(time.DateOnly), err)
				}
				s := get(start)
				s.runs, s.failures, s.degraded, s.hist = d.runs, d.failures, d.degraded, h
				return nil
			}
			hours, err := decodeHours(d.hours)
			if err != nil {
				return fmt.Errorf("day %s: %w", start.Format(time.DateOnly), err)
			}
			for h := range hours {
				at := start.Add(time.Duration(h) * time.Hour)
				if hours[h].Runs == 0 || at.Before(from) || !at.Before(to) {
					continue
				}
				a := hours[h]
				get(at).hour = &a
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("sqlstore: check %d: %w", checkID, err)
		}
	}
	for _, res := range raw {
		get(res.at.Truncate(step)).fresh.add(res)
	}
	out := make([]tocsin.CheckPoint, 0, len(steps))
	for at, s := range steps {
		p := tocsin.CheckPoint{At: at}
		if s.hour != nil {
			// An hour: its stored quantiles, merged with fresh results.
			s.runs, s.failures, s.degraded = uint64(s.hour.Runs), uint64(s.hour.Failures), uint64(s.hour.Degraded)
			if s.fresh.runs == 0 {
				p.P50, p.P95, p.P99 = histValueIf(s.hour, 0), histValueIf(s.hour, 1), histValueIf(s.hour, 2)
			} else {
				s.hist = s.hour.approxHist()
			}
		}
		s.runs += uint64(s.fresh.runs)
		s.failures += uint64(s.fresh.failures)
		s.degraded += uint64(s.fresh.degraded)
		if s.hour == nil || s.fresh.runs > 0 {
			s.hist.merge(&s.fresh.hist)
			p.P50, p.P95, p.P99 = s.hist.quantile(0.50), s.hist.quantile(0.95), s.hist.quantile(0.99)
		}
		p.Runs, p.Failures, p.Degraded = int(s.runs), int(s.failures), int(s.degraded)
		if p.Runs > 0 {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b tocsin.CheckPoint) int { return a.At.Compare(b.At) })
	return out, nil
}

// histValueIf is an hour's i-th quantile, 0 when none of its runs
// succeeded.
func histValueIf(a *hourAgg, i int) time.Duration {
	if a.Runs == a.Failures {
		return 0
	}
	return histValue(a.Q[i])
}

// ServiceCheckDays sums, per service and day of loc from since's day on,
// the runs and failures of its checks: from the day rows' hours (a day of
// loc spans two UTC days unless loc is UTC), and from the results not yet
// folded.
func (db *DB) ServiceCheckDays(ctx context.Context, since time.Time, loc *time.Location) ([]tocsin.CheckDay, error) {
	if loc == nil {
		loc = time.UTC
	}
	t := since.In(loc)
	start := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	r := db.read()
	type key struct {
		service int64
		day     int64 // the local day's start, in Unix seconds
	}
	sums := map[key]*tocsin.CheckDay{}
	localDay := func(at time.Time) time.Time {
		lt := at.In(loc)
		return time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	}
	// add counts runs in a local day.
	add := func(service int64, day time.Time, runs, failures uint64) {
		if day.Before(start) {
			return
		}
		k := key{service, day.Unix()}
		d := sums[k]
		if d == nil {
			d = &tocsin.CheckDay{ServiceID: service, Day: day}
			sums[k] = d
		}
		d.Runs += int(runs)
		d.Failures += int(failures)
	}
	// The local day of each hour of a UTC day, worked out once per day:
	// the weeks of a thousand checks share the same few hundred days.
	hourDays := map[int64]*[24]time.Time{}
	localHours := func(day int64) *[24]time.Time {
		if hd := hourDays[day]; hd != nil {
			return hd
		}
		hd := new([24]time.Time)
		for h := range hd {
			hd[h] = localDay(dayStart(day).Add(time.Duration(h) * time.Hour))
		}
		hourDays[day] = hd
		return hd
	}
	// Rows of weeks, with their check's service in place of the check.
	weeks, err := list(ctx, r, scanWeekRow, `SELECT c.service_id, w.week, w.days FROM check_weeks w
		JOIN checks c ON c.id = w.check_id WHERE w.week >= ?`, weekOf(dayNumber(start)))
	if err != nil {
		return nil, fmt.Errorf("sqlstore: service check days: %w", err)
	}
	for _, w := range weeks {
		service := w.checkID
		err := w.forDays(dayNumber(start), math.MaxInt64, func(day int64, d *dayRollup) error {
			local := localHours(day)
			if local[0].Equal(local[23]) && local[0].Equal(dayStart(day)) {
				// loc's day is this UTC day: its totals do.
				add(service, local[0], d.runs, d.failures)
				return nil
			}
			hours, _, err := decodeHourCounts(d.hours)
			if err != nil {
				return fmt.Errorf("day %s: %w", dayStart(day).Format(time.DateOnly), err)
			}
			// The hours of each local day the UTC day spans, summed.
			var runs, failures uint64
			for h, a := range hours {
				runs, failures = runs+uint64(a.Runs), failures+uint64(a.Failures)
				if h == 23 || !local[h+1].Equal(local[h]) {
					if runs > 0 {
						add(service, local[h], runs, failures)
					}
					runs, failures = 0, 0
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("sqlstore: service check days: %w", err)
		}
	}
	// Unfolded results, by the hour: the last hour's, and late ones.
	type hourRow struct {
		service        int64
		at             time.Time
		runs, failures int64
	}
	fresh, err := list(ctx, r, func(sc rowScanner) (hourRow, error) {
		var h hourRow
		err := sc.Scan(&h.service, timeScan{&h.at}, &h.runs, &h.failures)
		return h, err
	}, `SELECT c.service_id, r.started_at, 1, CASE WHEN r.ok THEN 0 ELSE 1 END FROM check_results r
		JOIN checks c ON c.id = r.check_id WHERE `+r.unfolded("r.")+` AND r.started_at >= ?`, start)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: service check days: %w", err)
	}
	for _, h := range fresh {
		add(h.service, localDay(h.at), uint64(h.runs), uint64(h.failures))
	}
	out := make([]tocsin.CheckDay, 0, len(sums))
	for _, d := range sums {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b tocsin.CheckDay) int {
		if a.ServiceID != b.ServiceID {
			return int(a.ServiceID - b.ServiceID)
		}
		return a.Day.Compare(b.Day)
	})
	return out, nil
}
