package httpserver

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/auth"
)

// intendedAccess is the access policy, written down apart from routes.go:
// the route walk checks that the server enforces what routes.go declares,
// and this table checks that routes.go declares what was meant. Changing a
// route's access, or adding a route, means changing this table in review.
var intendedAccess = map[string]access{
	"GET /incidents/{id}/postmortem/":                 public,
	"GET /en/incidents/{id}/postmortem/":              public,
	"GET /fr/incidents/{id}/postmortem/":              public,
	"GET /postmortems/":                               public,
	"GET /en/postmortems/":                            public,
	"GET /fr/postmortems/":                            public,
	"POST /console/incidents/{id}/postmortem":         responder,
	"POST /console/incidents/{id}/postmortem/approve": approver,
	"POST /console/incidents/{id}/postmortem/publish": communicator,
	"GET /api/v1/incidents/{id}/postmortem":           viewer,
	"PUT /api/v1/incidents/{id}/postmortem":           responder,
	"POST /api/v1/incidents/{id}/postmortem/approve":  approver,
	"POST /api/v1/incidents/{id}/postmortem/publish":  communicator,
	"GET /healthz":                                  public,
	"GET /readyz":                                   public,
	"GET /metrics":                                  viewer,
	"GET /static/{file}":                            public,
	"GET /{$}":                                      public,
	"GET /index.html":                               public,
	"GET /en/{$}":                                   public,
	"GET /fr/{$}":                                   public,
	"GET /assets/{file}":                            public,
	"GET /badges/{file}":                            public,
	"GET /api/v2/status.json":                       public,
	"GET /api/v2/components.json":                   public,
	"GET /api/v2/summary.json":                      public,
	"GET /api/v2/incidents.json":                    public,
	"GET /api/v2/incidents/unresolved.json":         public,
	"GET /incidents/{id}/":                          public,
	"GET /en/incidents/{id}/":                       public,
	"GET /fr/incidents/{id}/":                       public,
	"GET /feed.atom":                                public,
	"GET /en/feed.atom":                             public,
	"GET /fr/feed.atom":                             public,
	"GET /history/{$}":                              public,
	"GET /en/history/{$}":                           public,
	"GET /fr/history/{$}":                           public,
	"GET /history/{month}/":                         public,
	"GET /en/history/{month}/":                      public,
	"GET /fr/history/{month}/":                      public,
	"GET /notice.json":                              public,
	"GET /notice.js":                                public,
	"GET /notice.html":                              public,
	"GET /en/notice.html":                           public,
	"GET /fr/notice.html":                           public,
	"GET /setup":                                    public,
	"POST /setup":                                   public,
	"GET /signin":                                   public,
	"POST /signin":                                  public,
	"GET /signin/2fa":                               pending,
	"POST /signin/2fa":                              pending,
	"GET /signin/2fa/enrol":                         pending,
	"POST /signin/2fa/enrol":                        pending,
	"POST /signout":                                 pending,
	"GET /signin/password":                          pending,
	"POST /signin/password":                         pending,
	"POST /lang":                                    public,
	"GET /console":                                  viewer,
	"GET /console/account":                          viewer,
	"POST /console/account/lang":                    viewer,
	"POST /console/account/password":                viewer,
	"POST /console/sessions/{id}/revoke":            viewer,
	"POST /console/sessions/revoke-others":          viewer,
	"GET /console/services":                         viewer,
	"POST /console/services":                        admin,
	"POST /console/services/{id}/edit":              admin,
	"POST /console/services/{id}/delete":            admin,
	"POST /console/services/{id}/status":            communicator,
	"GET /console/users":                            admin,
	"POST /console/users":                           admin,
	"POST /console/users/{id}/roles":                admin,
	"POST /console/users/{id}/disable":              admin,
	"POST /console/users/{id}/enable":               admin,
	"POST /console/users/{id}/reset-2fa":            admin,
	"POST /console/users/{id}/password":             admin,
	"GET /console/tokens":                           admin,
	"POST /console/tokens":                          admin,
	"POST /console/tokens/{id}/revoke":              admin,
	"GET /console/audit":                            admin,
	"GET /api/v1/openapi.json":                      public,
	"GET /api/v1/me":                                viewer,
	"GET /api/v1/agent/checks":                      agent,
	"POST /api/v1/agent/results":                    agent,
	"GET /api/v1/users":                             admin,
	"POST /api/v1/users":                            admin,
	"GET /api/v1/users/{id}":                        admin,
	"POST /api/v1/users/{id}/disable":               admin,
	"GET /api/v1/tokens":                            admin,
	"POST /api/v1/tokens":                           admin,
	"DELETE /api/v1/tokens/{id}":                    admin,
	"GET /api/v1/services":                          viewer,
	"POST /api/v1/services":                         admin,
	"GET /api/v1/services/{id}":                     viewer,
	"PUT /api/v1/services/{id}":                     admin,
	"DELETE /api/v1/services/{id}":                  admin,
	"POST /api/v1/services/{id}/status":             communicator,
	"GET /console/incidents":                        viewer,
	"POST /console/incidents":                       communicator,
	"GET /console/incidents/{id}":                   viewer,
	"POST /console/incidents/{id}/updates":          communicator,
	"POST /console/incidents/{id}/updates/{update}": communicator,
	"POST /console/incidents/{id}/publish":          communicator,
	"POST /console/incidents/{id}/edit":             communicator,
	"GET /api/v1/incidents":                         viewer,
	"POST /api/v1/incidents":                        communicator,
	"GET /api/v1/incidents/{id}":                    viewer,
	"POST /api/v1/incidents/{id}/updates":           communicator,
	"POST /api/v1/incidents/{id}/publish":           communicator,
	"PUT /api/v1/updates/{id}":                      communicator,
	"GET /report":                                   public,
	"POST /report":                                  public,
	"GET /.well-known/security.txt":                 public,
	"GET /console/signals":                          viewer,
	"GET /console/signals/{id}":                     viewer,
	"POST /console/signals/{id}/acknowledge":        responder,
	"POST /console/signals/{id}/dismiss":            responder,
	// Paging: everyone sees who was paged; responders acknowledge and
	// page by hand; the link of a page's message is public (its token is
	// the credential, and it acknowledges only that page); admins set the
	// rotas, the policy and people's contacts.
	"GET /console/pages":                                          viewer,
	"POST /console/pages":                                         responder,
	"POST /console/pages/{id}/acknowledge":                        responder,
	"GET /ack/{token}":                                            public,
	"POST /ack/{token}":                                           public,
	"GET /console/oncall":                                         admin,
	"POST /console/oncall/rotas":                                  admin,
	"POST /console/oncall/rotas/{id}/delete":                      admin,
	"POST /console/oncall/rotas/{id}/overrides":                   admin,
	"POST /console/oncall/rotas/{id}/overrides/{override}/delete": admin,
	"POST /console/oncall/policy":                                 admin,
	"POST /console/oncall/contacts":                               admin,
	"POST /console/oncall/users/{user}/contacts/{id}/delete":      admin,
	"GET /api/v1/pages":                                           viewer,
	"POST /api/v1/pages":                                          responder,
	"GET /api/v1/pages/{id}":                                      viewer,
	"POST /api/v1/pages/{id}/acknowledge":                         responder,
	"GET /api/v1/oncall":                                          viewer,
	"POST /api/v1/oncall/rotas":                                   admin,
	"PUT /api/v1/oncall/rotas/{id}":                               admin,
	"DELETE /api/v1/oncall/rotas/{id}":                            admin,
	"POST /api/v1/oncall/rotas/{id}/overrides":                    admin,
	"DELETE /api/v1/oncall/rotas/{id}/overrides/{override}":       admin,
	"PUT /api/v1/oncall/policy":                                   admin,
	"GET /api/v1/oncall/contacts/{user}":                          admin,
	"POST /api/v1/oncall/contacts/{user}":                         admin,
	"DELETE /api/v1/oncall/contacts/{user}/{id}":                  admin,
	"GET /api/v1/signals":                                         viewer,
	"POST /api/v1/signals":                                        responder,
	"GET /api/v1/signals/{id}":                                    viewer,
	"POST /api/v1/signals/{id}/acknowledge":                       responder,
	"POST /api/v1/signals/{id}/dismiss":                           responder,
	"GET /api/v1/audit":                                           admin,
	"GET /subscribe":                                              public,
	"POST /subscribe":                                             public,
	"GET /subscribe/confirm":                                      public,
	"POST /subscribe/confirm":                                     public,
	"GET /unsubscribe/{id}/{token}":                               public,
	"POST /unsubscribe/{id}/{token}":                              public,
	"GET /console/subscribers":                                    communicator,
	"GET /console/subscribers/{id}/export":                        communicator,
	"POST /console/subscribers/{id}/erase":                        communicator,
	"GET /api/v1/subscribers":                                     communicator,
	"GET /api/v1/subscribers/{id}":                                communicator,
	"GET /api/v1/subscribers/{id}/export":                         communicator,
	"DELETE /api/v1/subscribers/{id}":                             communicator,
	"GET /console/webhooks":                                       communicator,
	"POST /console/webhooks":                                      communicator,
	"POST /console/webhooks/{id}/delete":                          communicator,
	"GET /api/v1/webhooks":                                        communicator,
	"POST /api/v1/webhooks":                                       communicator,
	"DELETE /api/v1/webhooks/{id}":                                communicator,
	"GET /api/v1/audit/verify":                                    admin,
	"POST /console/signals/{id}/open":                             responder,
	"POST /console/signals/{id}/link":                             responder,
	"POST /api/v1/signals/{id}/open":                              responder,
	"POST /api/v1/signals/{id}/link":                              responder,

	// Private security incidents: staff read, responders work them.
	"GET /console/security":                                 viewer,
	"POST /console/security":                                responder,
	"GET /console/security/{id}":                            viewer,
	"POST /console/security/{id}/edit":                      responder,
	"POST /console/security/{id}/status":                    responder,
	"POST /console/security/{id}/reopen":                    responder,
	"POST /console/security/{id}/roles":                     responder,
	"POST /console/security/{id}/moments":                   responder,
	"POST /console/security/{id}/timeline":                  responder,
	"POST /console/security/{id}/decisions":                 responder,
	"POST /console/security/{id}/links":                     responder,
	"POST /console/security/{id}/breach":                    responder,
	"POST /console/security/{id}/breach/decision":           responder,
	"POST /console/security/{id}/breach/register":           responder,
	"POST /console/security/{id}/breach/clock":              responder,
	"GET /console/breaches":                                 viewer,
	"GET /console/breaches.csv":                             viewer,
	"GET /api/v1/security-incidents":                        viewer,
	"POST /api/v1/security-incidents":                       responder,
	"GET /api/v1/security-incidents/{id}":                   viewer,
	"PUT /api/v1/security-incidents/{id}":                   responder,
	"POST /api/v1/security-incidents/{id}/status":           responder,
	"POST /api/v1/security-incidents/{id}/reopen":           responder,
	"POST /api/v1/security-incidents/{id}/moments":          responder,
	"POST /api/v1/security-incidents/{id}/timeline":         responder,
	"POST /api/v1/security-incidents/{id}/decisions":        responder,
	"POST /api/v1/security-incidents/{id}/roles":            responder,
	"POST /api/v1/security-incidents/{id}/links":            responder,
	"GET /api/v1/security-incidents/{id}/breach":            viewer,
	"PUT /api/v1/security-incidents/{id}/breach":            responder,
	"PUT /api/v1/security-incidents/{id}/breach/register":   responder,
	"POST /api/v1/security-incidents/{id}/breach/decisions": responder,
	"POST /api/v1/security-incidents/{id}/breach/clocks":    responder,
	"GET /api/v1/breach-register":                           viewer,
	"GET /api/v1/breach-register.csv":                       viewer,
	// Tasks and runbooks: viewers read them, responders apply, add, change
	// and write them.
	"POST /console/security/{id}/runbooks":               responder,
	"POST /console/security/{id}/tasks":                  responder,
	"POST /console/security/{id}/tasks/{task}":           responder,
	"GET /console/runbooks":                              viewer,
	"POST /console/runbooks":                             responder,
	"GET /console/runbooks/{id}":                         viewer,
	"POST /console/runbooks/{id}":                        responder,
	"GET /api/v1/security-incidents/{id}/tasks":          viewer,
	"POST /api/v1/security-incidents/{id}/tasks":         responder,
	"PATCH /api/v1/security-incidents/{id}/tasks/{task}": responder,
	"POST /api/v1/security-incidents/{id}/runbooks":      responder,
	"GET /api/v1/runbooks":                               viewer,
	// The room's public side (console_security_comms.go).
	"POST /console/security/{id}/public-incident":           viewer,
	"POST /console/security/{id}/public-updates":            viewer,
	"POST /console/security/{id}/cadence":                   viewer,
	"POST /console/security/{id}/postmortem-draft":          responder,
	"GET /api/v1/security-incidents/{id}/public-incident":   viewer,
	"POST /api/v1/security-incidents/{id}/public-incident":  communicator,
	"POST /api/v1/security-incidents/{id}/public-updates":   communicator,
	"POST /api/v1/security-incidents/{id}/postmortem-draft": responder,
	// Evidence: viewers read items (recorded); only responders download.
	"POST /console/security/{id}/evidence":                         responder,
	"GET /console/security/{id}/evidence/{eid}":                    viewer,
	"GET /console/security/{id}/evidence/{eid}/content":            responder,
	"POST /console/security/{id}/evidence/{eid}/verify":            responder,
	"POST /console/security/{id}/evidence/{eid}/withdraw":          responder,
	"GET /api/v1/security-incidents/{id}/evidence":                 viewer,
	"POST /api/v1/security-incidents/{id}/evidence":                responder,
	"GET /api/v1/security-incidents/{id}/evidence/{eid}":           viewer,
	"GET /api/v1/security-incidents/{id}/evidence/{eid}/content":   responder,
	"POST /api/v1/security-incidents/{id}/evidence/{eid}/verify":   responder,
	"POST /api/v1/security-incidents/{id}/evidence/{eid}/withdraw": responder,
	// Scheduled maintenance: its public JSON and calendar, its console
	// list and form, and the settings route it shares with incidents.
	"GET /api/v2/scheduled-maintenances.json":          public,
	"GET /api/v2/scheduled-maintenances/upcoming.json": public,
	"GET /api/v2/scheduled-maintenances/active.json":   public,
	"GET /maintenance.ics":                             public,
	"GET /console/maintenance":                         viewer,
	"POST /console/maintenance":                        communicator,
	"PUT /api/v1/incidents/{id}":                       communicator,

	// Checks: every role reads; only admins choose what tocsin probes;
	// responders run a check now; communicators unpin a status.
	"GET /console/checks":                          viewer,
	"GET /console/checks/new":                      admin,
	"POST /console/checks":                         admin,
	"GET /console/checks/{id}":                     viewer,
	"GET /console/checks/{id}/edit":                admin,
	"POST /console/checks/{id}/edit":               admin,
	"POST /console/checks/{id}/pause":              admin,
	"POST /console/checks/{id}/delete":             admin,
	"POST /console/checks/{id}/run":                responder,
	"GET /console/posture":                         viewer,
	"POST /console/services/{id}/status/automatic": communicator,
	"GET /api/v1/checks":                           viewer,
	"POST /api/v1/checks":                          admin,
	"GET /api/v1/checks/{id}":                      viewer,
	"PUT /api/v1/checks/{id}":                      admin,
	"DELETE /api/v1/checks/{id}":                   admin,
	"POST /api/v1/checks/{id}/run":                 responder,
	"GET /api/v1/checks/{id}/results":              viewer,
	"GET /api/v1/checks/{id}/tls-keys":             viewer,
	"GET /api/v1/tls-keys":                         viewer,
	"GET /api/v1/findings":                         viewer,
	"POST /api/v1/services/{id}/status/automatic":  communicator,
}

