// Package testpeer starts real servers (not fakes) for tests: each peer runs
// from a temporary directory the test owns, listens on 127.0.0.1 on ports
// picked for it, and is stopped by process id when the test ends.
//
// When a peer's programs are missing, the test is skipped, unless the
// environment variable TOCSIN_REQUIRE_PEERS is set (CI sets it): then the
// test fails, so that a broken CI image never passes by skipping.
package testpeer

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// RequireEnv is the environment variable that turns a missing peer from a
// skipped test into a failed one.
const RequireEnv = "TOCSIN_REQUIRE_PEERS"

// unavailable skips or fails t because a peer cannot run here.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(RequireEnv) != "" {
		t.Fatalf("testpeer: %s (%s is set, so this is a failure, not a skip)", msg, RequireEnv)
		return
	}
	t.Skipf("testpeer: %s; set %s=1 to make this a failure", msg, RequireEnv)
}

// findProgram returns the path of a program, looking in the sbin
// directories too (they are often not on a test's PATH).
func findProgram(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := dir + "/" + name
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in /usr/sbin", name)
}

// freePorts returns n distinct TCP ports on 127.0.0.1 that were free a
// moment ago. The listeners are held until all n are picked, so the ports
// differ; a peer that loses the race to another process fails to start and
// the caller tries again with new ports.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// process is a daemon started in its own process group.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited and been reaped
	err  error         // exit status, valid after done
}

// startProcess starts args[0] with its output appended to logPath. The
// process leads a new process group, so that stop can reach every child it
// forked.
func startProcess(name, logPath string, args ...string) (*process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child holds its own copy
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the whole process group (Dovecot's master alone
// takes seconds to wind its children down; each told directly, they are
// gone in milliseconds and the master still reaps them), waits up to
// grace, then kills whatever is left of the group.
func (p *process) stop(grace time.Duration) error {
	pid := p.cmd.Process.Pid
	if !p.exited() {
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			<-p.done
		}
	}
	// Children that outlived their parent are still in the group.
	deadline := time.Now().Add(grace)
	for {
		err := syscall.Kill(-pid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: processes of group %d still running after %v", p.name, pid, grace)
		}
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		time.Sleep(10 * time.Millisecond)
	}
}
