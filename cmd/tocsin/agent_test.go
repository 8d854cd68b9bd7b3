package main

import (
	"context"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/sqlstore"
)

// target is the probed site on 127.0.0.1. It tells the agents apart by
// the prober's User-Agent ("agent NAME"), so that the test can break the
// network path of one location: those requests get 503.
type target struct {
	mu     sync.Mutex
	broken map[string]bool
	hits   map[string]int // requests answered, per location
	srv    *httptest.Server
}

func newTarget(t *testing.T) *target {
	tg := &target{broken: map[string]bool{}, hits: map[string]int{}}
	tg.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		loc := ""
		if _, after, ok := strings.Cut(r.UserAgent(), "(agent "); ok {
			loc, _, _ = strings.Cut(after, ";")
		}
		tg.mu.Lock()
		defer tg.mu.Unlock()
		tg.hits[loc]++
		if tg.broken[loc] {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "fine")
	}))
	t.Cleanup(tg.srv.Close)
	return tg
}

func (tg *target) breakPath(loc string, broken bool) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.broken[loc] = broken
}

// tlsFront is the hub's HTTPS front: a TLS reverse proxy on 127.0.0.1 to
// the current `tocsin serve`, which the test restarts on another port. Its
// CA is written to a file for --ca-file.
type tlsFront struct {
	upstream atomic.Pointer[url.URL]
	srv      *httptest.Server
	caFile   string
}

func newTLSFront(t *testing.T, hub string) *tlsFront {
	f := &tlsFront{}
	f.point(t, hub)
	f.srv = httptest.NewUnstartedServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(f.upstream.Load()) },
		// 502 while the hub is down is expected; its log lines are noise.
		ErrorLog: log.New(io.Discard, "", 0),
	})
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	f.caFile = filepath.Join(t.TempDir(), "hub-ca.pem")
	if err := os.WriteFile(f.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *tlsFront) point(t *testing.T, hub string) {
	u, err := url.Parse(hub)
	if err != nil {
		t.Fatal(err)
	}
	f.upstream.Store(u)
}

