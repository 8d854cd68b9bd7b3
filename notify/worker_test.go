package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/internal/testpeer"
	"github.com/tocsin-org/tocsin/sqlstore"
)

// The worker runs against the real store (SQLite in a temporary
// directory); messages are enqueued the way the product enqueues them, in
// the transaction of the change that causes them.

func openStore(t *testing.T) *sqlstore.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, "", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// enqueue records a failed sign-in that sends msgs, as the sign-in page
// does, and returns the messages with their IDs set.
func enqueue(t *testing.T, db *sqlstore.DB, at time.Time, msgs ...*tocsin.Message) []*tocsin.Message {
	t.Helper()
	for _, m := range msgs {
		if m.Channel == "" {
			m.Channel = tocsin.ChannelEmail
		}
		if m.NextAttemptAt.IsZero() {
			m.NextAttemptAt = at
		}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = at
		}
	}
	in := &tocsin.SignIn{Email: "someone@example.org", At: at, IP: "192.0.2.10", UserAgent: "test"}
	if err := db.RecordFailedSignIn(context.Background(), in, msgs); err != nil {
		t.Fatalf("RecordFailedSignIn: %v", err)
	}
	return msgs
}

func alert(key, to string) *tocsin.Message {
	return &tocsin.Message{To: to, Subject: "Tentative de connexion échouée", Body: "Une tentative de connexion a échoué.\n", Key: key}
}

