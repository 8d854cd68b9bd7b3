package httpserver

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/config"
)

// A burst of changes while a build runs is served by one more build, not
// one per change; the page then shows the last of them.
func TestPublicRebuildsCoalesce(t *testing.T) {
	e := newTestEnv(t)
	svc := e.addService("Forge", "Dev")
	token, _ := e.createToken("ci", tocsin.RoleCommunicator)
	if err := e.srv.WaitPublic(e.ctx); err != nil {
		t.Fatal(err)
	}
	before := e.srv.metrics.publicBuilds.Load()

	// Holding the build lock stands for a build under way: the worker,
	// woken by the first change, waits for it while the others arrive.
	e.srv.buildMu.Lock()
	statuses := []string{"degraded_performance", "partial_outage", "major_outage"}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			body := fmt.Sprintf(`{"status":%q}`, statuses[i%len(statuses)])
			req, _ := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/api/v1/services/%d/status", e.ts.URL, svc.ID), strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			if res, err := e.api.Do(req); err != nil || res.StatusCode != http.StatusOK && res.StatusCode != http.StatusNoContent {
				t.Errorf("set status: %v %v", res, err)
			} else {
				res.Body.Close()
			}
		})
	}
	wg.Wait()
	e.srv.buildMu.Unlock()
	final := `{"status":"under_maintenance"}`
	if r := e.call(http.MethodPost, fmt.Sprintf("/api/v1/services/%d/status", svc.ID), token, final); r.Status/100 != 2 {
		t.Fatalf("set status: %d %s", r.Status, r.Body)
	}
	if got := e.component("Forge")["status"]; got != "under_maintenance" {
		t.Errorf("component status %v, want the last one set", got)
	}
	if n := e.srv.metrics.publicBuilds.Load() - before; n < 1 || n > 3 {
		t.Errorf("%d builds for 51 changes, want at most 3", n)
	}
}

// With export.dir, each rebuild writes the site there: pages that change
// are rewritten, files that are gone are removed, and files tocsin did not
// write are left alone.
func TestExportFollowsChanges(t *testing.T) {
	dir := t.TempDir()
	e := newTestEnv(t, func(c *config.Config) { c.Export.Dir = dir })
	if err := os.WriteFile(filepath.Join(dir, "robots.txt"), []byte("User-agent: *\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	read := func(rel string) string {
		b, _ := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		return string(b)
	}
	token, _ := e.createToken("admin", tocsin.RoleAdmin, tocsin.RoleCommunicator)
	r := e.call(http.MethodPost, "/api/v1/services", token, `{"name":"Forge","group":"Dev"}`)
	if r.Status/100 != 2 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	if err := e.srv.WaitPublic(e.ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(read("en/index.html"), "Forge") || !strings.Contains(read("badges/forge.svg"), "Forge") ||
		!strings.Contains(read("index.html"), `<html lang="en">`) {
		t.Fatalf("the export lacks the new service")
	}
	svc := e.component("Forge")
	id := strings.TrimPrefix(svc["id"].(string), "svc")
	if r := e.call(http.MethodDelete, "/api/v1/services/"+id, token, ""); r.Status/100 != 2 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if err := e.srv.WaitPublic(e.ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(read("en/index.html"), "Forge") {
		t.Error("the exported page still shows the deleted service")
	}
	if _, err := os.Stat(filepath.Join(dir, "badges", "forge.svg")); !os.IsNotExist(err) {
		t.Errorf("the deleted service's badge is still exported: %v", err)
	}
	if read("robots.txt") == "" {
		t.Error("a file tocsin did not write was removed")
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}
