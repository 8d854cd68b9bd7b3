package httpserver

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// metrics are exposed in the Prometheus text format. A few counters and one
// histogram do not justify the client library and its dependencies.
type metrics struct {
	mu                 sync.Mutex
	requests           map[reqKey]uint64
	durations          map[string]*histogram // by route pattern
	signInFailures     atomic.Uint64
	subscribeThrottled atomic.Uint64
	publicBuilds       atomic.Uint64 // public site rebuilds
}

type reqKey struct {
	route string
	code  int
}

var latencyBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

type histogram struct {
	counts []uint64 // per bucket, not cumulative
	sum    float64
	total  uint64
}

func newMetrics() *metrics {
	return &metrics{requests: map[reqKey]uint64{}, durations: map[string]*histogram{}}
}

func (m *metrics) observeRequest(route string, code int, d time.Duration) {
	if code == 0 {
		code = http.StatusOK
	}
	secs := d.Seconds()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[reqKey{route, code}]++
	h := m.durations[route]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(latencyBuckets))}
		m.durations[route] = h
	}
	for i, b := range latencyBuckets {
		if secs <= b {
			h.counts[i]++
			break
		}
	}
	h.sum += secs
	h.total++
}

// write prints every metric; gauges read from the store are passed in.
func (m *metrics) write(w io.Writer, gauges map[string]float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fmt.Fprintln(w, "# HELP tocsin_http_requests_total HTTP requests by route pattern and status code.")
	fmt.Fprintln(w, "# TYPE tocsin_http_requests_total counter")
	keys := make([]reqKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b reqKey) int {
		if a.route != b.route {
			return strings.Compare(a.route, b.route)
		}
		return a.code - b.code
	})
	for _, k := range keys {
		fmt.Fprintf(w, "tocsin_http_requests_total{route=%q,code=\"%d\"} %d\n", k.route, k.code, m.requests[k])
	}
	fmt.Fprintln(w, "# HELP tocsin_http_request_duration_seconds Time to serve a request, by route pattern.")
	fmt.Fprintln(w, "# TYPE tocsin_http_request_duration_seconds histogram")
	routes := make([]string, 0, len(m.durations))
	for r := range m.durations {
		routes = append(routes, r)
	}
	slices.Sort(routes)
	for _, r := range routes {
		h := m.durations[r]
		var cum uint64
		for i, b := range latencyBuckets {
			cum += h.counts[i]
			fmt.Fprintf(w, "tocsin_http_request_duration_seconds_bucket{route=%q,le=%q} %d\n", r, strconv.FormatFloat(b, 'g', -1, 64), cum)
		}
		fmt.Fprintf(w, "tocsin_http_request_duration_seconds_bucket{route=%q,le=\"+Inf\"} %d\n", r, h.total)
		fmt.Fprintf(w, "tocsin_http_request_duration_seconds_sum{route=%q} %g\n", r, h.sum)
		fmt.Fprintf(w, "tocsin_http_request_duration_seconds_count{route=%q} %d\n", r, h.total)
	}
	fmt.Fprintln(w, "# HELP tocsin_signin_failures_total Failed sign-in attempts (password or second factor).")
	fmt.Fprintln(w, "# TYPE tocsin_signin_failures_total counter")
	fmt.Fprintf(w, "tocsin_signin_failures_total %d\n", m.signInFailures.Load())
	fmt.Fprintln(w, "# HELP tocsin_subscribe_throttled_total Subscription requests refused by rate limits.")
	fmt.Fprintln(w, "# TYPE tocsin_subscribe_throttled_total counter")
	fmt.Fprintf(w, "tocsin_subscribe_throttled_total %d\n", m.subscribeThrottled.Load())
	fmt.Fprintln(w, "# HELP tocsin_public_builds_total Rebuilds of the public site.")
	fmt.Fprintln(w, "# TYPE tocsin_public_builds_total counter")
	fmt.Fprintf(w, "tocsin_public_builds_total %d\n", m.publicBuilds.Load())
	names := make([]string, 0, len(gauges))
	for n := range gauges {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(w, "# TYPE %s gauge\n%s %g\n", n, n, gauges[n])
	}
}

// serveMetrics writes the metrics for a Prometheus scraper holding a token.
func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	stats, err := s.store.OutboxStats(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	s.metrics.write(w, map[string]float64{
		"tocsin_outbox_pending": float64(stats.Pending),
		"tocsin_outbox_dead":    float64(stats.Dead),
		"tocsin_uptime_seconds": time.Since(s.started).Seconds(),
	})
	if s.checkMetrics != nil {
		s.checkMetrics(w)
	}
	return nil
}