// allowed is the expected outcome of a request: computed from the route's
// declared access and tocsin.Roles.Allows. roles is nil for an anonymous
// caller.
func allowed(a access, roles tocsin.Roles) bool {
	switch a {
	case public:
		return true
	case pending:
		return roles != nil
	}
	return roles != nil && roles.Allows(tocsin.Role(a))
}

// principal is one caller of the walk: anonymous, or one account and one
// token each holding exactly one role.
type principal struct {
	name  string
	roles tocsin.Roles // nil: anonymous
	user  *testUser
	b     *browser
	token string
}

// walkFixture is what the walk needs to build a sensible request.
type walkFixture struct {
	e          *testEnv
	walker     *testUser // signs in on POST /signin
	victim     *testUser // target of /users/{id} routes
	victimSess string    // a session ID of victim's
	victimTok  int64     // target of /tokens/{id} routes
	service    int64     // target of /services/{id} routes
	doomed     [2]int64  // targets of the console's and the API's service deletion
}

func (f *walkFixture) path(t *testing.T, pattern string) string {
	_, p, _ := strings.Cut(pattern, " ")
	p = strings.TrimSuffix(p, "{$}")
	parts := strings.Split(p, "/")
	for i, part := range parts {
		switch {
		case part == "{file}":
			parts[i] = f.e.srv.pages.hashed["style.css"]
		case part == "{id}" && i > 0 && parts[i-1] == "sessions":
			parts[i] = f.victimSess
		case part == "{id}" && i > 0 && parts[i-1] == "users":
			parts[i] = fmt.Sprint(f.victim.ID)
		case part == "{id}" && i > 0 && parts[i-1] == "tokens":
			parts[i] = fmt.Sprint(f.victimTok)
		case part == "{id}" && i > 0 && parts[i-1] == "services":
			switch { // deletions get services of their own; the other routes keep theirs
			case strings.HasSuffix(pattern, "/delete"):
				parts[i] = fmt.Sprint(f.doomed[0])
			case strings.HasPrefix(pattern, "DELETE "):
				parts[i] = fmt.Sprint(f.doomed[1])
			default:
				parts[i] = fmt.Sprint(f.service)
			}
		case part == "{id}" && i > 0 && (parts[i-1] == "security" || parts[i-1] == "security-incidents"):
			parts[i] = "999999" // no such security incident: a 404 for everyone
		case part == "{id}" && i > 0 && parts[i-1] == "incidents":
			parts[i] = "999999" // no such incident: a 404 for everyone
		case part == "{id}" && i > 0 && (parts[i-1] == "subscribers" || parts[i-1] == "unsubscribe" || parts[i-1] == "webhooks"):
			parts[i] = "999999" // no such subscriber: a 404 for everyone
		case part == "{token}":
			parts[i] = "not-a-token"
		case (part == "{id}" && i > 0 && parts[i-1] == "updates") || part == "{update}":
			parts[i] = "999999" // no such update: a 404 for everyone
		case part == "{id}" && i > 0 && parts[i-1] == "signals":
			parts[i] = "999999" // no such signal: a 404 for everyone
		case part == "{id}" && i > 0 && parts[i-1] == "checks":
			parts[i] = "999999" // no such check: a 404 for everyone
		case part == "{override}" || part == "{user}" || (part == "{id}" && i > 0 && (parts[i-1] == "pages" || parts[i-1] == "rotas" || parts[i-1] == "contacts")) || (part == "{id}" && i > 1 && parts[i-2] == "contacts"):
			parts[i] = "999999" // no such page, rota, override, person or contact: a 404 for everyone
		case part == "{eid}":
			parts[i] = "999999" // no such evidence: a 404 for everyone
		case part == "{task}" || (part == "{id}" && i > 0 && parts[i-1] == "runbooks"):
			parts[i] = "999999" // no such task or runbook: a 404 for everyone
		case part == "{month}":
			parts[i] = "1999-01" // no incident that month: a 404 for everyone
		case strings.HasPrefix(part, "{"):
			t.Fatalf("route %s: the walk has no value for %s; add one", pattern, part)
		}
	}
	return strings.Join(parts, "/")
}

