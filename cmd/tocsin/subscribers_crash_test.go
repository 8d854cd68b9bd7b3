package main

// Issue 3, third target: N confirmed subscribers are notified of one
// published update through the real SMTP peer (OpenSMTPD + Dovecot); the
// binary is killed (SIGKILL) once about half the mail is delivered, started
// again on the same data, and every subscriber must end up with exactly one
// message.
//
// A message whose SMTP transaction completed just before the kill, but
// whose outcome was not yet recorded, is sent again after its lease: no
// sender can know whether the server kept it. The copy carries the same
// Message-ID (derived from the outbox key), which is how a receiver
// recognises it; so "exactly one message" is counted as one distinct
// Message-ID per subscriber, and the physical copies are bounded by the
// deliveries in flight at the kill (the worker's concurrency) and reported.
//
// N is 300 here; TOCSIN_SUBSCRIBERS_N=10000 (bench/subscribers.sh) runs the
// target's size with the same code and logs the rates.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin/internal/testpeer"
	"github.com/tocsin-org/tocsin/notify"
)

// fanoutConcurrency is the worker's concurrency in this test: the SMTP
// peer, not tocsin, bounds the rate here (OpenSMTPD hands each message to
// a new Dovecot LMTP process), and more parallel sessions only queue there.
const fanoutConcurrency = 4

func subscribersN(t *testing.T) int {
	if v := os.Getenv("TOCSIN_SUBSCRIBERS_N"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			t.Fatalf("TOCSIN_SUBSCRIBERS_N=%q: want a number ≥ 2", v)
		}
		return n
	}
	return 300
}

func subscriberAddr(i int) string { return fmt.Sprintf("sub%05d@example.org", i) }

// addSubscribers inserts n confirmed subscribers to all services in one
// transaction, behind the binary's back (the public form's rate limits
// would take a day to let 10,000 through).
func (in *instance) addSubscribers(n int) {
	t := in.t
	t.Helper()
	db := in.openDB(true)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	q := `INSERT INTO subscribers (email, lang, all_services, status, nonce, confirmed_at, created_at) VALUES (?, ?, ?, 'confirmed', ?, ?, ?)`
	var now any = time.Now().UTC().UnixMicro()
	if in.backend == "postgres" {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
		}
		now = time.Now().UTC()
	}
	stmt, err := tx.Prepare(q)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		nonce := make([]byte, 16)
		_, _ = rand.Read(nonce)
		lang := "en"
		if i%2 == 0 {
			lang = "fr"
		}
		if _, err := stmt.Exec(subscriberAddr(i), lang, true, hex.EncodeToString(nonce), now, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// delivered counts the files in each recipient's Maildir, reading
// directories only (parsing 10,000 mails on every poll would be slow).
func delivered(t *testing.T, peer *testpeer.SMTPPeer) (files int, perRecipient map[string]int) {
	t.Helper()
	root := filepath.Join(peer.Dir, "spool", "maildirs")
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	perRecipient = map[string]int{}
	for _, d := range dirs {
		for _, sub := range []string{"new", "cur"} {
			es, err := os.ReadDir(filepath.Join(root, d.Name(), sub))
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			perRecipient[d.Name()] += len(es)
			files += len(es)
		}
	}
	return files, perRecipient
}

func waitDelivered(t *testing.T, peer *testpeer.SMTPPeer, p *proc, what string, timeout time.Duration, cond func(files, recipients int) bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		files, per := delivered(t, peer)
		if cond(files, len(per)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v (%d files, %d recipients)\n%s", what, timeout, files, len(per), p.stderr)
		}
		// Listing 10,000 Maildirs costs CPU the delivery needs: poll less.
		time.Sleep(min(50*time.Millisecond+time.Duration(len(per))*100*time.Microsecond, time.Second))
	}
}

