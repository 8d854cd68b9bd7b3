package httpserver_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/config"
	"github.com/tocsin-org/tocsin/i18n"
	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// TestBrowserSiteNotice includes notice.js, as a host's wiki would, in a
// page served from another origin (127.0.0.2): while an incident is marked
// "show on sites" the banner appears, in the page's language, reading
// notice.json across origins; dismissing it keeps it gone for the session;
// once the incident is resolved nothing shows.
func TestBrowserSiteNotice(t *testing.T) {
	ctx := testpeer.Chromium(t)
	db, _ := openStore(t)
	cfg := config.Default()
	cfg.Page.Title = "Example status"
	a := newPublicServer(t, db, cfg, nil)

	svc := &tocsin.Service{Name: "Wiki"}
	if err := db.CreateService(context.Background(), tocsin.CLI, svc); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	inc := &tocsin.Incident{
		Title: "Wiki edits fail", Impact: tocsin.ImpactMajor, ShowOnSites: true, PublishedAt: &now,
		Services: []tocsin.ServiceImpact{{ServiceID: svc.ID, Status: tocsin.StatusPartialOutage}},
	}
	first := &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "Saving a page returns an *error*."}
	if err := db.CreateIncident(context.Background(), tocsin.CLI, inc, first, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.srv.RefreshPublic(context.Background()); err != nil {
		t.Fatal(err)
	}

	// The host's own site, on another loopback address: another origin.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	host := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := r.URL.Query().Get("lang")
		fmt.Fprintf(w, `<!doctype html><html lang="%s"><head><title>Wiki</title></head><body><main><h1>Wiki</h1></main>`+
			`<script src="%s/notice.js"></script></body></html>`, lang, a.url)
	}))
	host.Listener.Close()
	host.Listener = ln
	host.Start()
	t.Cleanup(host.Close)

	b := &browser{ctx: ctx, base: host.URL}
	for _, lang := range []string{"fr", "en"} {
		b.step(t, "banner in "+lang, func(t *testing.T) {
			b.open(t, "/?lang="+lang)
			got := b.text(t, ".tocsin-notice p")
			for _, want := range []string{
				i18n.T(lang, "public.incident_status.investigating"), "Wiki edits fail",
				"Saving a page returns an error.", i18n.T(lang, "notice.more"),
			} {
				if !strings.Contains(got, want) {
					t.Errorf("banner %q lacks %q", got, want)
				}
			}
			href := eval[string](t, b, `document.querySelector('.tocsin-notice a').href`)
			if want := fmt.Sprintf("%s/%s/incidents/%d/", a.url, lang, inc.ID); href != want {
				t.Errorf("banner links to %s, want %s", href, want)
			}
			if got := eval[string](t, b, `document.querySelector('.tocsin-notice').getAttribute('role')`); got != "region" {
				t.Errorf("banner role %q", got)
			}
		})
	}

	b.step(t, "dismissed for the session", func(t *testing.T) {
		if _, err := chromedp.Run(ctx, chromedp.Click(chromedp.CSS(".tocsin-notice button"), chromedp.NodeVisible)); err != nil {
			t.Fatal(err)
		}
		if n := eval[int](t, b, `document.querySelectorAll('.tocsin-notice').length`); n != 0 {
			t.Fatalf("%d banners after dismissing", n)
		}
		b.open(t, "/?lang=en")
		b.text(t, "main h1")
		if n := noticeCountAfterLoad(t, b, a.url); n != 0 {
			t.Errorf("%d banners after reload; dismissed for the session", n)
		}
	})

	b.step(t, "gone once resolved", func(t *testing.T) {
		if err := db.AddUpdate(context.Background(), tocsin.CLI, inc.ID, &tocsin.Update{Status: tocsin.IncidentResolved, Body: "Fixed."}, nil); err != nil {
			t.Fatal(err)
		}
		if err := a.srv.RefreshPublic(context.Background()); err != nil {
			t.Fatal(err)
		}
		// A new session, so no dismissal hides anything, and no cache: the
		// browser may keep notice.json for its max-age (15 s) otherwise.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[any](`sessionStorage.clear()`)); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
			t.Fatal(err)
		}
		b.open(t, "/?lang=fr")
		if n := noticeCountAfterLoad(t, b, a.url); n != 0 {
			t.Errorf("%d banners for a resolved incident", n)
		}
	})
}

// noticeCountAfterLoad waits until the page has fetched notice.json from
// the status page, then counts the banners shown.
func noticeCountAfterLoad(t *testing.T, b *browser, statusURL string) int {
	t.Helper()
	expr := fmt.Sprintf(`performance.getEntriesByType('resource').some(e => e.name.startsWith(%q) && e.responseEnd > 0)`, statusURL+"/notice.json")
	deadline := time.Now().Add(10 * time.Second)
	for !eval[bool](t, b, expr) {
		if time.Now().After(deadline) {
			t.Fatal("the page never fetched notice.json")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The banner is inserted in the promise chain right after the fetch.
	time.Sleep(100 * time.Millisecond)
	return eval[int](t, b, `document.querySelectorAll('.tocsin-notice').length`)
}
