package intake

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/emersion/go-imap"
	"github.com/emersion/go-imap/client"

	"github.com/tocsin-org/tocsin"
)

// The worker reads the intake mailbox: each round it logs in, lists the
// unseen messages, and for each one stores a signal and only then flags
// the message \Seen. A crash between the two leaves the message unseen,
// and the next round finds its signal already stored (by Message-ID, or a
// digest of the message) and just flags it: a message makes one signal,
// however often it is read.

// Bounds of one round.
const (
	batchSize     = 10      // messages fetched at once
	maxFetchBytes = 4 << 20 // bytes of one message fetched; its text and attachments' names come first
	commandWait   = time.Minute
)

// IMAPConfig is how to reach the mailbox.
type IMAPConfig struct {
	Host     string
	Port     int
	TLS      string // "tls" (implicit, port 993), "starttls" or "none"
	Username string
	Password string
	Mailbox  string
	Poll     time.Duration
	// TLSConfig overrides the default TLS settings (tests trust their own
	// certificate authority with it); ServerName defaults to Host.
	TLSConfig *tls.Config
}

// Actor is who files the signals of the mailbox in the audit log.
var Actor = tocsin.Actor{Label: "intake:imap"}

// Worker polls the mailbox until Shutdown.
type Worker struct {
	store tocsin.SignalService
	cfg   IMAPConfig
	log   *slog.Logger

	kick   chan struct{}
	cancel context.CancelFunc
	done   chan struct{}
}

