package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/config"
	"github.com/tocsin-org/tocsin/deadline"
	"github.com/tocsin-org/tocsin/httpserver"
	"github.com/tocsin-org/tocsin/intake"
	"github.com/tocsin-org/tocsin/maintenance"
	"github.com/tocsin-org/tocsin/monitor"
	"github.com/tocsin-org/tocsin/notify"
	"github.com/tocsin-org/tocsin/probe"
	"github.com/tocsin-org/tocsin/runbooks"
	"github.com/tocsin-org/tocsin/sqlstore"
)

// setupLinkLifetime is how long the first-admin link printed at start works.
const setupLinkLifetime = time.Hour

func cmdServe(ctx context.Context, e *env, args []string) error {
	f := newFlags(e, "serve", "serve [flags]",
		"Run tocsin: the console, the API, health checks, metrics and the delivery worker.\nOn an empty database it prints a one-time link that creates the first admin.")
	listen := f.String("listen", "", "`address` to listen on, host:port (default 127.0.0.1:8080); overrides listen")
	if err := f.parse(args); err != nil {
		return helpOK(err)
	}
	c, err := f.config(e)
	if err != nil {
		return err
	}
	if *listen != "" {
		c.Listen = *listen
		if err := c.Validate(); err != nil {
			return err
		}
	}
	hasher, err := newHasher(c)
	if err != nil {
		return err
	}
	log := newLogger(e, c)

	db, err := openStore(ctx, e, c)
	if err != nil {
		return err
	}
	defer db.Close()
	box, err := auth.LoadOrCreateKey(c.DataDir, e.getenv("TOCSIN_SECRET_KEY"))
	if err != nil {
		return err
	}
	if err := syncServices(ctx, db, c); err != nil {
		return err
	}
	if err := syncChecks(ctx, db, c); err != nil {
		return err
	}
	// The shipped runbooks: new ones added, untouched ones updated, edited
	// ones kept.
	if _, err := runbooks.Load(ctx, db, tocsin.System, ""); err != nil {
		return err
	}

	// Bind before the worker starts: a start that fails here (the port is
	// taken, perhaps by another tocsin on the same data) must not have
	// claimed messages it then abandons mid-delivery.
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another program using it? choose another with --listen)", c.Listen, err)
	}
	if c.BaseURL == "" {
		// Links (the setup link, e-mails) name the port actually bound,
		// which differs from the configured one with port 0.
		c.Listen = ln.Addr().String()
	}
	// The worker outlives the signal that stops serve: Shutdown below lets
	// deliveries in flight finish instead of cutting them off.
	worker, err := startWorker(context.WithoutCancel(ctx), c, db, box, log)
	if err != nil {
		ln.Close()
		return err
	}
	reader, err := startIntake(context.WithoutCancel(ctx), c, db, log)
	if err != nil {
		ln.Close()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = worker.shutdown(shutdownCtx)
		return err
	}
	// The fan-out turns published updates into one message per subscriber,
	// in batches; it runs without a mail channel too (messages then wait).
	zone, err := time.LoadLocation(c.TimeZone) // validated with the configuration
	if err != nil {
		ln.Close()
		return err
	}
	fanout := notify.NewFanout(db, notify.SubscriberMail{
		BaseURL: strings.TrimSuffix(c.PublicURL(), "/"), Key: box.DeriveKey(notify.UnsubscribeKeyLabel), Location: zone,
	}, notify.FanoutOptions{PollInterval: c.Outbox.PollInterval, Enqueued: func(int) { worker.kick() }}, log)
	fanout.Start(context.WithoutCancel(ctx))
	abort := func(err error) error {
		ln.Close()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = reader.Shutdown(shutdownCtx)
		_ = fanout.Shutdown(shutdownCtx)
		_ = worker.shutdown(shutdownCtx)
		return err
	}
	// Pages are written in the transaction of the signal that opens them.
	db.SetPageComposer(notify.Pages{BaseURL: strings.TrimSuffix(c.PublicURL(), "/"), Key: box.DeriveKey(notify.PageAckKeyLabel), Location: zone})
	// Deadlines: each duty is one line here. The maintenance duty refreshes
	// the public site after each step; the server wakes the worker after
	// each change. It starts once the server exists.
	maint := &maintenance.Worker{Store: db, Lang: c.Lang, Lead: c.Maintenance.ReminderLead}
	deadlines := &deadline.Worker{Log: log, Duties: []deadline.Duty{
		maint.Duty(),
		deadline.Escalation(db),
		deadline.BreachReminders(db, tocsin.ClockKindsOf(c.Breach.Clocks()), c.Lang, strings.TrimSuffix(c.PublicURL(), "/"), zone),
		runbooks.Reminders(db, c.PublicURL(), zone),
		deadline.Cadence(db, c.Comms.Cadence, strings.TrimSuffix(c.PublicURL(), "/"), zone),
	}}
	checks := newMonitor(e, c, db, log)
	srv, err := httpserver.New(httpserver.Options{
		Config: c, Store: db, Hasher: hasher, Box: box, Logger: log,
		Version: version, KickOutbox: func() { worker.kick(); fanout.Kick() }, KickDeadlines: deadlines.Kick,
		RunCheck: checks.RunNow, ChecksChanged: checks.Reload, CheckMetrics: func(w io.Writer) { _ = checks.WriteMetrics(w) },
	})
	if err != nil {
		return abort(err)
	}
	fmt.Fprintf(e.stderr, "tocsin %s listening on %s (data in %s)\n", version, ln.Addr(), c.DataDir)
	if err := printSetupLink(ctx, e, c, db); err != nil {
		return abort(err)
	}

	// The public site is rebuilt off the request path after changes, and
	// after changes made elsewhere (another instance, the command line).
	srv.StartPublisher()
	var wg sync.WaitGroup
	janitorCtx, stopJanitor := context.WithCancel(context.Background())
	wg.Go(func() { sweep(janitorCtx, db, c, log) })
	maint.Changed = srv.RefreshPublic
	deadlines.Start(context.Background())
	if err := checks.Start(context.Background()); err != nil {
		stopJanitor()
		deadlines.Stop()
		return abort(err)
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err = <-served:
	case <-ctx.Done():
	}
	// HTTP stops first so that no new work arrives, then the workers drain.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if serr := srv.Shutdown(shutdownCtx); serr != nil && err == nil {
		err = serr
	}
	if perr := srv.StopPublisher(shutdownCtx); perr != nil && err == nil {
		err = perr
	}
	stopJanitor()
	checks.Stop()
	deadlines.Stop()
	wg.Wait()
	if rerr := reader.Shutdown(shutdownCtx); rerr != nil && err == nil {
		err = rerr
	}
	if ferr := fanout.Shutdown(shutdownCtx); ferr != nil && err == nil {
		err = ferr
	}
	if werr := worker.shutdown(shutdownCtx); werr != nil && err == nil {
		err = werr
	}
	fmt.Fprintln(e.stderr, "tocsin stopped")
	return err
}

