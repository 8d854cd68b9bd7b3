package notify

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/tocsin-org/tocsin"
)

// Fanout expands notices (public updates to announce) into one outbox
// message per matching subscriber. Publishing writes one notice row, so its
// transaction stays short whatever the number of subscribers; the fan-out
// then works in batches, each one transaction that inserts the batch's
// messages (insert-or-ignore on their keys) and moves the notice's cursor.
// Killed mid-notice, it resumes from the cursor, and a batch replayed
// inserts nothing twice. Several instances may run it at once for the same
// reason.
type Fanout struct {
	store FanoutStore
	mail  SubscriberMail
	opts  FanoutOptions
	log   *slog.Logger

	kick                chan struct{}
	stop                chan struct{}
	done                chan struct{}
	startOnce, stopOnce sync.Once
}

// FanoutOptions tunes the fan-out; zero values take the defaults.
type FanoutOptions struct {
	BatchSize    int           // subscribers per transaction; default 500
	PollInterval time.Duration // default 5 s; Kick wakes it sooner
	// Enqueued is called after each batch is committed, with the number of
	// messages it added (to wake the delivery worker).
	Enqueued func(n int)
}

// FanoutStore is what the fan-out reads and writes.
type FanoutStore interface {
	tocsin.NoticeService
	NoticeWebhooks(ctx context.Context, n *tocsin.Notice) ([]*tocsin.Webhook, error)
	Incident(ctx context.Context, id int64) (*tocsin.Incident, error)
}

// NewFanout returns a fan-out over store writing mails with mail.
func NewFanout(store FanoutStore, mail SubscriberMail, opts FanoutOptions, logger *slog.Logger) *Fanout {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = 5 * time.Second
	}
	if opts.Enqueued == nil {
		opts.Enqueued = func(int) {}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Fanout{
		store: store, mail: mail, opts: opts, log: logger.With("component", "fanout"),
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// RunOnce expands every pending notice to the end and returns how many
// messages it enqueued.
func (f *Fanout) RunOnce(ctx context.Context) (int, error) {
	total := 0
	for {
		notices, err := f.store.PendingNotices(ctx, 10)
		if err != nil || len(notices) == 0 {
			return total, err
		}
		for _, n := range notices {
			k, err := f.expand(ctx, n)
			total += k
			if err != nil {
				return total, err
			}
		}
	}
}

// expand sends n to its remaining subscribers, batch by batch.
func (f *Fanout) expand(ctx context.Context, n *tocsin.Notice) (int, error) {
	text := noticeText(n)
	total := 0
	for {
		subs, err := f.store.NoticeRecipients(ctx, n, n.Cursor, f.opts.BatchSize)
		if err != nil {
			return total, err
		}
		msgs := make([]*tocsin.Message, len(subs))
		for i, s := range subs {
			msgs[i] = f.mail.Compose(n, text, s)
		}
		cursor, done := n.Cursor, len(subs) < f.opts.BatchSize
		if len(subs) > 0 {
			cursor = subs[len(subs)-1].ID
		}
		if done { // webhooks go with the last batch, in its transaction
			hooks, err := f.webhookMessages(ctx, n)
			if err != nil {
				return total, err
			}
			msgs = append(msgs, hooks...)
		}
		if err := f.store.AdvanceNotice(ctx, n.ID, cursor, done, msgs); err != nil {
			return total, err
		}
		n.Cursor = cursor
		total += len(msgs)
		if len(msgs) > 0 {
			f.opts.Enqueued(len(msgs))
		}
		if done {
			f.log.Info("notice sent to subscribers", "notice_id", n.ID, "messages", total)
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// Start runs the fan-out until Shutdown or until ctx ends.
func (f *Fanout) Start(ctx context.Context) {
	f.startOnce.Do(func() {
		go func() {
			defer close(f.done)
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			go func() {
				select {
				case <-f.stop:
					cancel()
				case <-ctx.Done():
				}
			}()
			timer := time.NewTimer(0)
			defer timer.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-timer.C:
				case <-f.kick:
				}
				if _, err := f.RunOnce(ctx); err != nil && !errors.Is(err, context.Canceled) {
					f.log.Error("fanning out notices", "error", err)
				}
				timer.Reset(f.opts.PollInterval)
			}
		}()
	})
}

// Kick makes the fan-out look for notices now; it never blocks.
func (f *Fanout) Kick() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// Shutdown stops the fan-out after its current batch, or when ctx ends.
func (f *Fanout) Shutdown(ctx context.Context) error {
	f.stopOnce.Do(func() { close(f.stop) })
	f.startOnce.Do(func() { close(f.done) })
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
