package main

// Issue 2, item 6: killing the process between commit and delivery loses
// and doubles nothing. The binary runs as a process of its own and is
// killed with SIGKILL (no shutdown code runs), at three points:
//
//   - mid-delivery: the message is committed and claimed, and the worker is
//     connected to an SMTP server that never answers;
//   - after a failed attempt: the server refused the connection, the retry
//     is scheduled, and nothing is in flight;
//   - before any claim: committed, no worker yet. With a worker configured
//     this point cannot be reached on purpose (the sign-in kicks the worker
//     in the same request that commits), so the first run has no SMTP host,
//     which is the same state on disk.
//
// Then the binary starts again on the same data with a real OpenSMTPD +
// Dovecot peer and must deliver the message exactly once.

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin/internal/testpeer"
	"github.com/tocsin-org/tocsin/notify"
)

const (
	crashUser     = "owner@example.org"
	crashPoll     = 200 * time.Millisecond
	failedSubject = "tocsin: failed sign-in to your account"
)

// outboxRow is the messages table as the test sees it.
type outboxRow struct {
	key, recipient, subject, lastError string
	attempts                           int
	sent, dead, locked                 bool
}

func (in *instance) outbox() []outboxRow {
	in.t.Helper()
	rows, err := in.openDB(false).QueryContext(context.Background(), `SELECT key, recipient, subject, last_error, attempts,
		sent_at IS NOT NULL, dead_at IS NOT NULL, locked_until IS NOT NULL FROM messages ORDER BY id`)
	if err != nil {
		in.t.Fatalf("read outbox: %v", err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var r outboxRow
		if err := rows.Scan(&r.key, &r.recipient, &r.subject, &r.lastError, &r.attempts, &r.sent, &r.dead, &r.locked); err != nil {
			in.t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		in.t.Fatal(err)
	}
	return out
}

// waitOutbox polls the outbox until cond holds, or fails after timeout.
func (in *instance) waitOutbox(what string, timeout time.Duration, cond func([]outboxRow) bool) []outboxRow {
	in.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		rows := in.outbox()
		if cond(rows) {
			return rows
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("outbox: %s: not within %v; rows: %+v", what, timeout, rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// failSignIn posts a wrong password for email through the real sign-in
// form, with its CSRF token, as a browser would.
func failSignIn(t *testing.T, base, email string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	m := csrfRE.FindStringSubmatch(readBody(t, resp))
	if m == nil {
		t.Fatal("sign-in form without a CSRF field")
	}
	resp, err = c.PostForm(base+"/signin", url.Values{"csrf": {m[1]}, "email": {email}, "password": {"not the password at all"}, "next": {"/console"}})
	if err != nil {
		t.Fatal(err)
	}
	if body := readBody(t, resp); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("POST /signin with a wrong password = %d, want 401\n%s", resp.StatusCode, body)
	}
}

// stallingSMTP accepts connections and never says a word; accepted
// receives each connection as it is accepted.
func stallingSMTP(t *testing.T) (port int, accepted <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return ln.Addr().(*net.TCPAddr).Port, ch
}

// closedPort returns a port on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	return port
}

func smtpEnv(port int, poll time.Duration) []string {
	return []string{
		"TOCSIN_SMTP_HOST", "127.0.0.1",
		"TOCSIN_SMTP_PORT", strconv.Itoa(port),
		"TOCSIN_SMTP_TLS", "none",
		"TOCSIN_SMTP_FROM", "tocsin@example.org",
		"TOCSIN_OUTBOX_LEASE", "4s",
		"TOCSIN_OUTBOX_SEND_TIMEOUT", "3s",
		"TOCSIN_OUTBOX_POLL_INTERVAL", poll.String(),
		"TOCSIN_OUTBOX_RETRY_BASE", "1s",
	}
}

func TestOutboxKilledBetweenCommitAndDeliverySendsOnce(t *testing.T) {
	for _, tc := range []struct {
		name string
		// crash starts the first process, causes the message, waits for
		// the point to reach, and kills the process there.
		crash        func(t *testing.T, in *instance)
		wantAttempts int // claims counted once delivered: the first run's and the delivery's
	}{
		{
			name: "mid-delivery",
			crash: func(t *testing.T, in *instance) {
				port, accepted := stallingSMTP(t)
				p := in.with(smtpEnv(port, crashPoll)...).start()
				failSignIn(t, p.URL, crashUser)
				select {
				case <-accepted: // committed, claimed, and the worker is talking to "SMTP"
				case <-time.After(30 * time.Second):
					t.Fatalf("the worker never connected to the SMTP server\n%s", p.stderr)
				}
				p.kill()
				rows := in.outbox()
				if len(rows) != 1 || rows[0].attempts != 1 || !rows[0].locked || rows[0].sent || rows[0].lastError != "" {
					t.Fatalf("at the kill, want one message claimed once, in flight, no outcome recorded; got %+v", rows)
				}
			},
			wantAttempts: 2,
		},
		{
			name: "after a failed attempt",
			crash: func(t *testing.T, in *instance) {
				// A poll interval of an hour: after the failure only a kick
				// could make the worker look again, and nothing kicks it.
				p := in.with(smtpEnv(closedPort(t), time.Hour)...).start()
				failSignIn(t, p.URL, crashUser)
				in.waitOutbox("first attempt failed and the retry scheduled", 30*time.Second, func(rows []outboxRow) bool {
					return len(rows) == 1 && rows[0].lastError != "" && !rows[0].locked
				})
				p.kill()
				rows := in.outbox()
				if len(rows) != 1 || rows[0].attempts != 1 || rows[0].sent || rows[0].dead {
					t.Fatalf("at the kill, want one message tried once and due again; got %+v", rows)
				}
			},
			wantAttempts: 2,
		},
		{
			name: "before any claim",
			crash: func(t *testing.T, in *instance) {
				p := in.start() // no SMTP host: no worker
				failSignIn(t, p.URL, crashUser)
				p.kill()
				rows := in.outbox()
				if len(rows) != 1 || rows[0].attempts != 0 || rows[0].locked {
					t.Fatalf("at the kill, want one message never claimed; got %+v", rows)
				}
			},
			wantAttempts: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			backends(t, func(t *testing.T, in *instance) {
				peer := testpeer.StartSMTP(t)
				in.addUser(crashUser, "responder")
				tc.crash(t, in)

				_, port, _ := net.SplitHostPort(peer.Addr)
				n, _ := strconv.Atoi(port)
				p := in.with(smtpEnv(n, crashPoll)...).start()

				msgs := peer.WaitFor(t, 1, 30*time.Second)
				rows := in.waitOutbox("message marked sent", 30*time.Second, func(rows []outboxRow) bool {
					return len(rows) == 1 && rows[0].sent
				})
				// A second copy would come from a second claim; give the
				// worker many polls to make that mistake.
				for deadline := time.Now().Add(10 * crashPoll); time.Now().Before(deadline); {
					if msgs = peer.Messages(t); len(msgs) != 1 {
						break
					}
					time.Sleep(crashPoll / 4)
				}
				if len(msgs) != 1 {
					t.Fatalf("%d messages delivered, want exactly 1\n%s", len(msgs), p.stderr)
				}
				m := msgs[0]
				if m.Recipient != crashUser {
					t.Errorf("delivered to %q, want %q", m.Recipient, crashUser)
				}
				if subj, err := m.Subject(); err != nil || subj != failedSubject {
					t.Errorf("subject = %q (%v), want %q", subj, err, failedSubject)
				}
				row := rows[0]
				if want := notify.MessageID(row.key, "example.org"); m.Header.Get("Message-Id") != want {
					t.Errorf("Message-ID = %q, want %q (derived from the outbox key)", m.Header.Get("Message-Id"), want)
				}
				if row.attempts != tc.wantAttempts || row.dead || row.locked || row.recipient != crashUser || row.subject != failedSubject {
					t.Errorf("outbox row = %+v, want sent after %d attempts, not dead, not locked", row, tc.wantAttempts)
				}
				p.kill()
			})
		})
	}
}
