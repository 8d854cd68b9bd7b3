package sqlstore

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Raw results are packed, once their hour is folded, per check and six
// hours into one block (check_blocks) and their rows deleted: a row costs
// about 65 bytes with its indexes in SQLite and 160 in PostgreSQL, so 7
// days of 1,000 checks at 60 s (10 million rows) would take 650 MB to
// 1.6 GB; six hours of a check every minute pack into about 700 bytes, a
// size both databases keep in their pages with little overhead. Texts that
// repeat (errors, locations, certificate and bucket observations) are
// stored once per block. CheckResults reads both forms.

// blockHours is the span of a block, from an hour of the day divisible by
// it. A late result (an agent that was cut off) re-encodes its block.
const blockHours = 6

// blockSpan is blockHours as a duration.
const blockSpan = blockHours * time.Hour

// blockStart is the hour (counted from the epoch) whose block holds hour h.
func blockStart(h int64) int64 {
	if h < 0 {
		return (h - blockHours + 1) / blockHours * blockHours
	}
	return h / blockHours * blockHours
}

const (
	blockVersion = 2
	// maxBlockResults bounds a block (a check every second from 40
	// locations for six hours is 864,000) and maxBlockBytes what a damaged
	// one may inflate to.
	maxBlockResults = 1 << 20
	maxBlockBytes   = 32 << 20
)

var errBlock = errors.New("a block of check results is damaged")

// hourNumber is t's hour counted from the epoch.
func hourNumber(t time.Time) int64 { return t.Unix() / 3600 }

// A block keeps what a result older than an hour is still read for, not
// the noise of its last digits: starts to the coarsest of 1 s, 100 ms,
// 10 ms and 1 ms that keeps a location's results apart (1 s for a check
// every minute, whose scheduler jitter of ±1 s is otherwise most of a
// block), and durations to two significant digits (120 ms, 45 ms, 7.8 ms;
// under 100 µs to the microsecond: within 5 %, as the roll-ups'
// quantiles). Together they take an hour of a check every minute from
// about 500 bytes to 120 (bench/README.md).

// blockUnits are the units a block's starts may be kept in, coarsest first.
var blockUnits = []time.Duration{time.Second, 100 * time.Millisecond, 10 * time.Millisecond, time.Millisecond}

// blockUnit is the coarsest unit that keeps apart the starts of rs (sorted
// by location, then start) that differ within a location.
func blockUnit(start time.Time, rs []*tocsin.CheckResult) int {
	for u, unit := range blockUnits[:len(blockUnits)-1] {
		apart := true
		for i := 1; i < len(rs) && apart; i++ {
			a, b := rs[i-1], rs[i]
			apart = a.Location != b.Location || a.StartedAt.Equal(b.StartedAt) ||
				a.StartedAt.Sub(start)/unit != b.StartedAt.Sub(start)/unit
		}
		if apart {
			return u
		}
	}
	return len(blockUnits) - 1
}

// durationCode is d in microseconds to two significant digits, as one
// number that grows with d: under 100 µs the microseconds themselves, then
// 90 codes for each power of ten.
func durationCode(d time.Duration) uint64 {
	us := uint64(max(d.Microseconds(), 0))
	if us < 100 {
		return us
	}
	e := uint64(0)
	for us >= 1000 { // keep one digit more to round on
		us /= 10
		e++
	}
	m := (us + 5) / 10 // 10…100
	if m == 100 {
		m, e = 10, e+1
	}
	return 100 + e*90 + m - 10
}

// codeDuration is durationCode's inverse, false for a code past limit.
func codeDuration(code uint64, limit time.Duration) (time.Duration, bool) {
	us := code
	if code >= 100 {
		e, m := (code-100)/90, (code-100)%90+10
		if e > 12 { // 99·10¹⁴ µs: past any limit, and still no overflow
			return 0, false
		}
		us = m * 10
		for range e {
			us *= 10
		}
	}
	d := time.Duration(us) * time.Microsecond
	return d, d <= limit
}

