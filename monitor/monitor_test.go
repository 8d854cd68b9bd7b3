package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/probe"
)

// memStore keeps checks and the batches of results written, in memory:
// the Store interface's test double for recording.
type memStore struct {
	mu      sync.Mutex
	checks  []*tocsin.Check
	batches [][]*tocsin.CheckResult
	fail    int           // calls to refuse before accepting
	block   chan struct{} // when not nil, writes wait for it to close
}

func (s *memStore) Checks(ctx context.Context) ([]*tocsin.Check, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*tocsin.Check(nil), s.checks...), nil
}

func (s *memStore) RecordCheckResults(ctx context.Context, results []*tocsin.CheckResult) error {
	s.mu.Lock()
	block := s.block
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return errors.New("database is locked")
	}
	s.batches = append(s.batches, append([]*tocsin.CheckResult(nil), results...))
	return nil
}

func (s *memStore) results() []*tocsin.CheckResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*tocsin.CheckResult
	for _, b := range s.batches {
		out = append(out, b...)
	}
	return out
}

func (s *memStore) add(c *tocsin.Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks = append(s.checks, c)
}

func httpCheck(t *testing.T, id int64, url string, interval time.Duration) *tocsin.Check {
	t.Helper()
	c := &tocsin.Check{ID: id, ServiceID: 7, Kind: tocsin.CheckHTTP, Spec: tocsin.CheckSpec{URL: url}, Interval: interval, Timeout: interval}
	c.ApplyDefaults(tocsin.CheckDefaults{})
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// waitFor polls cond for up to 20 s (a bound against hangs, not a timing
// assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSpreading(t *testing.T) {
	const n, interval = 10000, time.Minute
	perSecond := map[int64]int{}
	distinct := map[time.Duration]bool{}
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for id := int64(1); id <= n; id++ {
		off := offset(id, interval)
		if off < 0 || off >= interval {
			t.Fatalf("offset(%d) = %s, outside [0, %s)", id, off, interval)
		}
		distinct[off] = true
		slot := firstSlot(id, interval, now)
		if slot.Before(now) || !slot.Before(now.Add(interval)) {
			t.Fatalf("first slot of %d at %s, not within one interval of %s", id, slot, now)
		}
		// A restart later keeps the check on the same grid.
		later := firstSlot(id, interval, now.Add(37*time.Minute+13*time.Second))
		if d := later.Sub(slot); d%interval != 0 {
			t.Fatalf("check %d moved on restart: %s then %s", id, slot, later)
		}
		perSecond[slot.Unix()]++
	}
	if len(distinct) < n*99/100 {
		t.Errorf("only %d distinct offsets for %d checks", len(distinct), n)
	}
	// 10,000 checks over 60 s average 167 a second; no second may hold a
	// herd.
	for sec, k := range perSecond {
		if k > 250 {
			t.Errorf("%d checks start in the second %d", k, sec)
		}
	}
	if len(perSecond) != 60 {
		t.Errorf("checks start in %d distinct seconds of the minute, want all 60", len(perSecond))
	}
	for _, iv := range []time.Duration{time.Second, 30 * time.Second, time.Hour, 24 * time.Hour} {
		for range 1000 {
			if j := jitter(iv); j < -min(iv/20, time.Second) || j > min(iv/20, time.Second) {
				t.Fatalf("jitter(%s) = %s", iv, j)
			}
		}
	}
}

func TestPerHostLimit(t *testing.T) {
	var inFlight, most atomic.Int64
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		requests.Add(1)
		time.Sleep(300 * time.Millisecond) // hold the slot so runs overlap
	}))
	defer srv.Close()
	store := &memStore{}
	for id := int64(1); id <= 20; id++ {
		store.add(httpCheck(t, id, srv.URL+fmt.Sprintf("/%d", id), time.Second))
	}
	m := New(store, probe.New("tocsin-test"), Options{PerHost: 3, Logger: quiet()})
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "40 requests", func() bool { return requests.Load() >= 40 })
	m.Stop()
	if got := most.Load(); got > 3 {
		t.Errorf("%d requests at once to one host, limit 3", got)
	}
	t.Logf("at most %d requests at once", most.Load())
	if st := m.Stats(); st.Runs == 0 || st.Dropped != 0 || st.Written != st.Runs {
		t.Errorf("stats %+v", st)
	}
	for _, r := range store.results() {
		if !r.OK {
			t.Errorf("check %d failed: %s", r.CheckID, r.Error)
		}
	}
}

func TestStopWhileSlowProbe(t *testing.T) {
	release := make(chan struct{})
	var asked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	before := runtime.NumGoroutine()

	store := &memStore{}
	store.add(httpCheck(t, 1, srv.URL, time.Second))
	// A check of 2 min runs first within its first minute, at its offset
	// modulo a minute: pick an ID whose first run comes at once.
	id := int64(2)
	for offset(id, firstRunWithin) > time.Second {
		id++
	}
	slow := httpCheck(t, id, srv.URL+"/slow", 2*time.Minute)
	store.add(slow)
	m := New(store, probe.New("tocsin-test"), Options{Logger: quiet()})
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both checks to reach the server", func() bool { return asked.Load() >= 2 })
	stopped := make(chan struct{})
	go func() { m.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(30 * time.Second): // far below the slow check's 2 min timeout
		t.Fatal("Stop did not return while a slow check ran")
	}
	for _, r := range store.results() {
		if r.CheckID == slow.ID {
			t.Errorf("the run cut short by Stop was recorded: %+v", r)
		}
	}
	waitFor(t, "the monitor's goroutines to end", func() bool { return runtime.NumGoroutine() <= before+2 })
}