// stored reads a message back from the store.
func stored(t *testing.T, db *sqlstore.DB, id int64) *tocsin.Message {
	t.Helper()
	msgs, err := db.Messages(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("message %d not in the outbox", id)
	return nil
}

// eventually polls cond for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// clock is a hand-moved clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Now().UTC().Truncate(time.Second)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// scripted is a channel whose Send returns what the test says.
type scripted struct {
	send func(ctx context.Context, m *tocsin.Message, call int) error

	mu    sync.Mutex
	calls []int64 // message IDs, in call order
}

func (s *scripted) Name() string    { return tocsin.ChannelEmail }
func (s *scripted) Validate() error { return nil }
func (s *scripted) Send(ctx context.Context, m *tocsin.Message) error {
	s.mu.Lock()
	s.calls = append(s.calls, m.ID)
	n := len(s.calls)
	s.mu.Unlock()
	if s.send == nil {
		return nil
	}
	return s.send(ctx, m, n)
}

func (s *scripted) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

func startWorker(t *testing.T, db *sqlstore.DB, ch Channel, opts WorkerOptions, logger *slog.Logger) *Worker {
	t.Helper()
	if opts.PollInterval == 0 {
		opts.PollInterval = 10 * time.Millisecond
	}
	w, err := NewWorker(db, map[string]Channel{ch.Name(): ch}, opts, logger)
	if err != nil {
		t.Fatal(err)
	}
	w.Start(context.Background())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return w
}

func TestWorkerSendsEnqueuedMailThroughTheSMTPPeerAndMarksItSent(t *testing.T) {
	peer := testpeer.StartSMTP(t)
	db := openStore(t)
	clk := newClock()
	// A poll interval of an hour: only the first poll and Kick can find
	// the messages.
	w := startWorker(t, db, peerChannel(t, peer.Addr), WorkerOptions{PollInterval: time.Hour, Clock: clk.Now}, nil)
	time.Sleep(50 * time.Millisecond) // the first poll finds nothing
	msgs := enqueue(t, db, clk.Now(),
		alert("signin:1:a", "ana@example.org"), alert("signin:1:b", "bruno@example.net"), alert("signin:1:c", "chloe@example.com"))
	w.Kick()

	got := peer.WaitFor(t, 3, 10*time.Second)
	rcpts := map[string]int{}
	for _, g := range got {
		rcpts[g.Recipient]++
	}
	for _, m := range msgs {
		if rcpts[m.To] != 1 {
			t.Errorf("%s received %d copies, want 1", m.To, rcpts[m.To])
		}
		eventually(t, fmt.Sprintf("message %d is marked sent", m.ID), func() bool { return stored(t, db, m.ID).SentAt != nil })
		s := stored(t, db, m.ID)
		if s.Attempts != 1 || !s.SentAt.Equal(clk.Now()) || s.LockedUntil != nil || s.LastError != "" {
			t.Errorf("message %d: attempts %d, sent at %v, locked until %v, error %q; want 1 attempt, sent at %v, unlocked, no error",
				m.ID, s.Attempts, s.SentAt, s.LockedUntil, s.LastError, clk.Now())
		}
	}
	stats, err := db.OutboxStats(context.Background())
	if err != nil || stats != (tocsin.OutboxStats{Sent: 3}) {
		t.Errorf("stats = %+v, %v; want 3 sent", stats, err)
	}
}

func TestWorkerRetriesATemporaryFailureWithGrowingBackoff(t *testing.T) {
	db := openStore(t)
	clk := newClock()
	ch := &scripted{send: func(_ context.Context, _ *tocsin.Message, call int) error {
		if call <= 2 {
			return errors.New("451 4.3.0 try again later")
		}
		return nil
	}}
	startWorker(t, db, ch, WorkerOptions{Clock: clk.Now}, nil)
	m := enqueue(t, db, clk.Now(), alert("k", "ana@example.org"))[0]

	for attempt, base := range []time.Duration{30 * time.Second, time.Minute} {
		attempt++
		eventually(t, fmt.Sprintf("attempt %d is recorded as failed", attempt), func() bool {
			s := stored(t, db, m.ID)
			return s.Attempts == attempt && s.LockedUntil == nil && s.LastError != ""
		})
		s := stored(t, db, m.ID)
		now := clk.Now()
		if wait := s.NextAttemptAt.Sub(now); wait < base*4/5 || wait > base {
			t.Errorf("after attempt %d the next one is in %v, want between %v and %v", attempt, wait, base*4/5, base)
		}
		if !strings.Contains(s.LastError, "451") || s.SentAt != nil || s.DeadAt != nil {
			t.Errorf("after attempt %d: error %q, sent %v, dead %v", attempt, s.LastError, s.SentAt, s.DeadAt)
		}
		// Not before it is due, however often the worker polls.
		clk.Advance(s.NextAttemptAt.Sub(now) - time.Second)
		time.Sleep(60 * time.Millisecond)
		if ch.Calls() != attempt {
			t.Fatalf("%d sends before the message was due again, want %d", ch.Calls(), attempt)
		}
		clk.Advance(time.Second)
	}
	eventually(t, "the third attempt is marked sent", func() bool { return stored(t, db, m.ID).SentAt != nil })
	if s := stored(t, db, m.ID); s.Attempts != 3 || s.LastError != "" || ch.Calls() != 3 {
		t.Errorf("attempts %d, error %q, sends %d; want 3, none, 3", s.Attempts, s.LastError, ch.Calls())
	}
}

func TestWorkerGivesUpAtOnceOnAPermanentFailure(t *testing.T) {
	db := openStore(t)
	clk := newClock()
	ch := &scripted{send: func(context.Context, *tocsin.Message, int) error {
		return Permanent(errors.New("smtp RCPT TO: 550 5.1.1 no such user"))
	}}
	startWorker(t, db, ch, WorkerOptions{Clock: clk.Now}, nil)
	m := enqueue(t, db, clk.Now(), alert("k", "nobody@example.org"))[0]

	eventually(t, "the message is dead", func() bool { return stored(t, db, m.ID).DeadAt != nil })
	s := stored(t, db, m.ID)
	if s.Attempts != 1 || !strings.Contains(s.LastError, "550") || s.SentAt != nil {
		t.Errorf("attempts %d, error %q, sent %v; want 1 attempt, the 550, not sent", s.Attempts, s.LastError, s.SentAt)
	}
	clk.Advance(24 * time.Hour)
	time.Sleep(60 * time.Millisecond)
	if ch.Calls() != 1 {
		t.Errorf("%d sends, want 1: a dead message is never retried", ch.Calls())
	}
}

func TestWorkerGivesUpAfterTheLastAttempt(t *testing.T) {
	db := openStore(t)
	clk := newClock()
	ch := &scripted{send: func(context.Context, *tocsin.Message, int) error { return errors.New("connection refused") }}
	startWorker(t, db, ch, WorkerOptions{Clock: clk.Now, MaxAttempts: 3}, nil)
	m := enqueue(t, db, clk.Now(), alert("k", "ana@example.org"))[0]

	for attempt := 1; attempt <= 3; attempt++ {
		eventually(t, fmt.Sprintf("attempt %d is recorded", attempt), func() bool {
			s := stored(t, db, m.ID)
			return s.Attempts == attempt && s.LockedUntil == nil
		})
		clk.Advance(time.Hour)
	}
	eventually(t, "the message is dead", func() bool { return stored(t, db, m.ID).DeadAt != nil })
	if s := stored(t, db, m.ID); !strings.Contains(s.LastError, "gave up after 3 attempts") || !strings.Contains(s.LastError, "connection refused") {
		t.Errorf("error %q, want it to say it gave up after 3 attempts, and why", s.LastError)
	}
	time.Sleep(60 * time.Millisecond)
	if ch.Calls() != 3 {
		t.Errorf("%d sends, want 3", ch.Calls())
	}
}

// A message for a channel this worker lacks (Matrix pages on an instance
// without Matrix, e-mail without smtp.host) waits untouched for a worker
// that has it, rather than being given up.
func TestWorkerLeavesAMessageForAnUnconfiguredChannelWaiting(t *testing.T) {
	db := openStore(t)
	clk := newClock()
	ch := &scripted{}
	startWorker(t, db, ch, WorkerOptions{Clock: clk.Now}, nil)
	m := alert("k", "ana@example.org")
	m.Channel = "pager"
	enqueue(t, db, clk.Now(), m)
	mail := alert("k2", "bo@example.org")
	enqueue(t, db, clk.Now(), mail)

	eventually(t, "the e-mail is sent", func() bool { return stored(t, db, mail.ID).SentAt != nil })
	if s := stored(t, db, m.ID); s.Attempts != 0 || s.DeadAt != nil || s.SentAt != nil || s.LockedUntil != nil {
		t.Errorf("the pager message was touched: %+v", s)
	}
	if ch.Calls() != 1 {
		t.Errorf("%d sends, want 1 (the e-mail only)", ch.Calls())
	}
}

func TestWorkerDeliversOnceAMessageLeftLeasedByADeadWorker(t *testing.T) {
	peer := testpeer.StartSMTP(t)
	db := openStore(t)
	clk := newClock()
	m := enqueue(t, db, clk.Now(), alert("signin:7:new-ip", "dora@example.org"))[0]

	// A worker claims the message, then dies before sending or recording.
	claimed, err := db.ClaimMessages(context.Background(), clk.Now(), 2*time.Minute, 10, []string{tocsin.ChannelEmail})
	if err != nil || len(claimed) != 1 {
		t.Fatalf("ClaimMessages = %d messages, %v", len(claimed), err)
	}

	// Its replacement starts at once: the lease still holds.
	clk.Advance(time.Minute)
	w := startWorker(t, db, peerChannel(t, peer.Addr), WorkerOptions{Clock: clk.Now}, nil)
	w.Kick()
	time.Sleep(100 * time.Millisecond) // ten polls
	if got := peer.Messages(t); len(got) != 0 {
		t.Fatalf("%d message(s) delivered while another worker held the lease", len(got))
	}

	// The lease expires: the message is delivered, once.
	clk.Advance(time.Minute + time.Second)
	w.Kick()
	peer.WaitFor(t, 1, 10*time.Second)
	eventually(t, "the message is marked sent", func() bool { return stored(t, db, m.ID).SentAt != nil })
	clk.Advance(time.Hour)
	w.Kick()
	time.Sleep(100 * time.Millisecond)
	if got := peer.Messages(t); len(got) != 1 || got[0].Recipient != "dora@example.org" {
		t.Errorf("%d message(s) delivered, want exactly one to dora@example.org", len(got))
	}
	if s := stored(t, db, m.ID); s.Attempts != 2 {
		t.Errorf("attempts = %d, want 2 (the dead worker's and the delivery)", s.Attempts)
	}
}

func TestWorkerShutdownWaitsForSendsInFlightAndClaimsNoMore(t *testing.T) {
	db := openStore(t)
	clk := newClock()
	started, release := make(chan struct{}), make(chan struct{})
	ch := &scripted{send: func(context.Context, *tocsin.Message, int) error {
		close(started)
		<-release
		return nil
	}}
	w := startWorker(t, db, ch, WorkerOptions{Clock: clk.Now}, nil)
	first := enqueue(t, db, clk.Now(), alert("k1", "ana@example.org"))[0]
	<-started

	done := make(chan error, 1)
	go func() { done <- w.Shutdown(context.Background()) }()
	<-w.stop // Shutdown has begun
	second := enqueue(t, db, clk.Now(), alert("k2", "bruno@example.org"))[0]
	w.Kick()
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned %v while a send was in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if s := stored(t, db, first.ID); s.SentAt == nil {
		t.Error("the send in flight was not recorded as sent")
	}
	if s := stored(t, db, second.ID); s.Attempts != 0 || ch.Calls() != 1 {
		t.Errorf("a message enqueued during shutdown was claimed (attempts %d, sends %d)", s.Attempts, ch.Calls())
	}
}

func TestWorkerShutdownPastItsDeadlineAbortsSendsAndQueuesThemAgain(t *testing.T) {
	db := openStore(t)
	clk := newClock()
	started := make(chan struct{})
	ch := &scripted{send: func(ctx context.Context, _ *tocsin.Message, _ int) error {
		close(started)
		<-ctx.Done() // a send that only stops when told to
		return ctx.Err()
	}}
	w := startWorker(t, db, ch, WorkerOptions{Clock: clk.Now}, nil)
	m := enqueue(t, db, clk.Now(), alert("k", "ana@example.org"))[0]
	<-started

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := w.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the deadline error", err)
	}
	s := stored(t, db, m.ID)
	if s.SentAt != nil || s.DeadAt != nil || s.LockedUntil != nil || s.NextAttemptAt.After(clk.Now()) {
		t.Errorf("sent %v, dead %v, locked until %v, next attempt %v: want it unlocked and due at once (now %v)",
			s.SentAt, s.DeadAt, s.LockedUntil, s.NextAttemptAt, clk.Now())
	}
	if !strings.Contains(s.LastError, "interrupted by shutdown") {
		t.Errorf("error %q, want it to say the shutdown interrupted it", s.LastError)
	}
}

