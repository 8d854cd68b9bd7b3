package testpeer

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumTimeout bounds one test's use of the browser. It is generous: the
// browser tests walk many pages and run axe on each, on 2-core machines.
const chromiumTimeout = 5 * time.Minute

// chromiumFlags are the command-line switches the browser runs with, and
// no others (chromedp adds only its own --remote-debugging-pipe and the
// first page, about:blank). Without the network and update switches Chromium
// tries to reach outside hosts and stalls on machines with no internet.
var chromiumFlags = []string{
	"headless",
	"no-sandbox", // the tests run as root in CI, where the sandbox cannot start
	"disable-gpu",
	"disable-quic",
	"no-first-run",
	"disable-background-networking",
	"disable-component-update",
	"disable-sync",
}

// Chromium starts a headless Chromium for t and returns a chromedp context
// driving its first tab, with a deadline of a few minutes. The browser runs
// with a fresh profile in a temporary directory; its output goes to
// chromium.log there. When t ends the browser is closed, and any of its
// processes still running are killed by process id.
//
// When Chromium is not installed, t is skipped, or fails if
// TOCSIN_REQUIRE_PEERS is set.
func Chromium(t *testing.T) context.Context {
	t.Helper()
	exe, err := findChromium()
	if err != nil {
		unavailable(t, "%v (install Debian's chromium package)", err)
	}
	dir := t.TempDir()
	profile := filepath.Join(dir, "profile")
	logPath := filepath.Join(dir, "chromium.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(exe), chromedp.UserDataDir(profile), chromedp.CombinedOutput(logf)}
	for _, f := range chromiumFlags {
		opts = append(opts, chromedp.Flag(f, true))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)

	var pid int
	// Registered before the browser starts, so that a failed start cleans
	// up too. Cleanups run before t.TempDir removes the profile.
	t.Cleanup(func() {
		// Close the browser gracefully (Chromium then ends its own
		// children), waiting at most a few seconds, then tear down.
		closeCtx, cancelClose := context.WithTimeout(browserCtx, 10*time.Second)
		_ = chromedp.Cancel(closeCtx)
		cancelClose()
		cancelBrowser()
		cancelAlloc() // kills the main process if still there, and waits for it
		if pid != 0 {
			_ = syscall.Kill(pid, syscall.SIGKILL) // ESRCH when it is gone, as expected
		}
		killProfileProcesses(profile)
		logf.Close()
	})

	if err := chromedp.Do(browserCtx); err != nil { // starts the browser and opens its first tab
		log, _ := os.ReadFile(logPath)
		t.Fatalf("testpeer: start %s: %v\n%s", exe, err, lastLines(log, 30))
	}
	if p := chromedp.FromContext(browserCtx).Browser.Process(); p != nil {
		pid = p.Pid
	}

	deadline := time.Now().Add(chromiumTimeout)
	if d, ok := t.Deadline(); ok && d.Add(-10*time.Second).Before(deadline) {
		deadline = d.Add(-10 * time.Second) // fail with a message before go test panics
	}
	ctx, cancel := context.WithDeadline(browserCtx, deadline)
	t.Cleanup(cancel)
	return ctx
}

// findChromium returns the path of Debian's chromium, or of another
// Chromium build on PATH.
func findChromium() (string, error) {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := findProgram(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("chromium not found on PATH")
}

// killProcessesUsing kills, by process id, the processes whose command line
// names profile as their user data directory: children of a browser that
// outlived it (Chromium passes --user-data-dir to each of them). Each test's
// profile directory is unique, so no other browser is touched. It looks
// until it finds none several times in a row, since a child may fork while
// its parent dies.
func killProfileProcesses(profile string) {
	want := []byte("--user-data-dir=" + profile + "\x00")
	deadline := time.Now().Add(3 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); {
		found := 0
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if err != nil || !bytes.Contains(cmdline, want) {
				continue
			}
			found++
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		if found == 0 {
			quiet++
		} else {
			quiet = 0
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// lastLines returns the last n lines of b, for error messages.
func lastLines(b []byte, n int) string {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}

// AxeEnv names the environment variable that may point at axe.min.js, the
// axe-core accessibility checker that browser tests inject into pages.
const AxeEnv = "TOCSIN_AXE_JS"

// axePackage is what AxeScript installs from npm when no copy is found.
const axePackage = "axe-core@4"

// AxeScript returns the source of axe.min.js: from $TOCSIN_AXE_JS if set,
// else from .cache/axe-core under the module root, where it is installed
// with `npm install --prefix .cache/axe-core axe-core@4` the first time.
// Without npm, or when the install fails, t is skipped (or fails if
// TOCSIN_REQUIRE_PEERS is set).
func AxeScript(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(AxeEnv); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("testpeer: %s=%s: %v", AxeEnv, p, err)
		}
		return string(b)
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("testpeer: %v", err)
	}
	prefix := filepath.Join(root, ".cache", "axe-core")
	path := filepath.Join(prefix, "node_modules", "axe-core", "axe.min.js")
	if b, err := os.ReadFile(path); err == nil {
		return string(b)
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		unavailable(t, "axe-core is not in %s and npm is not installed to fetch it (or set %s to an axe.min.js)", path, AxeEnv)
	}
	// Test binaries of several packages may get here at once: one installs,
	// the others wait for it.
	if err := os.MkdirAll(prefix, 0o755); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(prefix, ".install.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if b, err := os.ReadFile(path); err == nil {
		return string(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--prefix", prefix, axePackage)
	out, err := cmd.CombinedOutput()
	if err != nil {
		unavailable(t, "npm install --prefix %s %s: %v\n%s", prefix, axePackage, err, lastLines(out, 20))
	}
	t.Logf("testpeer: installed %s into %s", axePackage, prefix)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("testpeer: npm installed %s but %v", axePackage, err)
	}
	return string(b)
}

// moduleRoot returns the directory of the go.mod above the working
// directory (go test runs each package in its own directory).
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
