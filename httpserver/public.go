package httpserver

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/config"
	publicsite "github.com/tocsin-org/tocsin/public"
)

// publisher owns the public site's rebuilds. A change asks for one and
// returns at once; the worker rebuilds off the request path, and every
// change asked for while a build runs is served by the next one, so a burst
// of changes costs one or two builds. The worker also polls the audit log's
// head, so that changes made through another instance or the command line
// reach this instance's page.
type publisher struct {
	s        *Server
	builder  *publicsite.Builder
	exporter *publicsite.Exporter // nil without export.dir

	wake chan struct{} // holds one pending request at most
	stop chan struct{}
	done chan struct{}

	mu        sync.Mutex
	requested uint64        // changes asked for so far
	built     uint64        // changes the served site reflects
	err       error         // of the last build, nil if it succeeded
	advanced  chan struct{} // closed, and replaced, when a build ends
	head      int64         // audit log head the served site was read at
	day       time.Time     // the day (in the page's zone) it was built on
	started   bool
}

func newPublisher(s *Server) *publisher {
	p := &publisher{
		s: s, builder: publicsite.NewBuilder(),
		wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		advanced: make(chan struct{}), head: -1,
	}
	if s.cfg.Export.Dir != "" {
		p.exporter = publicsite.NewExporter(s.cfg.Export.Dir, s.cfg.Lang)
	}
	return p
}

// StartPublisher starts the worker that rebuilds the public site after
// changes; StopPublisher stops it, for good. Without it, changes reach the
// public site only through RefreshPublic or WaitPublic.
func (s *Server) StartPublisher() {
	p := s.pub
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started {
		return
	}
	p.started = true
	go p.run()
}

// StopPublisher stops the worker, after the build under way if any.
func (s *Server) StopPublisher(ctx context.Context) error {
	p := s.pub
	p.mu.Lock()
	started := p.started
	p.started = false
	p.mu.Unlock()
	if !started {
		return nil
	}
	close(p.stop)
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// publicChanged asks for a rebuild after a change a handler made, and
// returns without waiting for it.
func (s *Server) publicChanged() {
	p := s.pub
	p.mu.Lock()
	p.requested++
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default: // a rebuild is already pending: it will see this change too
	}
}

// WaitPublic waits until the public site reflects every change asked for
// before the call, and returns the error of the build that did, if any.
// Tests use it to read a page after a change without guessing a delay.
// Without a running worker it builds the site itself.
func (s *Server) WaitPublic(ctx context.Context) error {
	p := s.pub
	p.mu.Lock()
	target := p.requested
	if !p.started && p.built < target {
		p.mu.Unlock()
		return s.RefreshPublic(ctx)
	}
	for p.built < target {
		ch := p.advanced
		p.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		p.mu.Lock()
	}
	err := p.err
	p.mu.Unlock()
	return err
}

func (p *publisher) run() {
	defer close(p.done)
	tick := time.NewTicker(p.s.cfg.Page.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-p.wake:
			p.rebuild()
		case <-tick.C:
			if p.stale() {
				p.rebuild()
			}
		}
	}
}

// stale reports whether the audit log moved since the served site was read
// (someone changed something elsewhere), or the day turned (the uptime
// bars move by a day).
func (p *publisher) stale() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	head, err := p.s.auditHead(ctx)
	if err != nil {
		p.s.log.Warn("polling the audit log for changes", "err", err)
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return head != p.head || !p.day.Equal(day(p.s.now(), p.s.loc))
}

// rebuild builds the site for every change asked for so far; a failure is
// logged, and the previous site keeps being served.
func (p *publisher) rebuild() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.s.RefreshPublic(ctx); err != nil {
		p.s.log.Error("rebuilding the public site", "err", err)
	}
}

// RefreshPublic rebuilds the public site from the store now, swaps it in,
// and writes the export directory when one is configured. Readers keep
// getting the previous version until the new one is ready, so a burst of
// readers never waits on, or reaches, the database.
func (s *Server) RefreshPublic(ctx context.Context) error {
	s.buildMu.Lock() // one build at a time; the last one wins with the newest data
	defer s.buildMu.Unlock()
	p := s.pub
	p.mu.Lock()
	target := p.requested
	p.mu.Unlock()
	// The head is read before the data: a change that lands in between
	// moves the head past it, and the next poll builds again.
	start := time.Now()
	head, err := s.auditHead(ctx)
	if err == nil {
		var snap publicsite.Snapshot
		var site *publicsite.Site
		snap, err = publicsite.Read(ctx, s.store, s.store, s.store, s.store, PageOf(s.cfg, s.loc), s.now())
		read := time.Now()
		if err == nil {
			site, err = p.builder.Build(snap)
		}
		if err == nil {
			s.site.Store(site)
			s.metrics.publicBuilds.Add(1)
			s.log.Debug("public site rebuilt", "read", read.Sub(start).Round(time.Microsecond),
				"render", time.Since(read).Round(time.Microsecond), "resources", len(site.Resources))
			if p.exporter != nil {
				if _, _, xerr := p.exporter.Export(site); xerr != nil {
					s.log.Error("exporting the public site", "dir", s.cfg.Export.Dir, "err", xerr)
				}
			}
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil {
		p.head, p.day = head, day(s.now(), s.loc)
	}
	if target > p.built {
		p.built = target
	}
	p.err = err
	close(p.advanced)
	p.advanced = make(chan struct{})
	return err
}

// auditHead is the sequence number of the newest audit entry, 0 if there is
// none: every change writes one, so a moved head means something changed.
func (s *Server) auditHead(ctx context.Context) (int64, error) {
	last, err := s.store.AuditEntries(ctx, tocsin.AuditFilter{Limit: 1})
	if err != nil || len(last) == 0 {
		return 0, err
	}
	return last[0].Seq, nil
}

func day(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
}

// PageOf is the public page's settings from the configuration.
func PageOf(c config.Config, loc *time.Location) publicsite.Page {
	return publicsite.Page{Title: c.Page.Title, URL: c.Page.URL, Contact: c.Page.Contact, Lang: c.Lang, Location: loc}
}

// refreshAfter asks for a rebuild of the public site after a change a
// handler made, off the request path (the publisher makes it), and wakes the
// maintenance worker (the change may be to a maintenance) and the fan-out
// (a published update records a notice for subscribers; a spare wake-up
// costs one query).
func (s *Server) refreshAfter(context.Context) {
	s.kick()
	s.kickD()
	s.publicChanged()
}

// servePublic answers public pages, JSON and assets from memory.
func (s *Server) servePublic(w http.ResponseWriter, r *http.Request) error {
	site := s.site.Load()
	if site == nil {
		return tocsin.Errorf(tocsin.EINTERNAL, "public site not built yet")
	}
	res, ok := site.Lookup(r.URL.Path, r.Header.Get("Accept-Language"), s.cfg.Lang)
	if !ok {
		return tocsin.Errorf(tocsin.ENOTFOUND, "No page at %s.", r.URL.Path)
	}
	res.Serve(w, r, publicsite.Negotiated(r.URL.Path))
	return nil
}
