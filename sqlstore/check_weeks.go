package sqlstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The roll-ups are stored one row per check and week (check_weeks), each
// holding the week's days. One row per check and day cost PostgreSQL
// about 150 bytes of tuple header, key columns and index entry around 83
// bytes of data: 86 MB a year for 1,000 checks. A week's row carries seven
// days for the overhead of one (bench/README.md).

// weekOf is the week a day (counted from 1970-01-01) is in: days 0–6 are
// week 0.
func weekOf(day int64) int64 {
	if day < 0 {
		return (day - 6) / 7
	}
	return day / 7
}

// dayRollup is one day of a check as stored: its counts, and its
// histogram and hours as encodeHist and encodeHours wrote them (decoded
// only by the readers that need them).
type dayRollup struct {
	runs, failures, degraded uint64
	hist, hours              []byte
}

// weekRollup is a week's days, nil where a day has no runs.
type weekRollup [7]*dayRollup

const weekVersion = 1

var errWeek = errors.New("a check's week of history is damaged")

// encodeWeek writes a version byte, a byte whose bit i says day i is
// there, then for each day there its runs, failures and degraded runs,
// and its histogram's and hours' lengths and bytes, as varints.
func encodeWeek(w *weekRollup) []byte {
	var mask byte
	for i, d := range w {
		if d != nil {
			mask |= 1 << i
		}
	}
	out := []byte{weekVersion, mask}
	for _, d := range w {
		if d == nil {
			continue
		}
		for _, v := range []uint64{d.runs, d.failures, d.degraded, uint64(len(d.hist))} {
			out = binary.AppendUvarint(out, v)
		}
		out = append(out, d.hist...)
		out = binary.AppendUvarint(out, uint64(len(d.hours)))
		out = append(out, d.hours...)
	}
	return out
}

// decodeWeek reads what encodeWeek wrote; anything else is an error.
func decodeWeek(b []byte) (weekRollup, error) {
	var w weekRollup
	if len(b) < 2 || b[0] != weekVersion {
		return w, fmt.Errorf("%w: unknown version", errWeek)
	}
	if b[1]&0x80 != 0 {
		return w, fmt.Errorf("%w: an eighth day", errWeek)
	}
	r := bytes.NewReader(b[2:])
	// The days' blobs are slices of b, not copies.
	blob := func() ([]byte, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil || n > uint64(r.Len()) {
			return nil, fmt.Errorf("%w: truncated", errWeek)
		}
		at := len(b) - r.Len()
		r.Seek(int64(n), io.SeekCurrent) //nolint:errcheck // n ≤ what is left
		return b[at : at+int(n) : at+int(n)], nil
	}
	for i := range w {
		if b[1]&(1<<i) == 0 {
			continue
		}
		d := &dayRollup{}
		for _, v := range []*uint64{&d.runs, &d.failures, &d.degraded} {
			n, err := binary.ReadUvarint(r)
			if err != nil {
				return w, fmt.Errorf("%w: truncated", errWeek)
			}
			*v = n
		}
		if d.failures > d.runs || d.degraded > d.runs {
			return w, fmt.Errorf("%w: more failures than runs", errWeek)
		}
		var err error
		if d.hist, err = blob(); err != nil {
			return w, err
		}
		if d.hours, err = blob(); err != nil {
			return w, err
		}
		w[i] = d
	}
	if r.Len() != 0 {
		return w, fmt.Errorf("%w: trailing bytes", errWeek)
	}
	return w, nil
}

// forDays calls fn with each day of a row of check_weeks from day first
// to day last, in order.
func (row weekRow) forDays(first, last int64, fn func(day int64, d *dayRollup) error) error {
	w, err := decodeWeek(row.days)
	if err != nil {
		return fmt.Errorf("week of %s: %w", dayStart(row.week*7).Format(time.DateOnly), err)
	}
	for i, d := range w {
		day := row.week*7 + int64(i)
		if d == nil || day < first || day > last {
			continue
		}
		if err := fn(day, d); err != nil {
			return err
		}
	}
	return nil
}

// weekRow is a row of check_weeks (or, read by ServiceCheckDays, its
// check's service in place of the check).
type weekRow struct {
	checkID, week int64
	days          []byte
}

func scanWeekRow(sc rowScanner) (weekRow, error) {
	var w weekRow
	return w, sc.Scan(&w.checkID, &w.week, &w.days)
}

// loadWeeks reads the stored weeks of week of the checks ids.
func (c conn) loadWeeks(ctx context.Context, week int64, ids []int64) (map[int64]*weekRollup, error) {
	out := map[int64]*weekRollup{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := []any{week}
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		ids = ids[n:]
		rows, err := list(ctx, c, scanWeekRow, `SELECT check_id, week, days FROM check_weeks
			WHERE week = ? AND check_id IN (?`+strings.Repeat(", ?", n-1)+`)`, args...)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			w, err := decodeWeek(row.days)
			if err != nil {
				return nil, fmt.Errorf("check %d, week of %s: %w", row.checkID, dayStart(week*7).Format(time.DateOnly), err)
			}
			out[row.checkID] = &w
		}
	}
	return out, nil
}

// saveWeeks writes weeks of week, replacing the stored ones.
func (c conn) saveWeeks(ctx context.Context, week int64, weeks map[int64]*weekRollup, ids []int64) error {
	for len(ids) > 0 {
		n := min(len(ids), 400)
		var b strings.Builder
		b.WriteString(`INSERT INTO check_weeks (check_id, week, days) VALUES `)
		args := make([]any, 0, n*3)
		for i, id := range ids[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?)")
			args = append(args, id, week, encodeWeek(weeks[id]))
		}
		b.WriteString(` ON CONFLICT (check_id, week) DO UPDATE SET days = excluded.days`)
		if _, err := c.exec(ctx, b.String(), args...); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// weeksFromDays is migration 0018's second half: it moves the day rows of
// check_days (one row per check and day, before 2026-11) into weeks, then
// drops check_days.
func weeksFromDays(ctx context.Context, tx conn) error {
	type dayRow struct {
		checkID, day int64
		d            dayRollup
	}
	rows, err := list(ctx, tx, func(sc rowScanner) (dayRow, error) {
		var (
			r                  dayRow
			runs, fails, degrs int64
		)
		err := sc.Scan(&r.checkID, &r.day, &runs, &fails, &degrs, &r.d.hist, &r.d.hours)
		r.d.runs, r.d.failures, r.d.degraded = uint64(max(runs, 0)), uint64(max(fails, 0)), uint64(max(degrs, 0))
		return r, err
	}, `SELECT check_id, day, runs, failures, degraded, hist, hours FROM check_days ORDER BY day, check_id`)
	if err != nil {
		return err
	}
	byWeek := map[int64]map[int64]*weekRollup{}
	for i := range rows {
		r := &rows[i]
		week := weekOf(r.day)
		if byWeek[week] == nil {
			byWeek[week] = map[int64]*weekRollup{}
		}
		w := byWeek[week][r.checkID]
		if w == nil {
			w = &weekRollup{}
			byWeek[week][r.checkID] = w
		}
		w[r.day-week*7] = &r.d
	}
	for week, weeks := range byWeek {
		ids := make([]int64, 0, len(weeks))
		for id := range weeks {
			ids = append(ids, id)
		}
		if err := tx.saveWeeks(ctx, week, weeks, ids); err != nil {
			return err
		}
	}
	_, err = tx.exec(ctx, `DROP TABLE check_days`)
	return err
}
