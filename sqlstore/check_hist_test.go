package sqlstore

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
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

// Hours written before the quantiles were packed (plain or deflated)
// read the same.
func TestHoursOldCodings(t *testing.T) {
	d := steadyDay()
	b := encodeHours(&d)
	_, rest, err := decodeHourCounts(b)
	if err != nil {
		t.Fatal(err)
	}
	head := b[:len(b)-len(rest)]
	var q []byte
	for i := range 3 {
		for h := range d {
			q = append(q, d[h].Q[i])
		}
	}
	for _, old := range [][]byte{slices.Concat(head, []byte{qPlain}, q), slices.Concat(head, []byte{qDeflate}, deflate(q))} {
		if got, err := decodeHours(old); err != nil || got != d {
			t.Fatalf("coding %d: %v\n got %v\nwant %v", old[len(head)], err, got, d)
		}
	}
}

func TestHoursDecodeRefuses(t *testing.T) {
	good := encodeHours(&dayHours{0: {Runs: 2, Q: [3]uint8{1, 2, 3}}})
	head := good[:9] // the version and the counts
	with := func(b ...byte) []byte { return slices.Concat(head, b) }
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
		{"no quantiles", head},
		{"too few quantiles", good[:len(good)-1]},
		{"too many quantiles", append(bytes.Clone(good), 7)},
		{"unknown coding", with(5, 1, 2, 3)},
		{"bad deflate", with(qDeflate, 0xff, 0xff)},
		{"packed wider than a byte", with(qPacked, 1, 9, 0, 2, 0, 3, 0)},
		{"packed past the last bucket", with(qPacked, 255, 1, 1, 2, 0, 3, 0)},
		{"packed and truncated", with(qPacked, 1, 8)},
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
	w := sampleWeek()
	f.Add(encodeWeek(&w))
	f.Fuzz(func(t *testing.T, b []byte) {
		if w, err := decodeWeek(b); err == nil {
			if again, err := decodeWeek(encodeWeek(&w)); err != nil || !weeksEqual(again, w) {
				t.Fatalf("week does not round-trip: %v", err)
			}
		}
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
	rs[8].Location, rs[8].StartedAt = "paris", rs[5].StartedAt.Add(100*time.Millisecond)
	return rs
}

// v1Block is sampleBlock as version 1 wrote it, except that its result 8
// started 1,234 µs after minute 8, with no location.
const v1Block = "0101d493bd4ec3301485ed52d49dbe407507a6a475fa2761f1086c7402559593dc12436b5bb6c38fa2483c4827d487606483c74271591849278ecee02b9dcff77870f72cd34a61e6a556038bebd2617e6a8495ee8d56e0cc835cb9428c6773e0205288c0a19562031c58d24c657a8f99070e108174ae447b382bed5729aeb5c526ca5812072f18e3c1373f19b1f60119b3f13c66d33861bf228f689dd40a382caeae07c970021164d2148735f5b20263758a39f0db0a4adbf42abc378e8f466e32c467b1351b1c6a7b37da366dfdcba6e963842fc2287ce9804fd92402a1dc53b835472531877a595f92d7ddee8204edfb9fe7fb3ef9ab3ede3bffce9452427ab495c2a3bf2869af4e6b921eb396909363e06e1ba817fe593cfb0e0000ffff"

// Blocks written by version 1 are read as they were written.
func TestBlockV1Decodes(t *testing.T) {
	b, err := hex.DecodeString(v1Block)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeBlock(1, day0, b)
	if err != nil {
		t.Fatal(err)
	}
	want := sampleBlock()
	want[8].Location, want[8].StartedAt = "", day0.Add(8*time.Minute+1234*time.Microsecond)
	slices.SortStableFunc(want, func(a, b *tocsin.CheckResult) int { return a.StartedAt.Compare(b.StartedAt) })
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

// A block keeps starts to the coarsest unit that keeps a location's
// results apart, and durations to two significant digits.
func TestBlockPrecision(t *testing.T) {
	at := func(s string) time.Time {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		return day0.Add(d)
	}
	for _, tc := range []struct {
		name      string
		starts    []string
		locations []string
		want      []string
	}{
		{"a check every minute, jittered", []string{"0.734s", "1m0.12s", "2m59.999s"}, nil, []string{"0s", "1m0s", "2m59s"}},
		{"a check every second", []string{"11.02s", "11.97s", "13.001s"}, nil, []string{"11s", "11.9s", "13s"}},
		{"two locations in the same second", []string{"5.1s", "5.3s"}, []string{"paris", "berlin"}, []string{"5s", "5s"}},
		{"closer than a millisecond", []string{"5.1234s", "5.1239s"}, nil, []string{"5.123s", "5.123s"}},
		{"the hour's last second", []string{"59m59.999s"}, nil, []string{"59m59s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var rs []*tocsin.CheckResult
			for i, s := range tc.starts {
				r := &tocsin.CheckResult{CheckID: 1, StartedAt: at(s), OK: true}
				if tc.locations != nil {
					r.Location = tc.locations[i]
				}
				rs = append(rs, r)
			}
			b, err := encodeBlock(day0, rs)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeBlock(1, day0, b)
			if err != nil {
				t.Fatal(err)
			}
			var starts []time.Time
			for _, r := range got {
				starts = append(starts, r.StartedAt)
			}
			var want []time.Time
			for _, s := range tc.want {
				want = append(want, at(s))
			}
			if !slices.EqualFunc(starts, want, time.Time.Equal) {
				t.Errorf("starts %v, want %v", starts, want)
			}
		})
	}
	for _, tc := range []struct{ d, want time.Duration }{
		{0, 0},
		{-time.Second, 0},
		{99 * time.Microsecond, 99 * time.Microsecond},
		{999 * time.Microsecond, time.Millisecond},
		{1234 * time.Microsecond, 1200 * time.Microsecond},
		{1250 * time.Microsecond, 1300 * time.Microsecond},
		{9999 * time.Microsecond, 10 * time.Millisecond},
		{40 * time.Millisecond, 40 * time.Millisecond},
		{123456 * time.Microsecond, 120 * time.Millisecond},
		{999600 * time.Microsecond, time.Second},
		{1234500 * time.Microsecond, 1200 * time.Millisecond},
		{10 * time.Minute, 10 * time.Minute},
		{tocsin.MaxCheckTimeout, tocsin.MaxCheckTimeout},
	} {
		t.Run(tc.d.String(), func(t *testing.T) {
			got, ok := codeDuration(durationCode(tc.d), maxBlockDuration)
			if !ok || got != tc.want {
				t.Errorf("kept as %s (%v), want %s", got, ok, tc.want)
			}
		})
	}
	if _, ok := codeDuration(durationCode(maxBlockDuration)+1, maxBlockDuration); ok {
		t.Error("a duration past the limit is accepted")
	}
	if _, ok := codeDuration(math.MaxUint64, maxBlockDuration); ok {
		t.Error("the largest code is accepted")
	}
}

// An hour of a check every minute, with the scheduler's jitter and
// latencies that vary as a real server's do, packs into a small block.
func TestBlockSize(t *testing.T) {
	rs := minuteResults(1, day0, 60, 0, map[int]bool{17: true})
	for i, r := range rs {
		r.StartedAt = r.StartedAt.Add(time.Duration((i*7919)%2000-1000) * time.Millisecond).Add(time.Duration(i*31) * time.Microsecond)
		if r.StartedAt.Before(day0) {
			r.StartedAt = day0
		}
		r.Duration = time.Duration(30_000+(i*104729)%20_000) * time.Microsecond
		r.StatusCode = 200
	}
	b, err := encodeBlock(day0, rs)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 130 {
		t.Errorf("%d bytes, want at most 130", len(b))
	}
	t.Logf("%d bytes", len(b))
}

func TestBlockCodec(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rs      []*tocsin.CheckResult
		maxSize int
	}{
		{"empty", nil, 6},
		{"one", minuteResults(1, day0.Add(59*time.Minute), 1, 12, nil), 20},
		{"steady hour", minuteResults(1, day0, 60, 40, nil), 80},
		{"six hours to the last minute", minuteResults(1, day0, 6*60, 40, nil), 200},
		{"the block's last second", minuteResults(1, day0.Add(blockSpan-time.Second), 1, 40, nil), 20},
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
			// Results come back in time order.
			want := slices.Clone(tc.rs)
			slices.SortStableFunc(want, func(a, b *tocsin.CheckResult) int { return a.StartedAt.Compare(b.StartedAt) })
			if len(got) != len(want) {
				t.Fatalf("%d results, want %d", len(got), len(want))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], want[i]) {
					t.Fatalf("result %d:\n got %+v\nwant %+v", i, got[i], want[i])
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
		{"outside its block", append(binary.AppendVarint([]byte{1, qPlain, 0, 1}, int64(blockSpan/time.Microsecond)), 0, 1, 0, 0, 0, 0, 0)},
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