// runningAgent is a `tocsin agent` running in-process.
type runningAgent struct {
	name   string
	spool  string
	stderr *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

func startAgent(t *testing.T, in *instance, front *tlsFront, name, token string) *runningAgent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &runningAgent{name: name, spool: filepath.Join(t.TempDir(), "spool-"+name), stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	env := in.with("TOCSIN_AGENT_TOKEN", token)
	args := []string{"tocsin", "agent", "--hub", front.srv.URL, "--ca-file", front.caFile, "--spool", a.spool,
		"--location", name, "--refresh", "1s", "--retry-max", "1s"}
	go func() { a.done <- run(ctx, args, env.getenv, strings.NewReader(""), &syncBuffer{}, a.stderr) }()
	t.Cleanup(func() { a.stop(t) })
	return a
}

func (a *runningAgent) stop(t *testing.T) {
	a.cancel()
	select {
	case err, ok := <-a.done:
		if ok {
			close(a.done)
			if err != nil {
				t.Errorf("agent %s ended with: %v\n%s", a.name, err, a.stderr)
			}
		}
	case <-time.After(30 * time.Second):
		t.Errorf("agent %s did not stop within 30 s\n%s", a.name, a.stderr)
	}
}

// waitFor polls cond every 50 ms for up to 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAgentsEndToEnd boots the real hub (which probes too, as location "")
// and three real agents behind an HTTPS front: a check with quorum 2 stays
// up when one location of four fails and goes down when two do; then the hub stops mid-run while the agents keep
// probing, starts again on the same data, and every result the agents
// made is stored exactly once.
func TestAgentsEndToEnd(t *testing.T) { backends(t, testAgentsEndToEnd) }

func testAgentsEndToEnd(t *testing.T, in *instance) {
	hub := in.serve()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, in.env["TOCSIN_DATABASE"], in.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })

	tg := newTarget(t)
	svc := &tocsin.Service{Name: "Website"}
	if err := db.CreateService(ctx, tocsin.CLI, svc); err != nil {
		t.Fatal(err)
	}
	check := &tocsin.Check{ServiceID: svc.ID, Kind: tocsin.CheckHTTP, Spec: tocsin.CheckSpec{URL: tg.srv.URL + "/"},
		Interval: time.Second, Timeout: time.Second, FailThreshold: 2, PassThreshold: 1, Quorum: 2}
	check.ApplyDefaults(tocsin.CheckDefaults{})
	if err := check.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCheck(ctx, tocsin.CLI, check); err != nil {
		t.Fatal(err)
	}
	front := newTLSFront(t, hub.URL)
	names := []string{"paris", "lyon", "berlin"}
	agents := map[string]*runningAgent{}
	for _, name := range names {
		token := strings.TrimSpace(in.mustCLI("", "token", "create", "--name", name, "--role", "agent"))
		agents[name] = startAgent(t, in, front, name, token)
	}

	status := func() *tocsin.CheckStatus {
		all, err := db.CheckStatuses(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range all {
			if s.CheckID == check.ID {
				return s
			}
		}
		return &tocsin.CheckStatus{}
	}
	serviceStatus := func() tocsin.ServiceStatus {
		s, err := db.Service(ctx, svc.ID)
		if err != nil {
			t.Fatal(err)
		}
		return s.Status
	}
	// results returns the check's stored results per location.
	results := func() map[string][]*tocsin.CheckResult {
		rs, err := db.CheckResults(ctx, check.ID, time.Now().Add(-time.Hour), 10000)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]*tocsin.CheckResult{}
		for _, r := range rs {
			out[r.Location] = append(out[r.Location], r)
		}
		return out
	}
	failingSince := func(loc string, since time.Time) int {
		n := 0
		for _, r := range results()[loc] {
			if !r.OK && r.StartedAt.After(since) {
				n++
			}
		}
		return n
	}

	t.Run("quorum", func(t *testing.T) {
		waitFor(t, "the check up from the agents' results", func() bool {
			st := status()
			return st.State == tocsin.CheckUp && st.Locations["paris"] != nil && st.Locations["lyon"] != nil && st.Locations["berlin"] != nil
		})
		// One bad network path: paris fails, lyon and berlin do not.
		broke := time.Now()
		tg.breakPath("paris", true)
		waitFor(t, "paris failing 4 times", func() bool { return failingSince("paris", broke) >= 4 })
		if st := status(); st.State != tocsin.CheckUp || serviceStatus() != tocsin.StatusOperational {
			t.Fatalf("one location of three failing moved the check to %s and the service to %s; quorum 2 should hold it up", st.State, serviceStatus())
		}
		if l := status().Locations["paris"]; l == nil || !l.Down {
			t.Errorf("paris should count as down in the check's locations: %+v", l)
		}
		// A second location fails: the quorum is reached.
		tg.breakPath("lyon", true)
		waitFor(t, "the check down with two locations failing", func() bool { return status().State == tocsin.CheckDown })
		if got := serviceStatus(); got != tocsin.StatusMajorOutage {
			t.Errorf("service %s with its check down, want major_outage", got)
		}
		tg.breakPath("paris", false)
		tg.breakPath("lyon", false)
		waitFor(t, "the check up again", func() bool { return status().State == tocsin.CheckUp })
	})

	t.Run("hub stopped mid-run", func(t *testing.T) {
		if err := hub.stop(); err != nil {
			t.Fatal(err)
		}
		down := time.Now()
		// The agents keep probing; their results wait in their spools.
		before := map[string]int{}
		tg.mu.Lock()
		for _, n := range names {
			before[n] = tg.hits[n]
		}
		tg.mu.Unlock()
		waitFor(t, "3 probes per agent with the hub down", func() bool {
			tg.mu.Lock()
			defer tg.mu.Unlock()
			for _, n := range names {
				if tg.hits[n] < before[n]+3 {
					return false
				}
			}
			return true
		})
		for _, n := range names {
			if !strings.Contains(agents[n].stderr.String(), "cannot send results") {
				t.Errorf("agent %s did not say the hub does not take results:\n%s", n, agents[n].stderr)
			}
		}
		up := time.Now()
		hub = in.serve() // the same data directory, another port
		front.point(t, hub.URL)
		// Results of the outage arrive.
		waitFor(t, "the outage's results at the hub", func() bool {
			rs := results()
			for _, n := range names {
				k := 0
				for _, r := range rs[n] {
					if r.StartedAt.After(down) && r.StartedAt.Before(up) {
						k++
					}
				}
				if k < 3 {
					return false
				}
			}
			return true
		})
		// Stop the agents (their last results are sent as they stop), then
		// compare what each made with what the hub stored.
		for _, n := range names {
			agents[n].stop(t)
		}
		rs := results()
		tg.mu.Lock()
		defer tg.mu.Unlock()
		for _, n := range names {
			stored := rs[n]
			starts := map[time.Time]bool{}
			for _, r := range stored {
				if starts[r.StartedAt] {
					t.Errorf("%s: a result starting at %s is stored twice", n, r.StartedAt)
				}
				starts[r.StartedAt] = true
			}
			// Each probe is one request to the target; a probe cut short
			// by the agent's stop is not a result, so one may be missing.
			made := tg.hits[n]
			t.Logf("%s: %d probes, %d results stored", n, made, len(stored))
			if len(stored) != made && len(stored) != made-1 {
				t.Errorf("%s: the target saw %d probes, the hub stored %d results", n, made, len(stored))
			}
			files, _ := filepath.Glob(filepath.Join(agents[n].spool, "*.jsonl"))
			if len(files) != 0 {
				t.Errorf("%s: %d spool files left after a clean stop with the hub up", n, len(files))
			}
		}
	})
}

