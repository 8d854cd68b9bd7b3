package sqlstore

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"sync"
	"time"
)

// A check's roll-up is, per day, its runs, failures and degraded runs, a
// latency histogram of its successful runs, and its 24 hours packed in one
// small blob, kept a week to a row (check_weeks.go). Latencies fall in
// log-scale buckets 10 % wide, so a quantile read from a histogram is the
// bucket's geometric middle: within √1.1 − 1 < 4.9 % of the true value.
// A year of 1,000 checks is 365,000 days of about 90 bytes.

const (
	histBuckets = 256
	// histGrowth is each bucket's width: bucket i ≥ 1 holds the durations
	// of [histGrowth^(i-1), histGrowth^i) µs; bucket 0 those under 1 µs.
	// Bucket 255 starts past 9 hours, far beyond the longest timeout.
	histGrowth = 1.1
)

var lnGrowth = math.Log(histGrowth)

// latencyHist counts durations per bucket.
type latencyHist [histBuckets]uint32

// histBucket is the bucket of a duration.
func histBucket(d time.Duration) uint8 {
	us := d.Microseconds()
	if us < 1 {
		return 0
	}
	i := 1 + math.Floor(math.Log(float64(us))/lnGrowth)
	if i >= histBuckets-1 {
		return histBuckets - 1
	}
	return uint8(i)
}

// histValue is the duration a bucket stands for: its geometric middle.
func histValue(i uint8) time.Duration {
	if i == 0 {
		return 0
	}
	return time.Duration(math.Round(1000 * math.Pow(histGrowth, float64(i)-0.5)))
}

func (h *latencyHist) add(d time.Duration) {
	b := histBucket(d)
	if h[b] < math.MaxUint32 {
		h[b]++
	}
}

func (h *latencyHist) merge(o *latencyHist) {
	for i, n := range o {
		h[i] = uint32(min(uint64(h[i])+uint64(n), math.MaxUint32))
	}
}

func (h *latencyHist) total() uint64 {
	var n uint64
	for _, c := range h {
		n += uint64(c)
	}
	return n
}