// NewWorker checks cfg and returns a worker that has not started.
func NewWorker(store tocsin.SignalService, cfg IMAPConfig, log *slog.Logger) (*Worker, error) {
	if cfg.Host == "" || cfg.Username == "" {
		return nil, errors.New("intake: the IMAP host and username are required")
	}
	switch cfg.TLS {
	case "tls", "starttls", "none":
	default:
		return nil, fmt.Errorf("intake: IMAP TLS mode %q: use tls, starttls or none", cfg.TLS)
	}
	if cfg.Mailbox == "" {
		cfg.Mailbox = "INBOX"
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Minute
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Worker{store: store, cfg: cfg, log: log, kick: make(chan struct{}, 1)}, nil
}

// Start polls at once, then every Poll interval, until Shutdown.
func (w *Worker) Start(ctx context.Context) {
	ctx, w.cancel = context.WithCancel(ctx)
	w.done = make(chan struct{})
	go func() {
		defer close(w.done)
		t := time.NewTicker(w.cfg.Poll)
		defer t.Stop()
		for {
			if n, err := w.Poll(ctx); err != nil && ctx.Err() == nil {
				w.log.Warn("reading the intake mailbox", "host", w.cfg.Host, "mailbox", w.cfg.Mailbox, "err", err)
			} else if n > 0 {
				w.log.Info("intake mailbox read", "signals", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-w.kick:
			}
		}
	}()
}

// Kick makes the worker poll now rather than at its next tick.
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Shutdown stops polling: a round under way is cut off (its connection
// closed), which is safe since a message is flagged only after its signal
// is stored. It returns when the worker has stopped or ctx ends.
func (w *Worker) Shutdown(ctx context.Context) error {
	if w.cancel == nil {
		return nil
	}
	w.cancel()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Poll runs one round and returns how many new signals it stored.
func (w *Worker) Poll(ctx context.Context) (int, error) {
	c, release, err := w.connect(ctx)
	if err != nil {
		return 0, err
	}
	defer release()
	if _, err := c.Select(w.cfg.Mailbox, false); err != nil {
		return 0, fmt.Errorf("select %q: %w", w.cfg.Mailbox, err)
	}
	criteria := imap.NewSearchCriteria()
	criteria.WithoutFlags = []string{imap.SeenFlag, imap.DeletedFlag}
	uids, err := c.UidSearch(criteria)
	if err != nil {
		return 0, fmt.Errorf("search unseen: %w", err)
	}
	stored := 0
	for len(uids) > 0 && ctx.Err() == nil {
		batch := uids[:min(batchSize, len(uids))]
		uids = uids[len(batch):]
		n, err := w.handleBatch(ctx, c, batch)
		stored += n
		if err != nil {
			return stored, err
		}
	}
	return stored, ctx.Err()
}

// fetched is one message as the server sent it.
type fetched struct {
	uid      uint32
	raw      []byte
	size     uint32
	internal time.Time
}

// handleBatch fetches the messages uids (without setting \Seen), stores a
// signal for each, and flags each one \Seen once its signal is stored.
func (w *Worker) handleBatch(ctx context.Context, c *client.Client, uids []uint32) (int, error) {
	set := new(imap.SeqSet)
	set.AddNum(uids...)
	section := &imap.BodySectionName{Peek: true, Partial: []int{0, maxFetchBytes}}
	items := []imap.FetchItem{imap.FetchUid, imap.FetchRFC822Size, imap.FetchInternalDate, section.FetchItem()}
	ch := make(chan *imap.Message, len(uids))
	if err := c.UidFetch(set, items, ch); err != nil {
		return 0, fmt.Errorf("fetch: %w", err)
	}
	var msgs []fetched
	for m := range ch {
		f := fetched{uid: m.Uid, size: m.Size, internal: m.InternalDate}
		if body := m.GetBody(section); body != nil {
			raw, err := io.ReadAll(body)
			if err != nil {
				return 0, fmt.Errorf("read message %d: %w", m.Uid, err)
			}
			f.raw = raw
		}
		msgs = append(msgs, f)
	}
	stored := 0
	for _, m := range msgs {
		if ctx.Err() != nil {
			return stored, ctx.Err()
		}
		s := ParseMessage(m.raw)
		if m.size > maxFetchBytes {
			s.Body = fitBody(s.Body + fmt.Sprintf("\n\n(only the first %d MiB of this %d-byte message were read; the whole of it stays in the intake mailbox)", maxFetchBytes>>20, m.size))
		}
		if !m.internal.IsZero() {
			s.ReceivedAt = m.internal // when it reached the mailbox, not when tocsin read it
		}
		err := w.store.CreateSignal(ctx, Actor, s)
		switch tocsin.ErrorCode(err) {
		case "":
			stored++
			// The contact is personal data: the log names the signal only.
			w.log.Info("signal from the intake mailbox", "signal", s.ID, "receipt", s.Receipt, "uid", m.uid)
		case tocsin.ECONFLICT:
			// Read before, and the flag was lost: flag it now.
		default:
			return stored, fmt.Errorf("store message %d: %w", m.uid, err)
		}
		one := new(imap.SeqSet)
		one.AddNum(m.uid)
		if err := c.UidStore(one, imap.FormatFlagsOp(imap.AddFlags, true), []any{imap.SeenFlag}, nil); err != nil {
			return stored, fmt.Errorf("flag message %d seen: %w", m.uid, err)
		}
	}
	return stored, nil
}

// connect dials, secures and logs in; release logs out and closes the
// connection. Ending ctx closes the connection, which ends any command
// under way.
func (w *Worker) connect(ctx context.Context) (c *client.Client, release func(), err error) {
	addr := net.JoinHostPort(w.cfg.Host, strconv.Itoa(w.cfg.Port))
	d := &net.Dialer{Timeout: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	tlsConfig := &tls.Config{ServerName: w.cfg.Host, MinVersion: tls.VersionTLS12}
	if w.cfg.TLSConfig != nil {
		tlsConfig = w.cfg.TLSConfig.Clone()
		if tlsConfig.ServerName == "" {
			tlsConfig.ServerName = w.cfg.Host
		}
	}
	if w.cfg.TLS == "tls" {
		conn = tls.Client(conn, tlsConfig)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	fail := func(what string, err error) (*client.Client, func(), error) {
		stop()
		conn.Close()
		return nil, nil, fmt.Errorf("%s on %s: %w", what, addr, err)
	}
	// The greeting has no command to time it out.
	_ = conn.SetDeadline(time.Now().Add(commandWait))
	c, err = client.New(conn)
	if err != nil {
		return fail("greeting", err)
	}
	_ = conn.SetDeadline(time.Time{})
	c.Timeout = commandWait
	if w.cfg.TLS == "starttls" {
		if err := c.StartTLS(tlsConfig); err != nil {
			return fail("STARTTLS", err)
		}
	}
	if err := c.Login(w.cfg.Username, w.cfg.Password); err != nil {
		return fail("login", err)
	}
	return c, func() {
		if ctx.Err() == nil {
			_ = c.Logout()
		}
		stop()
		conn.Close()
	}, nil
}
