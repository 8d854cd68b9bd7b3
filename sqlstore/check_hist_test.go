package sqlstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

func TestHistBucket(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want uint8
	}{
		{0, 0},
		{999 * time.Nanosecond, 0},
		{time.Microsecond, 1},
		{2 * time.Microsecond, 8}, // 1.1^7 = 1.95 ≤ 2 < 1.1^8
		{time.Millisecond, 73},    // 1.1^72 = 963 ≤ 1000 < 1.1^73
		{time.Second, 145},
		{2 * time.Minute, 196},
		{24 * time.Hour, 255},
		{-time.Second, 0},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			if got := histBucket(tc.d); got != tc.want {
				t.Fatalf("histBucket(%s) = %d, want %d", tc.d, got, tc.want)
			}
		})
	}
}

// The stated bound: a bucket's value is within 4.9 % of every duration in
// it, from a few microseconds to the longest timeout.
func TestHistValueErrorBound(t *testing.T) {
	for us := int64(1); us <= 120_000_000; us = us*1013/1000 + 1 {
		d := time.Duration(us) * time.Microsecond
		v := histValue(histBucket(d))
		if rel := math.Abs(float64(v-d)) / float64(d); rel > 0.049 {
			t.Fatalf("%s reads back as %s: %.2f %% off", d, v, rel*100)
		}
	}
}

func TestHistQuantile(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, tc := range []struct {
		name          string
		durations     []time.Duration
		p50, p95, p99 time.Duration
	}{
		{"empty", nil, 0, 0, 0},
		{"one", []time.Duration{ms(100)}, ms(100), ms(100), ms(100)},
		{"steady", repeat(ms(40), 100), ms(40), ms(40), ms(40)},
		{"tail", append(repeat(ms(20), 94), ms(500), ms(500), ms(900), ms(900), ms(900), ms(2000)), ms(20), ms(500), ms(900)},
		{"spread", spread(1, 1000), ms(500), ms(950), ms(990)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h latencyHist
			for _, d := range tc.durations {
				h.add(d)
			}
			for _, q := range []struct {
				q    float64
				want time.Duration
			}{{0.5, tc.p50}, {0.95, tc.p95}, {0.99, tc.p99}} {
				got := h.quantile(q.q)
				if math.Abs(float64(got-q.want)) > 0.049*float64(q.want) {
					t.Errorf("p%g = %s, want %s within 4.9 %%", q.q*100, got, q.want)
				}
			}
		})
	}
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

// spread is from, from+1 … to milliseconds.
func spread(from, to int) []time.Duration {
	var out []time.Duration
	for i := from; i <= to; i++ {
		out = append(out, time.Duration(i)*time.Millisecond)
	}
	return out
}

func TestHistCodec(t *testing.T) {
	var big latencyHist
	for i := range big {
		big[i] = uint32(i * 1000003)
	}
	big[255] = math.MaxUint32
	for _, tc := range []struct {
		name string
		h    latencyHist
		size int
	}{
		{"empty", latencyHist{}, 2},
		{"steady", func() (h latencyHist) { h[150], h[151], h[152] = 30, 25, 5; return }(), 9},
		{"full", big, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := encodeHist(&tc.h)
			if tc.size > 0 && len(b) != tc.size {
				t.Errorf("%d bytes, want %d", len(b), tc.size)
			}
			got, err := decodeHist(b)
			if err != nil || got != tc.h {
				t.Fatalf("round trip: %v", err)
			}
		})
	}
}

func TestHistDecodeRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"nothing", nil},
		{"version", []byte{2, 0}},
		{"no count", []byte{1}},
		{"too many buckets", []byte{1, 0x81, 0x02}},
		{"truncated", []byte{1, 1, 5}},
		{"zero count", []byte{1, 1, 5, 0}},
		{"past the last bucket", []byte{1, 2, 0xff, 0x01, 1, 0, 1}},
		{"trailing", []byte{1, 1, 5, 1, 9}},
		{"count too big", []byte{1, 1, 0, 0xff, 0xff, 0xff, 0xff, 0x1f}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeHist(tc.b); !errors.Is(err, errHist) {
				t.Fatalf("err = %v, want a damaged histogram", err)
			}
		})
	}
}