// form is the body of a console POST: valid where a handler would
// otherwise answer 401 for a reason other than access (a wrong password or
// code), harmless elsewhere.
func (f *walkFixture) form(pattern string, p *principal) url.Values {
	switch pattern {
	case "POST /signin":
		return url.Values{"email": {f.walker.Email}, "password": {f.walker.Password}}
	case "POST /signin/2fa":
		if p.user != nil && p.user.secret != nil {
			return url.Values{"code": {f.e.nextCode(p.user)}}
		}
	case "POST /lang":
		return url.Values{"lang": {"en"}}
	case "POST /console/users":
		return url.Values{"email": {"console-" + p.name + "@example.org"}, "roles": {"viewer"}, "password": {testPassword}, "password2": {testPassword}}
	case "POST /console/users/{id}/roles":
		return url.Values{"roles": {"viewer"}}
	case "POST /console/tokens":
		return url.Values{"name": {"console-" + p.name}, "roles": {"viewer"}}
	case "POST /console/services":
		return url.Values{"name": {"console-" + p.name}}
	case "POST /console/services/{id}/edit":
		return url.Values{"name": {"walk-" + p.name}}
	case "POST /console/services/{id}/status":
		return url.Values{"status": {"major_outage"}}
	case "POST /report":
		return url.Values{"subject": {"walk " + p.name}, "body": {"A report from the route walk."}}
	}
	return url.Values{}
}