func TestBatching(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	store := &memStore{fail: 1}
	old := retryWaits
	retryWaits = []time.Duration{10 * time.Millisecond, 10 * time.Millisecond}
	t.Cleanup(func() { retryWaits = old })
	for id := int64(1); id <= 12; id++ {
		store.add(httpCheck(t, id, srv.URL, time.Second))
	}
	m := New(store, probe.New("tocsin-test"), Options{BatchSize: 5, FlushEvery: time.Hour, Logger: quiet()})
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "20 results written", func() bool { return len(store.results()) >= 20 })
	m.Stop()
	st := m.Stats()
	store.mu.Lock()
	batches := store.batches
	store.mu.Unlock()
	for i, b := range batches[:len(batches)-1] {
		if len(b) != 5 {
			t.Errorf("batch %d holds %d results, want 5 (FlushEvery is an hour)", i, len(b))
		}
	}
	if n := len(store.results()); int64(n) != st.Runs || st.Written != st.Runs || st.Dropped != 0 {
		t.Errorf("%d results stored, stats %+v: every run must be written once, the refused batch retried", n, st)
	}
}

func TestQueueFull(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	store := &memStore{block: make(chan struct{})}
	for id := int64(1); id <= 10; id++ {
		store.add(httpCheck(t, id, srv.URL, time.Second))
	}
	m := New(store, probe.New("tocsin-test"), Options{BatchSize: 2, QueueSize: 3, Logger: quiet()})
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The store hangs; the checks keep running and what does not fit is
	// dropped and counted.
	waitFor(t, "results dropped", func() bool { return m.Stats().Dropped > 0 })
	waitFor(t, "runs going on", func() bool { return m.Stats().Runs > 20 })
	close(store.block)
	m.Stop()
	st := m.Stats()
	if st.Written+st.Dropped != st.Runs {
		t.Errorf("stats %+v: each run is written or dropped", st)
	}
}

func TestRunNowAndReload(t *testing.T) {
	var hits sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Store(r.URL.Path, true)
		if r.URL.Path == "/down" {
			w.WriteHeader(503)
		}
	}))
	defer srv.Close()
	store := &memStore{}
	paused := httpCheck(t, 1, srv.URL+"/paused", time.Second)
	paused.Paused = true
	store.add(paused)
	m := New(store, probe.New("tocsin-test"), Options{Logger: quiet()})

	r, err := m.RunNow(t.Context(), 1)
	if err != nil || !r.OK || r.CheckID != 1 {
		t.Fatalf("RunNow of a paused check: %+v, %v", r, err)
	}
	if got := store.results(); len(got) != 1 || got[0] != r {
		t.Errorf("RunNow recorded %v", got)
	}
	if _, err := m.RunNow(t.Context(), 99); tocsin.ErrorCode(err) != tocsin.ENOTFOUND {
		t.Errorf("RunNow of an unknown check: %v, want not found", err)
	}

	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer m.Stop()
	if st := m.Stats(); st.Checks != 0 {
		t.Errorf("%d checks scheduled, want 0 (the one check is paused)", st.Checks)
	}
	store.add(httpCheck(t, 2, srv.URL+"/down", time.Second))
	m.Reload()
	waitFor(t, "the new check to run", func() bool {
		for _, r := range store.results() {
			if r.CheckID == 2 {
				return true
			}
		}
		return false
	})
	if _, ok := hits.Load("/paused"); !ok {
		t.Error("RunNow did not reach the server")
	}
	for _, r := range store.results() {
		if r.CheckID == 1 && r.StartedAt.After(store.results()[0].StartedAt) {
			t.Error("the paused check ran on schedule")
		}
		if r.CheckID == 2 && (r.OK || r.StatusCode != 503) {
			t.Errorf("check 2: %+v", r)
		}
	}
}

func TestWriteMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/down" {
			w.WriteHeader(500)
		}
	}))
	defer srv.Close()
	store := &memStore{}
	up := httpCheck(t, 1, srv.URL+"/up", time.Minute)
	up.Name = "home \"page\"\nof C:\\site"
	store.add(up)
	store.add(httpCheck(t, 2, srv.URL+"/down", time.Minute))
	m := New(store, probe.New("tocsin-test"), Options{Logger: quiet()})
	for _, id := range []int64{1, 2, 1} {
		if _, err := m.RunNow(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	if err := m.WriteMetrics(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	labels := `check="1",name="home \"page\"\nof C:\\site",service_id="7"`
	for _, want := range []string{
		"# TYPE tocsin_check_up gauge\n",
		"tocsin_check_up{" + labels + "} 1\n",
		`tocsin_check_up{check="2",name="http ` + srv.URL + `/down",service_id="7"} 0` + "\n",
		"# TYPE tocsin_check_duration_seconds histogram\n",
		"tocsin_check_duration_seconds_bucket{" + labels + `,le="120"} 2` + "\n",
		"tocsin_check_duration_seconds_bucket{" + labels + `,le="+Inf"} 2` + "\n",
		"tocsin_check_duration_seconds_count{" + labels + "} 2\n",
		"tocsin_check_last_success_timestamp_seconds{" + labels + "} ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("metrics lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `tocsin_check_last_success_timestamp_seconds{check="2"`) {
		t.Error("a check that never succeeded has a last success")
	}
}
