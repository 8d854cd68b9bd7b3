// Package httpserver serves tocsin over HTTP: the admin console (HTML), the
// JSON API under /api/v1, health checks and metrics. Every route is listed
// in routes.go; handlers return errors that errors.go maps to responses.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/config"
	"github.com/tocsin-org/tocsin/notify"
	publicsite "github.com/tocsin-org/tocsin/public"
)

// Options is what the server needs from the program that runs it.
type Options struct {
	Config  config.Config
	Store   tocsin.Store
	Hasher  *auth.Hasher
	Box     *auth.Box
	Logger  *slog.Logger
	Version string
	// KickOutbox wakes the delivery worker after a message was enqueued.
	KickOutbox func()
	// KickDeadlines wakes the deadline worker (scheduled maintenances,
	// escalations, reminders) after a change, which may have set or moved
	// a deadline.
	KickDeadlines func()
	// Now is the clock; tests replace it.
	Now func() time.Time
	// RunCheck runs a check now and records its result (the monitor's
	// RunNow); nil in a server without a monitor, where "run now" answers
	// that checks do not run here.
	RunCheck func(ctx context.Context, id int64) (*tocsin.CheckResult, error)
	// ChecksChanged is called after every check created, edited, paused
	// or deleted, so that the scheduler reloads (the monitor's Reload).
	ChecksChanged func()
	// CheckMetrics appends the per-check Prometheus metrics to /metrics
	// (the monitor's WriteMetrics).
	CheckMetrics func(io.Writer)
}

// Server is tocsin's HTTP side.
type Server struct {
	cfg     config.Config
	store   tocsin.Store
	hasher  *auth.Hasher
	box     *auth.Box
	log     *slog.Logger
	version string
	kick    func()
	kickD   func()
	now     func() time.Time
	loc     *time.Location
	proxies []netip.Prefix
	csrfKey []byte
	// unsubKey signs subscribers' unsubscribe links; digestKey makes the
	// digests of addresses that rate limits keep.
	unsubKey  []byte
	pageKey   []byte // signs pages' acknowledgement links
	digestKey []byte
	metrics   *metrics
	pages     *pages
	handler   http.Handler
	routes    []route
	httpSrv   *http.Server
	started   time.Time

	openAPIOnce sync.Once
	openAPIJSON []byte

	site    atomic.Pointer[publicsite.Site] // the public site, rebuilt on change
	buildMu sync.Mutex
	pub     *publisher

	// The monitor's hooks (Options): run now, reload, metrics.
	runCheck     func(ctx context.Context, id int64) (*tocsin.CheckResult, error)
	onChecks     func()
	checkMetrics func(io.Writer)
}

// New builds the server and its route table.
func New(o Options) (*Server, error) {
	if o.Store == nil || o.Hasher == nil || o.Box == nil {
		return nil, errors.New("httpserver: Store, Hasher and Box are required")
	}
	s := &Server{
		cfg: o.Config, store: o.Store, hasher: o.Hasher, box: o.Box, log: o.Logger,
		version: o.Version, kick: o.KickOutbox, kickD: o.KickDeadlines, now: o.Now, metrics: newMetrics(), started: time.Now(),
		runCheck: o.RunCheck, onChecks: o.ChecksChanged, checkMetrics: o.CheckMetrics,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.kick == nil {
		s.kick = func() {}
	}
	if s.kickD == nil {
		s.kickD = func() {}
	}
	if s.now == nil {
		s.now = time.Now
	}
	loc, err := time.LoadLocation(o.Config.TimeZone)
	if err != nil {
		return nil, err
	}
	s.loc = loc
	for _, p := range o.Config.TrustedProxies {
		prefix, err := config.ParseCIDR(p)
		if err != nil {
			return nil, err
		}
		s.proxies = append(s.proxies, prefix)
	}
	// The CSRF key is derived from the at-rest key, so that it survives
	// restarts and is shared by every instance using the same key.
	s.csrfKey = o.Box.DeriveKey("csrf")
	s.unsubKey = o.Box.DeriveKey(notify.UnsubscribeKeyLabel)
	s.pageKey = o.Box.DeriveKey(notify.PageAckKeyLabel)
	s.digestKey = o.Box.DeriveKey("subscriber-digest")
	if s.pages, err = loadPages(); err != nil {
		return nil, err
	}
	s.routes = s.routeTable()
	s.handler = s.buildHandler()
	s.pub = newPublisher(s)
	if err := s.RefreshPublic(context.Background()); err != nil {
		return nil, fmt.Errorf("build the public site: %w", err)
	}
	return s, nil
}

// Handler returns the root handler, with every middleware applied.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve accepts connections on ln until Shutdown, with TLS when configured.
func (s *Server) Serve(ln net.Listener) error {
	s.httpSrv = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	var err error
	if s.cfg.TLS.Cert != "" {
		err = s.httpSrv.ServeTLS(ln, s.cfg.TLS.Cert, s.cfg.TLS.Key)
	} else {
		err = s.httpSrv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting requests and waits for those under way.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.httpSrv == nil {
		return nil
	}
	return s.httpSrv.Shutdown(ctx)
}
