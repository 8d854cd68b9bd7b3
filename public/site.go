// Package public builds what the public sees — the status page in French
// and English, the Statuspage-compatible JSON and the assets — from a
// snapshot of the data, as bytes held in memory. Building is a pure
// function: the server serves its result without touching the database, and
// `tocsin export` writes the same bytes as a static site.
package public

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// Snapshot is everything the public site shows, read once per change.
type Snapshot struct {
	Title    string
	URL      string // public address of the page, "" if unknown
	Contact  string // e-mail address or form URL for "report a problem"
	Lang     string // default language
	Location *time.Location
	Now      time.Time
	Services []*tocsin.Service
	History  []tocsin.StatusChange // since Now minus UptimeDays, as StatusHistory returns it
	// Incidents are the published incidents, newest first. Drafts are
	// skipped.
	Incidents []*tocsin.Incident
	// Postmortems are the published post-mortems; any other is skipped.
	Postmortems []*tocsin.Postmortem
}

// UptimeDays is the length of the uptime bars.
const UptimeDays = 90

// Resource is one public URL's response, ready to send.
type Resource struct {
	Body         []byte
	ContentType  string
	ETag         string
	ModTime      time.Time
	CacheControl string
	// Public read-only data that widgets on other sites may read.
	CORS bool
	// Frameable pages may be shown in another site's <iframe> (the site
	// notice); every other page refuses framing.
	Frameable bool

	// The gzip variant is made on first request, not at build time: a
	// rebuild during an incident then costs only what readers ask for.
	gzipOnce sync.Once
	gzip     []byte // nil when compression does not pay
}