func TestWorkerKeepsAtMostConcurrencySendsInFlight(t *testing.T) {
	db := openStore(t)
	clk := newClock()
	var (
		mu             sync.Mutex
		inFlight, most int
	)
	ch := &scripted{send: func(context.Context, *tocsin.Message, int) error {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		mu.Unlock()
		time.Sleep(30 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		return nil
	}}
	var msgs []*tocsin.Message
	for i := range 7 {
		msgs = append(msgs, alert(fmt.Sprint("k", i), fmt.Sprintf("u%d@example.org", i)))
	}
	enqueue(t, db, clk.Now(), msgs...)
	startWorker(t, db, ch, WorkerOptions{Clock: clk.Now, Concurrency: 2, BatchSize: 5}, nil)

	eventually(t, "all seven are sent", func() bool {
		stats, err := db.OutboxStats(context.Background())
		return err == nil && stats.Sent == 7
	})
	mu.Lock()
	defer mu.Unlock()
	if most != 2 {
		t.Errorf("at most %d sends in flight, want 2", most)
	}
}

func TestWorkerLogsTheRecipientDomainButNeverTheAddressOrBody(t *testing.T) {
	db := openStore(t)
	clk := newClock()
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ch := &scripted{send: func(_ context.Context, m *tocsin.Message, call int) error {
		switch call {
		case 1:
			return fmt.Errorf("smtp RCPT TO: 450 4.2.1 <%s>: mailbox busy", strings.ToUpper(m.To))
		case 2:
			return nil
		}
		return Permanent(fmt.Errorf("smtp RCPT TO: 550 <%s> unknown", m.To))
	}}
	startWorker(t, db, ch, WorkerOptions{Clock: clk.Now}, logger)
	first := alert("k1", "jeanne.martin@clinique.example")
	first.Body = "Votre dossier médical n°4521 a été consulté."
	enqueue(t, db, clk.Now(), first)
	eventually(t, "the first attempt fails", func() bool { return stored(t, db, first.ID).LastError != "" })
	clk.Advance(time.Hour)
	eventually(t, "the message is sent", func() bool { return stored(t, db, first.ID).SentAt != nil })
	second := enqueue(t, db, clk.Now(), alert("k2", "paul.durand@clinique.example"))[0]
	eventually(t, "the second is dead", func() bool { return stored(t, db, second.ID).DeadAt != nil })

	mu.Lock()
	out := logs.String()
	mu.Unlock()
	for _, secret := range []string{"jeanne.martin", "JEANNE.MARTIN", "paul.durand", "dossier", "Tentative"} {
		if strings.Contains(out, secret) {
			t.Errorf("logs contain %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{`"recipient_domain":"clinique.example"`, `"message_id":` + fmt.Sprint(first.ID), `"attempt":2`, "mailbox busy", `"channel":"email"`} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %s:\n%s", want, out)
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestBackoffDoublesFromThirtySecondsUpToAnHourWithJitter(t *testing.T) {
	opts := WorkerOptions{}.withDefaults()
	for attempt, want := range map[int]time.Duration{
		1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 4: 4 * time.Minute,
		7: 32 * time.Minute, 8: time.Hour, 11: time.Hour, 500: time.Hour,
	} {
		for range 50 {
			if got := opts.backoff(attempt); got > want || got < want*4/5 {
				t.Errorf("backoff(%d) = %v, want between %v and %v", attempt, got, want*4/5, want)
				break
			}
		}
	}
}

func TestNewWorkerRefusesALeaseNoLongerThanTheSendTimeout(t *testing.T) {
	db := openStore(t)
	for _, opts := range []WorkerOptions{
		{Lease: time.Minute, SendTimeout: time.Minute},
		{Lease: 30 * time.Second}, // default send timeout: 1 min
		{BatchSize: -1},
		{BaseBackoff: 2 * time.Hour},
	} {
		if _, err := NewWorker(db, nil, opts, nil); tocsin.ErrorCode(err) != tocsin.EINVALID {
			t.Errorf("NewWorker(%+v) = %v, want EINVALID", opts, err)
		}
	}
	bad := NewSMTP(SMTPConfig{Host: "smtp.example.org"}) // no From
	if _, err := NewWorker(db, map[string]Channel{"email": bad}, WorkerOptions{}, nil); tocsin.ErrorCode(err) != tocsin.EINVALID {
		t.Errorf("NewWorker with an invalid channel = %v, want EINVALID", err)
	}
}