// maxBlockDuration is the longest duration a block accepts.
const maxBlockDuration = 1000 * tocsin.MaxCheckTimeout

// encodeBlock packs results of the block starting at start: a version byte,
// a coding byte, then (deflated when shorter) the texts' dictionary, the
// number of results, the unit of their starts and their median duration
// code, and, sorted by location then start, a column of their starts (each
// as the change of its gap from the previous one: near zero for a
// scheduled check), durations (from the median), flags, status codes,
// texts' indexes and keys.
func encodeBlock(start time.Time, rs []*tocsin.CheckResult) ([]byte, error) {
	rs = slices.Clone(rs)
	slices.SortStableFunc(rs, func(a, b *tocsin.CheckResult) int {
		return cmp.Or(cmp.Compare(a.Location, b.Location), a.StartedAt.Compare(b.StartedAt))
	})
	dict := []string{""}
	index := map[string]uint64{"": 0}
	text := func(s string) uint64 {
		i, ok := index[s]
		if !ok {
			i = uint64(len(dict))
			index[s] = i
			dict = append(dict, s)
		}
		return i
	}
	u := blockUnit(start, rs)
	codes := make([]uint64, len(rs))
	for i, r := range rs {
		codes[i] = durationCode(r.Duration)
	}
	median := uint64(0)
	if len(codes) > 0 {
		sorted := slices.Sorted(slices.Values(codes))
		median = sorted[len(sorted)/2]
	}
	// Column by column, so that deflate finds the runs of a field that
	// rarely changes (flags, status, texts): 14 % smaller than row by row.
	var times, durations, flags, statuses, keys []byte
	var texts [4][]byte
	var prev, gap int64
	for i, r := range rs {
		tlsJSON, bucketJSON, err := observationsJSON(r)
		if err != nil {
			return nil, err
		}
		at := int64(r.StartedAt.Sub(start) / blockUnits[u])
		times = binary.AppendVarint(times, (at-prev)-gap)
		gap, prev = at-prev, at
		durations = binary.AppendVarint(durations, int64(codes[i]-median))
		var f byte
		if r.OK {
			f |= 1
		}
		if r.Degraded {
			f |= 2
		}
		if r.Key != "" {
			f |= 4
			keys = binary.AppendUvarint(keys, uint64(len(r.Key)))
			keys = append(keys, r.Key...)
		}
		flags = append(flags, f)
		statuses = binary.AppendUvarint(statuses, uint64(max(r.StatusCode, 0)))
		for i, s := range []string{r.Location, cut(r.Error, 2000), tlsJSON, bucketJSON} {
			texts[i] = binary.AppendUvarint(texts[i], text(s))
		}
	}
	body := slices.Concat(times, durations, flags, statuses, texts[0], texts[1], texts[2], texts[3], keys)
	payload := binary.AppendUvarint(nil, uint64(len(dict)-1))
	for _, s := range dict[1:] {
		payload = binary.AppendUvarint(payload, uint64(len(s)))
		payload = append(payload, s...)
	}
	payload = binary.AppendUvarint(payload, uint64(len(rs)))
	payload = append(payload, byte(u))
	payload = binary.AppendUvarint(payload, median)
	payload = append(payload, body...)
	if z := deflate(payload); len(z) < len(payload) {
		return append([]byte{blockVersion, qDeflate}, z...), nil
	}
	return append([]byte{blockVersion, qPlain}, payload...), nil
}