// newMonitor returns the scheduler of the checks, whose prober names tocsin
// and this instance to the servers it probes.
func newMonitor(e *env, c config.Config, db *sqlstore.DB, log *slog.Logger) *monitor.Monitor {
	p := probe.New(fmt.Sprintf("tocsin/%s (+%s)", version, strings.TrimSuffix(c.PublicURL(), "/")))
	p.BodyLimit = c.Checks.BodyLimit
	p.AllowPrivate = c.Checks.AllowPrivate
	p.Getenv = e.getenv
	return monitor.New(db, p, monitor.Options{Concurrency: c.Checks.Concurrency, PerHost: c.Checks.PerHost, Logger: log})
}

func newLogger(e *env, c config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Log.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}

// newHasher applies the configured argon2id cost over auth's defaults. It
// refuses parameters auth does not accept (auth.NewHasher would panic), in
// case config.Validate and auth.PasswordParams.Validate ever disagree.
func newHasher(c config.Config) (*auth.Hasher, error) {
	p := auth.DefaultPasswordParams
	if c.Password.MemoryKiB != 0 {
		p.MemoryKiB = c.Password.MemoryKiB
	}
	if c.Password.Time != 0 {
		p.Time = c.Password.Time
	}
	if c.Password.Threads != 0 {
		p.Threads = c.Password.Threads
	}
	if c.Password.MaxConcurrent != 0 {
		p.MaxConcurrent = c.Password.MaxConcurrent
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("config: password: %s", tocsin.ErrorMessage(err))
	}
	return auth.NewHasher(p), nil
}

// printSetupLink prints, on an empty database, the one-time link that
// creates the first admin. No default password exists, ever.
func printSetupLink(ctx context.Context, e *env, c config.Config, db *sqlstore.DB) error {
	n, err := db.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	plain, hash, err := auth.NewToken("tcu_")
	if err != nil {
		return err
	}
	now := time.Now()
	if err := db.CreateSetupToken(ctx, &tocsin.SetupToken{Hash: hash, CreatedAt: now, ExpiresAt: now.Add(setupLinkLifetime)}); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "\nNo account exists yet. Open this link within 1 hour to create the first admin:\n\n  %s/setup?token=%s\n\nOr create one from the command line: tocsin user add --email you@example.org --role admin\n\n", c.PublicURL(), plain)
	return nil
}