func steadyDay() dayHours {
	var d dayHours
	for h := range d {
		d[h] = hourAgg{Runs: 60, Q: [3]uint8{150, 152 + uint8(h%2), 155}}
	}
	d[13] = hourAgg{Runs: 60, Failures: 7, Degraded: 2, Q: [3]uint8{151, 170, 190}}
	return d
}

func TestHoursCodec(t *testing.T) {
	var partial dayHours
	partial[22] = hourAgg{Runs: 3600, Failures: 3600} // every run failed
	partial[23] = hourAgg{Runs: 1, Q: [3]uint8{200, 200, 200}}
	for _, tc := range []struct {
		name    string
		d       dayHours
		maxSize int
	}{
		{"empty", dayHours{}, 12},
		{"steady", steadyDay(), 60},
		{"partial", partial, 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := encodeHours(&tc.d)
			if len(b) > tc.maxSize {
				t.Errorf("%d bytes, want at most %d", len(b), tc.maxSize)
			}
			got, err := decodeHours(b)
			if err != nil || got != tc.d {
				t.Fatalf("round trip: %v\n got %v\nwant %v", err, got, tc.d)
			}
			counts, _, err := decodeHourCounts(b)
			if err != nil {
				t.Fatal(err)
			}
			for h := range counts {
				if counts[h].Runs != tc.d[h].Runs || counts[h].Failures != tc.d[h].Failures {
					t.Fatalf("hour %d: counts %+v, want %+v", h, counts[h], tc.d[h])
				}
			}
		})
	}
}

func TestHoursDecodeRefuses(t *testing.T) {
	good := encodeHours(&dayHours{0: {Runs: 2, Q: [3]uint8{1, 2, 3}}})
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"nothing", nil},
		{"version", append([]byte{9}, good[1:]...)},
		{"truncated counts", good[:3]},
		{"run past 24 hours", []byte{1, 0, 25}},
		{"empty run", []byte{1, 0, 0}},
		{"more failures than runs", []byte{1, 1, 24, 2, 24, 0, 24, 0, 1, 1, 1}},
		{"no quantiles", good[:len(good)-4]},
		{"too few quantiles", good[:len(good)-1]},
		{"too many quantiles", append(bytes.Clone(good), 7)},
		{"unknown coding", append(bytes.Clone(good[:len(good)-4]), 5, 1, 2, 3)},
		{"bad deflate", append(bytes.Clone(good[:len(good)-4]), qDeflate, 0xff, 0xff)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeHours(tc.b); !errors.Is(err, errHours) {
				t.Fatalf("err = %v, want a damaged history", err)
			}
		})
	}
}

// An hour folded again with late results keeps a sensible p50: the late
// ones are merged with the approximate histogram of its quantiles.
func TestLateResultsMerge(t *testing.T) {
	var h latencyHist
	for range 60 {
		h.add(40 * time.Millisecond)
	}
	a := hourFrom(60, 0, 0, &h)
	approx := a.approxHist()
	if approx.total() != 60 {
		t.Fatalf("approximate histogram of %d runs, want 60", approx.total())
	}
	var late latencyHist
	for range 60 {
		late.add(400 * time.Millisecond)
	}
	approx.merge(&late)
	b := hourFrom(120, 0, 0, &approx)
	if got := histValue(b.Q[0]); got > 42*time.Millisecond {
		t.Errorf("p50 %s, want about 40ms", got)
	}
	if got := histValue(b.Q[1]); got < 380*time.Millisecond {
		t.Errorf("p95 %s, want about 400ms", got)
	}
}

