package httpserver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/config"
	"github.com/tocsin-org/tocsin/probe"
)

// checksFixture is a service with a check, a config-managed check and the
// tokens of each role.
type checksFixture struct {
	svc                                     *tocsin.Service
	check, configured                       *tocsin.Check
	viewerTok, responderTok, adminTok, comm string
}

func newChecksFixture(t *testing.T, e *testEnv) checksFixture {
	t.Helper()
	var f checksFixture
	f.svc = &tocsin.Service{Name: "Website"}
	if err := e.store.CreateService(e.ctx, tocsin.CLI, f.svc); err != nil {
		t.Fatal(err)
	}
	mk := func(name, target string) *tocsin.Check {
		c := &tocsin.Check{ServiceID: f.svc.ID, Name: name, Kind: tocsin.CheckHTTP, Spec: tocsin.CheckSpec{URL: target}}
		c.ApplyDefaults(tocsin.CheckDefaults{})
		if err := c.Validate(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	f.check = mk("home", "https://www.example.org/")
	if err := e.store.CreateCheck(e.ctx, tocsin.CLI, f.check); err != nil {
		t.Fatal(err)
	}
	f.configured = mk("from file", "https://cdn.example.org/")
	if err := e.store.SyncConfigChecks(e.ctx, tocsin.System, []*tocsin.Check{f.configured}); err != nil {
		t.Fatal(err)
	}
	cs, err := e.store.Checks(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.ConfigManaged {
			f.configured = c
		}
	}
	f.viewerTok, _ = e.createToken("checks-viewer", tocsin.RoleViewer)
	f.responderTok, _ = e.createToken("checks-responder", tocsin.RoleResponder)
	f.adminTok, _ = e.createToken("checks-admin", tocsin.RoleAdmin)
	f.comm, _ = e.createToken("checks-comm", tocsin.RoleCommunicator)
	return f
}

func TestChecksAPIAccessAndValidation(t *testing.T) {
	e := newTestEnv(t)
	f := newChecksFixture(t, e)
	var reloads int
	e.srv.onChecks = func() { reloads++ }
	svc := fmt.Sprint(f.svc.ID)
	one := fmt.Sprintf("/api/v1/checks/%d", f.check.ID)
	conf := fmt.Sprintf("/api/v1/checks/%d", f.configured.ID)
	body := func(extra string) string {
		return `{"service_id":` + svc + `,"kind":"http","url":"https://shop.example.org/"` + extra + `}`
	}
	cases := []struct {
		name, method, path, token, body string
		status                          int
		want                            string // in the body
		reload                          bool
	}{
		{"viewer lists", "GET", "/api/v1/checks", f.viewerTok, "", 200, `"name":"home"`, false},
		{"viewer cannot create", "POST", "/api/v1/checks", f.viewerTok, body(""), 403, "", false},
		{"responder cannot create", "POST", "/api/v1/checks", f.responderTok, body(""), 403, "", false},
		{"responder cannot edit", "PUT", one, f.responderTok, body(""), 403, "", false},
		{"responder cannot delete", "DELETE", one, f.responderTok, "", 403, "", false},
		{"admin creates", "POST", "/api/v1/checks", f.adminTok, body(`,"name":"shop","interval":"30s","page":true`), 201, `"interval":"30s"`, true},
		{"admin edits", "PUT", one, f.adminTok, body(`,"name":"home","paused":true`), 200, `"state":"paused"`, true},
		{"config-managed refuses edit", "PUT", conf, f.adminTok, body(""), 409, "configuration file", false},
		{"config-managed refuses delete", "DELETE", conf, f.adminTok, "", 409, "configuration file", false},
		{"metadata address", "POST", "/api/v1/checks", f.adminTok, `{"service_id":` + svc + `,"kind":"http","url":"http://169.254.169.254/latest/meta-data/"}`, 400, "checks.allow_private", false},
		{"metadata name", "POST", "/api/v1/checks", f.adminTok, `{"service_id":` + svc + `,"kind":"tcp","address":"metadata.google.internal:80"}`, 400, "address: refused", false},
		{"link-local v6", "POST", "/api/v1/checks", f.adminTok, `{"service_id":` + svc + `,"kind":"tls","address":"[fe80::1]:443"}`, 400, "link-local", false},
		{"alibaba metadata", "POST", "/api/v1/checks", f.adminTok, `{"service_id":` + svc + `,"kind":"http","url":"http://100.100.100.200/"}`, 400, "cloud-metadata", false},
		{"bad JSON", "POST", "/api/v1/checks", f.adminTok, `{"service_id":`, 400, "Malformed JSON", false},
		{"unknown kind", "POST", "/api/v1/checks", f.adminTok, `{"service_id":` + svc + `,"kind":"ftp","url":"https://x.example.org/"}`, 400, "kind: unknown kind", false},
		{"interval 0", "POST", "/api/v1/checks", f.adminTok, body(`,"interval":"0s"`), 400, "interval: 0s is out of range", false},
		{"negative timeout", "POST", "/api/v1/checks", f.adminTok, body(`,"timeout":"-5s"`), 400, "timeout: -5s is out of range", false},
		{"bad duration", "POST", "/api/v1/checks", f.adminTok, body(`,"max_latency":"soon"`), 400, "max_latency:", false},
		{"field of another kind", "POST", "/api/v1/checks", f.adminTok, body(`,"domain":"example.org"`), 400, "domain: does not apply", false},
		{"URL without host", "POST", "/api/v1/checks", f.adminTok, `{"service_id":` + svc + `,"kind":"http","url":"https:///x"}`, 400, "url:", false},
		{"unknown service", "POST", "/api/v1/checks", f.adminTok, `{"service_id":999999,"kind":"http","url":"https://x.example.org/"}`, 400, "service 999999", false},
		{"admin deletes", "DELETE", one, f.adminTok, "", 204, "", true},
		{"deleted is gone", "GET", one, f.viewerTok, "", 404, "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := reloads
			resp := e.call(c.method, c.path, c.token, c.body)
			if resp.Status != c.status || !strings.Contains(resp.Body, c.want) {
				t.Fatalf("%s %s: %d %s, want %d with %q", c.method, c.path, resp.Status, resp.Body, c.status, c.want)
			}
			if got := reloads > before; got != c.reload {
				t.Errorf("scheduler reloaded: %t, want %t", got, c.reload)
			}
		})
	}
	t.Run("allow_private lets a metadata address through", func(t *testing.T) {
		e2 := newTestEnv(t, func(c *config.Config) { c.Checks.AllowPrivate = true })
		f2 := newChecksFixture(t, e2)
		resp := e2.call("POST", "/api/v1/checks", f2.adminTok, `{"service_id":`+fmt.Sprint(f2.svc.ID)+`,"kind":"http","url":"http://169.254.169.254/"}`)
		if resp.Status != 201 {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
	})
}

func TestChecksAPIHeadersHiddenFromViewers(t *testing.T) {
	e := newTestEnv(t)
	f := newChecksFixture(t, e)
	resp := e.call("POST", "/api/v1/checks", f.adminTok, `{"service_id":`+fmt.Sprint(f.svc.ID)+`,"kind":"http","url":"https://api.example.org/","headers":{"Authorization":"Bearer s3cret"}}`)
	if resp.Status != 201 || !strings.Contains(resp.Body, "s3cret") {
		t.Fatalf("admin: %d %s", resp.Status, resp.Body)
	}
	if resp := e.call("GET", "/api/v1/checks", f.viewerTok, ""); strings.Contains(resp.Body, "s3cret") || !strings.Contains(resp.Body, "(hidden)") {
		t.Errorf("viewer sees the header's value: %s", resp.Body)
	}
}

// seedResults records results of f.check: a certificate seen with one
// key, then renewed with the same key, then a failure.
func seedResults(t *testing.T, e *testEnv, c *tocsin.Check, at time.Time) {
	t.Helper()
	obs := func(serial, spki string, start time.Time) *tocsin.TLSObservation {
		return &tocsin.TLSObservation{SPKISHA256: spki, Serial: serial, Subject: "CN=www.example.org", Issuer: "CN=Test CA",
			NotBefore: start.Add(-time.Hour), NotAfter: start.Add(10 * 24 * time.Hour), Version: "TLS 1.3", Cipher: "TLS_AES_128_GCM_SHA256",
			OldVersions: []string{"TLS 1.0"}}
	}
	res := []*tocsin.CheckResult{
		{CheckID: c.ID, StartedAt: at.Add(-3 * time.Hour), Duration: 80 * time.Millisecond, OK: true, StatusCode: 200, TLS: obs("01", strings.Repeat("a", 64), at.Add(-3*time.Hour))},
		{CheckID: c.ID, StartedAt: at.Add(-2 * time.Hour), Duration: 120 * time.Millisecond, OK: true, StatusCode: 200, TLS: obs("02", strings.Repeat("a", 64), at.Add(-2*time.Hour))},
		{CheckID: c.ID, StartedAt: at.Add(-time.Hour), Duration: 3 * time.Second, OK: false, Error: "connect: connection refused"},
	}
	for _, r := range res {
		if err := e.store.RecordCheckResults(e.ctx, []*tocsin.CheckResult{r}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChecksAPIQueries(t *testing.T) {
	e := newTestEnv(t)
	f := newChecksFixture(t, e)
	now := time.Now().UTC()
	seedResults(t, e, f.check, now)
	one := fmt.Sprintf("/api/v1/checks/%d", f.check.ID)
	tomorrow := now.In(e.srv.loc).AddDate(0, 0, 1).Format("2006-01-02")
	longAgo := now.In(e.srv.loc).AddDate(0, 0, -30).Format("2006-01-02")
	cases := []struct {
		name, path string
		status     int
		want, not  string
	}{
		{"results", one + "/results", 200, `"error":"connect: connection refused"`, ""},
		{"results limited", one + "/results?limit=1", 200, `connection refused`, `"status_code":200`},
		{"results since", one + "/results?since=" + url.QueryEscape(now.Add(-150*time.Minute).Format(time.RFC3339)), 200, `"status_code":200`, `"serial":"01"`},
		{"results bad since", one + "/results?since=yesterday", 400, "RFC 3339", ""},
		{"results bad limit", one + "/results?limit=0", 400, "limit", ""},
		{"results unknown check", "/api/v1/checks/999999/results", 404, "", ""},
		{"tls keys", one + "/tls-keys", 200, `"rotated":false`, ""},
		{"tls keys: key kept through renewal", one + "/tls-keys", 200, `"serial":"02"`, ""},
		{"stale keys before tomorrow", "/api/v1/tls-keys?first_seen_before=" + tomorrow, 200, `"check":"home"`, ""},
		{"stale keys long ago", "/api/v1/tls-keys?first_seen_before=" + longAgo, 200, `"endpoints":[]`, ""},
		{"stale keys bad date", "/api/v1/tls-keys?first_seen_before=07/04/2026", 400, "2026-04-07", ""},
		{"stale keys no date", "/api/v1/tls-keys", 400, "first_seen_before", ""},
		{"findings open", "/api/v1/findings", 200, `"kind":"tls_key_reused"`, ""},
		{"findings by kind", "/api/v1/findings?kind=tls_protocol_weak", 200, `"kind":"tls_protocol_weak"`, `"kind":"tls_key_reused"`},
		{"findings name service and check", "/api/v1/findings?kind=tls_protocol_weak", 200, `"service":{"id":` + fmt.Sprint(f.svc.ID) + `,"name":"Website"},"check":{"id":` + fmt.Sprint(f.check.ID) + `,"name":"home"}`, ""},
		{"findings closed", "/api/v1/findings?state=closed", 200, `"findings":[]`, ""},
		{"findings all of a check", fmt.Sprintf("/api/v1/findings?state=all&check=%d", f.check.ID), 200, `tls_protocol_weak`, ""},
		{"findings of another check", fmt.Sprintf("/api/v1/findings?check=%d", f.configured.ID), 200, `"findings":[]`, ""},
		{"findings bad state", "/api/v1/findings?state=maybe", 400, "open, closed or all", ""},
		{"findings bad kind", "/api/v1/findings?kind=dragons", 400, "bucket_listable", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := e.call("GET", c.path, f.viewerTok, "")
			if resp.Status != c.status || !strings.Contains(resp.Body, c.want) || (c.not != "" && strings.Contains(resp.Body, c.not)) {
				t.Fatalf("%s: %d %s, want %d with %q without %q", c.path, resp.Status, resp.Body, c.status, c.want, c.not)
			}
		})
	}
}

func TestChecksRunNow(t *testing.T) {
	e := newTestEnv(t)
	f := newChecksFixture(t, e)
	one := fmt.Sprintf("/api/v1/checks/%d", f.check.ID)

	t.Run("without a monitor", func(t *testing.T) {
		resp := e.call("POST", one+"/run", f.responderTok, "")
		if resp.Status != 409 || !strings.Contains(resp.Body, "checks do not run in this server") {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		if resp := e.call("POST", one+"/run", f.viewerTok, ""); resp.Status != 403 {
			t.Errorf("viewer: %d", resp.Status)
		}
	})

	// A real target on loopback, probed by the real prober, its result
	// recorded by the real store: what the monitor's RunNow does.
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	defer target.Close()
	local := &tocsin.Check{ServiceID: f.svc.ID, Name: "local", Kind: tocsin.CheckHTTP, Spec: tocsin.CheckSpec{URL: target.URL + "/", ExpectStatus: []int{418}}}
	local.ApplyDefaults(tocsin.CheckDefaults{})
	if err := e.store.CreateCheck(e.ctx, tocsin.CLI, local); err != nil {
		t.Fatal(err)
	}
	p := probe.New("tocsin-test")
	e.srv.runCheck = func(ctx context.Context, id int64) (*tocsin.CheckResult, error) {
		c, err := e.store.Check(ctx, id)
		if err != nil {
			return nil, err
		}
		res := p.Run(ctx, c)
		return res, e.store.RecordCheckResults(ctx, []*tocsin.CheckResult{res})
	}
	t.Run("with a monitor", func(t *testing.T) {
		resp := e.call("POST", fmt.Sprintf("/api/v1/checks/%d/run", local.ID), f.responderTok, "")
		if resp.Status != 200 || !strings.Contains(resp.Body, `"ok":true`) || !strings.Contains(resp.Body, `"status_code":418`) {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		list := e.call("GET", fmt.Sprintf("/api/v1/checks/%d/results", local.ID), f.viewerTok, "")
		if !strings.Contains(list.Body, `"status_code":418`) {
			t.Errorf("the run was not recorded: %s", list.Body)
		}
	})
	t.Run("console shows the result", func(t *testing.T) {
		u := e.createUser("rita@example.org", tocsin.RoleResponder)
		b := e.signedIn(u, "127.0.0.2")
		resp := b.post(fmt.Sprintf("/console/checks/%d/run", local.ID), url.Values{})
		if resp.Status != 200 || !strings.Contains(resp.Body, `id="run-result"`) || !strings.Contains(resp.Body, "418") {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
	})
}

func TestChecksConsole(t *testing.T) {
	e := newTestEnv(t)
	f := newChecksFixture(t, e)
	seeded := time.Now().UTC()
	seedResults(t, e, f.check, seeded)
	viewer := e.signedIn(e.createUser("vera@example.org", tocsin.RoleViewer), "127.0.0.3")
	admin := e.signedIn(e.createUser("ada@example.org", tocsin.RoleAdmin), "127.0.0.4")
	comm := e.signedIn(e.createUser("cora@example.org", tocsin.RoleCommunicator), "127.0.0.5")

	t.Run("viewer reads the list and the check", func(t *testing.T) {
		resp := viewer.get("/console/checks")
		if resp.Status != 200 || !strings.Contains(resp.Body, "home") || strings.Contains(resp.Body, `href="/console/checks/new"`) {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		page := viewer.get(fmt.Sprintf("/console/checks/%d", f.check.ID))
		for _, want := range []string{"<svg", "<polyline", "<circle", "<title id=\"chart-t\">", "Key unchanged since", "connection refused", `id="check-history"`, `id="check-days"`, "(1 failed)"} {
			if !strings.Contains(page.Body, want) {
				t.Errorf("check page lacks %q", want)
			}
		}
		if strings.Contains(page.Body, "style=") {
			t.Error("the check page has an inline style attribute, which the CSP forbids")
		}
		if resp := viewer.get("/console/checks/new"); resp.Status != 403 {
			t.Errorf("viewer opens the new check form: %d", resp.Status)
		}
	})
	t.Run("admin creates; a refused form keeps what was typed", func(t *testing.T) {
		form := url.Values{"service_id": {fmt.Sprint(f.svc.ID)}, "kind": {"http"}, "name": {"meta"}, "url": {"http://169.254.169.254/"},
			"interval": {"45s"}, "fail_status": {"major_outage"}, "severity": {"SEV2"}}
		resp := admin.post("/console/checks", form)
		if resp.Status != 400 || !strings.Contains(resp.Body, "checks.allow_private") || !strings.Contains(resp.Body, `value="45s"`) || !strings.Contains(resp.Body, `value="meta"`) {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		form.Set("url", "https://blog.example.org/")
		form.Set("expect_status", "200, 204")
		resp = admin.post("/console/checks", form)
		if resp.Status != 200 || !strings.Contains(resp.Body, "Check meta created") {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		form.Set("interval", "0")
		if resp := admin.post("/console/checks", form); resp.Status != 400 || !strings.Contains(resp.Body, "interval: 0s is out of range") {
			t.Errorf("interval 0: %d", resp.Status)
		}
	})
	t.Run("config-managed check has no edit form", func(t *testing.T) {
		if resp := admin.get(fmt.Sprintf("/console/checks/%d/edit", f.configured.ID)); resp.Status != 409 {
			t.Errorf("%d", resp.Status)
		}
	})
	t.Run("admin pauses", func(t *testing.T) {
		resp := admin.post(fmt.Sprintf("/console/checks/%d/pause", f.check.ID), url.Values{"paused": {"true"}})
		if resp.Status != 200 || !strings.Contains(resp.Body, "paused") {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
	})
	t.Run("posture lists findings and stale keys", func(t *testing.T) {
		resp := viewer.get("/console/posture")
		if resp.Status != 200 || !strings.Contains(resp.Body, "Old TLS protocols accepted") || !strings.Contains(resp.Body, "accepts TLS 1.0") {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		day := time.Now().In(e.srv.loc).AddDate(0, 0, 1).Format("2006-01-02")
		if resp := viewer.get("/console/posture?before=" + day); !strings.Contains(resp.Body, `id="stale-keys"`) {
			t.Errorf("stale keys: %s", resp.Body)
		}
		if resp := viewer.get("/console/posture?before=nope"); resp.Status != 400 {
			t.Errorf("bad date: %d", resp.Status)
		}
	})
	t.Run("French: findings and refusals in French, times in the host's zone", func(t *testing.T) {
		viewer.Header.Set("Accept-Language", "fr")
		admin.Header.Set("Accept-Language", "fr")
		defer viewer.Header.Del("Accept-Language")
		defer admin.Header.Del("Accept-Language")
		// The second result's certificate, seen after the first: the open
		// finding's words were updated with its date.
		expiring := "www.example.org/ : le certificat expire dans 9 jours (seuil : 14 j), le " + e.srv.fmtTime(seeded.Add(-2*time.Hour+10*24*time.Hour))
		reused := "certificat renouvelé (numéro de série 01 → 02) mais la clé publique est la même, vue pour la première fois le " + e.srv.fmtTime(seeded.Add(-3*time.Hour))
		for _, path := range []string{"/console/posture", fmt.Sprintf("/console/checks/%d", f.check.ID)} {
			resp := viewer.get(path)
			if resp.Status != 200 {
				t.Fatalf("%s: %d", path, resp.Status)
			}
			for _, want := range []string{"https://www.example.org/ accepte TLS 1.0", expiring, reused} {
				if !strings.Contains(resp.Text, want) {
					t.Errorf("%s lacks %q", path, want)
				}
			}
			for _, english := range []string{"accepts TLS", "the certificate expires", "certificate renewed"} {
				if strings.Contains(resp.Text, english) {
					t.Errorf("%s still says %q in English", path, english)
				}
			}
		}
		form := url.Values{"service_id": {fmt.Sprint(f.svc.ID)}, "kind": {"http"}, "name": {"fr"}, "url": {"https://fr.example.org/"},
			"interval": {"0"}, "fail_status": {"major_outage"}, "severity": {"SEV2"}}
		for _, tc := range []struct{ field, value, want string }{
			{"interval", "0", "interval : 0s est hors limites : donnez de 1s à 24h, par exemple 60s"},        // refused by the form
			{"interval", "48h", "interval : 48h0m0s est hors limites : donnez de 1s à 24h, par exemple 60s"}, // by Check.Validate
			{"expect_status", "700", "expect_status : 700 n'est pas un code de statut HTTP (100 à 599)"},
		} {
			form.Set("interval", "60s")
			form.Set(tc.field, tc.value)
			resp := admin.post("/console/checks", form)
			form.Del("expect_status")
			if resp.Status != 400 || !strings.Contains(resp.Text, tc.want) || strings.Contains(resp.Text, "out of range") || strings.Contains(resp.Text, "is not an HTTP") {
				t.Errorf("%s=%s: %d, want %q in\n%s", tc.field, tc.value, resp.Status, tc.want, resp.Text)
			}
		}
	})
	t.Run("a finding kept before words shows its English detail", func(t *testing.T) {
		f := &tocsin.Finding{Kind: tocsin.FindingTLSProtocolWeak, Detail: "www.example.org:443 accepts TLS 1.0"}
		if got := e.srv.findingRow("fr", f).Text; got != f.Detail {
			t.Errorf("%q", got)
		}
		f.Words, f.Args = "findings.detail.tls_protocol_weak", []string{"www.example.org:443", "TLS 1.0"}
		if got := e.srv.findingRow("fr", f).Text; got != "www.example.org:443 accepte TLS 1.0" {
			t.Errorf("%q", got)
		}
	})
	t.Run("a pinned status returns to automatic", func(t *testing.T) {
		if err := e.store.SetServiceStatus(e.ctx, tocsin.CLI, f.svc.ID, tocsin.StatusDegraded, time.Time{}); err != nil {
			t.Fatal(err)
		}
		resp := comm.get("/console/services")
		if !strings.Contains(resp.Body, fmt.Sprintf(`id="pinned-%d"`, f.svc.ID)) || !strings.Contains(resp.Body, "/status/automatic") {
			t.Fatalf("pinned not shown: %s", resp.Body)
		}
		if resp := viewer.post(fmt.Sprintf("/console/services/%d/status/automatic", f.svc.ID), url.Values{}); resp.Status != 403 {
			t.Errorf("viewer unpins: %d", resp.Status)
		}
		resp = comm.post(fmt.Sprintf("/console/services/%d/status/automatic", f.svc.ID), url.Values{})
		if resp.Status != 200 || strings.Contains(resp.Body, fmt.Sprintf(`id="pinned-%d"`, f.svc.ID)) {
			t.Fatalf("%d %s", resp.Status, resp.Body)
		}
		svc, err := e.store.Service(e.ctx, f.svc.ID)
		if err != nil || svc.StatusPinned {
			t.Errorf("still pinned: %v %v", svc, err)
		}
	})
}

func TestUnsafeHost(t *testing.T) {
	for host, want := range map[string]string{
		"169.254.169.254": "metadata", "169.254.10.1": "link_local", "fe80::1": "link_local", "[fe80::1%25eth0]": "link_local",
		"fd00:ec2::254": "metadata", "100.100.100.200": "metadata", "METADATA.google.internal.": "metadata",
		"::ffff:169.254.169.254": "metadata", "127.0.0.1": "", "10.0.0.1": "", "www.example.org": "", "100.100.100.201": "",
	} {
		if got := unsafeHost(host); got != want {
			t.Errorf("unsafeHost(%q) = %q, want %q", host, got, want)
		}
	}
}

func TestLatencyChart(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	res := []*tocsin.CheckResult{ // newest first
		{StartedAt: now.Add(-time.Minute), Duration: 200 * time.Millisecond, OK: false},
		{StartedAt: now.Add(-12 * time.Hour), Duration: 100 * time.Millisecond, OK: true},
		{StartedAt: now.Add(-12*time.Hour + time.Second), Duration: 50 * time.Millisecond, OK: true}, // same column: the slowest stays
		{StartedAt: now.Add(-30 * time.Hour), Duration: 10 * time.Millisecond, OK: true},             // before the window: at x=0
	}
	ch := latencyChart(res, now, 24*time.Hour)
	if ch.Runs != 4 || ch.Failed != 1 || len(ch.Fails) != 1 {
		t.Fatalf("%+v", ch)
	}
	if ch.Points != "0,172 360,100 719,20" {
		t.Errorf("points %q", ch.Points)
	}
	if ch.Fails[0] != (chartMark{"719", "20"}) {
		t.Errorf("fail mark %+v", ch.Fails[0])
	}
	if empty := latencyChart(nil, now, 24*time.Hour); empty.Runs != 0 || empty.Points != "" {
		t.Errorf("empty %+v", empty)
	}
}

func TestMetricsAppendCheckMetrics(t *testing.T) {
	e := newTestEnv(t)
	tok, _ := e.createToken("scraper", tocsin.RoleViewer)
	if r := e.call("GET", "/metrics", tok, ""); strings.Contains(r.Body, "tocsin_check_up") {
		t.Fatalf("check metrics without a monitor: %s", r.Body)
	}
	e.srv.checkMetrics = func(w io.Writer) {
		fmt.Fprintln(w, "# TYPE tocsin_check_up gauge")
		fmt.Fprintln(w, `tocsin_check_up{check="1"} 1`)
	}
	r := e.call("GET", "/metrics", tok, "")
	if r.Status != 200 || !strings.Contains(r.Body, "tocsin_uptime_seconds") || !strings.HasSuffix(r.Body, "tocsin_check_up{check=\"1\"} 1\n") {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
}
