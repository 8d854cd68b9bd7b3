package httpserver

import (
	"net/http"

	"github.com/tocsin-org/tocsin"
)

// access says who may call a route.
type access string

const (
	public  access = "public"  // anyone, signed in or not
	pending access = "pending" // a signed-in browser, even before its second factor
)

// roleAccess turns a role into the access a route needs.
func roleAccess(r tocsin.Role) access { return access(r) }

var (
	viewer       = roleAccess(tocsin.RoleViewer)
	responder    = roleAccess(tocsin.RoleResponder)
	communicator = roleAccess(tocsin.RoleCommunicator)
	approver     = roleAccess(tocsin.RoleApprover)
	admin        = roleAccess(tocsin.RoleAdmin)
)

// kind says how a route authenticates and how its errors are written.
type kind int

const (
	page kind = iota // browser: session cookie, CSRF token on POST, HTML errors
	api              // script: bearer token, JSON body and errors
	raw              // plain text, no authentication beyond access (health, assets)
	site             // the public site from memory: no cookies, errors as pages except under /api/
)

type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one line of the route table.
type route struct {
	pattern string // net/http pattern: "METHOD /path/{var}"
	access  access
	kind    kind
	handle  handlerFunc
	// summary documents API routes in the OpenAPI document.
	summary string
	// formBytes bounds a console form above maxFormBytes, for the few
	// forms that carry several long texts at once.
	formBytes int64
}

