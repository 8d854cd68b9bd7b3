package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGTERM stops serve cleanly: HTTP first, then the workers, status 0.
func TestServeStopsCleanlyOnSIGTERM(t *testing.T) {
	in := newInstance(t, "sqlite")
	p := in.start()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("still running 30 s after SIGTERM\n%s", p.stderr)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 || !strings.Contains(p.stderr.String(), "tocsin stopped") {
		t.Errorf("after SIGTERM: status %d, stderr:\n%s", code, p.stderr)
	}
}

// The secret key lives outside the database: a 0600 file in a 0700 data
// directory, or TOCSIN_SECRET_KEY, whose bad values stop start-up.
func TestSecretKey(t *testing.T) {
	t.Run("key file", func(t *testing.T) {
		in := newInstance(t, "sqlite")
		in.serve()
		for path, want := range map[string]os.FileMode{in.dataDir: 0o700 | os.ModeDir, filepath.Join(in.dataDir, "secret.key"): 0o600} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != want {
				t.Errorf("%s: mode %v, want %v", path, fi.Mode(), want)
			}
		}
	})
	t.Run("from the environment", func(t *testing.T) {
		in := newInstance(t, "sqlite").with("TOCSIN_SECRET_KEY", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
		in.serve()
		if _, err := os.Stat(filepath.Join(in.dataDir, "secret.key")); !os.IsNotExist(err) {
			t.Errorf("a key file was written although TOCSIN_SECRET_KEY is set (stat: %v)", err)
		}
	})
	t.Run("bad value", func(t *testing.T) {
		in := newInstance(t, "sqlite").with("TOCSIN_SECRET_KEY", "c2hvcnQ=")
		r := in.cli("", "serve", "--listen", "127.0.0.1:0")
		if r.code() != 1 || !strings.Contains(r.message(), "TOCSIN_SECRET_KEY must be the base64 of 32 bytes, not 5") || strings.Contains(r.stderr, "listening") {
			t.Errorf("status %d, message %q", r.code(), r.message())
		}
	})
}

// Without --config, tocsin.yaml in the working directory is read.
func TestDefaultConfigFileInWorkingDirectory(t *testing.T) {
	in := newInstance(t, "sqlite")
	dir := filepath.Dir(in.dataDir)
	if err := os.WriteFile(filepath.Join(dir, "tocsin.yaml"), []byte("lang: xx\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, status := in.execCLI("", "migrate", "--data", in.dataDir)
	if status != 1 || !strings.Contains(stderr, `lang: "xx" is not valid`) {
		t.Errorf("tocsin.yaml in the working directory not applied: status %d, stderr %q", status, stderr)
	}
	if _, stderr, status := in.execCLI("", "migrate", "--data", in.dataDir, "--config", "/dev/null"); status != 0 {
		t.Errorf("--config overrides tocsin.yaml: status %d, stderr %q", status, stderr)
	}
}

// A serve that cannot bind its port (another tocsin on the same data, say)
// stops before its worker claims anything: otherwise it would abandon
// claimed messages mid-delivery as it exits.
func TestServeThatCannotListenClaimsNothing(t *testing.T) {
	in := newInstance(t, "sqlite")
	in.addUser(crashUser, "responder")
	s := in.serve() // no SMTP host: the message waits
	failSignIn(t, s.URL, crashUser)
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port, accepted := stallingSMTP(t)
	r := in.with(smtpEnv(port, crashPoll)...).cli("", "serve", "--listen", taken.Addr().String())
	if r.code() != 1 || !strings.Contains(r.message(), "listen on "+taken.Addr().String()) {
		t.Fatalf("status %d, message %q; want a refusal to listen", r.code(), r.message())
	}
	select {
	case <-accepted:
		t.Error("the failed start connected to the SMTP server")
	default:
	}
	if rows := in.outbox(); len(rows) != 1 || rows[0].attempts != 0 || rows[0].locked {
		t.Errorf("the failed start claimed the message: %+v", rows)
	}
}
