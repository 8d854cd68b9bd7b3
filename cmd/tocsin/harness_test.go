package main

// The harness runs the real program: in-process through run(), with its own
// environment, standard input and output, or as the built binary in a
// process of its own where the process boundary matters (exit statuses,
// SIGKILL). Every instance has a temporary data directory; with
// TOCSIN_TEST_POSTGRES set, the PostgreSQL variants get a schema of their
// own, dropped at the end.

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// syncBuffer is an io.Writer that the server goroutine writes while the
// test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// instance is one tocsin installation: a data directory, a database and
// the TOCSIN_* variables its commands see.
type instance struct {
	t       *testing.T
	dataDir string
	env     map[string]string
	backend string // "sqlite" or "postgres"
	config  string // a configuration file serve reads, if set
}

// backends runs fn once on SQLite and once on PostgreSQL (skipped without
// TOCSIN_TEST_POSTGRES).
func backends(t *testing.T, fn func(t *testing.T, in *instance)) {
	t.Helper()
	for _, b := range []string{"sqlite", "postgres"} {
		t.Run(b, func(t *testing.T) { fn(t, newInstance(t, b)) })
	}
}

func newInstance(t *testing.T, backend string) *instance {
	t.Helper()
	in := &instance{t: t, dataDir: filepath.Join(t.TempDir(), "data"), env: map[string]string{}, backend: backend}
	if backend == "postgres" {
		in.env["TOCSIN_DATABASE"] = testpeer.PostgresSchema(t)
	}
	return in
}

func (in *instance) getenv(key string) string { return in.env[key] }

// with returns a copy of the instance with more variables set.
func (in *instance) with(kv ...string) *instance {
	c := *in
	c.env = map[string]string{}
	for k, v := range in.env {
		c.env[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		c.env[kv[i]] = kv[i+1]
	}
	return &c
}

// dataArgs inserts --data DIR after the command words of args (flags must
// come before positional arguments).
func (in *instance) dataArgs(args []string) []string {
	n := 1
	if len(args) > 1 && (args[0] == "user" || args[0] == "token" || args[0] == "audit" || args[0] == "runbook") {
		n = 2
	}
	if len(args) < n {
		return args
	}
	out := append([]string{}, args[:n]...)
	out = append(out, "--data", in.dataDir)
	return append(out, args[n:]...)
}

// result is what a command left behind.
type result struct {
	stdout, stderr string
	err            error
}

// code is the exit status main would give err.
func (r result) code() int {
	if r.err == nil {
		return 0
	}
	var ec exitCode
	if errors.As(r.err, &ec) {
		return int(ec)
	}
	return 1
}

// message is what the user sees: stderr plus the error main would print.
func (r result) message() string {
	if r.err == nil {
		return r.stderr
	}
	return r.stderr + "tocsin: " + describe(r.err)
}

// cli runs one command in-process with --data added, and stdin as input.
func (in *instance) cli(stdin string, args ...string) result {
	in.t.Helper()
	return in.runRaw(stdin, in.dataArgs(args)...)
}

// runRaw runs tocsin in-process with exactly these arguments.
func (in *instance) runRaw(stdin string, args ...string) result {
	in.t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, append([]string{"tocsin"}, args...), in.getenv, strings.NewReader(stdin), &stdout, &stderr)
	return result{stdout.String(), stderr.String(), err}
}

