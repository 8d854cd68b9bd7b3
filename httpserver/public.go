package httpserver

import (
	"context"
	"net/http"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/config"
	publicsite "github.com/tocsin-org/tocsin/public"
)

// RefreshPublic rebuilds the public site from the store and swaps it in.
// Readers keep getting the previous version until the new one is ready, so
// a burst of readers never waits on, or reaches, the database.
func (s *Server) RefreshPublic(ctx context.Context) error {
	s.buildMu.Lock() // one build at a time; the last one wins with the newest data
	defer s.buildMu.Unlock()
	snap, err := publicsite.Read(ctx, s.store, s.store, s.store, PageOf(s.cfg, s.loc), s.now())
	if err != nil {
		return err
	}
	site, err := publicsite.Build(snap)
	if err != nil {
		return err
	}
	s.site.Store(site)
	return nil
}

// PageOf is the public page's settings from the configuration.
func PageOf(c config.Config, loc *time.Location) publicsite.Page {
	return publicsite.Page{Title: c.Page.Title, URL: c.Page.URL, Contact: c.Page.Contact, Lang: c.Lang, Location: loc}
}

// refreshAfter rebuilds the public site after a change a handler made (and
// wakes the maintenance worker, in case the change was to a maintenance); a
// failure is logged, and the previous site keeps being served.
func (s *Server) refreshAfter(ctx context.Context) {
	// A published update records a notice for subscribers in its own
	// transaction: wake the fan-out (a spare wake-up costs one query).
	s.kick()
	s.kickM()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := s.RefreshPublic(ctx); err != nil {
		s.log.Error("rebuilding the public site", "err", err)
	}
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
