package httpserver_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/tocsin-org/tocsin/auth"
	"github.com/tocsin-org/tocsin/config"
	"github.com/tocsin-org/tocsin/httpserver"
	"github.com/tocsin-org/tocsin/sqlstore"
)

// artifactsEnv names a directory where failing browser tests leave their
// screenshots and page HTML (CI can keep it). Without it they go to a new
// directory under the system's temporary directory, which outlives the test
// (a t.TempDir would be removed before anyone could look).
const artifactsEnv = "TOCSIN_TEST_ARTIFACTS"

// app is tocsin's HTTP server on a real listener, over SQLite in a
// temporary directory.
type app struct {
	url string
	db  *sqlstore.DB
	box *auth.Box
}

func startApp(t *testing.T) *app {
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
	key := make([]byte, 32)
	rand.Read(key)
	box, err := auth.NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = dir
	srv, err := httpserver.New(httpserver.Options{
		Config: cfg,
		Store:  db,
		// The cheapest parameters auth accepts: the browser tests check the
		// flows, not the cost of hashing.
		Hasher:  auth.NewHasher(auth.PasswordParams{MemoryKiB: 7 * 1024, Time: 1, Threads: 1}),
		Box:     box,
		Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &app{url: ts.URL, db: db, box: box}
}

// browser drives one Chromium tab through the console. Its methods take the
// (sub)test they run in, so that failures are reported where they happen.
type browser struct {
	ctx  context.Context
	base string // the app's URL
	axe  string // source of axe.min.js
	shot int    // screenshots taken, to name them
}

// step runs fn as a subtest and, when it fails, saves a screenshot and the
// page's HTML and logs where. The whole test stops at the first failed
// step: every step builds on the one before.
func (b *browser) step(t *testing.T, name string, fn func(t *testing.T)) {
	t.Helper()
	ok := t.Run(name, func(t *testing.T) {
		defer func() {
			if t.Failed() {
				b.saveArtifacts(t)
			}
		}()
		fn(t)
	})
	if !ok {
		t.FailNow()
	}
}

func (b *browser) saveArtifacts(t *testing.T) {
	dir := os.Getenv(artifactsEnv)
	var err error
	if dir == "" {
		dir, err = os.MkdirTemp("", "tocsin-browser-")
	} else {
		err = os.MkdirAll(dir, 0o755)
	}
	if err != nil {
		t.Logf("no screenshot: %v", err)
		return
	}
	// The test's context may have run out; the artifacts get their own
	// moment, still on the same tab.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 10*time.Second)
	defer cancel()
	b.shot++
	base := filepath.Join(dir, fmt.Sprintf("%02d-%s", b.shot, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())))
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil {
		t.Logf("page at failure: %s", loc)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err != nil {
		t.Logf("no screenshot: %v", err)
	} else if err := os.WriteFile(base+".png", png, 0o644); err == nil {
		t.Logf("screenshot: %s.png", base)
	}
	if html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); err == nil {
		if err := os.WriteFile(base+".html", []byte(html), 0o644); err == nil {
			t.Logf("page HTML: %s.html", base)
		}
	}
}

// open loads path and fails unless it answers 200.
func (b *browser) open(t *testing.T, path string) *network.Response {
	t.Helper()
	return b.openStatus(t, path, 200)
}

// openStatus loads path and fails unless it answers want.
func (b *browser) openStatus(t *testing.T, path string, want int64) *network.Response {
	t.Helper()
	resp := b.follow(t, "open "+path, chromedp.Navigate(b.base+path))
	if resp.Status != want {
		t.Fatalf("open %s: status %d, want %d (%s)", path, resp.Status, want, b.errorText())
	}
	return resp
}

// submit clicks the button sel, waits for the page that the form leads to,
// and fails unless it answers want.
func (b *browser) submit(t *testing.T, sel string, want int64) *network.Response {
	t.Helper()
	resp := b.follow(t, "click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
	if resp.Status != want {
		t.Fatalf("click %s: landed on %s with status %d, want %d (%s)", sel, resp.URL, resp.Status, want, b.errorText())
	}
	return resp
}

// pageTimeout bounds the wait for one page to load. A click that leads
// nowhere would otherwise wait for the whole test's deadline.
const pageTimeout = 30 * time.Second

// follow runs actions that lead to a new page, waits for it to load and
// returns the response of its document (after redirects).
func (b *browser) follow(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) *network.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, pageTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		t.Fatalf("%s: no page loaded: %v", what, err)
	}
	return resp
}

