package testpeer

import (
	"bufio"
	"bytes"
	"cmp"
	"fmt"
	"io"
	"net"
	"net/mail"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The SMTP peer is a real OpenSMTPD that hands every message over LMTP to a
// real Dovecot, which stores it in one Maildir per recipient under the
// test's temporary directory.
//
// Why this shape:
//   - OpenSMTPD keeps its spool (/var/spool/smtpd) and control socket
//     (/run/smtpd.sock) at paths fixed at build time, so each daemon runs
//     under `unshare --mount` with the test's own directories bind-mounted
//     over /var/spool and /run. Several peers (parallel tests, parallel
//     packages) never see each other, and the host's own mail system, if
//     any, is untouched.
//   - Delivery goes through Dovecot's LMTP with OpenSMTPD's "lmtp" action
//     (one mail.lmtp process per delivery, about 25 ms a message here). A
//     catch-all virtual table maps every recipient to the user nobody, so
//     any address is accepted and still reaches Dovecot unchanged. The
//     alternatives were slower: local delivery took 0.7–10 s a message, and
//     a "relay host lmtp://" action reuses an idle session only after about
//     1 s, or reconnects after about 5 s.
//   - Dovecot refuses to store mail as root, so it stores it as nobody, in
//     a directory reached through the same /var/spool bind mount (the
//     test's temporary directories are private to root). Its static userdb
//     is a catch-all too.
//
// The peer speaks plain SMTP only, so it offers neither STARTTLS nor AUTH
// (OpenSMTPD offers AUTH only over TLS): Debian 12's OpenSMTPD 6.8.0p2 fails
// every server-side TLS handshake under OpenSSL 3 ("missing private key",
// "EVP lib", OpenSMTPD issues #1171 and #1239), with RSA and ECDSA keys
// alike. TLSFront puts a TLS listener in front of it for implicit TLS, and
// StartSubmission adds Dovecot's submission service, with STARTTLS and
// AUTH, in front of it (see submission.go).

// Recipient domains the SMTP peer refuses at RCPT TO, so that tests can see
// a real server's refusals.
const (
	RejectDomain   = "reject.invalid"   // 550 5.1.1
	TempFailDomain = "tempfail.invalid" // 451 4.7.1
)

// SMTPPeer is a running OpenSMTPD + Dovecot pair.
type SMTPPeer struct {
	Addr string // 127.0.0.1:port, plain SMTP
	Dir  string // the peer's temporary directory

	maildirs   string
	submission string // SubmissionIP:port of Dovecot's submission service, if started
	procs      []*process
}

// ReceivedMail is one message as stored for one recipient.
type ReceivedMail struct {
	Recipient string // envelope recipient (RCPT TO), lower-cased
	Sender    string // envelope sender (MAIL FROM), from Return-Path
	Raw       []byte // the stored file, with the trace headers the servers added; Dovecot stores LF line ends
	Header    mail.Header
	Body      []byte // as transferred: still quoted-printable or base64 encoded
	File      string
}

// StartSMTP starts a peer for the length of the test. It skips the test
// when OpenSMTPD, Dovecot or the rights to run them are missing, or fails
// it when TOCSIN_REQUIRE_PEERS is set.
func StartSMTP(t testing.TB) *SMTPPeer {
	t.Helper()
	return runSMTP(t, "SMTP peer", smtpPrograms(t), nil)
}

// smtpPrograms finds the programs of the SMTP peer, or ends the test.
func smtpPrograms(t testing.TB) map[string]string {
	t.Helper()
	progs := map[string]string{}
	for _, name := range []string{"smtpd", "dovecot", "unshare", "mount"} {
		p, err := findProgram(name)
		if err != nil {
			unavailable(t, "SMTP peer needs OpenSMTPD and Dovecot (apt-get install opensmtpd dovecot-lmtpd): %v", err)
		}
		progs[name] = p
	}
	if _, err := os.Stat("/usr/lib/dovecot/lmtp"); err != nil {
		unavailable(t, "SMTP peer needs Dovecot's LMTP server (apt-get install dovecot-lmtpd): %v", err)
	}
	if os.Geteuid() != 0 {
		unavailable(t, "SMTP peer needs root, to run OpenSMTPD in its own mount namespace")
	}
	return progs
}

// runSMTP starts the peer, with Dovecot's submission service too when sub
// is not nil, and stops it when the test ends.
func runSMTP(t testing.TB, what string, progs map[string]string, sub *submissionConf) *SMTPPeer {
	t.Helper()
	var lastErr error
	for range 3 { // a port picked may be taken before the daemon binds it
		p, err := startSMTP(t.TempDir(), progs, sub)
		if err == nil {
			t.Cleanup(func() {
				if err := p.stop(); err != nil {
					t.Errorf("testpeer: stopping %s: %v", what, err)
				}
				if t.Failed() {
					t.Logf("testpeer: %s log:\n%s", what, p.Log())
				}
			})
			return p
		}
		lastErr = err
	}
	t.Fatalf("testpeer: %s did not start: %v", what, lastErr)
	return nil
}

func startSMTP(dir string, progs map[string]string, sub *submissionConf) (*SMTPPeer, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	smtpPort, lmtpPort, submissionPort := ports[0], ports[1], ports[2]
	p := &SMTPPeer{
		Addr:     net.JoinHostPort("127.0.0.1", strconv.Itoa(smtpPort)),
		Dir:      dir,
		maildirs: filepath.Join(dir, "spool", "maildirs"),
	}
	run := filepath.Join(dir, "run")     // mounted over /run
	spool := filepath.Join(dir, "spool") // mounted over /var/spool
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{{run, 0o755}, {spool, 0o755}, {filepath.Join(spool, "smtpd"), 0o711}, {p.maildirs, 0o700}} {
		if err := os.Mkdir(d.path, d.mode); err != nil {
			return nil, err
		}
		if err := os.Chmod(d.path, d.mode); err != nil { // umask
			return nil, err
		}
	}
	uid, gid := nobody()
	if err := os.Chown(p.maildirs, uid, gid); err != nil {
		return nil, err
	}

	conf := fmt.Sprintf(dovecotConfig, "lmtp", lmtpPort) + dovecotNoAuth
	ready := []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(lmtpPort)), p.Addr}
	if sub != nil {
		conf, err = sub.setUp(run, lmtpPort, smtpPort, submissionPort)
		if err != nil {
			return nil, err
		}
		p.submission = net.JoinHostPort(SubmissionIP, strconv.Itoa(submissionPort))
		ready = append(ready, p.submission)
	}
	dovecotConf := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(dovecotConf, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	smtpdConf := filepath.Join(dir, "smtpd.conf")
	conf = fmt.Sprintf(smtpdConfig, RejectDomain, TempFailDomain, smtpPort, lmtpPort)
	if err := os.WriteFile(smtpdConf, []byte(conf), 0o644); err != nil {
		return nil, err
	}

	// Each daemon gets its own mount namespace with the same two
	// directories mounted; the shell execs the daemon, so the process the
	// test holds is the daemon's master process.
	inNamespace := func(args ...string) []string {
		return append([]string{progs["unshare"], "--mount", "--propagation", "private", "/bin/sh", "-c",
			`set -e; "$0" --bind "$1" /run; "$0" --bind "$2" /var/spool; shift 3; exec "$@"`,
			progs["mount"], run, spool, "--"}, args...)
	}
	dovecot, err := startProcess("dovecot", filepath.Join(dir, "dovecot.log"),
		inNamespace(progs["dovecot"], "-F", "-c", dovecotConf)...)
	if err != nil {
		return nil, err
	}
	p.procs = append(p.procs, dovecot)
	smtpd, err := startProcess("smtpd", filepath.Join(dir, "smtpd.log"),
		inNamespace(progs["smtpd"], "-d", "-f", smtpdConf)...)
	if err != nil {
		p.stop()
		return nil, err
	}
	p.procs = append(p.procs, smtpd)

	if err := p.waitReady(10*time.Second, ready...); err != nil {
		p.stop()
		return nil, fmt.Errorf("%w\n%s", err, p.Log())
	}
	return p, nil
}