// json is the body of an API POST or PUT.
func (f *walkFixture) json(pattern string, p *principal) string {
	switch pattern {
	case "POST /api/v1/users":
		return fmt.Sprintf(`{"email":"api-%s@example.org","roles":["viewer"],"password":%q}`, p.name, testPassword)
	case "POST /api/v1/tokens":
		return fmt.Sprintf(`{"name":"api-%s","roles":["viewer"]}`, p.name)
	case "POST /api/v1/services":
		return fmt.Sprintf(`{"name":"api-%s"}`, p.name)
	case "PUT /api/v1/services/{id}":
		return fmt.Sprintf(`{"name":"walk-api-%s"}`, p.name)
	case "POST /api/v1/services/{id}/status":
		return `{"status":"partial_outage"}`
	case "POST /api/v1/signals":
		return fmt.Sprintf(`{"subject":"walk %s","body":"A report from the route walk."}`, p.name)
	}
	return ""
}

// ensureSignedIn signs p in again when a route of the walk ended its
// session (sign-out) or replaced it (sign-in as the walker).
func (f *walkFixture) ensureSignedIn(p *principal) {
	if p.roles == nil {
		return
	}
	if s := p.b.session(); s == nil || !s.Verified || s.UserID != p.user.ID {
		p.b = f.e.signedIn(p.user, "127.0.0.1")
	}
}