// routeTable is every route tocsin serves, with the access each needs. A
// test walks this table with every role.
func (s *Server) routeTable() []route {
	return []route{
		// Health and operations.
		{pattern: "GET /healthz", access: public, kind: raw, handle: s.healthz},
		{pattern: "GET /readyz", access: public, kind: raw, handle: s.readyz},
		{pattern: "GET /metrics", access: viewer, kind: api, handle: s.serveMetrics, summary: "Prometheus metrics"},
		{pattern: "GET /static/{file}", access: public, kind: raw, handle: s.static},

		// The public status page and its machine-readable twins, served from
		// memory (public.go); JSON carries Access-Control-Allow-Origin: *.
		{pattern: "GET /{$}", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /index.html", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /en/{$}", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /fr/{$}", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /assets/{file}", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /badges/{file}", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /api/v2/status.json", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /api/v2/components.json", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /api/v2/summary.json", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /api/v2/incidents.json", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /api/v2/incidents/unresolved.json", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /api/v2/scheduled-maintenances.json", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /api/v2/scheduled-maintenances/upcoming.json", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /api/v2/scheduled-maintenances/active.json", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /maintenance.ics", access: public, kind: site, handle: s.servePublic},
		// Incident pages (…/index.html too, for exported copies' links) and
		// the Atom feed; without a language prefix, negotiated like /.
		{pattern: "GET /incidents/{id}/", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /en/incidents/{id}/", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /fr/incidents/{id}/", access: public, kind: site, handle: s.servePublic},
		// Published post-mortems: one page per incident, and their list.
		{pattern: "GET /incidents/{id}/postmortem/", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /en/incidents/{id}/postmortem/", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /fr/incidents/{id}/postmortem/", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /postmortems/", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /en/postmortems/", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /fr/postmortems/", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /feed.atom", access: public, kind: site, handle: s.servePublic},
		// The history of published incidents, by month ("2026-11").
		{pattern: "GET /history/{$}", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /en/history/{$}", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /fr/history/{$}", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /history/{month}/", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /en/history/{month}/", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /fr/history/{month}/", access: public, kind: site, handle: s.servePublic},
		// The site notice other sites embed: JSON, a script, a frame.
		{pattern: "GET /notice.json", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /notice.js", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /notice.html", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /en/notice.html", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /fr/notice.html", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /en/feed.atom", access: public, kind: site, handle: s.servePublic},
		{pattern: "GET /fr/feed.atom", access: public, kind: site, handle: s.servePublic},

		// First admin, sign-in and second factor.
		{pattern: "GET /setup", access: public, kind: page, handle: s.setupForm},
		{pattern: "POST /setup", access: public, kind: page, handle: s.setup},
		{pattern: "GET /signin", access: public, kind: page, handle: s.signInForm},
		{pattern: "POST /signin", access: public, kind: page, handle: s.signIn},
		{pattern: "GET /signin/2fa", access: pending, kind: page, handle: s.challengeForm},
		{pattern: "POST /signin/2fa", access: pending, kind: page, handle: s.challenge},
		{pattern: "GET /signin/2fa/enrol", access: pending, kind: page, handle: s.enrolForm},
		{pattern: "POST /signin/2fa/enrol", access: pending, kind: page, handle: s.enrol},
		{pattern: "GET /signin/password", access: pending, kind: page, handle: s.newPasswordForm},
		{pattern: "POST /signin/password", access: pending, kind: page, handle: s.newPassword},
		{pattern: "POST /signout", access: pending, kind: page, handle: s.signOut},
		{pattern: "POST /lang", access: public, kind: page, handle: s.switchLang},

		// The console: one's own account.
		{pattern: "GET /console", access: viewer, kind: page, handle: s.dashboard},
		{pattern: "GET /console/account", access: viewer, kind: page, handle: s.account},
		{pattern: "POST /console/account/lang", access: viewer, kind: page, handle: s.setLang},
		{pattern: "POST /console/account/password", access: viewer, kind: page, handle: s.changePassword},
		{pattern: "POST /console/sessions/{id}/revoke", access: viewer, kind: page, handle: s.revokeSession},
		{pattern: "POST /console/sessions/revoke-others", access: viewer, kind: page, handle: s.revokeOtherSessions},

		// The console: services. Every role reads them. Which services exist,
		// their names, groups and order are configuration, like accounts and
		// tokens: admin. Their status is what the public reads during an
		// incident, so setting it is publishing a public update: communicator.
		{pattern: "GET /console/services", access: viewer, kind: page, handle: s.services},
		{pattern: "POST /console/services", access: admin, kind: page, handle: s.createService},
		{pattern: "POST /console/services/{id}/edit", access: admin, kind: page, handle: s.editService},
		{pattern: "POST /console/services/{id}/delete", access: admin, kind: page, handle: s.deleteService},
		{pattern: "POST /console/services/{id}/status", access: communicator, kind: page, handle: s.setServiceStatus},

		// The console: public incidents. Viewers read them, drafts included
		// (staff only: the public site shows published incidents alone); the
		// communicator role, the one that speaks to the public, declares,
		// publishes, updates and corrects them.
		{pattern: "GET /console/incidents", access: viewer, kind: page, handle: s.incidents},
		{pattern: "POST /console/incidents", access: communicator, kind: page, handle: s.createIncident},
		{pattern: "GET /console/incidents/{id}", access: viewer, kind: page, handle: s.incident},
		{pattern: "POST /console/incidents/{id}/updates", access: communicator, kind: page, handle: s.addIncidentUpdate},
		{pattern: "POST /console/incidents/{id}/updates/{update}", access: communicator, kind: page, handle: s.editIncidentUpdate},
		{pattern: "POST /console/incidents/{id}/publish", access: communicator, kind: page, handle: s.publishIncident},
		{pattern: "POST /console/incidents/{id}/edit", access: communicator, kind: page, handle: s.setIncident},
		// Scheduled maintenances are incidents with a window: listed and
		// scheduled here, shown and updated on the incident pages above.
		{pattern: "GET /console/maintenance", access: viewer, kind: page, handle: s.maintenances},
		{pattern: "POST /console/maintenance", access: communicator, kind: page, handle: s.createMaintenance},
		// Post-mortems. Responders write them: they know what happened, and
		// nothing they write is public until an approver who wrote none of
		// it approves it (the store refuses authors and editors) and a
		// communicator, who speaks to the public, publishes it.
		{pattern: "POST /console/incidents/{id}/postmortem", access: responder, kind: page, handle: s.savePostmortem, formBytes: maxJSONBytes},
		{pattern: "POST /console/incidents/{id}/postmortem/approve", access: approver, kind: page, handle: s.approvePostmortem},
		{pattern: "POST /console/incidents/{id}/postmortem/publish", access: communicator, kind: page, handle: s.publishPostmortem},

		// The console: administration.
		{pattern: "GET /console/users", access: admin, kind: page, handle: s.users},
		{pattern: "POST /console/users", access: admin, kind: page, handle: s.createUser},
		{pattern: "POST /console/users/{id}/roles", access: admin, kind: page, handle: s.setUserRoles},
		{pattern: "POST /console/users/{id}/disable", access: admin, kind: page, handle: s.disableUser},
		{pattern: "POST /console/users/{id}/enable", access: admin, kind: page, handle: s.enableUser},
		{pattern: "POST /console/users/{id}/reset-2fa", access: admin, kind: page, handle: s.resetUser2FA},
		{pattern: "POST /console/users/{id}/password", access: admin, kind: page, handle: s.setTemporaryPassword},
		{pattern: "GET /console/tokens", access: admin, kind: page, handle: s.tokens},
		{pattern: "POST /console/tokens", access: admin, kind: page, handle: s.createToken},
		{pattern: "POST /console/tokens/{id}/revoke", access: admin, kind: page, handle: s.revokeToken},
		{pattern: "GET /console/audit", access: admin, kind: page, handle: s.audit},

		// JSON API.
		{pattern: "GET /api/v1/openapi.json", access: public, kind: raw, handle: s.openAPI},
		{pattern: "GET /api/v1/me", access: viewer, kind: api, handle: s.apiMe, summary: "The token making the request"},
		{pattern: "GET /api/v1/users", access: admin, kind: api, handle: s.apiUsers, summary: "List accounts"},
		{pattern: "POST /api/v1/users", access: admin, kind: api, handle: s.apiCreateUser, summary: "Create an account; its password is temporary, replaced by its owner at first sign-in"},
		{pattern: "GET /api/v1/users/{id}", access: admin, kind: api, handle: s.apiUser, summary: "One account"},
		{pattern: "POST /api/v1/users/{id}/disable", access: admin, kind: api, handle: s.apiDisableUser, summary: "Disable an account and end its sessions"},
		{pattern: "GET /api/v1/tokens", access: admin, kind: api, handle: s.apiTokens, summary: "List API tokens"},
		{pattern: "POST /api/v1/tokens", access: admin, kind: api, handle: s.apiCreateToken, summary: "Create an API token (shown once)"},
		{pattern: "DELETE /api/v1/tokens/{id}", access: admin, kind: api, handle: s.apiRevokeToken, summary: "Revoke an API token"},
		{pattern: "GET /api/v1/services", access: viewer, kind: api, handle: s.apiServices, summary: "List services, ordered as the public page shows them"},
		{pattern: "POST /api/v1/services", access: admin, kind: api, handle: s.apiCreateService, summary: "Create a service (operational until a communicator sets its status)"},
		{pattern: "GET /api/v1/services/{id}", access: viewer, kind: api, handle: s.apiService, summary: "One service"},
		{pattern: "PUT /api/v1/services/{id}", access: admin, kind: api, handle: s.apiUpdateService, summary: "Replace a service's name, description, link, group and position (fields left out are emptied); 409 for one declared in the configuration file"},
		{pattern: "DELETE /api/v1/services/{id}", access: admin, kind: api, handle: s.apiDeleteService, summary: "Delete a service and its status history; 409 for one declared in the configuration file"},
		{pattern: "POST /api/v1/services/{id}/status", access: communicator, kind: api, handle: s.apiSetServiceStatus, summary: "Set a service's status; the public page changes at once"},
		{pattern: "GET /api/v1/incidents", access: viewer, kind: api, handle: s.apiIncidents, summary: "List incidents and scheduled maintenances, drafts included, newest first; ?open=, ?maintenance= filter"},
		{pattern: "POST /api/v1/incidents", access: communicator, kind: api, handle: s.apiCreateIncident, summary: "Declare an incident with its first update, or with scheduled_for and scheduled_until schedule a maintenance (status scheduled); a draft unless publish is true"},
		{pattern: "PUT /api/v1/incidents/{id}", access: communicator, kind: api, handle: s.apiSetIncident, summary: "Replace title, impact, services, show_on_sites and a maintenance's window; moving a window before it starts re-arms its reminder"},
		{pattern: "GET /api/v1/incidents/{id}", access: viewer, kind: api, handle: s.apiIncident, summary: "One incident with its updates and their revisions"},
		{pattern: "POST /api/v1/incidents/{id}/updates", access: communicator, kind: api, handle: s.apiAddUpdate, summary: "Add an update; 409 for a resolved incident unless it is a post-mortem note"},
		{pattern: "POST /api/v1/incidents/{id}/publish", access: communicator, kind: api, handle: s.apiPublishIncident, summary: "Publish a draft; 409 if already published"},
		{pattern: "GET /api/v1/incidents/{id}/postmortem", access: viewer, kind: api, handle: s.apiPostmortem, summary: "An incident's post-mortem, drafts included, with its standing; 404 if it has none"},
		{pattern: "PUT /api/v1/incidents/{id}/postmortem", access: responder, kind: api, handle: s.apiSavePostmortem, summary: "Write or edit an incident's post-mortem as a new version; an edit withdraws any approval; 409 once published"},
		{pattern: "POST /api/v1/incidents/{id}/postmortem/approve", access: approver, kind: api, handle: s.apiApprovePostmortem, summary: "Approve the version of the post-mortem you read; 403 for a token that wrote or edited it, 409 if it changed since"},
		{pattern: "POST /api/v1/incidents/{id}/postmortem/publish", access: communicator, kind: api, handle: s.apiPublishPostmortem, summary: "Publish an approved post-mortem on the public site; the incident's status becomes postmortem; 409 unless its current text is approved and the incident published and resolved"},
		{pattern: "PUT /api/v1/updates/{id}", access: communicator, kind: api, handle: s.apiEditUpdate, summary: "Correct an update's body; the previous one is kept as a revision"},
		{pattern: "GET /api/v1/audit", access: admin, kind: api, handle: s.apiAudit, summary: "Audit log entries, newest first"},
		{pattern: "GET /api/v1/audit/verify", access: admin, kind: api, handle: s.apiAuditVerify, summary: "Verify the audit hash chain"},
	}
}
