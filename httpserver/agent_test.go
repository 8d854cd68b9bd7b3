package httpserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
)

// agentFixture is a service with an HTTP check and a paused one, and an
// agent token named paris.
type agentFixture struct {
	token         string
	check, paused *tocsin.Check
	service       *tocsin.Service
}

func newAgentFixture(t *testing.T, e *testEnv, name string) *agentFixture {
	t.Helper()
	f := &agentFixture{service: &tocsin.Service{Name: "Web " + name}}
	if err := e.store.CreateService(e.ctx, tocsin.CLI, f.service); err != nil {
		t.Fatal(err)
	}
	mk := func(url string, paused bool) *tocsin.Check {
		c := &tocsin.Check{ServiceID: f.service.ID, Kind: tocsin.CheckHTTP, Interval: time.Minute, Paused: paused,
			Spec: tocsin.CheckSpec{URL: url, Headers: map[string]string{"Host": "www.example.org"}}}
		c.ApplyDefaults(tocsin.CheckDefaults{})
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		if err := e.store.CreateCheck(e.ctx, tocsin.CLI, c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	f.check, f.paused = mk("http://127.0.0.1:9/"+name, false), mk("http://127.0.0.1:9/paused-"+name, true)
	f.token, _ = e.createToken(name, tocsin.RoleAgent)
	return f
}

func resultsBody(rs ...tocsin.AgentResult) string {
	b, _ := json.Marshal(tocsin.AgentResults{Results: rs})
	return string(b)
}

// agentAPICases are the OpenAPI walk's calls of the agent routes, made
// with an agent's token (an admin's is refused there).
func agentAPICases(t *testing.T, e *testEnv) (map[string][]apiCase, string) {
	t.Helper()
	f := newAgentFixture(t, e, "openapi-agent")
	start := e.clock.Now().Add(-time.Minute)
	ok := resultsBody(tocsin.AgentResult{Key: "openapi/1", CheckID: f.check.ID, StartedAt: start, DurationUS: 1200, OK: true, StatusCode: 200},
		tocsin.AgentResult{Key: "openapi/2", CheckID: f.check.ID, StartedAt: start.Add(time.Second), DurationUS: 900, OK: false, Error: "connection refused"})
	return map[string][]apiCase{
		"GET /api/v1/agent/checks": {{name: "ok", path: "/api/v1/agent/checks", token: f.token, wantStatus: 200}},
		"POST /api/v1/agent/results": {
			{name: "ok", path: "/api/v1/agent/results", token: f.token, body: ok, wantStatus: 200},
			{name: "resent", path: "/api/v1/agent/results", token: f.token, body: ok, wantStatus: 200},
			{name: "no key", path: "/api/v1/agent/results", token: f.token, body: `{"results":[{"key":"","check_id":1,"started_at":"2026-01-01T00:00:00Z","duration_us":1,"ok":true}]}`, wantStatus: 400},
		},
	}, f.token
}

func TestAgentResults(t *testing.T) {
	e := newTestEnv(t)
	f := newAgentFixture(t, e, "paris")
	viewerTok, _ := e.createToken("reader", tocsin.RoleViewer)
	start := e.clock.Now().Add(-10 * time.Minute)
	result := func(key string, i int, ok bool) tocsin.AgentResult {
		return tocsin.AgentResult{Key: key, CheckID: f.check.ID, Location: "elsewhere", StartedAt: start.Add(time.Duration(i) * time.Second), DurationUS: 1000, OK: ok}
	}
	post := func(token, body string) *response {
		return e.call(http.MethodPost, "/api/v1/agent/results", token, body)
	}
	receipt := func(t *testing.T, resp *response) tocsin.AgentReceipt {
		t.Helper()
		if resp.Status != http.StatusOK {
			t.Fatalf("status %d: %s", resp.Status, resp.Body)
		}
		return decodeAs[tocsin.AgentReceipt](t, resp)
	}

	t.Run("checks: not paused, location named", func(t *testing.T) {
		resp := e.call(http.MethodGet, "/api/v1/agent/checks", f.token, "")
		got := decodeAs[tocsin.AgentChecks](t, resp)
		if got.Location != "paris" || len(got.Checks) != 1 || got.Checks[0].ID != f.check.ID ||
			got.Checks[0].Spec.URL != f.check.Spec.URL || time.Duration(got.Checks[0].Interval) != time.Minute || got.Checks[0].Timeout == 0 {
			t.Fatalf("agent checks = %+v", got)
		}
	})
	t.Run("stored under the token's location, resends skipped", func(t *testing.T) {
		batch := resultsBody(result("paris/a", 0, true), result("paris/b", 1, false), result("paris/b", 1, false))
		if got := receipt(t, post(f.token, batch)); got != (tocsin.AgentReceipt{Stored: 2, Skipped: 1}) {
			t.Errorf("first send: %+v, want 2 stored, 1 skipped (a key twice in the batch)", got)
		}
		if got := receipt(t, post(f.token, batch)); got != (tocsin.AgentReceipt{Skipped: 3}) {
			t.Errorf("resend: %+v, want all skipped", got)
		}
		stored, err := e.store.CheckResults(e.ctx, f.check.ID, start.Add(-time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != 2 {
			t.Fatalf("%d results stored, want 2", len(stored))
		}
		for _, r := range stored {
			if r.Location != "paris" {
				t.Errorf("result %s stored from %q, want the token's location paris", r.Key, r.Location)
			}
		}
	})
	t.Run("resends of packed results skipped", func(t *testing.T) {
		// Results three hours old are packed into blocks by compaction,
		// and their rows (with the unique key) deleted: a resend after
		// that must still be skipped, though blocks keep starts only to
		// the second.
		old := make([]tocsin.AgentResult, 3)
		for i := range old {
			old[i] = result(fmt.Sprintf("paris/old/%d", i), i, true)
			old[i].StartedAt = e.clock.Now().Add(-3*time.Hour + time.Duration(i)*time.Second).Truncate(time.Second).Add(700 * time.Millisecond)
		}
		if got := receipt(t, post(f.token, resultsBody(old...))); got.Stored != 3 {
			t.Fatalf("first send: %+v", got)
		}
		if _, err := e.store.CompactCheckResults(e.ctx, e.clock.Now(), 7*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		count := func() int {
			rs, err := e.store.CheckResults(e.ctx, f.check.ID, e.clock.Now().Add(-4*time.Hour), 1000)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, r := range rs {
				if strings.HasPrefix(r.Key, "paris/old/") {
					n++
				}
			}
			return n
		}
		if n := count(); n != 3 {
			t.Fatalf("%d old results readable after compaction, want 3", n)
		}
		if got := receipt(t, post(f.token, resultsBody(old...))); got != (tocsin.AgentReceipt{Skipped: 3}) {
			t.Errorf("resend after packing: %+v, want all skipped", got)
		}
		if n := count(); n != 3 {
			t.Errorf("%d old results after the resend, want 3: packed results were stored twice", n)
		}
	})
	t.Run("unknown checks dropped", func(t *testing.T) {
		gone := result("paris/gone", 2, true)
		gone.CheckID = 999999
		if got := receipt(t, post(f.token, resultsBody(gone, result("paris/c", 3, true)))); got != (tocsin.AgentReceipt{Stored: 1, Unknown: 1}) {
			t.Errorf("receipt %+v, want 1 stored, 1 unknown", got)
		}
	})
	t.Run("refusals", func(t *testing.T) {
		big := make([]tocsin.AgentResult, tocsin.MaxAgentBatch+1)
		for i := range big {
			big[i] = result(fmt.Sprintf("paris/big/%d", i), 100+i, true)
		}
		future := result("paris/future", 0, true)
		future.StartedAt = e.clock.Now().Add(time.Hour)
		tests := []struct {
			name, body string
			status     int
			code, word string
		}{
			{"bad JSON", `{"results":[`, 400, tocsin.EINVALID, "Malformed"},
			{"unknown field", `{"results":[],"extra":1}`, 400, tocsin.EINVALID, "extra"},
			{"no key", resultsBody(result("", 0, true)), 400, tocsin.EINVALID, "results[0].key"},
			{"no check", resultsBody(tocsin.AgentResult{Key: "k", StartedAt: start}), 400, tocsin.EINVALID, "check_id"},
			{"no start", resultsBody(tocsin.AgentResult{Key: "k", CheckID: f.check.ID}), 400, tocsin.EINVALID, "started_at"},
			{"future", resultsBody(future), 400, tocsin.EINVALID, "agent's clock"},
			{"too many", resultsBody(big...), 413, tocsin.ETOOLARGE, "at most 500"},
			{"too big", `{"results":[],"pad":"` + strings.Repeat("x", maxJSONBytes) + `"}`, 413, tocsin.ETOOLARGE, "over"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				resp := post(f.token, tt.body)
				apiError(t, resp, tt.status, tt.code)
				if !strings.Contains(resp.Body, tt.word) {
					t.Errorf("error %s does not say %q", resp.Body, tt.word)
				}
			})
		}
		stored, _ := e.store.CheckResults(e.ctx, f.check.ID, start.Add(-time.Hour), 1000)
		if len(stored) != 3 {
			t.Errorf("%d results after the refusals, want the 3 stored before", len(stored))
		}
	})
	t.Run("only agent tokens", func(t *testing.T) {
		admin, _ := e.createToken("boss", tocsin.RoleAdmin, tocsin.RoleViewer, tocsin.RoleResponder, tocsin.RoleCommunicator, tocsin.RoleApprover)
		for _, tok := range []string{viewerTok, admin} {
			apiError(t, e.call(http.MethodGet, "/api/v1/agent/checks", tok, ""), 403, tocsin.EFORBIDDEN)
			apiError(t, post(tok, resultsBody(result("x/1", 50, true))), 403, tocsin.EFORBIDDEN)
		}
		resp := e.call(http.MethodGet, "/api/v1/agent/checks", viewerTok, "")
		if !strings.Contains(resp.Body, "agent") {
			t.Errorf("the refusal should name the role needed: %s", resp.Body)
		}
	})
}

// TestAgentTokenReachesNothingElse sends an agent's token to every other
// route of the table: each API route answers 403, each console page
// refuses it (tokens are not sessions).
func TestAgentTokenReachesNothingElse(t *testing.T) {
	e := newTestEnv(t)
	f := newAgentFixture(t, e, "lyon")
	param := regexp.MustCompile(`\{[^}]+\}`)
	n := 0
	for _, rt := range e.srv.routeTable() {
		if rt.access == agent || rt.access == public {
			continue
		}
		method, path, _ := strings.Cut(rt.pattern, " ")
		path = strings.TrimSuffix(param.ReplaceAllString(path, "1"), "{$}")
		t.Run(rt.pattern, func(t *testing.T) {
			req, err := http.NewRequest(method, e.ts.URL+path, strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+f.token)
			req.Header.Set("Content-Type", "application/json")
			resp := e.do(req)
			switch rt.kind {
			case api:
				n++
				if resp.Status != http.StatusForbidden {
					t.Errorf("agent token on %s: %d %.200s, want 403", rt.pattern, resp.Status, resp.Body)
				}
			default:
				if !isDenied(rt, method, resp) {
					t.Errorf("agent token on %s: %d %s, want refused", rt.pattern, resp.Status, resp.location())
				}
			}
		})
	}
	if n < 50 {
		t.Errorf("only %d API routes walked: the table walk is broken", n)
	}
}

func TestAgentRoleRefusedForAccounts(t *testing.T) {
	e := newTestEnv(t)
	admin, _ := e.createToken("admin", tocsin.RoleAdmin)
	resp := e.call(http.MethodPost, "/api/v1/users", admin, fmt.Sprintf(`{"email":"bot@example.org","name":"Bot","roles":["agent"],"password":%q}`, testPassword))
	apiError(t, resp, 400, tocsin.EINVALID)
	if !strings.Contains(resp.Body, "only for the API token") {
		t.Errorf("refusal %s should say the agent role is for tokens", resp.Body)
	}
	resp = e.call(http.MethodPost, "/api/v1/tokens", admin, `{"name":"berlin","roles":["agent","viewer"]}`)
	apiError(t, resp, 400, tocsin.EINVALID)
	resp = e.call(http.MethodPost, "/api/v1/tokens", admin, `{"name":"berlin","roles":["agent"]}`)
	if resp.Status != http.StatusCreated {
		t.Errorf("agent token through the API: %d %s", resp.Status, resp.Body)
	}
}
