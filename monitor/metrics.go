package monitor

import (
	"bufio"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tocsin-org/tocsin"
)

// durationBuckets are the upper bounds, in seconds, of the duration
// histogram: from a fast local answer to the longest timeout.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

type checkMetrics struct {
	name        string
	serviceID   int64
	up          bool
	counts      []uint64 // per bucket, not cumulative
	count       uint64
	sum         float64
	lastSuccess float64 // Unix seconds; 0 before the first success
}

type metrics struct {
	mu     sync.Mutex
	checks map[int64]*checkMetrics
}

func (ms *metrics) observe(c *tocsin.Check, r *tocsin.CheckResult) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	m := ms.checks[c.ID]
	if m == nil {
		m = &checkMetrics{counts: make([]uint64, len(durationBuckets))}
		ms.checks[c.ID] = m
	}
	m.name, m.serviceID, m.up = c.Name, c.ServiceID, r.OK
	sec := r.Duration.Seconds()
	if i, _ := slices.BinarySearch(durationBuckets, sec); i < len(durationBuckets) {
		m.counts[i]++
	}
	m.count++
	m.sum += sec
	if r.OK {
		m.lastSuccess = float64(r.StartedAt.Add(r.Duration).UnixNano()) / 1e9
	}
}

// keep forgets the checks not in ids (deleted or paused).
func (ms *metrics) keep(ids map[int64]bool) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	for id := range ms.checks {
		if !ids[id] {
			delete(ms.checks, id)
		}
	}
}

// WriteMetrics writes each check's metrics in Prometheus' text format:
// tocsin_check_up, the tocsin_check_duration_seconds histogram and
// tocsin_check_last_success_timestamp_seconds, labelled with the check's
// ID, name and service ID.
func (m *Monitor) WriteMetrics(w io.Writer) error {
	ms := &m.metrics
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ids := slices.Sorted(maps.Keys(ms.checks))
	bw := bufio.NewWriter(w)
	labels := func(id int64, c *checkMetrics) string {
		return fmt.Sprintf(`check="%d",name="%s",service_id="%d"`, id, escapeLabel(c.name), c.serviceID)
	}
	fmt.Fprintln(bw, "# HELP tocsin_check_up Whether the check's last run succeeded (1) or failed (0).")
	fmt.Fprintln(bw, "# TYPE tocsin_check_up gauge")
	for _, id := range ids {
		c := ms.checks[id]
		up := 0
		if c.up {
			up = 1
		}
		fmt.Fprintf(bw, "tocsin_check_up{%s} %d\n", labels(id, c), up)
	}
	fmt.Fprintln(bw, "# HELP tocsin_check_duration_seconds How long the check's runs took.")
	fmt.Fprintln(bw, "# TYPE tocsin_check_duration_seconds histogram")
	for _, id := range ids {
		c := ms.checks[id]
		l := labels(id, c)
		var cum uint64
		for i, le := range durationBuckets {
			cum += c.counts[i]
			fmt.Fprintf(bw, "tocsin_check_duration_seconds_bucket{%s,le=\"%s\"} %d\n", l, strconv.FormatFloat(le, 'g', -1, 64), cum)
		}
		fmt.Fprintf(bw, "tocsin_check_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", l, c.count)
		fmt.Fprintf(bw, "tocsin_check_duration_seconds_sum{%s} %s\n", l, strconv.FormatFloat(c.sum, 'g', -1, 64))
		fmt.Fprintf(bw, "tocsin_check_duration_seconds_count{%s} %d\n", l, c.count)
	}
	fmt.Fprintln(bw, "# HELP tocsin_check_last_success_timestamp_seconds When the check last succeeded (Unix time; absent before its first success).")
	fmt.Fprintln(bw, "# TYPE tocsin_check_last_success_timestamp_seconds gauge")
	for _, id := range ids {
		if c := ms.checks[id]; c.lastSuccess > 0 {
			fmt.Fprintf(bw, "tocsin_check_last_success_timestamp_seconds{%s} %s\n", labels(id, c), strconv.FormatFloat(c.lastSuccess, 'f', 3, 64))
		}
	}
	return bw.Flush()
}

// escapeLabel escapes a label value as the text format requires.
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
