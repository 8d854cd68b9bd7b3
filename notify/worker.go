package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tocsin-org/tocsin"
)

// WorkerOptions tunes the delivery loop; zero values take the defaults.
type WorkerOptions struct {
	PollInterval time.Duration // how often to look for due messages; default 2 s
	// Lease is how long a claimed message stays reserved for this worker; a
	// worker that dies loses it after that. Default 2 min; it must exceed
	// SendTimeout, or a slow send could be claimed again while in flight.
	Lease       time.Duration
	SendTimeout time.Duration // bound on one delivery; default 1 min
	BatchSize   int           // most messages claimed at once; default 10
	Concurrency int           // most deliveries in flight; default 4
	MaxAttempts int           // attempts before giving up; default 12 (about 5 h of retries)
	// The wait after the nth failure is BaseBackoff·2^(n-1), capped at
	// MaxBackoff, minus up to a fifth at random so that messages that
	// failed together do not retry together. Defaults 30 s and 1 h.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	Clock       func() time.Time // default time.Now; tests move time by hand
}

func (o WorkerOptions) withDefaults() WorkerOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.PollInterval, 2*time.Second)
	def(&o.Lease, 2*time.Minute)
	def(&o.SendTimeout, time.Minute)
	def(&o.BaseBackoff, 30*time.Second)
	def(&o.MaxBackoff, time.Hour)
	if o.BatchSize == 0 {
		o.BatchSize = 10
	}
	if o.Concurrency == 0 {
		o.Concurrency = 4
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 12
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	return o
}

func (o WorkerOptions) validate() error {
	invalid := func(format string, args ...any) error {
		return tocsin.Errorf(tocsin.EINVALID, "notify worker: "+format, args...)
	}
	switch {
	case o.PollInterval < 0 || o.Lease < 0 || o.SendTimeout < 0 || o.BaseBackoff < 0 || o.MaxBackoff < 0:
		return invalid("durations cannot be negative")
	case o.BatchSize < 0 || o.Concurrency < 0 || o.MaxAttempts < 0:
		return invalid("batch size, concurrency and attempts cannot be negative")
	case o.Lease <= o.SendTimeout:
		return invalid("lease (%v) must be longer than the send timeout (%v), or a slow send would be claimed again while in flight", o.Lease, o.SendTimeout)
	case o.MaxBackoff < o.BaseBackoff:
		return invalid("maximum back-off (%v) is shorter than the base back-off (%v)", o.MaxBackoff, o.BaseBackoff)
	}
	return nil
}

// backoff returns how long to wait after the attempt-th failure.
func (o WorkerOptions) backoff(attempt int) time.Duration {
	d := o.BaseBackoff
	for i := 1; i < attempt && d < o.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, o.MaxBackoff)
	if d <= 0 {
		return 0
	}
	return d - rand.N(d/5+1)
}

// Worker delivers the outbox: it claims due messages, sends each through
// its channel, and records the outcome. Several workers, in one process or
// several, may share a store: a claim is a lease, so each message has one
// sender at a time, and one that dies with a message is replaced after the
// lease expires.
type Worker struct {
	store    tocsin.OutboxService
	channels map[string]Channel
	names    []string // of channels: the only messages claimed
	opts     WorkerOptions
	log      *slog.Logger

	kick  chan struct{} // Kick: look now
	freed chan struct{} // a delivery finished, so a slot is free
	slots chan struct{} // one token per delivery in flight

	startOnce, stopOnce sync.Once
	stop                chan struct{} // closed by Shutdown: claim no more
	ctx                 context.Context
	cancel              context.CancelFunc // aborts claims and deliveries
	loopDone            chan struct{}
	deliveries          sync.WaitGroup
}

