package testpeer

import (
	"bufio"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The IMAP peer is a real Dovecot serving one mailbox over IMAP: implicit
// TLS on TLSAddr (a self-signed certificate RootCAs trusts) and plain IMAP,
// with STARTTLS offered, on Addr. One user, from a passwd-file, owns a
// Maildir; tests deliver into it by writing files, as a local delivery
// agent does (tmp/ then a rename into new/), and read its flags back.
//
// As in the SMTP peer (smtp.go), Dovecot runs in a mount namespace with the
// test's directories over /run and /var/spool: it refuses to access mail
// as root, and stores it as nobody, who cannot reach the test's private
// temporary directories any other way. Plain-text login is allowed on the
// plain port (disable_plaintext_auth = no), since a worker configured with
// tls: none must be testable too.

// IMAPPeer is a running Dovecot IMAP server with one mailbox.
type IMAPPeer struct {
	Addr     string // 127.0.0.1:port: plain IMAP, STARTTLS offered
	TLSAddr  string // 127.0.0.1:port: IMAP over TLS
	RootCAs  *x509.CertPool
	Username string
	Password string
	Dir      string

	maildir string // the user's Maildir, outside the namespace
	proc    *process
	seq     atomic.Int64
}

// StartIMAP starts an IMAP peer for the length of the test. It skips the
// test when Dovecot's IMAP server or the rights to run it are missing, or
// fails it when TOCSIN_REQUIRE_PEERS is set.
func StartIMAP(t testing.TB) *IMAPPeer {
	t.Helper()
	progs := map[string]string{}
	for _, name := range []string{"dovecot", "unshare", "mount"} {
		p, err := findProgram(name)
		if err != nil {
			unavailable(t, "IMAP peer needs Dovecot (apt-get install dovecot-imapd): %v", err)
		}
		progs[name] = p
	}
	if _, err := os.Stat("/usr/lib/dovecot/imap"); err != nil {
		unavailable(t, "IMAP peer needs Dovecot's IMAP server (apt-get install dovecot-imapd): %v", err)
	}
	if os.Geteuid() != 0 {
		unavailable(t, "IMAP peer needs root, to run Dovecot in its own mount namespace")
	}
	var lastErr error
	for range 3 { // a port picked may be taken before Dovecot binds it
		p, err := startIMAP(t.TempDir(), progs)
		if err == nil {
			t.Cleanup(func() {
				if err := p.proc.stop(5 * time.Second); err != nil {
					t.Errorf("testpeer: stopping IMAP peer: %v", err)
				}
				if t.Failed() {
					t.Logf("testpeer: IMAP peer log:\n%s", p.Log())
				}
			})
			return p
		}
		lastErr = err
	}
	t.Fatalf("testpeer: IMAP peer did not start: %v", lastErr)
	return nil
}

func startIMAP(dir string, progs map[string]string) (*IMAPPeer, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	cert, pool, err := selfSigned()
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return nil, err
	}
	p := &IMAPPeer{
		Addr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0])),
		TLSAddr:  net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
		RootCAs:  pool,
		Username: "security",
		Password: rand.Text(),
		Dir:      dir,
	}
	run := filepath.Join(dir, "run")     // mounted over /run
	spool := filepath.Join(dir, "spool") // mounted over /var/spool
	p.maildir = filepath.Join(spool, "mail", p.Username, "Maildir")
	uid, gid := nobody()
	for _, d := range []string{run, spool, filepath.Join(spool, "mail"), filepath.Join(spool, "mail", p.Username),
		p.maildir, filepath.Join(p.maildir, "tmp"), filepath.Join(p.maildir, "new"), filepath.Join(p.maildir, "cur")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return nil, err
		}
		if err := os.Chmod(d, 0o755); err != nil { // umask
			return nil, err
		}
		if strings.HasPrefix(d, filepath.Join(spool, "mail")) {
			if err := os.Chown(d, uid, gid); err != nil {
				return nil, err
			}
		}
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"imap-cert.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}), 0o644},
		{"imap-key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600},
		{"imap.passwd", fmt.Appendf(nil, "%s:{PLAIN}%s\n", p.Username, p.Password), 0o644},
	}
	for _, f := range files {
		path := filepath.Join(run, f.name)
		if err := os.WriteFile(path, f.data, f.mode); err != nil {
			return nil, err
		}
		if err := os.Chmod(path, f.mode); err != nil {
			return nil, err
		}
	}
	conf := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, dovecotIMAPConfig, ports[0], ports[1]), 0o644); err != nil {
		return nil, err
	}
	args := []string{progs["unshare"], "--mount", "--propagation", "private", "/bin/sh", "-c",
		`set -e; "$0" --bind "$1" /run; "$0" --bind "$2" /var/spool; shift 3; exec "$@"`,
		progs["mount"], run, spool, "--", progs["dovecot"], "-F", "-c", conf}
	p.proc, err = startProcess("dovecot", filepath.Join(dir, "dovecot.log"), args...)
	if err != nil {
		return nil, err
	}
	if err := p.waitReady(10 * time.Second); err != nil {
		_ = p.proc.stop(5 * time.Second)
		return nil, fmt.Errorf("%w\n%s", err, p.Log())
	}
	return p, nil
}

