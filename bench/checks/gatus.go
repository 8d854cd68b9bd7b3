package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// runGatus runs the same checks in Gatus for the same duration against
// the same target, and prints the checks it completed per minute (counted
// by the target), its CPU seconds and its maximum RSS.
func runGatus(bin string, checks []*tocsin.Check, interval, duration time.Duration, target string, stdout io.Writer) error {
	dir, err := os.MkdirTemp("", "tocsin-bench-gatus-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	var b strings.Builder
	// Gatus monitors 3 endpoints at once by default; 64 matches tocsin's
	// default concurrency.
	fmt.Fprintf(&b, "concurrency: 64\nstorage:\n  type: memory\nweb:\n  address: 127.0.0.1\n  port: %d\nendpoints:\n", port)
	for i, c := range checks {
		fmt.Fprintf(&b, "  - name: c%d\n    url: %q\n    interval: %s\n    conditions: [\"[STATUS] == 200\"]\n", i+1, c.Spec.URL, interval)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		return err
	}
	count := func() (int64, error) {
		resp, err := http.Get("http://" + target + "/_counts")
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return strconv.ParseInt(strings.TrimSpace(string(body)), 10, 64)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "GATUS_CONFIG_PATH="+cfg, "GATUS_LOG_LEVEL=WARN")
	cmd.Stderr = io.Discard
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("gatus: %w", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	fmt.Fprintf(stdout, "\nGatus (%s), the same %d checks every %s, for %s (concurrency 64)\n", bin, len(checks), interval, duration)
	start := time.Now()
	base, err := count()
	if err != nil {
		return err
	}
	var perInterval []int64
	last := base
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var maxRSS int64
	for now := range tick.C {
		n, err := count()
		if err != nil {
			return err
		}
		perInterval = append(perInterval, n-last)
		last = n
		if rss := procRSS(cmd.Process.Pid); rss > maxRSS {
			maxRSS = rss
		}
		fmt.Fprintf(stdout, "  %5.0fs: %d checks in the last %s\n", now.Sub(start).Seconds(), perInterval[len(perInterval)-1], interval)
		if now.Sub(start) >= duration {
			break
		}
	}
	cpu := procCPU(cmd.Process.Pid)
	elapsed := time.Since(start)
	per := float64(last-base) / elapsed.Minutes()
	if len(perInterval) > 1 {
		var sum int64
		for _, k := range perInterval[1:] {
			sum += k
		}
		per = float64(sum) / float64(len(perInterval)-1) / interval.Minutes()
	}
	fmt.Fprintf(stdout, "Gatus checks completed per minute: %.0f\n", per)
	if k := len(perInterval); k >= 20 {
		// Once every endpoint runs: the mean of the last 10 intervals.
		var sum int64
		for _, v := range perInterval[k-10:] {
			sum += v
		}
		fmt.Fprintf(stdout, "Gatus checks per minute, last 10 intervals: %.0f\n", float64(sum)/10/interval.Minutes())
	}
	fmt.Fprintf(stdout, "Gatus CPU: %.1f s over %.0f s (%.1f%% of one core)\n", cpu, elapsed.Seconds(), 100*cpu/elapsed.Seconds())
	fmt.Fprintf(stdout, "Gatus max RSS: %.0f MB (VmHWM)\n", float64(maxRSS)/1024)
	return nil
}

// procCPU returns the user and system CPU seconds of a process, from
// /proc (clock ticks of 1/100 s, as on Linux since forever).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100
}

// procRSS returns a process's peak RSS in KiB (VmHWM).
func procRSS(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}
