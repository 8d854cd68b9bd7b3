package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A maintenance scheduled through the API while its window is open is
// started by serve's worker (woken by the change, not by waiting for its
// next pass), and the public site follows.
func TestServeStartsMaintenance(t *testing.T) {
	backends(t, func(t *testing.T, in *instance) {
		token := strings.TrimSpace(in.mustCLI("", "token", "create", "--role", "communicator", "--name", "ci"))
		s := in.serve()
		now := time.Now().UTC()
		body := fmt.Sprintf(`{"title":"Disk swap","scheduled_for":%q,"scheduled_until":%q,"body":"Planned.","publish":true}`,
			now.Add(-time.Minute).Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/incidents", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if created := readAll(t, res); res.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", res.StatusCode, created)
		}
		var active struct {
			ScheduledMaintenances []struct{ Name, Status string } `json:"scheduled_maintenances"`
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, doc := get(t, s.URL+"/api/v2/scheduled-maintenances/active.json", "")
			if err := json.Unmarshal([]byte(doc), &active); err != nil {
				t.Fatal(err)
			}
			if len(active.ScheduledMaintenances) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the maintenance did not start: %s\n%s", doc, s.stderr)
			}
			time.Sleep(20 * time.Millisecond) // polling for an event, not timing it
		}
		if m := active.ScheduledMaintenances[0]; m.Name != "Disk swap" || m.Status != "in_progress" {
			t.Errorf("active: %+v", m)
		}
		if _, page := get(t, s.URL+"/en/", ""); !strings.Contains(page, "banner-under_maintenance") {
			t.Error("the banner does not show the maintenance")
		}
		_, inc := get(t, s.URL+"/api/v1/incidents/1", token)
		if !strings.Contains(inc, `"author":"system"`) {
			t.Errorf("no automatic update by the system: %s", inc)
		}
	})
}
