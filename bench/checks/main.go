// Command checks benchmarks the monitor (issue 7, Targets): N HTTP checks
// at an interval against a local target server spread over several
// 127.0.0.x addresses, for a duration. It prints the start delay (p50,
// p99, max), checks completed per minute, CPU seconds used and the
// maximum RSS of the monitor's process. The target server runs in a child
// process (this program with -serve), so that its CPU is not counted.
// With -store memory, results go to an in-memory counter: this measures
// the scheduler and the prober alone; with -store sqlite (the default),
// they are written by the real store into a fresh SQLite database, as
// `tocsin serve` does. With -gatus PATH, the same checks then run in Gatus
// (built outside this repository) for the same duration against the same
// target, which counts the requests of each.
//
//	go run ./bench/checks -checks 10000 -interval 60s -duration 2m [-gatus /path/to/gatus]
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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/monitor"
	"github.com/tocsin-org/tocsin/probe"
	"github.com/tocsin-org/tocsin/sqlstore"
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
	storeKind := fs.String("store", "sqlite", "where results go: sqlite (the real store, in a temporary directory) or memory")
	gatus := fs.String("gatus", "", "`path` of a Gatus binary to run with the same checks afterwards")
	gatusDuration := fs.Duration("gatus-duration", 0, "how long to run Gatus (default: -duration); it starts its endpoints 222 ms apart, so its steady state needs 45 minutes for 10,000")
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
	var checks []*tocsin.Check
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
		checks = append(checks, c)
	}
	if err := store.open(*storeKind, checks); err != nil {
		return err
	}
	defer store.close()
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
	if *gatus != "" {
		if *gatusDuration <= 0 {
			*gatusDuration = *duration
		}
		return runGatus(*gatus, checks, *interval, *gatusDuration, targets[0], stdout)
	}
	return nil
}

func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// serveTarget answers every request with a small page on n addresses, and
// counts Gatus's requests, which /_counts returns.
func serveTarget(n int, stdout io.Writer) error {
	var gatusRequests atomic.Int64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/_counts" {
			fmt.Fprintln(w, gatusRequests.Load())
			return
		}
		if strings.HasPrefix(r.UserAgent(), "Gatus") {
			gatusRequests.Add(1)
		}
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
	db     *sqlstore.DB
	dir    string
	mu     sync.Mutex
	fails  int
	first  string
}

// open keeps the checks in memory, or creates them in a fresh SQLite
// store whose Checks and RecordCheckResults then serve the monitor.
func (s *countingStore) open(kind string, checks []*tocsin.Check) error {
	switch kind {
	case "memory":
		s.checks = checks
		return nil
	case "sqlite":
	default:
		return fmt.Errorf("-store %q: give sqlite or memory", kind)
	}
	dir, err := os.MkdirTemp("", "tocsin-bench-checks-")
	if err != nil {
		return err
	}
	s.dir = dir
	ctx := context.Background()
	if s.db, err = sqlstore.Open(ctx, "", dir); err != nil {
		return err
	}
	if _, err := s.db.Migrate(ctx); err != nil {
		return err
	}
	svc := &tocsin.Service{Name: "Bench"}
	if err := s.db.CreateService(ctx, tocsin.System, svc); err != nil {
		return err
	}
	for i, c := range checks {
		c.ServiceID, c.ConfigManaged, c.Name = svc.ID, true, fmt.Sprintf("check %d", i+1)
	}
	if err := s.db.SyncConfigChecks(ctx, tocsin.System, checks); err != nil {
		return err
	}
	s.checks, err = s.db.Checks(ctx)
	return err
}

func (s *countingStore) close() {
	if s.db != nil {
		s.db.Close()
		os.RemoveAll(s.dir)
	}
}

func (s *countingStore) Checks(context.Context) ([]*tocsin.Check, error) { return s.checks, nil }

func (s *countingStore) RecordCheckResults(ctx context.Context, rs []*tocsin.CheckResult) error {
	if s.db != nil {
		if err := s.db.RecordCheckResults(ctx, rs); err != nil {
			return err
		}
	}
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