// walkOne sends one route's request as p and returns a description of the
// mismatch with want, or "".
func (f *walkFixture) walkOne(t *testing.T, rt route, p *principal, want bool) string {
	method, _, _ := strings.Cut(rt.pattern, " ")
	target := f.path(t, rt.pattern)
	var resp *response
	switch rt.kind {
	case api, raw, site:
		body := ""
		if method == http.MethodPost || method == http.MethodPut {
			body = f.json(rt.pattern, p)
		}
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, f.e.ts.URL+target, rd)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Origin", "https://evil.example")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if p.token != "" {
			req.Header.Set("Authorization", "Bearer "+p.token)
		}
		resp = f.e.do(req)
	case page:
		b := p.b
		if p.roles == nil {
			b = f.e.browser("127.0.0.1") // a fresh anonymous browser each time
		}
		b.Header.Set("Origin", "https://evil.example")
		if method == http.MethodPost {
			resp = b.post(target, f.form(rt.pattern, p))
		} else {
			req, err := http.NewRequest(method, f.e.ts.URL+target, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp = b.send(req)
		}
		f.ensureSignedIn(p)
	}

	// Every response, allowed or not, carries the security headers; only the
	// public read-only Statuspage JSON, the Atom feeds, the maintenance
	// calendar and the site notice's JSON and script grant CORS, to anyone.
	wantCORS := ""
	if strings.HasPrefix(rt.pattern, "GET /api/v2/") || strings.HasSuffix(rt.pattern, "/feed.atom") ||
		rt.pattern == "GET /notice.json" || rt.pattern == "GET /notice.js" || rt.pattern == "GET /maintenance.ics" {
		wantCORS = "*"
	}
	if v := resp.Header.Get("Access-Control-Allow-Origin"); v != wantCORS {
		t.Errorf("%s as %s: Access-Control-Allow-Origin %q, want %q", rt.pattern, p.name, v, wantCORS)
	}
	if resp.Header.Get("Content-Security-Policy") == "" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s as %s: security headers missing", rt.pattern, p.name)
	}

	t.Logf("%-12s %d %s", p.name, resp.Status, resp.location())
	denied := isDenied(rt, method, resp)
	switch {
	case want && denied:
		return fmt.Sprintf("%s as %s: refused (%d %s), but access %q allows it", rt.pattern, p.name, resp.Status, resp.location(), rt.access)
	case !want && !denied:
		return fmt.Sprintf("%s as %s: answered %d, but access %q forbids it", rt.pattern, p.name, resp.Status, rt.access)
	case !want:
		// Refused: in the way the caller expects.
		var wantStatus int
		switch {
		case p.roles != nil:
			wantStatus = http.StatusForbidden
		case rt.kind == page && method == http.MethodGet:
			wantStatus = http.StatusSeeOther
		default:
			wantStatus = http.StatusUnauthorized
		}
		if resp.Status != wantStatus {
			return fmt.Sprintf("%s as %s: refused with %d, want %d", rt.pattern, p.name, resp.Status, wantStatus)
		}
		if rt.kind == api {
			code := tocsin.EFORBIDDEN
			if p.roles == nil {
				code = tocsin.EUNAUTHORIZED
			}
			if !strings.Contains(resp.Body, `"code":"`+code+`"`) {
				return fmt.Sprintf("%s as %s: refusal is not a JSON %s error: %s", rt.pattern, p.name, code, resp.Body)
			}
		}
	}
	return ""
}

