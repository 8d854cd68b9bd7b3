package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const publicConfig = `page: {title: "Example Host status", url: "https://status.example.org", contact: "support@example.org"}
lang: fr
services:
  - {name: Mastodon, group: Social, description: "Our Mastodon instance"}
  - {name: Mail, group: Communication}
`

// The services declared in the file are on the public page and in the
// Statuspage JSON as soon as tocsin starts; `tocsin export` writes the same
// site as files that a plain static server serves at the same URLs.
func TestPublicPageAndExport(t *testing.T) {
	backends(t, func(t *testing.T, in *instance) {
		cfg := filepath.Join(t.TempDir(), "tocsin.yaml")
		if err := os.WriteFile(cfg, []byte(publicConfig), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		stderr := &syncBuffer{}
		done := make(chan error, 1)
		go func() {
			done <- run(ctx, []string{"tocsin", "serve", "--config", cfg, "--data", in.dataDir, "--listen", "127.0.0.1:0"},
				in.getenv, strings.NewReader(""), &syncBuffer{}, stderr)
		}()
		base := "http://" + waitListening(t, stderr, done)
		waitReady(t, base, stderr)

		req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
		req.Header.Set("Accept-Language", "en-GB,en;q=0.9")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, res)
		if res.StatusCode != 200 || !strings.Contains(page, "Mastodon") || !strings.Contains(page, `<html lang="en">`) ||
			res.Header.Get("Set-Cookie") != "" || res.Header.Get("ETag") == "" {
			t.Errorf("GET / = %d, cookies %q, ETag %q:\n%.400s", res.StatusCode, res.Header.Get("Set-Cookie"), res.Header.Get("ETag"), page)
		}
		req, _ = http.NewRequest(http.MethodGet, base+"/", nil)
		req.Header.Set("Accept-Language", "en")
		req.Header.Set("If-None-Match", res.Header.Get("ETag"))
		if res2, err := http.DefaultClient.Do(req); err != nil || res2.StatusCode != http.StatusNotModified {
			t.Errorf("conditional GET: %v %v", res2, err)
		}

		res, err = http.Get(base + "/api/v2/summary.json")
		if err != nil {
			t.Fatal(err)
		}
		var summary struct {
			Page       struct{ Name string }
			Components []struct {
				Name  string
				Group bool
			}
		}
		if err := json.Unmarshal([]byte(readAll(t, res)), &summary); err != nil || res.Header.Get("Access-Control-Allow-Origin") != "*" ||
			summary.Page.Name != "Example Host status" || len(summary.Components) != 4 {
			t.Errorf("summary.json: %v, CORS %q, %+v", err, res.Header.Get("Access-Control-Allow-Origin"), summary)
		}
		res, err = http.Get(base + "/badges/mastodon.svg")
		if err != nil {
			t.Fatal(err)
		}
		if badge := readAll(t, res); res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/svg+xml" ||
			res.Header.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(badge, "Mastodon") {
			t.Errorf("badge: %d %v\n%s", res.StatusCode, res.Header, badge)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		out := filepath.Join(t.TempDir(), "site")
		r := in.cli("", "export", "--config", cfg, "--out", out)
		if r.err != nil || !strings.Contains(r.stdout, "exported") {
			t.Fatalf("export: %v %s %s", r.err, r.stdout, r.stderr)
		}
		static := httptest.NewServer(http.FileServer(http.Dir(out)))
		defer static.Close()
		for path, want := range map[string]string{
			"/":                       `<html lang="fr">`, // the configured language at the root
			"/en/":                    "Mastodon",
			"/fr/":                    "Tous les services fonctionnent normalement",
			"/api/v2/summary.json":    `"name":"Example Host status"`,
			"/api/v2/components.json": `"name":"Mail"`,
			"/api/v2/status.json":     `"indicator":"none"`,
			"/badges/mail.svg":        "Opérationnel",
			"/postmortems/":           "encore été publié",
			"/en/postmortems/":        "No post-mortem has been published yet.",
			// Scheduled maintenance: its JSON and calendar, empty here.
			"/maintenance.ics":                             "BEGIN:VCALENDAR",
			"/api/v2/scheduled-maintenances.json":          `"scheduled_maintenances":[]`,
			"/api/v2/scheduled-maintenances/upcoming.json": `"scheduled_maintenances":[]`,
			"/api/v2/scheduled-maintenances/active.json":   `"scheduled_maintenances":[]`,
		} {
			res, err := http.Get(static.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			if body := readAll(t, res); res.StatusCode != 200 || !strings.Contains(body, want) {
				t.Errorf("static %s = %d, lacks %q", path, res.StatusCode, want)
			}
		}
		// The stylesheet the exported page links to is there too.
		index, _ := os.ReadFile(filepath.Join(out, "index.html"))
		css := strings.SplitN(strings.SplitN(string(index), `rel="stylesheet" href="`, 2)[1], `"`, 2)[0]
		if res, err := http.Get(static.URL + css); err != nil || res.StatusCode != 200 {
			t.Errorf("exported stylesheet %s: %v %v", css, res, err)
		}
	})
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
