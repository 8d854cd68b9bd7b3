package httpserver

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/probe"
)

// checkAPICases are the OpenAPI walk's calls of the checks API. The walk
// goes in the order of "METHOD path", so DELETE gets a check of its own.
// Run now goes through the real prober to a target on loopback, recorded
// by the real store, as the monitor would.
func checkAPICases(t *testing.T, e *testEnv, admin, viewer string) map[string][]apiCase {
	t.Helper()
	f := newChecksFixture(t, e)
	seedResults(t, e, f.check, time.Now().UTC())
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(target.Close)
	local := &tocsin.Check{ServiceID: f.svc.ID, Name: "walked", Kind: tocsin.CheckHTTP, Spec: tocsin.CheckSpec{URL: target.URL + "/"}}
	local.ApplyDefaults(tocsin.CheckDefaults{})
	doomed := &tocsin.Check{ServiceID: f.svc.ID, Name: "doomed", Kind: tocsin.CheckTCP, Spec: tocsin.CheckSpec{Address: "127.0.0.1:1"}}
	doomed.ApplyDefaults(tocsin.CheckDefaults{})
	for _, c := range []*tocsin.Check{local, doomed} {
		if err := e.store.CreateCheck(e.ctx, tocsin.CLI, c); err != nil {
			t.Fatal(err)
		}
	}
	p := probe.New("tocsin-openapi-test")
	e.srv.runCheck = func(ctx context.Context, id int64) (*tocsin.CheckResult, error) {
		c, err := e.store.Check(ctx, id)
		if err != nil {
			return nil, err
		}
		res := p.Run(ctx, c)
		return res, e.store.RecordCheckResults(ctx, []*tocsin.CheckResult{res})
	}
	if err := e.store.SetServiceStatus(e.ctx, tocsin.CLI, f.svc.ID, tocsin.StatusDegraded, time.Time{}); err != nil {
		t.Fatal(err)
	}
	one := fmt.Sprintf("/api/v1/checks/%d", f.check.ID)
	walked := fmt.Sprintf("/api/v1/checks/%d", local.ID)
	conf := fmt.Sprintf("/api/v1/checks/%d", f.configured.ID)
	svc := fmt.Sprint(f.svc.ID)
	day := time.Now().In(e.srv.loc).AddDate(0, 0, 1).Format("2006-01-02")
	return map[string][]apiCase{
		"GET /api/v1/checks": {
			{name: "ok", path: "/api/v1/checks", token: admin, wantStatus: 200},
			{name: "viewer", path: "/api/v1/checks", token: viewer, wantStatus: 200},
		},
		"POST /api/v1/checks": {
			{name: "ok", path: "/api/v1/checks", token: admin, body: `{"service_id":` + svc + `,"kind":"dns","domain":"example.org","record":"TXT","expect":["v=spf1"],"interval":"5m","timeout":"5s","fail_threshold":2,"severity":"SEV3"}`, wantStatus: 201},
			{name: "bucket", path: "/api/v1/checks", token: admin, body: `{"service_id":` + svc + `,"kind":"bucket","url":"https://s3.example.org/media","aliases":["https://media.example.org"],"page":true}`, wantStatus: 201},
			{name: "metadata", path: "/api/v1/checks", token: admin, body: `{"service_id":` + svc + `,"kind":"http","url":"http://169.254.169.254/"}`, wantStatus: 400},
			{name: "interval 0", path: "/api/v1/checks", token: admin, body: `{"service_id":` + svc + `,"kind":"http","url":"https://x.example.org/","interval":"0s"}`, wantStatus: 400},
			{name: "viewer", path: "/api/v1/checks", token: viewer, body: `{"service_id":` + svc + `,"kind":"http","url":"https://x.example.org/"}`, wantStatus: 403},
			{name: "taken", path: "/api/v1/checks", token: admin, body: `{"service_id":` + svc + `,"name":"home","kind":"http","url":"https://x.example.org/"}`, wantStatus: 409},
		},
		"GET /api/v1/checks/{id}": {
			{name: "ok", path: one, token: admin, wantStatus: 200},
			{name: "missing", path: "/api/v1/checks/999999", token: viewer, wantStatus: 404},
		},
		"PUT /api/v1/checks/{id}": {
			{name: "ok", path: walked, token: admin, body: `{"service_id":` + svc + `,"name":"walked","kind":"http","url":"` + target.URL + `/","max_latency":"2s","expect_status":[200,204]}`, wantStatus: 200},
			{name: "configured", path: conf, token: admin, body: `{"service_id":` + svc + `,"kind":"http","url":"https://x.example.org/"}`, wantStatus: 409},
			{name: "bad timeout", path: walked, token: admin, body: `{"service_id":` + svc + `,"kind":"http","url":"https://x.example.org/","timeout":"-1s"}`, wantStatus: 400},
			{name: "missing", path: "/api/v1/checks/999999", token: admin, body: `{"service_id":` + svc + `,"kind":"http","url":"https://x.example.org/"}`, wantStatus: 404},
		},
		"DELETE /api/v1/checks/{id}": {
			{name: "ok", path: fmt.Sprintf("/api/v1/checks/%d", doomed.ID), token: admin, wantStatus: 204},
			{name: "configured", path: conf, token: admin, wantStatus: 409},
			{name: "missing", path: fmt.Sprintf("/api/v1/checks/%d", doomed.ID), token: admin, wantStatus: 404},
		},
		"POST /api/v1/checks/{id}/run": {
			{name: "ok", path: walked + "/run", token: admin, wantStatus: 200},
			{name: "viewer", path: walked + "/run", token: viewer, wantStatus: 403},
			{name: "missing", path: "/api/v1/checks/999999/run", token: admin, wantStatus: 404},
		},
		"GET /api/v1/checks/{id}/results": {
			{name: "ok", path: one + "/results?limit=10", token: admin, wantStatus: 200},
			{name: "bad since", path: one + "/results?since=yesterday", token: admin, wantStatus: 400},
			{name: "missing", path: "/api/v1/checks/999999/results", token: admin, wantStatus: 404},
		},
		"GET /api/v1/checks/{id}/tls-keys": {
			{name: "ok", path: one + "/tls-keys", token: admin, wantStatus: 200},
			{name: "none seen", path: walked + "/tls-keys", token: viewer, wantStatus: 200},
			{name: "missing", path: "/api/v1/checks/999999/tls-keys", token: admin, wantStatus: 404},
		},
		"GET /api/v1/tls-keys": {
			{name: "ok", path: "/api/v1/tls-keys?first_seen_before=" + day, token: admin, wantStatus: 200},
			{name: "bad date", path: "/api/v1/tls-keys?first_seen_before=soon", token: admin, wantStatus: 400},
		},
		"GET /api/v1/findings": {
			{name: "ok", path: "/api/v1/findings", token: admin, wantStatus: 200},
			{name: "all of a kind", path: "/api/v1/findings?state=all&kind=tls_key_reused&limit=5", token: viewer, wantStatus: 200},
			{name: "bad state", path: "/api/v1/findings?state=maybe", token: admin, wantStatus: 400},
		},
		"POST /api/v1/services/{id}/status/automatic": {
			{name: "ok", path: "/api/v1/services/" + svc + "/status/automatic", token: admin, wantStatus: 200},
			{name: "viewer", path: "/api/v1/services/" + svc + "/status/automatic", token: viewer, wantStatus: 403},
			{name: "missing", path: "/api/v1/services/999999/status/automatic", token: admin, wantStatus: 404},
		},
	}
}