// NewWorker checks the options and every channel's configuration.
// channels maps a tocsin.Message.Channel to the channel that delivers it.
func NewWorker(store tocsin.OutboxService, channels map[string]Channel, opts WorkerOptions, logger *slog.Logger) (*Worker, error) {
	if store == nil {
		return nil, errors.New("notify worker: no outbox store")
	}
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	for name, ch := range channels {
		if ch == nil {
			return nil, tocsin.Errorf(tocsin.EINVALID, "notify worker: channel %q is nil", name)
		}
		if err := ch.Validate(); err != nil {
			return nil, err
		}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{
		store:    store,
		channels: maps.Clone(channels),
		names:    slices.Sorted(maps.Keys(channels)),
		opts:     opts,
		log:      logger.With("component", "notify"),
		kick:     make(chan struct{}, 1),
		freed:    make(chan struct{}, 1),
		slots:    make(chan struct{}, opts.Concurrency),
		stop:     make(chan struct{}),
		loopDone: make(chan struct{}),
	}, nil
}

// Start runs the loop until Shutdown, or until ctx ends, which also
// aborts deliveries in flight. Calls after the first do nothing.
func (w *Worker) Start(ctx context.Context) {
	w.startOnce.Do(func() {
		w.ctx, w.cancel = context.WithCancel(ctx)
		go w.loop()
	})
}

// Kick makes the worker look for due messages now, rather than at the
// next poll; call it after enqueuing. It never blocks.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Shutdown stops claiming and waits for deliveries in flight. If ctx ends
// first, it aborts them (each is put back in the queue, due at once) and
// returns ctx's error once they have returned.
func (w *Worker) Shutdown(ctx context.Context) error {
	w.stopOnce.Do(func() { close(w.stop) })
	// Never started: nothing to wait for, and Start now does nothing.
	w.startOnce.Do(func() { close(w.loopDone) })
	if w.cancel == nil {
		return nil
	}
	done := make(chan struct{})
	go func() {
		<-w.loopDone // no delivery starts after the loop has returned
		w.deliveries.Wait()
		close(done)
	}()
	select {
	case <-done:
		w.cancel()
		return nil
	case <-ctx.Done():
		w.cancel()
		<-done
		return ctx.Err()
	}
}

func (w *Worker) loop() {
	defer close(w.loopDone)
	timer := time.NewTimer(0)
	defer timer.Stop()
	var freed <-chan struct{} // set while a backlog waits for a free slot
	for {
		select {
		case <-w.stop:
			return
		case <-w.ctx.Done():
			return
		case <-timer.C:
		case <-w.kick:
		case <-freed:
		}
		select { // select picks at random among ready cases: stop wins
		case <-w.stop:
			return
		default:
		}
		claimed, limit := w.claim()
		backlog := limit > 0 && claimed == limit // there may be more due
		freed = nil
		switch {
		case backlog && len(w.slots) < cap(w.slots):
			timer.Reset(0)
		case backlog || limit == 0:
			freed = w.freed
			timer.Reset(w.opts.PollInterval)
		default:
			timer.Reset(w.opts.PollInterval)
		}
	}
}

// claim leases as many due messages as there are free slots (at most a
// batch) and starts their deliveries. Only this goroutine takes slots, so
// the free ones counted stay free.
func (w *Worker) claim() (claimed, limit int) {
	limit = min(cap(w.slots)-len(w.slots), w.opts.BatchSize)
	if limit == 0 {
		return 0, 0
	}
	msgs, err := w.store.ClaimMessages(w.ctx, w.opts.Clock(), w.opts.Lease, limit, w.names)
	if err != nil {
		if w.ctx.Err() == nil {
			w.log.Error("claiming outgoing messages", "error", err)
		}
		return 0, limit
	}
	for _, m := range msgs {
		w.slots <- struct{}{}
		w.deliveries.Add(1)
		go func() {
			defer func() {
				<-w.slots
				select {
				case w.freed <- struct{}{}:
				default:
				}
				w.deliveries.Done()
			}()
			w.deliver(m)
		}()
	}
	return len(msgs), limit
}

// deliver sends one claimed message and records the outcome.
func (w *Worker) deliver(m *tocsin.Message) {
	log := w.log.With("message_id", m.ID, "channel", m.Channel, "attempt", m.Attempts,
		"recipient_domain", recipientDomain(m.To))
	ch := w.channels[m.Channel] // claimed by its channel's name

	ctx, cancel := context.WithTimeout(w.ctx, w.opts.SendTimeout)
	start := time.Now()
	err := ch.Send(ctx, m)
	cancel()
	took := time.Since(start).Round(time.Millisecond)
	now := w.opts.Clock()
	switch {
	case err == nil:
		log.Info("message sent", "took", took)
		w.record(log, "sent", func(ctx context.Context) error { return w.store.MarkSent(ctx, m.ID, now) })
	case IsPermanent(err):
		log.Warn("message refused; giving up", "error", redact(err, m.To), "took", took)
		w.record(log, "dead", func(ctx context.Context) error { return w.store.MarkDead(ctx, m.ID, errText(err), now) })
	case w.ctx.Err() != nil:
		// Shutdown ran out of time, or the worker's context ended: not the
		// message's fault. Due again at once, for the next worker.
		log.Warn("delivery interrupted by shutdown; queued again", "error", redact(err, m.To))
		w.record(log, "retry", func(ctx context.Context) error {
			return w.store.MarkRetry(ctx, m.ID, "interrupted by shutdown: "+errText(err), now)
		})
	case m.Attempts >= w.opts.MaxAttempts:
		log.Error("delivery failed; giving up after the last attempt", "error", redact(err, m.To), "took", took)
		text := fmt.Sprintf("gave up after %d attempts: %s", m.Attempts, errText(err))
		w.record(log, "dead", func(ctx context.Context) error { return w.store.MarkDead(ctx, m.ID, text, now) })
	default:
		next := now.Add(max(w.opts.backoff(m.Attempts), min(retryAfter(err), w.opts.MaxBackoff)))
		log.Warn("delivery failed; will retry", "error", redact(err, m.To), "took", took, "next_attempt_at", next)
		w.record(log, "retry", func(ctx context.Context) error { return w.store.MarkRetry(ctx, m.ID, errText(err), next) })
	}
}

// record writes an outcome to the store, trying three times: a delivery
// that the store forgets is sent again when its lease expires. It uses its
// own deadline, so that an aborted shutdown still records what happened.
func (w *Worker) record(log *slog.Logger, outcome string, mark func(ctx context.Context) error) {
	var err error
	for i, pause := range []time.Duration{0, 200 * time.Millisecond, time.Second} {
		time.Sleep(pause)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), 10*time.Second)
		err = mark(ctx)
		cancel()
		if err == nil {
			return
		}
		if tocsin.ErrorCode(err) != tocsin.EINTERNAL {
			break // not found, invalid: trying again will not help
		}
		log.Warn("recording outcome failed", "outcome", outcome, "try", i+1, "error", err)
	}
	log.Error("could not record outcome; the message will be claimed again when its lease expires",
		"outcome", outcome, "error", err)
}

