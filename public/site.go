// Package public builds what the public sees — the status page in French
// and English, the Statuspage-compatible JSON and the assets — from a
// snapshot of the data, as bytes held in memory. Building is a pure
// function: the server serves its result without touching the database, and
// `tocsin export` writes the same bytes as a static site.
package public

import (
	"crypto/sha256"
	"encoding/hex"
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
	// CheckDays are the runs of each service's checks per day of
	// Location, since Now minus UptimeDays, as ServiceCheckDays returns
	// them: the bars show the share that succeeded.
	CheckDays []tocsin.CheckDay
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

	// Compressed variants are made on first request, not at build time:
	// a rebuild during an incident then costs only what readers ask for.
	gzipOnce, brOnce sync.Once
	gzip, br         []byte // nil when compression does not pay
}

// Site is the public site: URL path → resource, with "/" negotiated by
// language between "/en/" and "/fr/".
type Site struct {
	Resources map[string]*Resource
}

// Build renders the whole public site from s, with the process's shared
// Builder.
func Build(s Snapshot) (*Site, error) { return defaultBuilder.Build(s) }

// Build renders the whole public site from s, reusing what earlier builds
// rendered from the same inputs. Builds are serialized.
func (b *Builder) Build(s Snapshot) (*Site, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gen++
	site := &Site{Resources: make(map[string]*Resource, len(b.incidents.m)+len(s.Services)*2+64)}
	if b.assets == nil {
		// Assets are content-addressed: one Resource each for the
		// process's life, dated by the first build.
		b.assets = map[string]*Resource{}
		for path, a := range assets.files {
			b.assets[path] = newResource(a.body, a.contentType, assetCache, false, s.Now)
		}
	}
	for path, r := range b.assets {
		site.Resources[path] = r
	}
	v, err := b.newView(s)
	if err != nil {
		return nil, err
	}
	shared := newFingerprint().str(v.Title).str(v.URL).str(v.Contact).str(v.Zone).sum()
	for _, inc := range v.Incidents {
		inc.fp = incidentFingerprint(shared, inc)
		rs, err := b.renderIncident(v, inc)
		if err != nil {
			return nil, err
		}
		if inc.HistoryRows, err = b.historyRows(inc, v.Location); err != nil {
			return nil, err
		}
		for i, lang := range i18n.Langs {
			site.Resources[incidentPath(lang, inc.ID)] = rs[i]
		}
	}
	for _, lang := range i18n.Langs {
		c := *v
		c.Lang = lang
		// The page is sized like the last one, plus room to grow.
		body, err := executeSized("index.html", lang, &c, b.indexSize+b.indexSize/8)
		if err != nil {
			return nil, err
		}
		b.indexSize = len(body)
		site.add("/"+lang+"/", body, "text/html; charset=utf-8", pageCache, false, s.Now)
		for _, pm := range v.Postmortems {
			body, key, err := renderPostmortem(lang, v, pm)
			if err != nil {
				return nil, err
			}
			site.add(postmortemPath(lang, pm.IncidentID), body, "text/html; charset=utf-8", pageCache, false, *pm.PublishedAt, key)
		}
		c.Lang = lang
		body, err = execute("postmortems", &c)
		if err != nil {
			return nil, err
		}
		site.add(postmortemsPath(lang), body, "text/html; charset=utf-8", pageCache, false, s.Now)
		if err := b.addHistory(site, lang, v, shared, s.Now); err != nil {
			return nil, err
		}
		site.add("/"+lang+"/feed.atom", renderFeed(s, v, lang), "application/atom+xml; charset=utf-8", pageCache, true, s.Now)
	}
	for svc, paths := range badgePaths(s.Services) {
		r := b.badge(svc, s.Lang, s.Now)
		for _, p := range paths {
			site.Resources[p] = r
		}
	}
	site.add("/maintenance.ics", renderCalendar(s, v), "text/calendar; charset=utf-8", pageCache, true, s.Now)
	for path, body := range statuspageJSON(s, v) {
		site.add(path, body, "application/json; charset=utf-8", pageCache, true, s.Now)
	}
	if err := addNotice(site, s, v); err != nil {
		return nil, err
	}
	b.markdown.sweep(b.gen)
	b.incidents.sweep(b.gen)
	b.months.sweep(b.gen)
	b.rows.sweep(b.gen)
	b.bars.sweep(b.gen)
	b.days.sweep(b.gen)
	b.items.sweep(b.gen)
	b.badges.sweep(b.gen)
	return site, nil
}

// badge returns a service's badge, drawn again only when its name or
// status changed; it is dated by the build that drew it.
func (b *Builder) badge(svc *tocsin.Service, lang string, now time.Time) *Resource {
	key := badgeKey{svc.Name, lang, string(svc.Status)}
	if r, ok := b.badges.get(key, 0, b.gen); ok {
		return r
	}
	r := newResource(badgeSVG(svc, lang), "image/svg+xml", pageCache, true, now)
	b.badges.put(key, 0, b.gen, r)
	return r
}

// pageCache lets a CDN or browser keep pages briefly: during an incident
// readers reload often, and a minute-old page is still useful.
const pageCache = "public, max-age=30, stale-while-revalidate=30, stale-if-error=86400"

// assetCache is for content-hashed asset URLs: their bytes never change.
const assetCache = "public, max-age=31536000, immutable"

// add stores a resource made from body; its ETag is tag when given (a
// digest of the inputs), else a hash of the body.
func (site *Site) add(path string, body []byte, contentType, cache string, cors bool, mod time.Time, tag ...string) *Resource {
	var r *Resource
	if len(tag) > 0 && len(tag[0]) > 24 {
		r = &Resource{Body: body, ContentType: contentType, CacheControl: cache, CORS: cors,
			ETag: `"` + tag[0][len(tag[0])-24:] + `"`, ModTime: mod.UTC().Truncate(time.Second)}
	} else {
		r = newResource(body, contentType, cache, cors, mod)
	}
	site.Resources[path] = r
	return r
}

// newResource makes a resource whose ETag is a hash of its body.
func newResource(body []byte, contentType, cache string, cors bool, mod time.Time) *Resource {
	sum := sha256.Sum256(body)
	return &Resource{
		Body: body, ContentType: contentType, CacheControl: cache, CORS: cors,
		ETag: `"` + hex.EncodeToString(sum[:12]) + `"`, ModTime: mod.UTC().Truncate(time.Second),
	}
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