// The LMTP server stores into /var/spool/maildirs/ADDRESS, the test's
// spool/maildirs/ADDRESS seen from outside the namespace. The arguments
// are the protocols and the LMTP port; dovecotNoAuth or the submission
// settings (see submission.go) follow it.
const dovecotConfig = `base_dir = /run/dovecot
state_dir = /run/dovecot-state
log_path = /dev/stderr
protocols = %s
listen = 127.0.0.1
recipient_delimiter =
mail_location = maildir:/var/spool/maildirs/%%u
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/var/spool/maildirs/%%u allow_all_users=yes
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = %d
  }
}
`

// dovecotNoAuth completes dovecotConfig for LMTP alone: no TLS, and the
// passdb Dovecot insists on, which LMTP never asks.
const dovecotNoAuth = `ssl = no
passdb {
  driver = static
  args = nopassword=y
}
`

const smtpdConfig = `table catchall { "@" = "nobody" }
table rejected { "@%s" }
table tempfailed { "@%s" }
filter "reject" phase rcpt-to match rcpt-to <rejected> reject "550 5.1.1 Recipient refused by the test peer"
filter "tempfail" phase rcpt-to match rcpt-to <tempfailed> reject "451 4.7.1 Try again later (test peer)"
filter "peer" chain { "reject", "tempfail" }
listen on 127.0.0.1 port %d filter "peer" hostname peer.test
action "deliver" lmtp "127.0.0.1:%d" rcpt-to virtual <catchall>
match from any for any action "deliver"
`