// decodeBlock reads what encodeBlock wrote for checkID's block starting
// at start, and the blocks of version 1 (starts and durations to the
// microsecond, in time order, no unit nor median); it returns the results
// in time order.
func decodeBlock(checkID int64, start time.Time, b []byte) ([]*tocsin.CheckResult, error) {
	if len(b) < 2 || (b[0] != 1 && b[0] != blockVersion) {
		return nil, fmt.Errorf("%w: unknown version", errBlock)
	}
	version, payload := b[0], b[2:]
	switch b[1] {
	case qPlain:
	case qDeflate:
		var err error
		if payload, err = inflate(payload, maxBlockBytes); err != nil {
			return nil, fmt.Errorf("%w: %v", errBlock, err)
		}
	default:
		return nil, fmt.Errorf("%w: unknown coding", errBlock)
	}
	r := bytes.NewReader(payload)
	uv := func(limit uint64) (uint64, error) {
		v, err := binary.ReadUvarint(r)
		if err != nil || v > limit {
			return 0, fmt.Errorf("%w: bad number", errBlock)
		}
		return v, nil
	}
	str := func() (string, error) {
		n, err := uv(uint64(r.Len()))
		if err != nil {
			return "", err
		}
		s := make([]byte, n)
		r.Read(s) //nolint:errcheck // n ≤ what is left
		return string(s), nil
	}
	nd, err := uv(uint64(r.Len()))
	if err != nil {
		return nil, err
	}
	dict := make([]string, 1, nd+1)
	for range nd {
		s, err := str()
		if err != nil {
			return nil, err
		}
		dict = append(dict, s)
	}
	n, err := uv(min(maxBlockResults, uint64(r.Len())))
	if err != nil {
		return nil, err
	}
	unit, median := time.Microsecond, uint64(0)
	if version == blockVersion {
		u, err := r.ReadByte()
		if err != nil || int(u) >= len(blockUnits) {
			return nil, fmt.Errorf("%w: bad unit", errBlock)
		}
		unit = blockUnits[u]
		if median, err = uv(math.MaxUint32); err != nil {
			return nil, err
		}
	}
	out := make([]*tocsin.CheckResult, n)
	var prev, gap int64
	for i := range out {
		dd, err := binary.ReadVarint(r)
		if err != nil || dd < -int64(blockSpan) || dd > int64(blockSpan) {
			return nil, fmt.Errorf("%w: truncated", errBlock)
		}
		gap += dd
		prev += gap
		if prev < 0 || prev >= int64(blockSpan/unit) || gap < -int64(blockSpan) || gap > int64(blockSpan) {
			return nil, fmt.Errorf("%w: a result outside its block", errBlock)
		}
		out[i] = &tocsin.CheckResult{CheckID: checkID, StartedAt: start.Add(time.Duration(prev) * unit)}
	}
	for _, res := range out {
		ok := false
		if version == blockVersion {
			var d int64
			if d, err = binary.ReadVarint(r); err == nil && d >= -int64(median) && d < math.MaxUint32 {
				res.Duration, ok = codeDuration(median+uint64(d), maxBlockDuration)
			}
		} else {
			var us uint64
			if us, err = binary.ReadUvarint(r); err == nil && us <= uint64(maxBlockDuration/time.Microsecond) {
				res.Duration, ok = time.Duration(us)*time.Microsecond, true
			}
		}
		if !ok {
			return nil, fmt.Errorf("%w: bad duration", errBlock)
		}
	}
	keyed := make([]bool, n)
	for i, res := range out {
		f, err := r.ReadByte()
		if err != nil || f > 7 {
			return nil, fmt.Errorf("%w: bad flags", errBlock)
		}
		res.OK, res.Degraded, keyed[i] = f&1 != 0, f&2 != 0, f&4 != 0
	}
	for _, res := range out {
		code, err := uv(999)
		if err != nil {
			return nil, err
		}
		res.StatusCode = int(code)
	}
	obs := make([][2]string, n)
	for col := range 4 {
		for i, res := range out {
			k, err := uv(uint64(len(dict) - 1))
			if err != nil {
				return nil, err
			}
			switch col {
			case 0:
				res.Location = dict[k]
			case 1:
				res.Error = dict[k]
			default:
				obs[i][col-2] = dict[k]
			}
		}
	}
	for i, res := range out {
		if keyed[i] {
			if res.Key, err = str(); err != nil {
				return nil, err
			}
		}
		if err := parseObservations(res, obs[i][0], obs[i][1]); err != nil {
			return nil, fmt.Errorf("%w: %v", errBlock, err)
		}
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%w: trailing bytes", errBlock)
	}
	slices.SortStableFunc(out, func(a, b *tocsin.CheckResult) int { return a.StartedAt.Compare(b.StartedAt) })
	return out, nil
}

