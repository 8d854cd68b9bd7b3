package httpserver_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/config"
	"github.com/tocsin-org/tocsin/httpserver"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/internal/testpeer"
	"github.com/tocsin-org/tocsin/sqlstore"
)

// publicApp is tocsin's HTTP server on a real listener, as startApp makes
// it, but keeping the server (to rebuild the public site after changing the
// store) and its configuration.
type publicApp struct {
	url string
	db  *sqlstore.DB
	srv *httpserver.Server
	cfg config.Config
}

// openStore opens a migrated SQLite store in a temporary directory.
func openStore(t *testing.T) (*sqlstore.DB, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sqlstore.Open(ctx, "", dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db, dir
}

// newPublicServer serves db with cfg on a real listener; now is the
// server's clock (nil for the real one).
func newPublicServer(t *testing.T, db *sqlstore.DB, cfg config.Config, now func() time.Time) *publicApp {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	box, err := auth.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := httpserver.New(httpserver.Options{
		Config:  cfg,
		Store:   db,
		Hasher:  auth.NewHasher(auth.PasswordParams{MemoryKiB: 7 * 1024, Time: 1, Threads: 1}),
		Box:     box,
		Version: "test",
		Now:     now,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &publicApp{url: ts.URL, db: db, srv: srv, cfg: cfg}
}

// publicContact is the "report a problem" address of the browser test.
const publicContact = "incidents@example.org"

// publicService is one service the browser test puts on the page.
type publicService struct {
	tocsin.Service
	status tocsin.ServiceStatus
}

// publicServices are 12 services in 3 groups and 2 without, in every
// status, one with accents in its description and a link, and one with a
// long unbroken name that must wrap rather than widen a phone's screen.
func publicServices() []publicService {
	s := func(group, name, desc, link string, status tocsin.ServiceStatus) publicService {
		return publicService{tocsin.Service{Name: name, Group: group, Description: desc, Link: link}, status}
	}
	ok := tocsin.StatusOperational
	return []publicService{
		s("", "Site web", "", "https://example.org/", ok),
		s("", "Annuaire LDAP", "", "", tocsin.StatusDegraded),
		s("Social", "Mastodon", "Our Mastodon instance", "https://social.example.org/", tocsin.StatusDegraded),
		s("Social", "PeerTube", "", "", ok),
		s("Social", "Lemmy", "", "", ok),
		s("Social", "Pixelfed", "", "", ok),
		s("Communication", "Mail", "IMAP, SMTP et webmail", "", tocsin.StatusPartialOutage),
		s("Communication", "Matrix", "", "", ok),
		s("Communication", "visioconference.lesbonscomptes.example.org", "", "", ok),
		s("Communication", "Listes de diffusion", "", "", ok),
		s("Collaboration", "Wiki", "Le wiki coopératif : notes, procédures et comptes rendus — accès libre, même à l'étranger.", "https://wiki.example.org/accueil", ok),
		s("Collaboration", "Nextcloud", "", "", tocsin.StatusMaintenance),
		s("Collaboration", "Forgejo", "", "", tocsin.StatusMajorOutage),
		s("Collaboration", "Pad", "", "", ok),
	}
}

// shownService is a service as the page shows it.
type shownService struct {
	Name, Status, Link string
}

// TestBrowserPublicPage reads the public status page in a real headless
// Chromium: in French and English, chosen by Accept-Language and switched
// with the visible link; checked by axe-core (WCAG 2.1 A/AA and best
// practices, no serious or critical violation); complete with JavaScript
// disabled; usable on a 360 px wide phone without horizontal scrolling;
// naming the host's time zone and linking to the contact address.
func TestBrowserPublicPage(t *testing.T) {
	ctx := testpeer.Chromium(t)
	axe := testpeer.AxeScript(t)
	db, _ := openStore(t)
	cfg := config.Default()
	cfg.Page.Title = "État des services d'Exemple"
	cfg.Page.Contact = publicContact
	a := newPublicServer(t, db, cfg, nil)

	services := publicServices()
	for i := range services {
		s := &services[i]
		s.Position = i
		if err := a.db.CreateService(context.Background(), tocsin.CLI, &s.Service); err != nil {
			t.Fatal(err)
		}
		if s.status != tocsin.StatusOperational {
			if err := a.db.SetServiceStatus(context.Background(), tocsin.CLI, s.ID, s.status, time.Time{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A maintenance in progress (on no service, so that the statuses above
	// stay) and one upcoming: their sections are read and checked too.
	scheduleMaintenance(t, a.db, "Migration du stockage", time.Now().Add(-time.Minute), 0, true)
	scheduleMaintenance(t, a.db, "Mise à jour de Forgejo", time.Now().Add(48*time.Hour), services[0].ID, false)
	// A resolved incident on Mail: its day is marked on Mail's bar and
	// listed under it.
	mail := services[6].ID
	published := time.Now().Add(-2 * time.Hour)
	resolved := &tocsin.Incident{Title: "Courriels retardés", Impact: tocsin.ImpactMinor, PublishedAt: &published,
		Services: []tocsin.ServiceImpact{{ServiceID: mail, Status: tocsin.StatusDegraded}}}
	if err := a.db.CreateIncident(context.Background(), tocsin.CLI, resolved,
		&tocsin.Update{Status: tocsin.IncidentResolved, Body: "Les courriels sont **livrés**."}, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.srv.RefreshPublic(context.Background()); err != nil {
		t.Fatal(err)
	}

	b := &browser{ctx: ctx, base: a.url, axe: axe}
	wantPublic := func(t *testing.T, path, lang string) {
		t.Helper()
		if got, _, _ := strings.Cut(b.path(t), "?"); got != path {
			t.Fatalf("on %s, want %s", got, path)
		}
		if got := eval[string](t, b, `document.documentElement.lang`); got != lang {
			t.Errorf("%s: <html lang=%q>, want %q", path, got, lang)
		}
		if got := b.text(t, "header h1"); got != cfg.Page.Title {
			t.Errorf("%s: heading %q, want %q", path, got, cfg.Page.Title)
		}
		// Forgejo's major outage is the worst status.
		if got, want := b.text(t, "main .banner"), i18n.T(lang, "public.banner.major_outage"); got != want {
			t.Errorf("%s: banner %q, want %q", path, got, want)
		}
	}

	b.step(t, "French by Accept-Language, then the switch to English", func(t *testing.T) {
		b.setHeaders(t, map[string]string{"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"})
		resp := b.open(t, "/")
		if v, _ := resp.Headers["Vary"].(string); !strings.Contains(v, "Accept-Language") {
			t.Errorf("/ negotiated by language, but Vary = %q", v)
		}
		wantPublic(t, "/", "fr")
		const toEnglish = `header nav a[href="/en/"]`
		if got := b.text(t, toEnglish); got != "English" {
			t.Errorf("language switch says %q, want English", got)
		}
		b.submit(t, toEnglish, 200)
		wantPublic(t, "/en/", "en")
	})

	b.step(t, "English by Accept-Language", func(t *testing.T) {
		b.setHeaders(t, map[string]string{"Accept-Language": "en-GB,en;q=0.8"})
		b.open(t, "/")
		wantPublic(t, "/", "en")
		const toFrench = `header nav a[href="/fr/"]`
		if got := b.text(t, toFrench); got != "Français" {
			t.Errorf("language switch says %q, want Français", got)
		}
		if got := eval[string](t, b, `document.querySelector('header nav a[href="/fr/"]').lang`); got != "fr" {
			t.Errorf("the link to French is marked lang=%q, want fr", got)
		}
		b.setHeaders(t, nil)
	})

	for _, lang := range i18n.Langs {
		b.step(t, "accessible, zone and contact in "+lang, func(t *testing.T) {
			path := "/" + lang + "/"
			b.open(t, path)
			wantPublic(t, path, lang)
			b.accessible(t, path)
			footer := b.text(t, "footer")
			if want := i18n.T(lang, "footer.tz", "Europe/Paris"); !strings.Contains(footer, want) {
				t.Errorf("%s: footer %q does not say %q", path, footer, want)
			}
			if got, want := b.text(t, `footer a[href="mailto:`+publicContact+`"]`), i18n.T(lang, "public.report"); got != want {
				t.Errorf("%s: contact link says %q, want %q", path, got, want)
			}
			wantServices(t, b, lang, services)
			if got := b.text(t, "#upcoming + article .window"); !strings.HasSuffix(got, "(Europe/Paris)") {
				t.Errorf("%s: upcoming window %q does not name the zone", path, got)
			}
			if got, want := b.text(t, "#underway"), i18n.T(lang, "public.active_maintenance"); got != want {
				t.Errorf("%s: in-progress heading %q, want %q", path, got, want)
			}

			// The day of Mail's incident, from the keyboard: the list
			// under the bar opens from its summary.
			if _, err := chromedp.Run(b.ctx, chromedp.Focus(chromedp.CSS(".days summary"), chromedp.NodeVisible)); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Run(b.ctx, chromedp.KeyEvent("\r")); err != nil {
				t.Fatal(err)
			}
			if got := b.text(t, ".days li"); !strings.Contains(got, "Courriels retardés") {
				t.Errorf("%s: the incident days list says %q", path, got)
			}
			b.accessible(t, path+" with the incident days open")
		})
	}

	b.step(t, "history by month", func(t *testing.T) {
		loc, err := time.LoadLocation(cfg.TimeZone)
		if err != nil {
			t.Fatal(err)
		}
		month := time.Now().In(loc).Format("2006-01") // when the incident began: its first update, just written
		for _, lang := range i18n.Langs {
			b.open(t, "/"+lang+"/")
			b.submit(t, `footer a[href="/`+lang+`/history/"]`, 200)
			b.accessible(t, "/"+lang+"/history/")
			b.submit(t, `main a[href="/`+lang+`/history/`+month+`/"]`, 200)
			if got := b.text(t, "main .incident-title"); got != "Courriels retardés" {
				t.Errorf("%s history of %s lists %q", lang, month, got)
			}
			b.accessible(t, "/"+lang+"/history/"+month+"/")
		}
	})

	b.step(t, "post-mortem pages, accessible in both languages", func(t *testing.T) {
		ctx := context.Background()
		at := time.Now()
		inc := &tocsin.Incident{Title: "Courriel interrompu", PublishedAt: &at}
		if err := a.db.CreateIncident(ctx, tocsin.CLI, inc, &tocsin.Update{Status: tocsin.IncidentResolved, Body: "Réparé."}, nil); err != nil {
			t.Fatal(err)
		}
		pm := &tocsin.Postmortem{IncidentID: inc.ID, Summary: "Le **disque** était plein.", RootCause: "Une rotation des journaux oubliée.",
			Timeline: []tocsin.TimelineEntry{{At: at.Add(-time.Hour), Text: "Alerte"}, {At: at, Text: "Réparé"}}}
		if err := a.db.SavePostmortem(ctx, tocsin.CLI, pm); err != nil {
			t.Fatal(err)
		}
		approver := tocsin.Actor{UserID: 99, Label: "approver@example.org"}
		if err := a.db.ApprovePostmortem(ctx, approver, tocsin.Roles{tocsin.RoleApprover}, inc.ID, pm.Revision); err != nil {
			t.Fatal(err)
		}
		if err := a.db.PublishPostmortem(ctx, tocsin.CLI, inc.ID, nil); err != nil {
			t.Fatal(err)
		}
		if err := a.srv.RefreshPublic(ctx); err != nil {
			t.Fatal(err)
		}
		for _, lang := range i18n.Langs {
			list := "/" + lang + "/postmortems/"
			b.open(t, "/"+lang+"/")
			b.submit(t, `footer a[href="`+list+`"]`, 200)
			b.accessible(t, list)
			page := fmt.Sprintf("/%s/incidents/%d/postmortem/", lang, inc.ID)
			b.submit(t, `main a[href="`+page+`"]`, 200)
			if got, want := b.text(t, "main h1"), i18n.T(lang, "public.postmortem_of", inc.Title); got != want {
				t.Errorf("%s: heading %q, want %q", page, got, want)
			}
			b.accessible(t, page)
			b.submit(t, fmt.Sprintf(`main a[href="/%s/incidents/%d/"]`, lang, inc.ID), 200)
			b.accessible(t, fmt.Sprintf("/%s/incidents/%d/", lang, inc.ID))
		}
	})

	b.step(t, "without JavaScript", func(t *testing.T) {
		setScripts(t, b, false)
		defer setScripts(t, b, true)
		// The switch works: a page's own script no longer runs.
		if err := chromedp.Do(b.ctx, chromedp.Navigate(`data:text/html,<title>off</title><script>document.title="on"</script>`)); err != nil {
			t.Fatal(err)
		}
		if got := eval[string](t, b, `document.title`); got != "off" {
			t.Fatalf("scripts still run after Emulation.setScriptExecutionDisabled (title %q)", got)
		}
		for _, lang := range i18n.Langs {
			b.open(t, "/"+lang+"/")
			wantPublic(t, "/"+lang+"/", lang)
			wantServices(t, b, lang, services)
		}
	})

	b.step(t, "on a phone", func(t *testing.T) {
		if _, err := chromedp.Call(b.ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
			Width: 360, Height: 740, DeviceScaleFactor: 2, Mobile: true,
		}); err != nil {
			t.Fatal(err)
		}
		defer chromedp.Call(b.ctx, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
		for _, lang := range i18n.Langs {
			path := "/" + lang + "/"
			b.open(t, path)
			if w := eval[int](t, b, `screen.width`); w != 360 {
				t.Fatalf("%s: screen.width = %d, want 360 (no phone emulation?)", path, w)
			}
			// Content wider than the screen makes a mobile browser zoom out
			// (window.innerWidth grows) or scroll sideways.
			if got := eval[[]int](t, b, `[document.documentElement.scrollWidth, window.innerWidth]`); got[1] != 360 || got[0] > got[1] {
				t.Errorf("%s: content %d px wide in a viewport of %d px on a 360 px phone: it zooms out or scrolls sideways", path, got[0], got[1])
			}
			// Every name, status and the language switch lie within the
			// screen's width, with a size.
			outside := eval[[]string](t, b, `Array.from(document.querySelectorAll('.service-name, .service .status, header nav a'))
				.filter(e => { const r = e.getBoundingClientRect(); return r.width <= 0 || r.height <= 0 || r.left < 0 || r.right > screen.width })
				.map(e => e.textContent.trim())`)
			for _, s := range outside {
				t.Errorf("%s: %q is not shown whole on a 360 px phone", path, s)
			}
			wantServices(t, b, lang, services)
		}
		b.accessible(t, "/fr/ on a phone")
	})
}

// scheduleMaintenance publishes a two-hour maintenance from from, on service
// svc (none when 0), and starts it when started.
func scheduleMaintenance(t *testing.T, db tocsin.Store, title string, from time.Time, svc int64, started bool) {
	t.Helper()
	ctx := context.Background()
	until, pub := from.Add(2*time.Hour), time.Now()
	m := &tocsin.Incident{Title: title, PublishedAt: &pub, ScheduledFor: &from, ScheduledUntil: &until}
	if svc != 0 {
		m.Services = []tocsin.ServiceImpact{{ServiceID: svc}}
	}
	if err := db.CreateIncident(ctx, tocsin.CLI, m, &tocsin.Update{Body: "Prévue."}, nil); err != nil {
		t.Fatal(err)
	}
	if started {
		if _, err := db.StartMaintenance(ctx, tocsin.System, m.ID, time.Now(), "Commencée.", nil); err != nil {
			t.Fatal(err)
		}
	}
}

// wantServices fails unless the page shown lists exactly services, in
// order, each with its status in lang and its link, and the descriptions.
func wantServices(t *testing.T, b *browser, lang string, services []publicService) {
	t.Helper()
	got := eval[[]shownService](t, b, `Array.from(document.querySelectorAll('main .service')).map(li => ({
		Name: li.querySelector('.service-name').innerText.trim(),
		Status: li.querySelector('.status').innerText.trim(),
		Link: (li.querySelector('.service-name a') || {}).href || ''}))`)
	if len(got) != len(services) {
		t.Errorf("the page lists %d services, want %d: %v", len(got), len(services), got)
	}
	for i, s := range services {
		if i >= len(got) {
			break
		}
		want := shownService{Name: s.Name, Status: i18n.T(lang, "status."+string(s.status)), Link: s.Link}
		if got[i] != want {
			t.Errorf("service %d shown as %+v, want %+v", i, got[i], want)
		}
	}
	text := eval[string](t, b, `document.querySelector('main').innerText`)
	for _, s := range services {
		if s.Description != "" && !strings.Contains(text, s.Description) {
			t.Errorf("description %q not on the page", s.Description)
		}
	}
}

// setScripts allows or forbids the page's scripts from the next navigation
// on.
func setScripts(t *testing.T, b *browser, on bool) {
	t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on}); err != nil {
		t.Fatalf("set script execution to %v: %v", on, err)
	}
}

// maxPageGzip is the most the page may weigh, compressed, with 200
// services: about what a phone on a poor 3G link loads in a few seconds.
const maxPageGzip = 200 << 10

// TestBrowserPublicPageWeight checks over plain HTTP (no browser; named so
// that -run BrowserPublic runs it with the browser test) that the page
// with 200 services in 20 groups stays light: under maxPageGzip
// compressed, both on a fresh install (no history) and with 90 days of
// history behind every service (each uptime bar fully drawn).
func TestBrowserPublicPageWeight(t *testing.T) {
	ctx := context.Background()
	db, _ := openStore(t)
	cfg := config.Default()
	cfg.Page.Contact = publicContact
	a := newPublicServer(t, db, cfg, nil)

	start := time.Now()
	ids := make([]int64, 200)
	for i := range ids {
		s := &tocsin.Service{
			Name:        fmt.Sprintf("Service %03d", i+1),
			Group:       fmt.Sprintf("Groupe %02d", i/10+1),
			Description: fmt.Sprintf("Instance n°%d : accès, sauvegardes et supervision de l'équipe.", i+1),
			Position:    i % 10,
		}
		if i%3 == 0 {
			s.Link = fmt.Sprintf("https://s%03d.example.org/", i+1)
		}
		if err := db.CreateService(ctx, tocsin.CLI, s); err != nil {
			t.Fatal(err)
		}
		ids[i] = s.ID
	}
	t.Logf("200 services created in %v", time.Since(start).Round(time.Millisecond))

	measure := func(t *testing.T, a *publicApp, what string) {
		t.Helper()
		for _, lang := range i18n.Langs {
			req, err := http.NewRequest("GET", a.url+"/"+lang+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept-Encoding", "gzip")
			// Set by hand, the Transport leaves the body compressed.
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" {
				t.Fatalf("GET /%s/: status %d, Content-Encoding %q", lang, resp.StatusCode, resp.Header.Get("Content-Encoding"))
			}
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			html, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(html), `class="service"`); n != 200 {
				t.Errorf("/%s/ lists %d services, want 200", lang, n)
			}
			t.Logf("/%s/ %s: %d bytes gzip (%.1f KiB), %d bytes uncompressed", lang, what, len(body), float64(len(body))/1024, len(html))
			if len(body) > maxPageGzip {
				t.Errorf("/%s/ %s weighs %d bytes gzip-compressed, want at most %d", lang, what, len(body), maxPageGzip)
			}
		}
	}

	start = time.Now()
	if err := a.srv.RefreshPublic(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("site rebuilt with 200 services in %v", time.Since(start).Round(time.Millisecond))
	measure(t, a, "without history")

	// The store dates history no earlier than a service's creation, so
	// that history is written in the server's future: the server below
	// reads it 89 days from now. Every service has a few incidents, of
	// every kind, on different days.
	now := time.Now()
	kinds := []tocsin.ServiceStatus{tocsin.StatusDegraded, tocsin.StatusPartialOutage, tocsin.StatusMajorOutage, tocsin.StatusMaintenance}
	for i, id := range ids {
		days := []int{(i*7)%88 + 1, (i*7+29)%88 + 1, (i*7+58)%88 + 1}
		slices.Sort(days) // the store keeps history in order
		for k, d := range days {
			at := now.Add(time.Duration(d) * 24 * time.Hour)
			if err := db.SetServiceStatus(ctx, tocsin.CLI, id, kinds[(i+k)%len(kinds)], at); err != nil {
				t.Fatal(err)
			}
			if err := db.SetServiceStatus(ctx, tocsin.CLI, id, tocsin.StatusOperational, at.Add(3*time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
	}
	later := now.Add(89 * 24 * time.Hour)
	full := newPublicServer(t, db, cfg, func() time.Time { return later })
	measure(t, full, "with 90 days of history")
}