// dovecotIMAPConfig is Dovecot's whole configuration; the arguments are the
// plain and TLS ports.
const dovecotIMAPConfig = `base_dir = /run/dovecot
state_dir = /run/dovecot-state
log_path = /dev/stderr
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = </run/imap-cert.pem
ssl_key = </run/imap-key.pem
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:/var/spool/mail/%%u/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u /run/imap.passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/var/spool/mail/%%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %d
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = %d
    ssl = yes
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`

// waitReady waits for the "* OK" greeting on both ports.
func (p *IMAPPeer) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, addr := range []string{p.Addr, p.TLSAddr} {
		for !p.greets(addr, addr == p.TLSAddr) {
			if p.proc.exited() {
				return fmt.Errorf("dovecot exited during start-up: %v", p.proc.err)
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("no IMAP greeting on %s after %v", addr, timeout)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

func (p *IMAPPeer) greets(addr string, useTLS bool) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	if useTLS {
		c = tls.Client(c, &tls.Config{RootCAs: p.RootCAs, ServerName: "127.0.0.1"})
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "* OK")
}

// Log returns what Dovecot wrote, for failure messages.
func (p *IMAPPeer) Log() string {
	data, _ := os.ReadFile(filepath.Join(p.Dir, "dovecot.log"))
	return string(data)
}

// Deliver stores raw in the mailbox as a new, unseen message, the way a
// delivery agent does: written in tmp/, then renamed into new/.
func (p *IMAPPeer) Deliver(t testing.TB, raw []byte) {
	t.Helper()
	name := fmt.Sprintf("%d.M%dP%d.testpeer", time.Now().Unix(), p.seq.Add(1), os.Getpid())
	tmp := filepath.Join(p.maildir, "tmp", name)
	if err := os.WriteFile(tmp, raw, 0o600); err != nil {
		t.Fatalf("testpeer: deliver: %v", err)
	}
	uid, gid := nobody()
	if err := os.Chown(tmp, uid, gid); err != nil {
		t.Fatalf("testpeer: deliver: %v", err)
	}
	if err := os.Rename(tmp, filepath.Join(p.maildir, "new", name)); err != nil {
		t.Fatalf("testpeer: deliver: %v", err)
	}
}

// Flags returns, for each message in the mailbox, its Maildir flags ("S"
// for \Seen…), keyed by the name the test delivered it under.
func (p *IMAPPeer) Flags(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, sub := range []string{"new", "cur"} {
		entries, err := os.ReadDir(filepath.Join(p.maildir, sub))
		if err != nil {
			t.Fatalf("testpeer: read mailbox: %v", err)
		}
		for _, e := range entries {
			base, info, _ := strings.Cut(e.Name(), ":")
			flags := ""
			if f, ok := strings.CutPrefix(info, "2,"); ok {
				flags = f
			}
			out[base] = flags
		}
	}
	return out
}