// FuzzCheckHistoryBlobs: no bytes make the decoders panic, and what they
// accept encodes back to something they read the same.
func FuzzCheckHistoryBlobs(f *testing.F) {
	d := steadyDay()
	var h latencyHist
	h[3], h[200] = 7, 9
	f.Add(encodeHours(&d))
	f.Add(encodeHist(&h))
	f.Add([]byte{1, 0, 24, 0, 24, 0, 24, 0})
	block, err := encodeBlock(day0, sampleBlock())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(block)
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := decodeHist(b); err == nil {
			if again, err := decodeHist(encodeHist(&h)); err != nil || again != h {
				t.Fatalf("histogram does not round-trip: %v", err)
			}
			h.quantile(0.99)
		}
		if d, err := decodeHours(b); err == nil {
			if again, err := decodeHours(encodeHours(&d)); err != nil || again != d {
				t.Fatalf("hours do not round-trip: %v", err)
			}
		}
		decodeHourCounts(b) //nolint:errcheck // only must not panic
		if rs, err := decodeBlock(1, day0, b); err == nil {
			again, err := encodeBlock(day0, rs)
			if err != nil {
				t.Fatal(err)
			}
			if rs2, err := decodeBlock(1, day0, again); err != nil || len(rs2) != len(rs) {
				t.Fatalf("block does not round-trip: %v", err)
			}
		}
	})
}

// TestFuzzSeeds keeps testdata/fuzz's seeds the encoders' current output.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzCheckHistoryBlobs")
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) < 3 {
		t.Fatalf("want seeds in %s: %v", dir, err)
	}
}

// sampleBlock is an hour of results with every field set somewhere.
func sampleBlock() []*tocsin.CheckResult {
	rs := minuteResults(1, day0, 60, 40, map[int]bool{3: true, 4: true})
	rs[5].Location, rs[5].Key, rs[5].StatusCode, rs[5].Degraded = "paris", "paris-5", 200, true
	rs[6].TLS = &tocsin.TLSObservation{SPKISHA256: "ab", Serial: "01", NotAfter: day0.AddDate(0, 1, 0).UTC(), Version: "TLS 1.3"}
	rs[7].Bucket = &tocsin.BucketObservation{Probed: []tocsin.BucketProbe{{URL: "https://s3.example.org/m", Style: "path", Status: 403, Answer: "denied"}}}
	rs[8].StartedAt = rs[8].StartedAt.Add(1234567 * time.Nanosecond).Truncate(time.Microsecond)
	return rs
}

func TestBlockCodec(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rs      []*tocsin.CheckResult
		maxSize int
	}{
		{"empty", nil, 4},
		{"one", minuteResults(1, day0.Add(59*time.Minute), 1, 12, nil), 20},
		{"steady hour", minuteResults(1, day0, 60, 40, nil), 80},
		{"every field", sampleBlock(), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := encodeBlock(day0, tc.rs)
			if err != nil {
				t.Fatal(err)
			}
			if tc.maxSize > 0 && len(b) > tc.maxSize {
				t.Errorf("%d bytes, want at most %d", len(b), tc.maxSize)
			}
			got, err := decodeBlock(1, day0, b)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.rs) {
				t.Fatalf("%d results, want %d", len(got), len(tc.rs))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tc.rs[i]) {
					t.Fatalf("result %d:\n got %+v\nwant %+v", i, got[i], tc.rs[i])
				}
			}
		})
	}
}

func TestBlockDecodeRefuses(t *testing.T) {
	good, err := encodeBlock(day0, minuteResults(1, day0, 2, 40, map[int]bool{1: true}))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"nothing", nil},
		{"version", append([]byte{7}, good[1:]...)},
		{"coding", append([]byte{1, 9}, good[2:]...)},
		{"truncated", good[:len(good)-2]},
		{"trailing", append(slices.Clone(good), 0)},
		{"text out of the dictionary", []byte{1, qPlain, 0, 1, 0, 0, 1, 0, 5, 0, 0, 0}},
		{"outside its hour", append(binary.AppendVarint([]byte{1, qPlain, 0, 1}, int64(time.Hour/time.Microsecond)), 0, 1, 0, 0, 0, 0, 0)},
		{"before its hour", append(binary.AppendVarint([]byte{1, qPlain, 0, 1}, -1), 0, 1, 0, 0, 0, 0, 0)},
		{"flags", append(binary.AppendVarint([]byte{1, qPlain, 0, 1}, 5), 0, 8, 0, 0, 0, 0, 0)},
		{"more results than bytes", []byte{1, qPlain, 0, 100}},
		{"bad deflate", []byte{1, qDeflate, 0xff, 0xff}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeBlock(1, day0, tc.b); !errors.Is(err, errBlock) {
				t.Fatalf("err = %v, want a damaged block", err)
			}
		})
	}
}