// outbox is the delivery worker, or nothing when no channel is set up: then
// messages wait in the outbox, and none is given up for want of a channel.
type outbox struct{ w *notify.Worker }

func (o outbox) kick() {
	if o.w != nil {
		o.w.Kick()
	}
}

func (o outbox) shutdown(ctx context.Context) error {
	if o.w == nil {
		return nil
	}
	return o.w.Shutdown(ctx)
}

// startWorker starts outbox delivery over the configured channels.
func startWorker(ctx context.Context, c config.Config, db *sqlstore.DB, box *auth.Box, log *slog.Logger) (outbox, error) {
	// Each channel delivers only its own messages: without smtp.host,
	// e-mail waits in the outbox while webhooks and Matrix pages go out.
	channels := map[string]notify.Channel{tocsin.ChannelWebhook: &notify.Webhook{Store: db, Box: box}}
	if c.SMTP.Host != "" {
		channels[tocsin.ChannelEmail] = notify.NewSMTP(notify.SMTPConfig{
			Host: c.SMTP.Host, Port: c.SMTP.Port, Username: c.SMTP.Username, Password: c.SMTP.Password,
			From: c.SMTP.From, TLS: c.SMTP.TLS,
		})
	} else {
		log.Warn("smtp.host is not set: e-mail (alerts, pages, subscriber mail) waits in the outbox until it is")
	}
	if m := c.Matrix; m.Homeserver != "" {
		channels[tocsin.ChannelMatrix] = notify.NewMatrix(notify.MatrixConfig{Homeserver: m.Homeserver, AccessToken: m.AccessToken, UserID: m.UserID})
	}
	o := c.Outbox
	w, err := notify.NewWorker(db, channels, notify.WorkerOptions{
		PollInterval: o.PollInterval, Lease: o.Lease, SendTimeout: o.SendTimeout,
		MaxAttempts: o.MaxAttempts, BaseBackoff: o.RetryBase, MaxBackoff: o.RetryMax,
		Concurrency: o.Concurrency, BatchSize: max(o.Concurrency, 10),
	}, log)
	if err != nil {
		return outbox{}, err
	}
	w.Start(ctx)
	return outbox{w}, nil
}

// startIntake starts reading the intake mailbox when intake.imap is set;
// otherwise it returns a worker that was never started (Shutdown is then a
// no-op), and reports arrive by the form and the API only.
func startIntake(ctx context.Context, c config.Config, db *sqlstore.DB, log *slog.Logger) (*intake.Worker, error) {
	m := c.Intake.IMAP
	if m.Host == "" {
		return &intake.Worker{}, nil
	}
	w, err := intake.NewWorker(db, intake.IMAPConfig{
		Host: m.Host, Port: m.Port, TLS: m.TLS, Username: m.Username, Password: m.Password,
		Mailbox: m.Mailbox, Poll: m.PollInterval,
	}, log)
	if err != nil {
		return nil, err
	}
	w.Start(ctx)
	return w, nil
}

// History kept before the janitor deletes it: sign-in attempts (for
// throttling, new-device alerts and the account page) and delivered or
// abandoned messages (for the console and investigations).
const (
	keepSignIns  = 90 * 24 * time.Hour
	keepMessages = 30 * 24 * time.Hour
)

// sweep deletes, at start and then a minute past every hour, expired
// sessions and history past its keep, so that no table grows without
// bound; on the hour, so that the checks' results of the hour just ended
// are packed at once (their rows cost more than their blocks).
func sweep(ctx context.Context, db *sqlstore.DB, c config.Config, log *slog.Logger) {
	for {
		now := time.Now()
		for _, job := range []struct {
			what string
			run  func() (int, error)
		}{
			{"expired sessions", func() (int, error) { return db.DeleteExpiredSessions(ctx, now.Add(-c.Session.IdleTimeout), now) }},
			{"old sign-in attempts", func() (int, error) { return db.PruneSignIns(ctx, now.Add(-keepSignIns)) }},
			{"old delivered messages", func() (int, error) { return db.PruneMessages(ctx, now.Add(-keepMessages)) }},
			{"check results into their hourly and daily history", func() (int, error) { return db.CompactCheckResults(ctx, now, c.Checks.Retention) }},
			{"old subscription attempts and expired pending subscribers", func() (int, error) {
				return db.PruneSubscribeAttempts(ctx, now.Add(-tocsin.ConfirmLifetime))
			}},
		} {
			if n, err := job.run(); err != nil && ctx.Err() == nil {
				log.Warn("sweeping "+job.what, "err", err)
			} else if n > 0 {
				log.Info("swept "+job.what, "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(now.Truncate(time.Hour).Add(time.Hour + time.Minute))):
		}
	}
}
