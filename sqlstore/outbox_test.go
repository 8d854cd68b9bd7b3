package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// enqueueTest writes msgs the way a mutation does, in a transaction.
func enqueueTest(t *testing.T, db *DB, msgs ...*tocsin.Message) {
	t.Helper()
	if err := db.update(context.Background(), func(tx conn) error { return tx.enqueue(context.Background(), msgs) }); err != nil {
		t.Fatalf("enqueue: %v", err)
	}
}

func mail(key string, next time.Time) *tocsin.Message {
	return &tocsin.Message{Channel: tocsin.ChannelEmail, To: "ops@example.org", Subject: "Subject " + key, Body: "Body",
		Key: key, NextAttemptAt: next}
}

func TestOutboxEnqueue(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		m := mail("k1", time.Time{})
		m.Headers = map[string]string{"List-Unsubscribe": "<https://status.example.org/u/1>"}
		enqueueTest(t, db, m)
		dup := mail("k1", time.Time{})
		dup.Subject = "a second copy"
		enqueueTest(t, db, dup)
		if dup.ID != m.ID || m.ID == 0 {
			t.Errorf("IDs %d and %d, want the same", m.ID, dup.ID)
		}
		msgs, err := db.Messages(ctx, 10)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("Messages = %d, %v; want 1 (same key twice)", len(msgs), err)
		}
		got := msgs[0]
		if got.Subject != "Subject k1" || got.Headers["List-Unsubscribe"] != "<https://status.example.org/u/1>" ||
			got.To != "ops@example.org" || got.Attempts != 0 || got.LockedUntil != nil || got.NextAttemptAt.IsZero() {
			t.Errorf("stored %+v", got)
		}
		err = db.update(ctx, func(tx conn) error {
			return tx.enqueue(ctx, []*tocsin.Message{{Channel: "email", To: "x@example.org"}})
		})
		wantCode(t, err, tocsin.EINVALID)

		enqueueTest(t, db, mail("k2", time.Time{}), mail("k3", time.Time{}))
		msgs, _ = db.Messages(ctx, 2)
		if len(msgs) != 2 || msgs[0].Key != "k3" || msgs[1].Key != "k2" {
			t.Errorf("Messages(2) = %v, want k3, k2", msgs)
		}
	})
}

// email is the channel list of a worker that only has e-mail.
var email = []string{tocsin.ChannelEmail}

