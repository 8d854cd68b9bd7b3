package sqlstore

import (
	"bytes"
	"errors"
	"testing"
)

func TestWeekOf(t *testing.T) {
	for _, tc := range []struct{ day, week int64 }{
		{0, 0}, {6, 0}, {7, 1}, {20522, 2931}, {-1, -1}, {-7, -1}, {-8, -2},
	} {
		if got := weekOf(tc.day); got != tc.week {
			t.Errorf("weekOf(%d) = %d, want %d", tc.day, got, tc.week)
		}
	}
}

// sampleWeek has its first and sixth days, the sixth with failures.
func sampleWeek() weekRollup {
	d := steadyDay()
	var h latencyHist
	h[150], h[152] = 700, 740
	return weekRollup{
		0: {runs: 1440, hist: encodeHist(&h), hours: encodeHours(&d)},
		5: {runs: 1440, failures: 7, degraded: 2, hist: encodeHist(&h), hours: encodeHours(&d)},
	}
}

func TestWeekCodec(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    weekRollup
	}{
		{"empty", weekRollup{}},
		{"two days", sampleWeek()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeWeek(encodeWeek(&tc.w))
			if err != nil {
				t.Fatal(err)
			}
			if !weeksEqual(got, tc.w) {
				t.Fatalf("%+v, want %+v", got, tc.w)
			}
		})
	}
}

func TestWeekDecodeRefuses(t *testing.T) {
	w := sampleWeek()
	good := encodeWeek(&w)
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"nothing", nil},
		{"version", []byte{2, 0}},
		{"no days byte", []byte{1}},
		{"an eighth day", []byte{1, 0x80}},
		{"truncated counts", []byte{1, 1, 5}},
		{"more failures than runs", []byte{1, 1, 5, 6, 0, 0, 0}},
		{"more degraded than runs", []byte{1, 1, 5, 0, 6, 0, 0}},
		{"histogram past the end", []byte{1, 1, 5, 0, 0, 9, 1}},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(append([]byte{}, good...), 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeWeek(tc.b); !errors.Is(err, errWeek) {
				t.Fatalf("err = %v, want a damaged week", err)
			}
		})
	}
}

func weeksEqual(x, y weekRollup) bool {
	for i := range x {
		a, b := x[i], y[i]
		if (a == nil) != (b == nil) {
			return false
		}
		if a != nil && (a.runs != b.runs || a.failures != b.failures || a.degraded != b.degraded ||
			!bytes.Equal(a.hist, b.hist) || !bytes.Equal(a.hours, b.hours)) {
			return false
		}
	}
	return true
}