// Gzip returns the compressed body, or nil when compression does not pay.
func (r *Resource) Gzip() []byte {
	r.gzipOnce.Do(func() {
		if len(r.Body) < 512 {
			return
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(r.Body)
		zw.Close()
		if buf.Len() < len(r.Body) {
			r.gzip = buf.Bytes()
		}
	})
	return r.gzip
}

// Site is the public site: URL path → resource, with "/" negotiated by
// language between "/en/" and "/fr/".
type Site struct {
	Resources map[string]*Resource
}

// Build renders the whole public site from s.
func Build(s Snapshot) (*Site, error) {
	site := &Site{Resources: map[string]*Resource{}}
	for path, a := range assets.files {
		site.add(path, a.body, a.contentType, "public, max-age=31536000, immutable", false, s.Now)
	}
	v := newView(s)
	for _, lang := range i18n.Langs {
		body, err := renderPage("index", lang, v)
		if err != nil {
			return nil, err
		}
		site.add("/"+lang+"/", body, "text/html; charset=utf-8", pageCache, false, s.Now)
		for _, inc := range v.Incidents {
			body, key, err := renderIncident(lang, v, inc)
			if err != nil {
				return nil, err
			}
			// The page's cache key digests all that is in it: it serves as
			// the ETag, which spares hashing thousands of unchanged pages.
			site.add(incidentPath(lang, inc.ID), body, "text/html; charset=utf-8", pageCache, false, inc.UpdatedAt, key)
		}
		for _, pm := range v.Postmortems {
			body, key, err := renderPostmortem(lang, v, pm)
			if err != nil {
				return nil, err
			}
			site.add(postmortemPath(lang, pm.IncidentID), body, "text/html; charset=utf-8", pageCache, false, *pm.PublishedAt, key)
		}
		body, err = renderPage("postmortems", lang, v)
		if err != nil {
			return nil, err
		}
		site.add(postmortemsPath(lang), body, "text/html; charset=utf-8", pageCache, false, s.Now)
		if err := addHistory(site, lang, v, s.Now); err != nil {
			return nil, err
		}
		site.add("/"+lang+"/feed.atom", renderFeed(s, v, lang), "application/atom+xml; charset=utf-8", pageCache, true, s.Now)
	}
	for svc, paths := range badgePaths(s.Services) {
		body := badgeSVG(svc, s.Lang)
		for _, p := range paths {
			site.add(p, body, "image/svg+xml", pageCache, true, s.Now)
		}
	}
	site.add("/maintenance.ics", renderCalendar(s, v), "text/calendar; charset=utf-8", pageCache, true, s.Now)
	for path, body := range statuspageJSON(s, v) {
		site.add(path, body, "application/json; charset=utf-8", pageCache, true, s.Now)
	}
	if err := addNotice(site, s, v); err != nil {
		return nil, err
	}
	return site, nil
}

// pageCache lets a CDN or browser keep pages briefly: during an incident
// readers reload often, and a minute-old page is still useful.
const pageCache = "public, max-age=30, stale-while-revalidate=30, stale-if-error=86400"

// add stores a resource; its ETag is tag when given (a digest of the
// inputs), else a hash of the body.
func (site *Site) add(path string, body []byte, contentType, cache string, cors bool, mod time.Time, tag ...string) *Resource {
	etag := ""
	if len(tag) > 0 && len(tag[0]) > 24 {
		etag = `"` + tag[0][len(tag[0])-24:] + `"`
	} else {
		sum := sha256.Sum256(body)
		etag = `"` + hex.EncodeToString(sum[:12]) + `"`
	}
	r := &Resource{
		Body: body, ContentType: contentType, CacheControl: cache, CORS: cors,
		ETag: etag, ModTime: mod.UTC().Truncate(time.Second),
	}
	site.Resources[path] = r
	return r
}

// Negotiated reports whether a request path is served in the reader's
// language: "/", "/index.html", "/feed.atom", "/notice.html", "/incidents/…"
// (post-mortems included), "/history/…" and "/postmortems/".
func Negotiated(path string) bool {
	return path == "/" || path == "/index.html" || path == "/feed.atom" || path == "/notice.html" ||
		strings.HasPrefix(path, "/incidents/") || strings.HasPrefix(path, "/history/") || strings.HasPrefix(path, "/postmortems/")
}

// frameableCSP is the policy of pages other sites may frame: no script at
// all, the stylesheet from here, links that leave the frame.
const frameableCSP = "default-src 'none'; style-src 'self'; frame-ancestors *; base-uri 'none'; form-action 'none'"

// Lookup returns the resource for a request path; the Negotiated paths
// follow the reader's language.
func (site *Site) Lookup(path, acceptLanguage, fallback string) (*Resource, bool) {
	if Negotiated(path) {
		lang := i18n.Negotiate(acceptLanguage)
		if lang == "" {
			lang = fallback
		}
		path = "/" + lang + path
	}
	path = strings.TrimSuffix(path, "index.html")
	r, ok := site.Resources[path]
	return r, ok
}

// Serve writes r, answering conditional requests and compressing for
// clients that accept gzip. It never touches anything but memory.
func (r *Resource) Serve(w http.ResponseWriter, req *http.Request, varyLanguage bool) {
	h := w.Header()
	h.Set("Content-Type", r.ContentType)
	h.Set("Cache-Control", r.CacheControl)
	h.Set("ETag", r.ETag)
	h.Set("Last-Modified", r.ModTime.Format(http.TimeFormat))
	vary := "Accept-Encoding"
	if varyLanguage {
		vary += ", Accept-Language"
	}
	h.Set("Vary", vary)
	if r.CORS {
		h.Set("Access-Control-Allow-Origin", "*")
	}
	if r.Frameable {
		h.Set("Content-Security-Policy", frameableCSP)
		h.Del("X-Frame-Options")
	}
	if match := req.Header.Get("If-None-Match"); match != "" {
		if etagMatches(match, r.ETag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	} else if since, err := http.ParseTime(req.Header.Get("If-Modified-Since")); err == nil && !r.ModTime.After(since) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := r.Body
	if acceptsGzip(req.Header.Get("Accept-Encoding")) {
		if z := r.Gzip(); z != nil {
			h.Set("Content-Encoding", "gzip")
			body = z
		}
	}
	if req.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Write(body)
}

func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == etag || part == "*" {
			return true
		}
	}
	return false
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !ok {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}
