package httpserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// TestPublicIncidents stores a published incident and a draft, rebuilds the
// public site, and reads the incident through the page, its own page, the
// Statuspage JSON and the Atom feed.
func TestPublicIncidents(t *testing.T) {
	e := newTestEnv(t)
	svc := &tocsin.Service{Name: "Mastodon", Group: "Social"}
	if err := e.store.CreateService(e.ctx, tocsin.CLI, svc); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	inc := &tocsin.Incident{Title: "Timelines & <uploads> slow", Impact: tocsin.ImpactMajor, PublishedAt: &now,
		Services: []tocsin.ServiceImpact{{ServiceID: svc.ID, Status: tocsin.StatusDegraded}}}
	first := &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "We are **on it**. <script>alert(1)</script>"}
	if err := e.store.CreateIncident(e.ctx, tocsin.CLI, inc, first, nil); err != nil {
		t.Fatal(err)
	}
	draft := &tocsin.Incident{Title: "Unpublished draft"}
	if err := e.store.CreateIncident(e.ctx, tocsin.CLI, draft, &tocsin.Update{Status: tocsin.IncidentInvestigating, Body: "secret"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.RefreshPublic(e.ctx); err != nil {
		t.Fatal(err)
	}
	get := func(path, lang string) *response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, e.ts.URL+path, nil)
		if lang != "" {
			req.Header.Set("Accept-Language", lang)
		}
		r := e.do(req)
		if r.Status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, r.Status)
		}
		if strings.Contains(r.Body, "Unpublished draft") || strings.Contains(r.Body, "<script>") {
			t.Errorf("GET %s shows the draft or a script", path)
		}
		return r
	}

	page := get("/", "en")
	incPath := fmt.Sprintf("/en/incidents/%d/", inc.ID)
	for _, w := range []string{"Current incidents", "Timelines &amp; &lt;uploads&gt; slow", `href="` + incPath + `"`, "<strong>on it</strong>", "Affected by:"} {
		if !strings.Contains(page.Body, w) {
			t.Errorf("/ lacks %q", w)
		}
	}

	own := get(incPath, "")
	if !strings.Contains(own.Body, `<html lang="en">`) || !strings.Contains(own.Body, "Investigating") || !strings.Contains(own.Body, "&lt;script&gt;") {
		t.Errorf("%s:\n%s", incPath, own.Body)
	}
	if r := get(fmt.Sprintf("/incidents/%d/", inc.ID), "fr"); !strings.Contains(r.Body, `<html lang="fr">`) || !strings.Contains(r.Header.Get("Vary"), "Accept-Language") {
		t.Errorf("the negotiated incident page: %v", r.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, e.ts.URL+fmt.Sprintf("/fr/incidents/%d/", draft.ID), nil)
	if r := e.do(req); r.Status != http.StatusNotFound {
		t.Errorf("the draft's page: %d, want 404", r.Status)
	}

	unresolved := get("/api/v2/incidents/unresolved.json", "")
	if unresolved.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Error("unresolved.json without CORS")
	}
	var doc struct {
		Incidents []struct {
			ID              string `json:"id"`
			Name            string `json:"name"`
			Status          string `json:"status"`
			Impact          string `json:"impact"`
			IncidentUpdates []struct {
				Body string `json:"body"`
			} `json:"incident_updates"`
			Components []struct {
				ID string `json:"id"`
			} `json:"components"`
		} `json:"incidents"`
	}
	if err := json.Unmarshal([]byte(unresolved.Body), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Incidents) != 1 || doc.Incidents[0].ID != fmt.Sprintf("inc%d", inc.ID) || doc.Incidents[0].Status != "investigating" ||
		doc.Incidents[0].Impact != "major" || len(doc.Incidents[0].IncidentUpdates) != 1 || doc.Incidents[0].IncidentUpdates[0].Body != first.Body ||
		len(doc.Incidents[0].Components) != 1 || doc.Incidents[0].Components[0].ID != fmt.Sprintf("svc%d", svc.ID) {
		t.Errorf("unresolved.json: %s", unresolved.Body)
	}

	feed := get("/feed.atom", "en")
	if feed.Header.Get("Content-Type") != "application/atom+xml; charset=utf-8" || feed.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(feed.Body, "<title>Timelines &amp; &lt;uploads&gt; slow — Investigating</title>") || strings.Count(feed.Body, "<entry>") != 1 {
		t.Errorf("feed: %v\n%s", feed.Header, feed.Body)
	}
}