// fill sets form fields by element id.
func (b *browser) fill(t *testing.T, fields map[string]string) {
	t.Helper()
	for id, v := range fields {
		if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.ID(id), v, chromedp.NodeVisible)); err != nil {
			t.Fatalf("fill #%s: %v", id, err)
		}
	}
}

// check ticks the checkbox sel.
func (b *browser) check(t *testing.T, sel string) {
	t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		t.Fatalf("tick %s: %v", sel, err)
	}
	on, err := chromedp.Run(b.ctx, chromedp.JavascriptAttribute[bool](chromedp.CSS(sel), "checked"))
	if err != nil || !on {
		t.Fatalf("checkbox %s is not ticked after a click (%v)", sel, err)
	}
}

// text returns the visible text of the first element matching sel.
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// eval evaluates a JavaScript expression and decodes its value into T.
func eval[T any](t *testing.T, b *browser, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// path returns the path and query of the page shown.
func (b *browser) path(t *testing.T) string {
	t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

// wantPage fails unless the page shown is at path (query ignored) in
// language lang with heading h1.
func (b *browser) wantPage(t *testing.T, path, lang, h1 string) {
	t.Helper()
	if got, _, _ := strings.Cut(b.path(t), "?"); got != path {
		t.Fatalf("on %s, want %s (%s)", b.path(t), path, b.errorText())
	}
	if got := eval[string](t, b, `document.documentElement.lang`); got != lang {
		t.Errorf("%s: <html lang=%q>, want %q", path, got, lang)
	}
	if got := b.text(t, "main h1"); got != h1 {
		t.Errorf("%s: heading %q, want %q", path, got, h1)
	}
}

// errorText returns the error or alert shown on the page, if any, for
// failure messages.
func (b *browser) errorText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`Array.from(document.querySelectorAll('[role=alert], .error')).map(e => e.textContent.trim()).join(' / ') || '(no error shown)'`))
	if err != nil {
		return "page unreadable: " + err.Error()
	}
	return "page says: " + s
}

// axeViolation is one rule that a page breaks, as axe-core reports it.
type axeViolation struct {
	ID      string `json:"id"`
	Impact  string `json:"impact"`
	Help    string `json:"help"`
	HelpURL string `json:"helpUrl"`
	Nodes   []struct {
		Target  json.RawMessage `json:"target"`
		HTML    string          `json:"html"`
		Summary string          `json:"failureSummary"`
	} `json:"nodes"`
}

// axeRun checks the document against WCAG 2.1 A and AA and axe's best
// practices. The script runs through the DevTools protocol, which the
// page's Content-Security-Policy (script-src 'self') does not govern.
const axeRun = `axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']})
	.then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
		nodes: v.nodes.map(n => ({target: n.target, html: n.html, failureSummary: n.failureSummary}))})))`

// accessible runs axe-core on the page shown and fails on every serious or
// critical violation; lesser ones are logged.
func (b *browser) accessible(t *testing.T, page string) {
	t.Helper()
	for _, v := range b.axeViolations(t, page) {
		var msg strings.Builder
		fmt.Fprintf(&msg, "%s: accessibility (%s) %s: %s <%s>", page, v.Impact, v.ID, v.Help, v.HelpURL)
		for _, n := range v.Nodes {
			fmt.Fprintf(&msg, "\n\t%s %s", n.Target, n.HTML)
			if n.Summary != "" {
				fmt.Fprintf(&msg, "\n\t\t%s", strings.ReplaceAll(n.Summary, "\n", "\n\t\t"))
			}
		}
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Error(msg.String())
		} else {
			t.Log(msg.String())
		}
	}
}

// setHeaders sends extra HTTP headers with every request from now on;
// nil stops.
func (b *browser) setHeaders(t *testing.T, h map[string]string) {
	t.Helper()
	headers := network.Headers{}
	for k, v := range h {
		headers[k] = v
	}
	if _, err := chromedp.Call(b.ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: headers}); err != nil {
		t.Fatalf("set headers: %v", err)
	}
}

// axeViolations injects axe-core into the page shown (a navigation drops
// it) and returns the rules the page breaks.
func (b *browser) axeViolations(t *testing.T, page string) []axeViolation {
	t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Evaluate[chromedp.Void](b.axe)); err != nil {
		t.Fatalf("%s: inject axe-core: %v", page, err)
	}
	vs, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]axeViolation](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: run axe-core: %v", page, err)
	}
	return vs
}
