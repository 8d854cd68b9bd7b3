package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin/internal/testpeer"
)

// TestReportPagesOnCallEndToEnd boots the real program with OpenSMTPD and
// Dovecot: a report at /report reaches the on-call person's mailbox (the
// first target: under 5 s), and, nobody acknowledging, the page escalates
// to the next level at its one-minute deadline (the second: within 5 s).
// Durations are logged; the bounds asserted are generous, for a loaded
// machine.
func TestReportPagesOnCallEndToEnd(t *testing.T) {
	peer := testpeer.StartSMTP(t)
	_, port, _ := net.SplitHostPort(peer.Addr)
	n, _ := strconv.Atoi(port)
	in := newInstance(t, "sqlite").with(smtpEnv(n, 2*time.Second)...)
	in.addUser("oncall@example.org", "responder")
	in.addUser("backup@example.org", "responder")
	token := strings.TrimSpace(in.mustCLI("", "token", "create", "--role", "admin", "--name", "oncall-setup"))
	s := in.serve()

	api := func(method, path, body string, out any) {
		t.Helper()
		req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b := readBody(t, resp)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		if out != nil {
			if err := json.Unmarshal([]byte(b), out); err != nil {
				t.Fatalf("%s %s: %v: %s", method, path, err, b)
			}
		}
	}
	var users struct {
		Users []struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
		} `json:"users"`
	}
	api("GET", "/api/v1/users", "", &users)
	ids := map[string]int64{}
	for _, u := range users.Users {
		ids[u.Email] = u.ID
	}
	var rota struct {
		ID int64 `json:"id"`
	}
	api("POST", "/api/v1/oncall/rotas", fmt.Sprintf(`{"name":"Ops","zone":"Europe/Paris","start":"2026-01-05T09:00:00+01:00","period_days":7,"members":[%d]}`, ids["oncall@example.org"]), &rota)
	api("PUT", "/api/v1/oncall/policy", fmt.Sprintf(`{"levels":[{"rota_id":%d,"delay_minutes":1},{"user_ids":[%d]}]}`, rota.ID, ids["backup@example.org"]), nil)

	// The report, as a browser sends it.
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.Get(s.URL + "/report")
	if err != nil {
		t.Fatal(err)
	}
	m := csrfRE.FindStringSubmatch(readBody(t, resp))
	if m == nil {
		t.Fatal("no csrf field on /report")
	}
	start := time.Now()
	resp, err = c.PostForm(s.URL+"/report", url.Values{"csrf": {m[1]}, "subject": {"Bucket lists its files"}, "body": {"https://s3.example.org/backups/ lists every file."}})
	if err != nil {
		t.Fatal(err)
	}
	if b := readBody(t, resp); resp.StatusCode != http.StatusOK {
		t.Fatalf("report: %d %s", resp.StatusCode, b)
	}
	first := peer.WaitFor(t, 1, 60*time.Second)
	delivered := time.Since(start)
	t.Logf("target 1: report submitted at /report → page in the on-call person's mailbox (OpenSMTPD → Dovecot LMTP) in %v", delivered.Round(time.Millisecond))
	if first[0].Recipient != "oncall@example.org" {
		t.Fatalf("first page went to %s", first[0].Recipient)
	}
	text, err := first[0].Text()
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := first[0].Subject()
	if !strings.Contains(subject, "Bucket lists its files") || !strings.Contains(text, s.URL+"/ack/") {
		t.Fatalf("page mail: %s\n%s", subject, text)
	}
	if delivered > 30*time.Second {
		t.Errorf("the page took %v to arrive; the target is 5 s", delivered)
	}

	// Nobody acknowledges: level 2 is paged at the deadline.
	type page struct {
		ID     int64      `json:"id"`
		NextAt *time.Time `json:"next_at"`
		Paged  []struct {
			Email   string    `json:"email"`
			Level   int       `json:"level"`
			PagedAt time.Time `json:"paged_at"`
		} `json:"paged"`
	}
	var pages struct {
		Pages []page `json:"pages"`
	}
	api("GET", "/api/v1/pages", "", &pages)
	if len(pages.Pages) != 1 || pages.Pages[0].NextAt == nil {
		t.Fatalf("pages = %+v", pages)
	}
	due := *pages.Pages[0].NextAt
	second := peer.WaitFor(t, 2, time.Until(due)+60*time.Second)
	arrived := time.Now()
	var p page
	api("GET", fmt.Sprintf("/api/v1/pages/%d", pages.Pages[0].ID), "", &p)
	if len(p.Paged) < 2 || p.Paged[1].Email != "backup@example.org" || p.Paged[1].Level != 2 {
		t.Fatalf("paged = %+v", p.Paged)
	}
	late := p.Paged[1].PagedAt.Sub(due)
	t.Logf("target 2: escalation to level 2 paged %v after its deadline; in backup's mailbox %v after it", late.Round(time.Microsecond), arrived.Sub(due).Round(time.Millisecond))
	if second[1].Recipient != "backup@example.org" {
		t.Fatalf("second page went to %s", second[1].Recipient)
	}
	if late < 0 || late > 30*time.Second {
		t.Errorf("escalation fired %v after its deadline; the target is 5 s", late)
	}
}