func nobody() (uid, gid int) {
	uid, gid = 65534, 65534
	if u, err := user.Lookup("nobody"); err == nil {
		if n, err := strconv.Atoi(u.Uid); err == nil {
			uid = n
		}
	}
	if g, err := user.LookupGroup("nogroup"); err == nil {
		if n, err := strconv.Atoi(g.Gid); err == nil {
			gid = n
		}
	}
	return uid, gid
}

// waitReady waits until every address greets with a 220 line.
func (p *SMTPPeer) waitReady(timeout time.Duration, addrs ...string) error {
	deadline := time.Now().Add(timeout)
	for _, addr := range addrs {
		for {
			for _, proc := range p.procs {
				if proc.exited() {
					return fmt.Errorf("%s exited during start-up: %v", proc.name, proc.err)
				}
			}
			if greets(addr) {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("no greeting on %s after %v", addr, timeout)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

func greets(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "220") {
		return false
	}
	_, _ = c.Write([]byte("QUIT\r\n"))
	return true
}

func (p *SMTPPeer) stop() error {
	var wg sync.WaitGroup
	errs := make([]error, len(p.procs))
	for i, proc := range p.procs {
		wg.Go(func() { errs[i] = proc.stop(5 * time.Second) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Log returns what the two daemons wrote, for failure messages.
func (p *SMTPPeer) Log() string {
	var b strings.Builder
	for _, name := range []string{"smtpd.log", "dovecot.log"} {
		data, _ := os.ReadFile(filepath.Join(p.Dir, name))
		fmt.Fprintf(&b, "--- %s\n%s", name, data)
	}
	return b.String()
}

// Messages returns every message delivered so far, one per recipient, in
// delivery order.
func (p *SMTPPeer) Messages(t testing.TB) []ReceivedMail {
	t.Helper()
	msgs, err := p.messages()
	if err != nil {
		t.Fatalf("testpeer: reading delivered mail: %v", err)
	}
	return msgs
}

// WaitFor polls until at least n messages have been delivered and returns
// them all; it fails the test after timeout.
func (p *SMTPPeer) WaitFor(t testing.TB, n int, timeout time.Duration) []ReceivedMail {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs, err := p.messages()
		if err != nil {
			t.Fatalf("testpeer: reading delivered mail: %v", err)
		}
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("testpeer: %d message(s) delivered after %v, want %d\n%s", len(msgs), timeout, n, p.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

type storedFile struct {
	path      string
	sec, usec int64
}

func (p *SMTPPeer) messages() ([]ReceivedMail, error) {
	var files []storedFile
	rcptDirs, err := os.ReadDir(p.maildirs)
	if err != nil {
		return nil, err
	}
	for _, rd := range rcptDirs {
		for _, sub := range []string{"new", "cur"} {
			entries, err := os.ReadDir(filepath.Join(p.maildirs, rd.Name(), sub))
			if os.IsNotExist(err) {
				continue
			} else if err != nil {
				return nil, err
			}
			for _, e := range entries {
				f := storedFile{path: filepath.Join(p.maildirs, rd.Name(), sub, e.Name())}
				// Maildir names start with SECONDS.M<MICROSECONDS>P<PID>.
				secs, rest, _ := strings.Cut(e.Name(), ".")
				f.sec, _ = strconv.ParseInt(secs, 10, 64)
				if us, ok := strings.CutPrefix(rest, "M"); ok {
					us, _, _ = strings.Cut(us, "P")
					f.usec, _ = strconv.ParseInt(us, 10, 64)
				}
				files = append(files, f)
			}
		}
	}
	slices.SortFunc(files, func(a, b storedFile) int {
		return cmp.Or(cmp.Compare(a.sec, b.sec), cmp.Compare(a.usec, b.usec), strings.Compare(a.path, b.path))
	})
	msgs := make([]ReceivedMail, 0, len(files))
	for _, f := range files {
		raw, err := os.ReadFile(f.path)
		if err != nil {
			return nil, err
		}
		m, err := parseReceived(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.path, err)
		}
		m.File = f.path
		if m.Recipient == "" {
			m.Recipient = filepath.Base(filepath.Dir(filepath.Dir(f.path)))
		}
		msgs = append(msgs, m)
	}
	return msgs, nil
}

func parseReceived(raw []byte) (ReceivedMail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ReceivedMail{}, err
	}
	body, err := io.ReadAll(msg.Body)
	if err != nil {
		return ReceivedMail{}, err
	}
	return ReceivedMail{
		Raw:       raw,
		Header:    msg.Header,
		Body:      body,
		Recipient: strings.ToLower(strings.TrimSpace(msg.Header.Get("Delivered-To"))),
		Sender:    strings.Trim(strings.TrimSpace(msg.Header.Get("Return-Path")), "<>"),
	}, nil
}