// isDenied reports whether resp is an access refusal: 401, 403, or the
// console's redirect to sign-in, or (on role routes, where the 2FA pages'
// own redirects cannot happen) to the second factor.
func isDenied(rt route, method string, resp *response) bool {
	switch resp.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return true
	case http.StatusSeeOther:
		loc := resp.location()
		if rt.kind != page {
			return false
		}
		return strings.HasPrefix(loc, "/signin?next=") || (isRole(rt.access) && loc == "/signin/2fa")
	}
	return false
}

// newWalk sets up the principals and fixtures of the route walk.
func newWalk(t *testing.T, e *testEnv) (*walkFixture, []*principal) {
	f := &walkFixture{e: e}
	f.walker = e.createUser("walker@example.org", tocsin.RoleResponder)
	f.victim = e.createUser("victim@example.org", tocsin.RoleViewer)
	vb := e.signedIn(f.victim, "127.0.0.1")
	f.victimSess = auth.HashToken(vb.cookie(sessionCookie))
	_, vt := e.createToken("victim", tocsin.RoleViewer)
	f.victimTok = vt.ID
	for _, svc := range []struct {
		name string
		id   *int64
	}{{"Walked", &f.service}, {"Doomed", &f.doomed[0]}, {"Doomed API", &f.doomed[1]}} {
		s := &tocsin.Service{Name: svc.name}
		if err := e.store.CreateService(e.ctx, tocsin.CLI, s); err != nil {
			t.Fatal(err)
		}
		*svc.id = s.ID
	}

	ps := []*principal{{name: "anonymous"}}
	for _, r := range tocsin.AllRoles {
		p := &principal{name: string(r), roles: tocsin.Roles{r}}
		p.user = e.createUser(string(r)+"@example.org", r)
		p.b = e.signedIn(p.user, "127.0.0.1")
		p.token, _ = e.createToken("walk-"+string(r), r)
		ps = append(ps, p)
	}
	return f, ps
}

