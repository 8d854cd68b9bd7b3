package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Two instances share one database (the same PostgreSQL schema, or the
// same SQLite file): a change made through one reaches the other's public
// page through its poll of the audit log, and the other's export directory
// follows every change, files that are gone included.
func TestInstancesFollowEachOthersChanges(t *testing.T) {
	backends(t, func(t *testing.T, in *instance) {
		in = in.with("TOCSIN_PAGE_POLL_INTERVAL", "20ms")
		a := in.serve()
		exported := filepath.Join(t.TempDir(), "site")
		b := in.with("TOCSIN_EXPORT_DIR", exported).serve()
		token := strings.TrimSpace(in.mustCLI("", "token", "create", "--role", "admin,communicator", "--name", "ci"))

		code, body := send(t, http.MethodPost, a.URL+"/api/v1/services", token, `{"name":"Forge","group":"Dev"}`)
		var svc struct{ ID int64 }
		if code != http.StatusCreated && code != http.StatusOK || json.Unmarshal([]byte(body), &svc) != nil || svc.ID == 0 {
			t.Fatalf("create a service on A: %d %s", code, body)
		}
		componentStatus := func(base string) string {
			_, body := get(t, base+"/api/v2/components.json", "")
			var doc struct {
				Components []struct{ Name, Status string }
			}
			json.Unmarshal([]byte(body), &doc)
			for _, c := range doc.Components {
				if c.Name == "Forge" {
					return c.Status
				}
			}
			return ""
		}
		exportedFile := func(rel string) string {
			b, _ := os.ReadFile(filepath.Join(exported, filepath.FromSlash(rel)))
			return string(b)
		}
		eventually(t, "B serves and exports the service A created", func() bool {
			return componentStatus(b.URL) == "operational" && strings.Contains(exportedFile("api/v2/components.json"), `"name":"Forge"`) &&
				strings.Contains(exportedFile("badges/forge.svg"), "Forge")
		})

		if code, body := send(t, http.MethodPost, fmt.Sprintf("%s/api/v1/services/%d/status", a.URL, svc.ID), token, `{"status":"major_outage"}`); code/100 != 2 {
			t.Fatalf("set the status on A: %d %s", code, body)
		}
		eventually(t, "B shows the status set on A", func() bool {
			return componentStatus(b.URL) == "major_outage" && strings.Contains(exportedFile("api/v2/components.json"), `"status":"major_outage"`)
		})

		if code, body := send(t, http.MethodDelete, fmt.Sprintf("%s/api/v1/services/%d", a.URL, svc.ID), token, ""); code/100 != 2 {
			t.Fatalf("delete the service on A: %d %s", code, body)
		}
		eventually(t, "B forgets the deleted service, in its export too", func() bool {
			_, err := os.Stat(filepath.Join(exported, "badges", "forge.svg"))
			return componentStatus(b.URL) == "" && os.IsNotExist(err)
		})
		if _, err := os.Stat(filepath.Join(exported, "fr", "index.html")); err != nil {
			t.Errorf("the export lost the page: %v", err)
		}
	})
}

// eventually waits, up to 10 s, for cond to hold: the other instance sees a
// change at its next poll of the audit log.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// send makes an API request with a bearer token and a JSON body.
func send(t *testing.T, method, u, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, readAll(t, res)
}