// TestAgentCommandRefusals: the command's refusals name what to fix.
func TestAgentCommandRefusals(t *testing.T) {
	in := newInstance(t, "sqlite")
	hub := in.serve()
	agentTok := strings.TrimSpace(in.mustCLI("", "token", "create", "--name", "nantes", "--role", "agent"))
	viewerTok := strings.TrimSpace(in.mustCLI("", "token", "create", "--name", "reader", "--role", "viewer"))
	spool := filepath.Join(t.TempDir(), "spool")
	tests := []struct {
		name  string
		token string
		args  []string
		want  string
	}{
		{"no hub", agentTok, nil, "needs --hub"},
		{"http without leave", agentTok, []string{"--hub", hub.URL}, "in clear"},
		{"http elsewhere", agentTok, []string{"--hub", "http://status.example.org", "--insecure-http"}, "only to a loopback address"},
		{"no token", "", []string{"--hub", hub.URL, "--insecure-http"}, "TOCSIN_AGENT_TOKEN"},
		{"bad token", "tocsin_nope", []string{"--hub", hub.URL, "--insecure-http"}, "401"},
		{"viewer token", viewerTok, []string{"--hub", hub.URL, "--insecure-http"}, "role agent"},
		{"other location", agentTok, []string{"--hub", hub.URL, "--insecure-http", "--location", "brest"}, `location "nantes" on the hub, not "brest"`},
		{"unreachable CA file", agentTok, []string{"--hub", "https://127.0.0.1:1", "--ca-file", "/nonexistent/ca.pem"}, "--ca-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := in.with("TOCSIN_AGENT_TOKEN", tt.token)
			r := env.runRaw("", append([]string{"agent", "--spool", spool}, tt.args...)...)
			if r.err == nil || !strings.Contains(r.message(), tt.want) {
				t.Errorf("agent %q: %v\n%s\nwant an error saying %q", tt.args, r.err, r.message(), tt.want)
			}
		})
	}
	t.Run("no account holds the agent role", func(t *testing.T) {
		r := in.cli(goodPassword+"\n", "user", "add", "--email", "bot@example.org", "--role", "agent")
		if r.err == nil || !strings.Contains(r.message(), "only for the API token") {
			t.Errorf("user add --role agent: %v %s", r.err, r.message())
		}
	})
}