// TestRouteTableAccess walks every route of the route table with every
// principal (anonymous, and an account and a token holding exactly one of
// each role) and checks allowed or refused against the route's declared
// access.
func TestRouteTableAccess(t *testing.T) {
	e := newTestEnv(t)
	table := e.srv.routeTable()

	t.Run("declared access is the intended policy", func(t *testing.T) {
		seen := map[string]bool{}
		for _, rt := range table {
			seen[rt.pattern] = true
			want, ok := intendedAccess[rt.pattern]
			switch {
			case !ok:
				t.Errorf("route %s (access %q) is not in intendedAccess: add it after deciding who may call it", rt.pattern, rt.access)
			case want != rt.access:
				t.Errorf("route %s declares access %q, the policy says %q", rt.pattern, rt.access, want)
			}
			if rt.access != public && rt.access != pending && !isRole(rt.access) {
				t.Errorf("route %s: access %q is neither public, pending nor a role", rt.pattern, rt.access)
			}
			if rt.access == pending && rt.kind != page {
				t.Errorf("route %s: pending access only means something for console pages", rt.pattern)
			}
		}
		for p := range intendedAccess {
			if !seen[p] {
				t.Errorf("intendedAccess lists %s, which the route table no longer has", p)
			}
		}
	})

	f, principals := newWalk(t, e)
	for _, rt := range table {
		t.Run(rt.pattern, func(t *testing.T) {
			for _, p := range principals {
				if msg := f.walkOne(t, rt, p, allowed(rt.access, p.roles)); msg != "" {
					t.Error(msg)
				}
			}
		})
	}

	// The two kinds of credentials do not cross over.
	adminP := principals[len(principals)-1]
	if adminP.name != string(tocsin.RoleAdmin) {
		t.Fatal("the last principal should be the admin")
	}
	t.Run("session cookies are refused on the API", func(t *testing.T) {
		for _, rt := range table {
			if rt.kind != api || rt.access == public {
				continue
			}
			method, _, _ := strings.Cut(rt.pattern, " ")
			req, _ := http.NewRequest(method, e.ts.URL+f.path(t, rt.pattern), nil)
			resp := adminP.b.send(req)
			if resp.Status != http.StatusUnauthorized {
				t.Errorf("%s with an admin's session cookie: %d, want 401", rt.pattern, resp.Status)
			}
		}
	})
	t.Run("bearer tokens are refused on console pages", func(t *testing.T) {
		for _, rt := range table {
			if rt.kind != page || rt.access == public {
				continue
			}
			method, _, _ := strings.Cut(rt.pattern, " ")
			req, _ := http.NewRequest(method, e.ts.URL+f.path(t, rt.pattern), strings.NewReader(""))
			req.Header.Set("Authorization", "Bearer "+adminP.token)
			resp := e.do(req)
			if !isDenied(rt, method, resp) {
				t.Errorf("%s with an admin token and no session: %d %s, want refused", rt.pattern, resp.Status, resp.location())
			}
		}
	})
}