// quantileBucket is the bucket holding the q-quantile (nearest rank: the
// smallest bucket whose cumulative count reaches ⌈q·n⌉), and false for an
// empty histogram.
func (h *latencyHist) quantileBucket(q float64) (uint8, bool) {
	n := h.total()
	if n == 0 {
		return 0, false
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var cum uint64
	for i, c := range h {
		cum += uint64(c)
		if cum >= rank {
			return uint8(i), true
		}
	}
	return histBuckets - 1, true
}

// quantile is the q-quantile's duration, 0 for an empty histogram.
func (h *latencyHist) quantile(q float64) time.Duration {
	b, ok := h.quantileBucket(q)
	if !ok {
		return 0
	}
	return histValue(b)
}

// quantiles are the buckets of p50, p95 and p99, as an hour keeps them.
var quantiles = [3]float64{0.50, 0.95, 0.99}

const histVersion = 1

// encodeHist writes the non-empty buckets: a version byte, their number,
// then each bucket's gap from the previous one and its count, as varints.
func encodeHist(h *latencyHist) []byte {
	out := []byte{histVersion}
	var k uint64
	for _, c := range h {
		if c > 0 {
			k++
		}
	}
	out = binary.AppendUvarint(out, k)
	prev := -1
	for i, c := range h {
		if c == 0 {
			continue
		}
		out = binary.AppendUvarint(out, uint64(i-prev-1))
		out = binary.AppendUvarint(out, uint64(c))
		prev = i
	}
	return out
}

var errHist = errors.New("a check's latency histogram is damaged")

// decodeHist reads what encodeHist wrote; anything else is an error.
func decodeHist(b []byte) (latencyHist, error) {
	var h latencyHist
	if len(b) == 0 || b[0] != histVersion {
		return h, fmt.Errorf("%w: unknown version", errHist)
	}
	r := bytes.NewReader(b[1:])
	k, err := binary.ReadUvarint(r)
	if err != nil || k > histBuckets {
		return h, fmt.Errorf("%w: bad bucket count", errHist)
	}
	next := uint64(0)
	for range k {
		gap, err := binary.ReadUvarint(r)
		if err != nil {
			return h, fmt.Errorf("%w: truncated", errHist)
		}
		c, err := binary.ReadUvarint(r)
		if err != nil || c == 0 || c > math.MaxUint32 {
			return h, fmt.Errorf("%w: bad count", errHist)
		}
		if gap >= histBuckets || next+gap >= histBuckets {
			return h, fmt.Errorf("%w: bucket out of range", errHist)
		}
		i := next + gap
		h[i] = uint32(c)
		next = i + 1
	}
	if r.Len() != 0 {
		return h, fmt.Errorf("%w: trailing bytes", errHist)
	}
	return h, nil
}

// hourAgg is one hour of a check: its runs, failures, degraded runs and
// the buckets of its successful runs' p50, p95 and p99. An hour keeps its
// quantiles, not its histogram: 3 bytes instead of a dozen, which is what
// keeps a year of 1,000 checks in tens of megabytes.
type hourAgg struct {
	Runs, Failures, Degraded uint32
	Q                        [3]uint8
}

// hourFrom makes an hour's aggregate from its counts and histogram.
func hourFrom(runs, failures, degraded uint32, h *latencyHist) hourAgg {
	a := hourAgg{Runs: runs, Failures: failures, Degraded: degraded}
	for i, q := range quantiles {
		a.Q[i], _ = h.quantileBucket(q)
	}
	return a
}

// approxHist stands in for the histogram of an hour already folded, when
// results of that hour arrive late (an agent that was cut off): its
// successful runs are put at its quantiles (half at p50, 45 % at p95, the
// rest at p99), so that merging them moves the quantiles sensibly.
func (a hourAgg) approxHist() latencyHist {
	var h latencyHist
	ok := a.Runs - min(a.Failures, a.Runs)
	half := ok / 2
	p95 := ok*95/100 - min(half, ok*95/100)
	h[a.Q[0]] += half
	h[a.Q[1]] += p95
	h[a.Q[2]] += ok - half - p95
	return h
}

// dayHours are a day's 24 hours (UTC).
type dayHours [24]hourAgg

const (
	hoursVersion = 1
	qPlain       = 0
	qDeflate     = 1
	// qPacked is how encodeHours writes the quantiles since 2026-11 (see
	// packQuantiles); qPlain and qDeflate are still read.
	qPacked = 2
	// maxQBytes bounds the quantile part once inflated: 3 bytes an hour.
	maxQBytes = 3 * 24
)

// encodeHours packs a day's hours: a version byte; the runs, failures and
// degraded columns run-length encoded (value, repeat as varints: a steady
// check's day is 6 bytes); then the quantiles of the hours that ran, p50s
// then p95s then p99s, packed.
func encodeHours(d *dayHours) []byte {
	out := []byte{hoursVersion}
	for col := range 3 {
		value := func(h int) uint32 {
			switch col {
			case 0:
				return d[h].Runs
			case 1:
				return d[h].Failures
			}
			return d[h].Degraded
		}
		for h := 0; h < 24; {
			v, n := value(h), 1
			for h+n < 24 && value(h+n) == v {
				n++
			}
			out = binary.AppendUvarint(out, uint64(v))
			out = binary.AppendUvarint(out, uint64(n))
			h += n
		}
	}
	var q []byte
	for i := range 3 {
		for h := range d {
			if d[h].Runs > 0 {
				q = append(q, d[h].Q[i])
			}
		}
	}
	return packQuantiles(append(out, qPacked), q)
}

// packQuantiles appends q's three columns (p50s, p95s, p99s of the hours
// that ran), each as its smallest value, the bits its values take above
// it, and those values in that many bits each: an hour's quantiles move by
// a bucket or two, so a day's take about 30 bytes where deflate, whose
// tables alone cost that much on so little, took 55.
func packQuantiles(out, q []byte) []byte {
	n := len(q) / 3
	for col := range 3 {
		c := q[col*n : (col+1)*n]
		if n == 0 {
			break
		}
		lo, hi := slices.Min(c), slices.Max(c)
		width := bits.Len8(hi - lo)
		out = append(out, lo, byte(width))
		var acc uint
		var have int
		for _, v := range c {
			acc |= uint(v-lo) << have
			for have += width; have >= 8; have -= 8 {
				out = append(out, byte(acc))
				acc >>= 8
			}
		}
		if have > 0 {
			out = append(out, byte(acc))
		}
	}
	return out
}

// unpackQuantiles reads what packQuantiles wrote for n hours, which must
// be all of b.
func unpackQuantiles(b []byte, n int) ([]byte, error) {
	q := make([]byte, 0, 3*n)
	for range 3 {
		if n == 0 {
			break
		}
		if len(b) < 2 || b[1] > 8 {
			return nil, errors.New("bad quantile column")
		}
		lo, width := b[0], int(b[1])
		b = b[2:]
		size := (n*width + 7) / 8
		if len(b) < size {
			return nil, errors.New("truncated quantile column")
		}
		var acc uint
		var have, used int
		for range n {
			for have < width {
				acc |= uint(b[used]) << have
				used++
				have += 8
			}
			v := acc & (1<<width - 1)
			acc >>= width
			have -= width
			if uint(lo)+v > 255 {
				return nil, errors.New("a quantile past the last bucket")
			}
			q = append(q, lo+byte(v))
		}
		b = b[size:]
	}
	if len(b) != 0 {
		return nil, errors.New("bytes after the quantiles")
	}
	return q, nil
}

var errHours = errors.New("a check's hourly history is damaged")

// decodeHourCounts reads the counts of encodeHours' blob and returns the
// rest (the quantiles) unread: the bars need only the counts.
func decodeHourCounts(b []byte) (dayHours, []byte, error) {
	var d dayHours
	if len(b) == 0 || b[0] != hoursVersion {
		return d, nil, fmt.Errorf("%w: unknown version", errHours)
	}
	r := bytes.NewReader(b[1:])
	for col := range 3 {
		for h := 0; h < 24; {
			v, err := binary.ReadUvarint(r)
			if err != nil || v > math.MaxUint32 {
				return d, nil, fmt.Errorf("%w: bad count", errHours)
			}
			n, err := binary.ReadUvarint(r)
			if err != nil || n == 0 || n > uint64(24-h) {
				return d, nil, fmt.Errorf("%w: bad run length", errHours)
			}
			for range n {
				switch col {
				case 0:
					d[h].Runs = uint32(v)
				case 1:
					d[h].Failures = uint32(v)
				default:
					d[h].Degraded = uint32(v)
				}
				h++
			}
		}
	}
	for _, a := range d {
		if uint64(a.Failures)+uint64(a.Degraded) > uint64(a.Runs) {
			return d, nil, fmt.Errorf("%w: more failures than runs", errHours)
		}
	}
	return d, b[len(b)-r.Len():], nil
}

// decodeHours reads what encodeHours wrote; anything else is an error.
func decodeHours(b []byte) (dayHours, error) {
	d, rest, err := decodeHourCounts(b)
	if err != nil {
		return d, err
	}
	if len(rest) == 0 {
		return d, fmt.Errorf("%w: no quantiles", errHours)
	}
	ran := 0
	for _, a := range d {
		if a.Runs > 0 {
			ran++
		}
	}
	q := rest[1:]
	switch rest[0] {
	case qPlain:
	case qDeflate:
		if q, err = inflate(q, maxQBytes); err != nil {
			return d, fmt.Errorf("%w: %v", errHours, err)
		}
	case qPacked:
		if q, err = unpackQuantiles(q, ran); err != nil {
			return d, fmt.Errorf("%w: %v", errHours, err)
		}
	default:
		return d, fmt.Errorf("%w: unknown quantile coding", errHours)
	}
	if len(q) != 3*ran {
		return d, fmt.Errorf("%w: %d quantile bytes for %d hours", errHours, len(q), ran)
	}
	k := 0
	for i := range 3 {
		for h := range d {
			if d[h].Runs > 0 {
				d[h].Q[i] = q[k]
				k++
			}
		}
	}
	return d, nil
}

var (
	deflaters sync.Pool
	inflaters sync.Pool
)

func deflate(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := deflaters.Get().(*flate.Writer)
	if w == nil {
		w, _ = flate.NewWriter(&buf, flate.BestCompression)
	} else {
		w.Reset(&buf)
	}
	w.Write(b) //nolint:errcheck // a bytes.Buffer does not fail
	w.Close()  //nolint:errcheck
	deflaters.Put(w)
	return buf.Bytes()
}

// inflate decompresses b, refusing more than limit bytes (a damaged blob
// must not expand without bound).
func inflate(b []byte, limit int) ([]byte, error) {
	src := bytes.NewReader(b)
	r, _ := inflaters.Get().(io.ReadCloser)
	if r == nil {
		r = flate.NewReader(src)
	} else if err := r.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, err
	}
	defer inflaters.Put(r)
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("does not inflate: %v", err)
	}
	if len(out) > limit {
		return nil, fmt.Errorf("inflates past %d bytes", limit)
	}
	if src.Len() != 0 {
		return nil, errors.New("bytes follow the compressed data")
	}
	return out, nil
}