// maxErrText is how many bytes of an error the outbox keeps.
const maxErrText = 1000

// errText is what the outbox keeps of an error, for the console: valid
// UTF-8 without NUL (a server's reply may carry anything, and PostgreSQL
// refuses to store either, which would leave the message to be sent again
// at every lease expiry), cut on a rune boundary.
func errText(err error) string {
	s := strings.ToValidUTF8(err.Error(), "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if len(s) > maxErrText {
		i := maxErrText
		for i > 0 && !utf8.RuneStart(s[i]) {
			i--
		}
		s = s[:i] + "…"
	}
	return s
}

// recipientDomain is what logs show of a recipient: the domain only, as
// the address is personal data.
func recipientDomain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return ""
}

// redact removes the recipient's address from an error text that may
// quote it (servers often echo the RCPT), in any case, keeping only its
// domain. The text may be anything a server replied, invalid UTF-8
// included.
func redact(err error, addr string) string {
	s := err.Error()
	if addr == "" {
		return s
	}
	repl := "…@" + recipientDomain(addr)
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); {
		if n, ok := hasPrefixFold(s[i:], addr); ok {
			b.WriteString(s[last:i])
			b.WriteString(repl)
			i += n
			last = i
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
	}
	b.WriteString(s[last:])
	return b.String()
}

// hasPrefixFold reports whether s begins with prefix under simple Unicode
// case folding, and how many bytes of s the match takes (case variants
// may differ in length). A byte that is not UTF-8 only matches itself.
func hasPrefixFold(s, prefix string) (int, bool) {
	n := 0
	for prefix != "" {
		if s == "" {
			return 0, false
		}
		r1, n1 := utf8.DecodeRuneInString(s)
		r2, n2 := utf8.DecodeRuneInString(prefix)
		switch {
		case r1 == utf8.RuneError && n1 == 1 || r2 == utf8.RuneError && n2 == 1:
			if n1 != n2 || s[0] != prefix[0] {
				return 0, false
			}
		case r1 != r2 && !strings.EqualFold(s[:n1], prefix[:n2]):
			return 0, false
		}
		s, prefix, n = s[n1:], prefix[n2:], n+n1
	}
	return n, true
}