// mustCLI runs a command that must succeed.
func (in *instance) mustCLI(stdin string, args ...string) string {
	in.t.Helper()
	r := in.cli(stdin, args...)
	if r.err != nil {
		in.t.Fatalf("tocsin %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
	}
	return r.stdout
}

const goodPassword = "correct horse battery staple"

// addUser creates an account from the command line.
func (in *instance) addUser(email, roles string) {
	in.t.Helper()
	in.mustCLI(goodPassword+"\n", "user", "add", "--email", email, "--role", roles)
}

var listeningRE = regexp.MustCompile(`listening on (\S+) \(`)

// server is a `tocsin serve` running in-process.
type server struct {
	URL            string
	stdout, stderr *syncBuffer
	cancel         context.CancelFunc
	done           chan error
}

// serve starts `tocsin serve` in-process on a port picked by the kernel and
// waits until it answers /readyz; the test's end stops it.
func (in *instance) serve() *server {
	in.t.Helper()
	t := in.t
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &syncBuffer{}, stderr: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	args := []string{"tocsin", "serve", "--data", in.dataDir, "--listen", "127.0.0.1:0"}
	if in.config != "" {
		args = append(args, "--config", in.config)
	}
	go func() { s.done <- run(ctx, args, in.getenv, strings.NewReader(""), s.stdout, s.stderr) }()
	t.Cleanup(func() {
		if err := s.stop(); err != nil {
			t.Errorf("serve ended with: %v\nstderr:\n%s", err, s.stderr)
		}
	})
	addr := waitListening(t, s.stderr, s.done)
	s.URL = "http://" + addr
	waitReady(t, s.URL, s.stderr)
	return s
}

// stop cancels the server's context and returns what run returned.
func (s *server) stop() error {
	s.cancel()
	select {
	case err, ok := <-s.done:
		if !ok {
			return nil
		}
		close(s.done)
		return err
	case <-time.After(30 * time.Second):
		return errors.New("serve did not stop within 30 s of its context ending")
	}
}

// waitListening waits for the "listening on ADDR" line and returns ADDR.
func waitListening(t *testing.T, stderr *syncBuffer, done <-chan error) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := listeningRE.FindStringSubmatch(stderr.String()); m != nil {
			return m[1]
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended before listening: %v\nstderr:\n%s", err, stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not report its address within 30 s\nstderr:\n%s", stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitReady polls /readyz until it answers 200.
func waitReady(t *testing.T, base string, stderr fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz not 200 within 30 s (last: %v)\nstderr:\n%s", base, err, stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// get fetches a URL with optional bearer token and returns status and body.
func get(t *testing.T, u, bearer string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// openDB opens the instance's database behind tocsin's back, to look at or
// tamper with rows. SQLite is opened read-only unless write is set.
func (in *instance) openDB(write bool) *sql.DB {
	in.t.Helper()
	var (
		db  *sql.DB
		err error
	)
	if in.backend == "postgres" {
		db, err = sql.Open("pgx", in.env["TOCSIN_DATABASE"])
	} else {
		dsn := "file:" + filepath.Join(in.dataDir, "tocsin.db") + "?_pragma=busy_timeout(5000)"
		if !write {
			dsn += "&mode=ro"
		}
		db, err = sql.Open("sqlite", dsn)
	}
	if err != nil {
		in.t.Fatal(err)
	}
	in.t.Cleanup(func() { db.Close() })
	return db
}

// exec runs a statement written with ? placeholders (rebound to $n for
// PostgreSQL) on the instance's database.
func (in *instance) exec(query string, args ...any) sql.Result {
	in.t.Helper()
	if in.backend == "postgres" {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	res, err := in.openDB(true).ExecContext(context.Background(), query, args...)
	if err != nil {
		in.t.Fatalf("%s: %v", query, err)
	}
	return res
}

// The binary, built once per test binary for the tests that need a process
// of their own.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary returns the path of the tocsin binary built from this package.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "tocsin-e2e-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "tocsin")
		cmd := exec.Command("go", "build", "-o", binPath, "-ldflags", "-X main.version=e2e", ".")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// environ is the process environment for the binary: the instance's
// TOCSIN_* variables and nothing else of the test's, but PATH.
func (in *instance) environ() []string {
	env := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range in.env {
		env = append(env, k+"="+v)
	}
	return env
}

// execCLI runs the binary to completion and returns its outputs and exit
// status.
func (in *instance) execCLI(stdin string, args ...string) (stdout, stderr string, status int) {
	in.t.Helper()
	var o, e bytes.Buffer
	cmd := exec.Command(binary(in.t), args...)
	cmd.Dir = filepath.Dir(in.dataDir) // no stray tocsin.yaml from the test's directory
	cmd.Env = in.environ()
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		status = ee.ExitCode()
	default:
		in.t.Fatalf("run %v: %v", args, err)
	}
	return o.String(), e.String(), status
}

// proc is `tocsin serve` running as a process of its own.
type proc struct {
	URL    string
	cmd    *exec.Cmd
	stderr *syncBuffer
	stdout *syncBuffer
	done   chan struct{}
}

// start starts `tocsin serve` as a process and waits until it is ready.
// The test's end kills it if it still runs.
func (in *instance) start() *proc {
	in.t.Helper()
	t := in.t
	p := &proc{stderr: &syncBuffer{}, stdout: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary(t), "serve", "--data", in.dataDir, "--listen", "127.0.0.1:0")
	p.cmd.Dir = filepath.Dir(in.dataDir)
	p.cmd.Env = in.environ()
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() {
		exited <- p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("tocsin (pid %d) stderr:\n%s", p.cmd.Process.Pid, p.stderr)
		}
	})
	p.URL = "http://" + waitListening(t, p.stderr, exited)
	waitReady(t, p.URL, p.stderr)
	return p
}

// kill sends SIGKILL to the process and waits until it has been reaped.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}