func TestSubscribersNotifiedOnceAcrossAKill(t *testing.T) {
	n := subscribersN(t)
	run := func(t *testing.T, in *instance) {
		peer := testpeer.StartSMTP(t)
		token := strings.TrimSpace(in.mustCLI("", "token", "create", "--name", "fanout", "--role", "communicator"))
		in.addSubscribers(n)
		_, port, _ := net.SplitHostPort(peer.Addr)
		smtpPort, _ := strconv.Atoi(port)
		run := in.with(append(smtpEnv(smtpPort, crashPoll), "TOCSIN_OUTBOX_CONCURRENCY", strconv.Itoa(fanoutConcurrency))...)

		p := run.start()
		start := time.Now()
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/api/v1/incidents", strings.NewReader(
			`{"title":"Mail is down","status":"investigating","body":"We are **looking** into it.","publish":true}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(t, resp); resp.StatusCode != http.StatusCreated {
			t.Fatalf("publish = %d\n%s", resp.StatusCode, body)
		}
		published := time.Since(start)
		// The fan-out: from the publish to every message in the outbox.
		var queued int
		for deadline := time.Now().Add(2 * time.Minute); queued < n && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if err := in.openDB(false).QueryRowContext(context.Background(), `SELECT COUNT(*) FROM messages`).Scan(&queued); err != nil {
				t.Fatal(err)
			}
		}
		fannedOut := time.Since(start)
		waitDelivered(t, peer, p, "half delivered", time.Duration(n)*time.Second/4+time.Minute, func(files, _ int) bool { return files >= n/2 })
		firstRun := time.Since(start)
		p.kill()
		atKill, _ := delivered(t, peer)
		var inFlight, sentAtKill int
		if err := in.openDB(false).QueryRowContext(context.Background(),
			`SELECT COUNT(CASE WHEN sent_at IS NULL AND locked_until IS NOT NULL THEN 1 END), COUNT(sent_at) FROM messages`).
			Scan(&inFlight, &sentAtKill); err != nil {
			t.Fatal(err)
		}

		restart := time.Now()
		p = run.start()
		waitDelivered(t, peer, p, "every subscriber reached", time.Duration(n)*time.Second/4+time.Minute, func(_, recipients int) bool { return recipients >= n })
		rows := in.waitOutbox("every message marked sent", time.Minute, func(rows []outboxRow) bool {
			for _, r := range rows {
				if !r.sent {
					return false
				}
			}
			return len(rows) == n
		})
		secondRun := time.Since(restart)
		// Copies would come from claims after the lease (4 s): wait past it.
		time.Sleep(5 * time.Second)
		p.kill()

		msgs := peer.Messages(t)
		ids := map[string]map[string]bool{}
		for _, m := range msgs {
			if ids[m.Recipient] == nil {
				ids[m.Recipient] = map[string]bool{}
			}
			ids[m.Recipient][m.Header.Get("Message-Id")] = true
			if m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.Contains(m.Header.Get("List-Unsubscribe"), "/unsubscribe/") {
				t.Fatalf("message to %s without one-click unsubscribe headers: %v", m.Recipient, m.Header)
			}
		}
		wantIDs := map[string]string{}
		for _, r := range rows {
			if r.dead || r.attempts < 1 {
				t.Errorf("outbox row %+v", r)
			}
			wantIDs[r.recipient] = notify.MessageID(r.key, "example.org")
		}
		for i := range n {
			addr := subscriberAddr(i)
			got := ids[addr]
			if len(got) != 1 || !got[wantIDs[addr]] {
				t.Fatalf("%s received Message-IDs %v, want exactly %s", addr, got, wantIDs[addr])
			}
		}
		copies := len(msgs) - n
		if copies < 0 || copies > fanoutConcurrency {
			t.Errorf("%d extra copies, want at most the %d deliveries that can be in flight at the kill", copies, fanoutConcurrency)
		}
		rate := func(k int, d time.Duration) float64 { return float64(k) / d.Seconds() }
		t.Logf("%s: %d subscribers; publish answered in %v; killed after %d delivered in %v (%.0f messages/s, %d claims in flight); "+
			"restarted: the remaining %d in %v (%.0f messages/s); overall %.0f messages/s; exactly one distinct message each; %d extra copies with the same Message-ID",
			in.backend, n, published.Round(time.Millisecond), atKill, firstRun.Round(time.Millisecond), rate(atKill, firstRun), inFlight,
			n-atKill, secondRun.Round(time.Millisecond), rate(n-atKill, secondRun), rate(len(msgs), firstRun+secondRun), copies)
		t.Logf("%s: the fan-out queued %d messages %v after the publish (%.0f messages/s)", in.backend, queued,
			fannedOut.Round(time.Millisecond), rate(queued, fannedOut))
		t.Logf("%s: at the kill the outbox had %d messages accepted by the SMTP server (%.0f/s), %d of them already in Maildirs",
			in.backend, sentAtKill, rate(sentAtKill, firstRun), atKill)
	}
	// TOCSIN_SUBSCRIBERS_BACKEND=sqlite|postgres runs one backend only
	// (bench/subscribers.sh).
	if b := os.Getenv("TOCSIN_SUBSCRIBERS_BACKEND"); b != "" {
		t.Run(b, func(t *testing.T) { run(t, newInstance(t, b)) })
		return
	}
	backends(t, run)
}
