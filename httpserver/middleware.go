package httpserver

import (
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/tocsin-org/tocsin"
)

// buildHandler registers the route table on a ServeMux and wraps it in the
// middleware every request goes through. What the table does not serve goes
// to the fallback, built from the same table.
func (s *Server) buildHandler() http.Handler {
	mux := http.NewServeMux()
	for i := range s.routes {
		mux.Handle(s.routes[i].pattern, s.wrap(&s.routes[i]))
	}
	mux.Handle("/", s.fallback(s.routes))
	return s.observe(s.securityHeaders(mux))
}

// pathInfo is what the fallback knows of a path the route table serves
// with other methods.
type pathInfo struct {
	allow []string // methods, sorted; HEAD wherever GET is
	kind  kind     // page when any route of the path is a page
}

// fallback answers what no route matched: a known path with a method it
// does not serve gets 405 with Allow, anything else 404. Both are JSON
// under /api/ and on API or raw paths, and the HTML error page elsewhere;
// neither is authenticated nor checked for CSRF, since nothing runs.
func (s *Server) fallback(routes []route) http.Handler {
	// paths knows every path of the table without its method, so that
	// the standard library matches wildcards exactly as mux does.
	paths := http.NewServeMux()
	info := map[string]*pathInfo{}
	for _, rt := range routes {
		method, path, ok := strings.Cut(rt.pattern, " ")
		if !ok {
			// A pattern without a method serves every method.
			continue
		}
		pi := info[path]
		if pi == nil {
			pi = &pathInfo{kind: rt.kind}
			info[path] = pi
			paths.Handle(path, http.NotFoundHandler()) // only its pattern is used
		}
		pi.allow = append(pi.allow, method)
		if method == http.MethodGet {
			pi.allow = append(pi.allow, http.MethodHead)
		}
		if rt.kind == page || rt.kind == site && !strings.HasPrefix(path, "/api/") {
			pi.kind = page
		}
	}
	for _, pi := range info {
		slices.Sort(pi.allow)
		pi.allow = slices.Compact(pi.allow)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt := &route{pattern: "/", access: public, kind: page}
		state(r).route = rt
		_, path := paths.Handler(r)
		pi := info[path]
		switch {
		case pi != nil:
			rt.kind = pi.kind
		case strings.HasPrefix(r.URL.Path, "/api/"):
			rt.kind = raw
		}
		if rt.kind == page {
			if err := s.identifyBrowser(w, r); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		if pi != nil {
			s.writeError(w, r, &methodError{method: r.Method, allow: pi.allow})
			return
		}
		s.writeError(w, r, tocsin.Errorf(tocsin.ENOTFOUND, "No page at %s.", r.URL.Path))
	})
}

// identifyBrowser is what an error page needs of authenticatePage: the
// CSRF cookie (for the forms of the layout), the language and the session
// (for the menu). There is no CSRF check: the fallback changes nothing.
func (s *Server) identifyBrowser(w http.ResponseWriter, r *http.Request) error {
	if err := s.ensureCSRFCookie(w, r); err != nil {
		return err
	}
	state(r).lang = s.langFor(r, nil)
	return s.loadSession(w, r)
}

// wrap applies the route's authentication and access check, then runs its
// handler, and writes any error in the route's format.
func (s *Server) wrap(rt *route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := state(r)
		copyRoute := *rt
		st.route = &copyRoute
		var err error
		switch rt.kind {
		case api:
			err = s.authenticateToken(r, rt.access)
		case page:
			err = s.authenticatePage(w, r, rt.access)
		}
		if err == nil {
			err = rt.handle(w, r)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// statusWriter records the status code for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	st *reqState
}

func (w *statusWriter) WriteHeader(code int) {
	if w.st.status == 0 {
		w.st.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.st.status == 0 {
		w.st.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe resolves the client address, recovers from panics without showing
// a stack to the client, counts the request and logs failures.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r, st := withState(r)
		st.ip = s.clientIP(r)
		sw := &statusWriter{ResponseWriter: w, st: st}
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic serving request", "path", r.URL.Path, "panic", p, "stack", string(debug.Stack()))
				if st.status == 0 {
					s.writeError(sw, r, tocsin.Errorf(tocsin.EINTERNAL, "panic"))
				}
			}
			pattern := "unmatched"
			if st.route != nil {
				pattern = st.route.pattern
			}
			s.metrics.observeRequest(pattern, st.status, time.Since(start))
		}()
		next.ServeHTTP(sw, r)
	})
}

// securityHeaders applies the headers every response carries. The CSP
// allows no inline script or style; data: images carry the TOTP QR code.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if s.secureCookies() {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}

// clientIP returns the address of the client. X-Forwarded-For is believed
// only when the connection comes from a trusted proxy, and then read from
// the right, skipping trusted proxies, so a client cannot spoof it by
// sending its own header.
func (s *Server) clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !s.trusted(peer) {
		return peer.String()
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func (s *Server) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// secureCookies reports whether browsers reach tocsin over HTTPS, directly
// or through a proxy that terminates TLS.
func (s *Server) secureCookies() bool {
	return s.cfg.TLS.Cert != "" || strings.HasPrefix(s.cfg.BaseURL, "https://")
}