// packHours packs the folded results of each hour before before into
// their blocks and deletes their rows, one transaction per hour; the
// DELETE … RETURNING both reads and removes them, so two instances never
// pack a result twice.
func (db *DB) packHours(ctx context.Context, before time.Time) error {
	for range maxFoldHours {
		more := false
		err := db.update(ctx, func(tx conn) error {
			if err := tx.lockCompaction(ctx); err != nil {
				return err
			}
			var first *time.Time
			if err := tx.queryRow(ctx, `SELECT MIN(started_at) FROM check_results WHERE folded = ? AND started_at < ?`, true, before).
				Scan(nullTimeScan{&first}); err != nil {
				return err
			}
			if first == nil {
				return nil
			}
			more = true
			hour := first.Truncate(time.Hour)
			rs, err := list(ctx, tx, scanCheckResult, `DELETE FROM check_results WHERE folded = ? AND started_at >= ? AND started_at < ?
				RETURNING check_id, location, result_key, started_at, duration_us, ok, degraded, status_code, error, tls, bucket`,
				true, hour, hour.Add(time.Hour))
			if err != nil {
				return err
			}
			return tx.addToBlocks(ctx, blockStart(hourNumber(hour)), rs)
		})
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// addToBlocks adds results to their checks' blocks starting at hour h
// (hours since the epoch), merging them with what the blocks hold.
func (c conn) addToBlocks(ctx context.Context, h int64, rs []*tocsin.CheckResult) error {
	byCheck := map[int64][]*tocsin.CheckResult{}
	for _, r := range rs {
		byCheck[r.CheckID] = append(byCheck[r.CheckID], r)
	}
	ids := make([]int64, 0, len(byCheck))
	for id := range byCheck {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	start := time.Unix(h*3600, 0).UTC()
	for len(ids) > 0 {
		n := min(len(ids), 400)
		part := ids[:n]
		ids = ids[n:]
		args := []any{h}
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := c.query(ctx, `SELECT check_id, results FROM check_blocks WHERE hour = ? AND check_id IN (?`+strings.Repeat(", ?", n-1)+`)`, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var blob []byte
			if err := rows.Scan(&id, &blob); err != nil {
				rows.Close()
				return err
			}
			old, err := decodeBlock(id, start, blob)
			if err != nil {
				rows.Close()
				return fmt.Errorf("check %d, block of %s: %w", id, start.Format(time.RFC3339), err)
			}
			byCheck[id] = append(old, byCheck[id]...)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var q strings.Builder
		q.WriteString(`INSERT INTO check_blocks (check_id, hour, results) VALUES `)
		args = args[:0]
		for i, id := range part {
			blob, err := encodeBlock(start, byCheck[id])
			if err != nil {
				return err
			}
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?)")
			args = append(args, id, h, blob)
		}
		q.WriteString(` ON CONFLICT (check_id, hour) DO UPDATE SET results = excluded.results`)
		if _, err := c.exec(ctx, q.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// withPackedResults merges into rows (a check's raw rows since since,
// newest first, at most limit) its packed results since since, and keeps
// the newest limit.
func (db *DB) withPackedResults(ctx context.Context, checkID int64, since time.Time, limit int, rows []*tocsin.CheckResult) ([]*tocsin.CheckResult, error) {
	blocks, err := db.read().query(ctx, `SELECT hour, results FROM check_blocks WHERE check_id = ? AND hour >= ? ORDER BY hour DESC`,
		checkID, blockStart(hourNumber(since)))
	if err != nil {
		return nil, err
	}
	defer blocks.Close()
	packed := 0
	out := rows
	// Blocks come newest first: once limit packed results are read, older
	// blocks cannot be among the newest limit.
	for packed < limit && blocks.Next() {
		var h int64
		var blob []byte
		if err := blocks.Scan(&h, &blob); err != nil {
			return nil, err
		}
		hour := time.Unix(h*3600, 0).UTC()
		rs, err := decodeBlock(checkID, hour, blob)
		if err != nil {
			return nil, fmt.Errorf("check %d, block of %s: %w", checkID, hour.Format(time.RFC3339), err)
		}
		for _, r := range rs {
			if !r.StartedAt.Before(since) {
				out = append(out, r)
				packed++
			}
		}
	}
	if err := blocks.Err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b *tocsin.CheckResult) int {
		return cmp.Compare(b.StartedAt.UnixMicro(), a.StartedAt.UnixMicro())
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// observationsJSON is a result's TLS and bucket observations as rows
// store them ("" for none).
func observationsJSON(r *tocsin.CheckResult) (tlsJSON, bucketJSON string, err error) {
	if r.TLS != nil {
		j, err := json.Marshal(r.TLS)
		if err != nil {
			return "", "", err
		}
		tlsJSON = string(j)
	}
	if r.Bucket != nil {
		j, err := json.Marshal(r.Bucket)
		if err != nil {
			return "", "", err
		}
		bucketJSON = string(j)
	}
	return tlsJSON, bucketJSON, nil
}

func parseObservations(r *tocsin.CheckResult, tlsJSON, bucketJSON string) error {
	if tlsJSON != "" {
		r.TLS = &tocsin.TLSObservation{}
		if err := json.Unmarshal([]byte(tlsJSON), r.TLS); err != nil {
			return fmt.Errorf("result tls: %w", err)
		}
	}
	if bucketJSON != "" {
		r.Bucket = &tocsin.BucketObservation{}
		if err := json.Unmarshal([]byte(bucketJSON), r.Bucket); err != nil {
			return fmt.Errorf("result bucket: %w", err)
		}
	}
	return nil
}

// blocksBySixHours is migration 0019's second half: it merges the hourly
// blocks of check_blocks_hourly (before 2026-11) into blocks of six hours,
// a check at a time, then drops check_blocks_hourly.
func blocksBySixHours(ctx context.Context, tx conn) error {
	ids, err := list(ctx, tx, func(sc rowScanner) (int64, error) {
		var id int64
		return id, sc.Scan(&id)
	}, `SELECT DISTINCT check_id FROM check_blocks_hourly ORDER BY check_id`)
	if err != nil {
		return err
	}
	type hourBlock struct {
		hour int64
		blob []byte
	}
	for _, id := range ids {
		blocks, err := list(ctx, tx, func(sc rowScanner) (hourBlock, error) {
			var b hourBlock
			return b, sc.Scan(&b.hour, &b.blob)
		}, `SELECT hour, results FROM check_blocks_hourly WHERE check_id = ? ORDER BY hour`, id)
		if err != nil {
			return err
		}
		merged := map[int64][]*tocsin.CheckResult{}
		for _, b := range blocks {
			rs, err := decodeBlock(id, time.Unix(b.hour*3600, 0).UTC(), b.blob)
			if err != nil {
				return fmt.Errorf("check %d, hour %d: %w", id, b.hour, err)
			}
			start := blockStart(b.hour)
			merged[start] = append(merged[start], rs...)
		}
		for start, rs := range merged {
			if err := tx.addToBlocks(ctx, start, rs); err != nil {
				return err
			}
		}
	}
	_, err = tx.exec(ctx, `DROP TABLE check_blocks_hourly`)
	return err
}
