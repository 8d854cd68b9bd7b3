// Command checks benchmarks the monitor (issue 7, Targets): N HTTP checks
// at an interval against a local target server spread over several
// 127.0.0.x addresses, for a duration. It prints the start delay (p50,
// p99, max), checks completed per minute, CPU seconds used and the
// maximum RSS of the monitor's process. The target server runs in a child
// process (this program with -serve), so that its CPU is not counted.
// Results go to an in-memory counter, not a database: this measures the
// scheduler and the prober, not the store.
//
//	go run ./bench/checks -checks 10000 -interval 60s -duration 2m
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/monitor"
	"github.com/tocsin-org/tocsin/probe"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "checks:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("checks", flag.ContinueOnError)
	n := fs.Int("checks", 10000, "HTTP checks")
	interval := fs.Duration("interval", 60*time.Second, "interval of every check")
	duration := fs.Duration("duration", 2*time.Minute, "how long to run")
	hosts := fs.Int("hosts", 8, "target addresses 127.0.0.1 … 127.0.0.N")
	concurrency := fs.Int("concurrency", 64, "monitor concurrency")
	perHost := fs.Int("per-host", 8, "monitor per-host limit")
	serve := fs.Int("serve", 0, "(internal) serve the target on N addresses and print them")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *serve > 0 {
		return serveTarget(*serve, stdout)
	}

	exe, err := os.Executable()
	if err != nil {
		return err
	}
	target := exec.Command(exe, "-serve", fmt.Sprint(*hosts))
	target.Stderr = os.Stderr
	out, err := target.StdoutPipe()
	if err != nil {
		return err
	}
	if err := target.Start(); err != nil {
		return err
	}
	defer func() { target.Process.Kill(); target.Wait() }()
	addrs, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return fmt.Errorf("target server: %w", err)
	}
	targets := strings.Fields(addrs)

	store := &countingStore{}
	for i := range *n {
		c := &tocsin.Check{
			ID: int64(i + 1), ServiceID: 1, Kind: tocsin.CheckHTTP,
			Spec:     tocsin.CheckSpec{URL: fmt.Sprintf("http://%s/check/%d", targets[i%len(targets)], i+1), ExpectStatus: []int{200}},
			Interval: *interval,
		}
		c.ApplyDefaults(tocsin.CheckDefaults{})
		if err := c.Validate(); err != nil {
			return err
		}
		store.checks = append(store.checks, c)
	}
	p := probe.New("tocsin-bench")
	m := monitor.New(store, p, monitor.Options{
		Concurrency: *concurrency, PerHost: *perHost,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	var before syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	if err := m.Start(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d HTTP checks every %s on %d addresses, for %s (concurrency %d, per host %d)\n", *n, *interval, len(targets), *duration, *concurrency, *perHost)
	tick := time.NewTicker(*interval)
	var perInterval []int64
	last := int64(0)
wait:
	for {
		select {
		case <-ctx.Done():
			break wait
		case now := <-tick.C:
			st := m.Stats()
			perInterval = append(perInterval, st.Runs-last)
			last = st.Runs
			fmt.Fprintf(stdout, "  %5.0fs: %d runs in the last %s (failed so far %d), start delay p50 %s p99 %s\n",
				now.Sub(start).Seconds(), perInterval[len(perInterval)-1], *interval, store.failed(), st.StartDelayP50.Round(time.Millisecond), st.StartDelayP99.Round(time.Millisecond))
			if now.Sub(start) >= *duration {
				break wait
			}
		}
	}
	m.Stop()
	elapsed := time.Since(start)
	var after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	st := m.Stats()
	cpu := tv(after.Utime) + tv(after.Stime) - tv(before.Utime) - tv(before.Stime)
	fmt.Fprintf(stdout, "runs %d, written %d, failed %d, dropped %d, skipped %d\n", st.Runs, st.Written, store.failed(), st.Dropped, st.Skipped)
	per := float64(st.Runs) / elapsed.Minutes()
	if len(perInterval) > 1 { // the first interval fills in as the checks spread
		var sum int64
		for _, k := range perInterval[1:] {
			sum += k
		}
		per = float64(sum) / float64(len(perInterval)-1) / interval.Minutes()
	}
	fmt.Fprintf(stdout, "checks completed per minute: %.0f\n", per)
	fmt.Fprintf(stdout, "start delay: p50 %s, p99 %s, max %s\n", st.StartDelayP50, st.StartDelayP99, st.StartDelayMax)
	fmt.Fprintf(stdout, "CPU: %.1f s over %.0f s (%.1f%% of one core)\n", cpu, elapsed.Seconds(), 100*cpu/elapsed.Seconds())
	fmt.Fprintf(stdout, "max RSS: %.0f MB\n", float64(after.Maxrss)/1024)
	if f := store.firstFailure(); f != "" {
		fmt.Fprintf(stdout, "first failure: %s\n", f)
	}
	return nil
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// serveTarget answers every request with a small page on n addresses.
func serveTarget(n int, stdout io.Writer) error {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "ok\n")
	})
	var addrs []string
	errc := make(chan error, n)
	for i := 1; i <= n; i++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", i))
		if err != nil {
			return err
		}
		addrs = append(addrs, l.Addr().String())
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() { errc <- srv.Serve(l) }()
	}
	fmt.Fprintln(stdout, strings.Join(addrs, " "))
	return <-errc
}

// countingStore serves the checks and counts the results.
type countingStore struct {
	checks []*tocsin.Check
	mu     sync.Mutex
	fails  int
	first  string
}

func (s *countingStore) Checks(context.Context) ([]*tocsin.Check, error) { return s.checks, nil }

func (s *countingStore) RecordCheckResults(_ context.Context, rs []*tocsin.CheckResult) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rs {
		if !r.OK {
			s.fails++
			if s.first == "" {
				s.first = r.Error
			}
		}
	}
	return nil
}

func (s *countingStore) failed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fails
}

func (s *countingStore) firstFailure() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first
}