func TestOutboxClaim(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		t0 := now()
		page := mail("matrix-page", t0.Add(-3*time.Minute))
		page.Channel = tocsin.ChannelMatrix
		enqueueTest(t, db, mail("due1", t0.Add(-2*time.Minute)), mail("due2", t0.Add(-time.Minute)), mail("later", t0.Add(time.Hour)), page)

		claimed, err := notAuditedClaim(t, db, t0, time.Minute, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(claimed) != 2 || claimed[0].Key != "due1" || claimed[1].Key != "due2" {
			t.Fatalf("claimed %v, want due1, due2", claimed)
		}
		// The Matrix page waits for a worker that has Matrix; none claims nothing.
		if none, err := db.ClaimMessages(ctx, t0, time.Minute, 10, nil); len(none) != 0 || err != nil {
			t.Errorf("claim without channels = %v, %v", none, err)
		}
		if got, err := db.ClaimMessages(ctx, t0, time.Minute, 10, []string{tocsin.ChannelMatrix, tocsin.ChannelWebhook}); err != nil || len(got) != 1 || got[0].Key != "matrix-page" {
			t.Errorf("claim for matrix = %v, %v; want the page only", got, err)
		}
		for _, m := range claimed {
			if m.Attempts != 1 || m.LockedUntil == nil || !m.LockedUntil.Equal(t0.Add(time.Minute)) {
				t.Errorf("claimed %s: attempts %d locked until %v", m.Key, m.Attempts, m.LockedUntil)
			}
		}
		if again, _ := db.ClaimMessages(ctx, t0, time.Minute, 10, email); len(again) != 0 {
			t.Errorf("leased messages claimed again: %v", again)
		}

		// due1 fails and is retried later; due2 is sent.
		if err := db.MarkRetry(ctx, claimed[0].ID, "421 try later", t0.Add(5*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkSent(ctx, claimed[1].ID, t0); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.ClaimMessages(ctx, t0.Add(4*time.Minute), time.Minute, 10, email); len(got) != 0 {
			t.Errorf("claimed before the retry time: %v", got)
		}
		got, _ := db.ClaimMessages(ctx, t0.Add(5*time.Minute), time.Minute, 10, email)
		if len(got) != 1 || got[0].Key != "due1" || got[0].Attempts != 2 || got[0].LastError != "421 try later" {
			t.Fatalf("retry claim = %v", got)
		}

		// The worker dies: after its lease expires the message is claimed again.
		t1 := t0.Add(5 * time.Minute)
		if got, _ := db.ClaimMessages(ctx, t1.Add(59*time.Second), time.Minute, 10, email); len(got) != 0 {
			t.Errorf("claimed within the lease: %v", got)
		}
		got, _ = db.ClaimMessages(ctx, t1.Add(time.Minute), time.Minute, 10, email)
		if len(got) != 1 || got[0].Attempts != 3 {
			t.Fatalf("claim after lease expiry = %v", got)
		}
		if err := db.MarkDead(ctx, got[0].ID, "550 no such user", t1); err != nil {
			t.Fatal(err)
		}
		if got, _ := db.ClaimMessages(ctx, t0.Add(24*time.Hour), time.Minute, 10, email); len(got) != 1 || got[0].Key != "later" {
			t.Errorf("a day later, claimed %v; want only 'later'", got)
		}

		st, err := db.OutboxStats(ctx) // pending: "later" and the Matrix page
		if err != nil || st != (tocsin.OutboxStats{Pending: 2, Dead: 1, Sent: 1}) {
			t.Errorf("OutboxStats = %+v, %v", st, err)
		}
		msgs, _ := db.Messages(ctx, 10)
		for _, m := range msgs {
			switch m.Key {
			case "due1":
				if m.DeadAt == nil || m.LastError != "550 no such user" || m.LockedUntil != nil {
					t.Errorf("dead message: %+v", m)
				}
			case "due2":
				if m.SentAt == nil || !m.SentAt.Equal(t0) || m.LockedUntil != nil {
					t.Errorf("sent message: %+v", m)
				}
			}
		}

		for name, err := range map[string]error{
			"MarkSent":  db.MarkSent(ctx, 999, t0),
			"MarkRetry": db.MarkRetry(ctx, 999, "x", t0),
			"MarkDead":  db.MarkDead(ctx, 999, "x", t0),
		} {
			t.Run(name+" unknown", func(t *testing.T) { wantCode(t, err, tocsin.ENOTFOUND) })
		}
		_, err = db.ClaimMessages(ctx, t0, 0, 10, email)
		wantCode(t, err, tocsin.EINVALID)
	})
}

func notAuditedClaim(t *testing.T, db *DB, at time.Time, lease time.Duration, limit int) (msgs []*tocsin.Message, err error) {
	t.Helper()
	err = notAudited(t, db, func() error {
		msgs, err = db.ClaimMessages(context.Background(), at, lease, limit, email)
		return err
	})
	return msgs, err
}

func TestOutboxConcurrentClaimers(t *testing.T) {
	forEachDatabase(t, func(t *testing.T, database string) {
		ctx := context.Background()
		db := openTest(t, database, true)
		t0 := now()
		const total = 60
		var msgs []*tocsin.Message
		for i := range total {
			msgs = append(msgs, mail(fmt.Sprintf("m%02d", i), t0.Add(-time.Minute)))
		}
		enqueueTest(t, db, msgs...)

		// Several workers in two instances sharing the database claim small
		// batches until nothing is left.
		var (
			mu     sync.Mutex
			seen   = map[int64]int{}
			wg     sync.WaitGroup
			errs   = make(chan error, 8)
			stores = []*DB{db, openTest(t, database, false)}
		)
		for w := range 6 {
			store := stores[w%len(stores)]
			wg.Go(func() {
				for {
					got, err := store.ClaimMessages(ctx, t0, time.Hour, 3, email)
					if err != nil {
						errs <- err
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, m := range got {
						seen[m.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(seen) != total {
			t.Errorf("claimed %d distinct messages, want %d", len(seen), total)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("message %d claimed %d times", id, n)
			}
		}
	})
}

// Pruning deletes only messages delivered or given up before the cut-off;
// pending ones stay whatever their age.
func TestPruneMessages(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		t0 := now()
		var msgs []*tocsin.Message
		for _, k := range []string{"sent-old", "dead-old", "pending-old", "sent-new"} {
			msgs = append(msgs, &tocsin.Message{Channel: tocsin.ChannelEmail, To: "x@example.org", Key: k})
		}
		if err := db.RecordFailedSignIn(ctx, &tocsin.SignIn{Email: "x@example.org", IP: "127.0.0.1"}, msgs); err != nil {
			t.Fatal(err)
		}
		stored, _ := db.Messages(ctx, 10)
		id := map[string]int64{}
		for _, m := range stored {
			id[m.Key] = m.ID
		}
		if err := db.MarkSent(ctx, id["sent-old"], t0.Add(-40*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkDead(ctx, id["dead-old"], "gave up", t0.Add(-40*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkSent(ctx, id["sent-new"], t0); err != nil {
			t.Fatal(err)
		}
		if n, err := db.PruneMessages(ctx, t0.Add(-30*24*time.Hour)); err != nil || n != 2 {
			t.Fatalf("PruneMessages = %d, %v; want 2", n, err)
		}
		left, _ := db.Messages(ctx, 10)
		var keys []string
		for _, m := range left {
			keys = append(keys, m.Key)
		}
		slices.Sort(keys)
		if !slices.Equal(keys, []string{"pending-old", "sent-new"}) {
			t.Errorf("left after pruning: %v", keys)
		}
	})
}