func isRole(a access) bool {
	for _, r := range append(tocsin.AllRoles, tocsin.RoleAgent) {
		if access(r) == a {
			return true
		}
	}
	return false
}

// TestRouteWalkCatchesWrongAccess shows that the walk can fail: a server
// whose admin page is opened to viewers (as if routes.go said viewer, or
// the middleware ignored the role) is reported for the viewer principal,
// while the expectation still comes from the real route table.
func TestRouteWalkCatchesWrongAccess(t *testing.T) {
	e := newTestEnv(t)
	table := e.srv.routeTable()
	f, principals := newWalk(t, e)
	for _, target := range []string{"GET /console/users", "GET /api/v1/users"} {
		var rt route
		for i := range e.srv.routes {
			if e.srv.routes[i].pattern == target {
				e.srv.routes[i].access = viewer // the mistake, in the serving table only
			}
		}
		for _, r := range table {
			if r.pattern == target {
				rt = r
			}
		}
		var mismatches []string
		for _, p := range principals {
			if msg := f.walkOne(t, rt, p, allowed(rt.access, p.roles)); msg != "" {
				mismatches = append(mismatches, msg)
			}
		}
		// Viewer, responder, communicator and approver now get in.
		if len(mismatches) != 4 {
			t.Errorf("%s opened to viewers: the walk reported %d mismatches, want 4: %q", target, len(mismatches), mismatches)
		}
	}
}
