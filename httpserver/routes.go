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
	agent        = roleAccess(tocsin.RoleAgent) // only an agent's token: its routes and nothing else
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
	// upload lets the form be multipart/form-data with one file (evidence),
	// read by parseUpload within formBytes.
	upload bool
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

		// Intake: anyone reports a suspected security problem, without an
		// account; security.txt (RFC 9116) points finders at it.
		{pattern: "GET /report", access: public, kind: page, handle: s.reportForm},
		{pattern: "POST /report", access: public, kind: page, handle: s.report, formBytes: reportFormBytes},
		{pattern: "GET /.well-known/security.txt", access: public, kind: raw, handle: s.securityTxt},

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

		// The console: the triage queue of signals. Every role reads it
		// (reports are staff-only, contacts included); responders act.
		{pattern: "GET /console/signals", access: viewer, kind: page, handle: s.signals},
		{pattern: "GET /console/signals/{id}", access: viewer, kind: page, handle: s.signal},
		{pattern: "POST /console/signals/{id}/acknowledge", access: responder, kind: page, handle: s.acknowledgeSignal},
		{pattern: "POST /console/signals/{id}/dismiss", access: responder, kind: page, handle: s.dismissSignal},
		{pattern: "POST /console/signals/{id}/open", access: responder, kind: page, handle: s.openIncidentFromSignal},
		{pattern: "POST /console/signals/{id}/link", access: responder, kind: page, handle: s.linkSignalForm},

		// The console: pages (paging.go). Every role sees who was paged;
		// responders acknowledge and page by hand; admins set the rotas, the
		// escalation policy and people's contacts. The link in a page's
		// message shows a button (GET), and the POST acknowledges as the
		// person it was sent to: scanners that fetch links change nothing.
		{pattern: "GET /console/pages", access: viewer, kind: page, handle: s.consolePages},
		{pattern: "POST /console/pages", access: responder, kind: page, handle: s.openPageConsole},
		{pattern: "POST /console/pages/{id}/acknowledge", access: responder, kind: page, handle: s.acknowledgePageConsole},
		{pattern: "GET /ack/{token}", access: public, kind: page, handle: s.ackForm},
		{pattern: "POST /ack/{token}", access: public, kind: page, handle: s.ack},
		{pattern: "GET /console/oncall", access: admin, kind: page, handle: s.oncall},
		{pattern: "POST /console/oncall/rotas", access: admin, kind: page, handle: s.saveRota},
		{pattern: "POST /console/oncall/rotas/{id}/delete", access: admin, kind: page, handle: s.deleteRota},
		{pattern: "POST /console/oncall/rotas/{id}/overrides", access: admin, kind: page, handle: s.addOverride},
		{pattern: "POST /console/oncall/rotas/{id}/overrides/{override}/delete", access: admin, kind: page, handle: s.deleteOverride},
		{pattern: "POST /console/oncall/policy", access: admin, kind: page, handle: s.savePolicy},
		{pattern: "POST /console/oncall/contacts", access: admin, kind: page, handle: s.addContact},
		{pattern: "POST /console/oncall/users/{user}/contacts/{id}/delete", access: admin, kind: page, handle: s.deleteContact},

		// The console: private security incidents. Every staff role reads
		// them (the room is where everyone on call follows the response); the
		// responder role opens and works them. None of it is public, and an
		// admin or communicator who works incidents also holds responder.
		{pattern: "GET /console/security", access: viewer, kind: page, handle: s.securityIncidents},
		{pattern: "POST /console/security", access: responder, kind: page, handle: s.createSecurityIncident},
		{pattern: "GET /console/security/{id}", access: viewer, kind: page, handle: s.securityIncident},
		{pattern: "POST /console/security/{id}/edit", access: responder, kind: page, handle: s.roomAction("settings", "security.saved", s.setSecurityIncident)},
		{pattern: "POST /console/security/{id}/status", access: responder, kind: page, handle: s.roomAction("status", "security.status_changed", s.setSecurityStatus)},
		{pattern: "POST /console/security/{id}/reopen", access: responder, kind: page, handle: s.roomAction("reopen", "security.reopened", s.reopenSecurityIncident)},
		{pattern: "POST /console/security/{id}/roles", access: responder, kind: page, handle: s.roomAction("roles", "security.roles_saved", s.setSecurityRole)},
		{pattern: "POST /console/security/{id}/moments", access: responder, kind: page, handle: s.roomAction("moments", "security.moments_saved", s.setKeyMoments)},
		{pattern: "POST /console/security/{id}/timeline", access: responder, kind: page, handle: s.roomAction("entry", "security.entry_added", s.addSecurityEntry)},
		{pattern: "POST /console/security/{id}/decisions", access: responder, kind: page, handle: s.roomAction("decision", "security.decision_recorded", s.recordSecurityDecision)},
		{pattern: "POST /console/security/{id}/links", access: responder, kind: page, handle: s.roomAction("link", "security.linked", s.linkSecurityIncident)},
		// The GDPR clock and the breach register (console_breach.go, breach_register.go); exports are audited.
		{pattern: "POST /console/security/{id}/breach", access: responder, kind: page, handle: s.roomAction("breach_mark", "breach.marked", s.markBreach)},
		{pattern: "POST /console/security/{id}/breach/decision", access: responder, kind: page, handle: s.roomAction("breach_decision", "breach.decision_recorded", s.recordBreachDecision)},
		{pattern: "POST /console/security/{id}/breach/register", access: responder, kind: page, handle: s.roomAction("breach_register", "breach.register_saved", s.setBreachRegister)},
		{pattern: "POST /console/security/{id}/breach/clock", access: responder, kind: page, handle: s.roomAction("breach_clock", "breach.report_recorded", s.recordBreachClock)},
		{pattern: "GET /console/breaches", access: viewer, kind: page, handle: s.breachRegisterPage},
		{pattern: "GET /console/breaches.csv", access: viewer, kind: page, handle: s.breachRegisterCSV},
		// Evidence: the list is in the room; an item's page records each
		// view, its content is a download for responders only.
		{pattern: "POST /console/security/{id}/evidence", access: responder, kind: page, handle: s.roomAction("evidence", "evidence.added", s.addEvidenceForm), formBytes: s.evidenceFormBytes(), upload: true},
		{pattern: "GET /console/security/{id}/evidence/{eid}", access: viewer, kind: page, handle: s.evidencePage},
		{pattern: "GET /console/security/{id}/evidence/{eid}/content", access: responder, kind: page, handle: s.serveEvidence},
		{pattern: "POST /console/security/{id}/evidence/{eid}/verify", access: responder, kind: page, handle: s.verifyEvidenceForm},
		{pattern: "POST /console/security/{id}/evidence/{eid}/withdraw", access: responder, kind: page, handle: s.withdrawEvidenceForm},
		// Tasks and runbooks (console_tasks.go, console_runbooks.go).
		{pattern: "POST /console/security/{id}/runbooks", access: responder, kind: page, handle: s.roomTaskAction("apply", s.applyRunbook)},
		{pattern: "POST /console/security/{id}/tasks", access: responder, kind: page, handle: s.roomTaskAction("task", s.addTask)},
		{pattern: "POST /console/security/{id}/tasks/{task}", access: responder, kind: page, handle: s.roomTaskAction("tasks", s.updateTask)},
		{pattern: "GET /console/runbooks", access: viewer, kind: page, handle: s.runbooks},
		{pattern: "POST /console/runbooks", access: responder, kind: page, handle: s.createRunbook},
		{pattern: "GET /console/runbooks/{id}", access: viewer, kind: page, handle: s.runbook},
		{pattern: "POST /console/runbooks/{id}", access: responder, kind: page, handle: s.saveRunbook},
		// The room's public side: any account reaches the routes; the
		// domain lets the communications lead (else the incident lead)
		// publish and the leads or an admin link (console_security_comms.go).
		{pattern: "POST /console/security/{id}/public-incident", access: viewer, kind: page, handle: s.roomAction("comms", "comms.linked", s.linkPublicIncident)},
		{pattern: "POST /console/security/{id}/public-updates", access: viewer, kind: page, handle: s.roomAction("comms-update", "comms.published", s.publishPublicUpdate)},
		{pattern: "POST /console/security/{id}/cadence", access: viewer, kind: page, handle: s.roomAction("comms-cadence", "comms.cadence_saved", s.setPublicCadence)},
		{pattern: "POST /console/security/{id}/postmortem-draft", access: responder, kind: page, handle: s.draftPostmortem},
		// Public e-mail subscriptions (pages, so forms carry the CSRF token;
		// the static public page only links here). A GET never changes
		// anything: mail scanners fetch every link of a mail, so confirming
		// and unsubscribing take a POST from the button the GET shows.
		{pattern: "GET /subscribe", access: public, kind: page, handle: s.subscribeFormPage},
		{pattern: "POST /subscribe", access: public, kind: page, handle: s.subscribe},
		{pattern: "GET /subscribe/confirm", access: public, kind: page, handle: s.confirmForm},
		{pattern: "POST /subscribe/confirm", access: public, kind: page, handle: s.confirm},
		{pattern: "GET /unsubscribe/{id}/{token}", access: public, kind: page, handle: s.unsubscribeForm},
		// RFC 8058 one-click unsubscribe: mail providers POST
		// "List-Unsubscribe=One-Click" to the link of the List-Unsubscribe
		// header, with no cookie and so no CSRF token. The link's HMAC
		// (auth.SubscriberToken, keyed outside the database) is what
		// authorises it, as a bearer secret for one action on one
		// subscriber; a forged cross-site POST would need that secret, so
		// CSRF adds nothing here. Hence raw: no cookie, no CSRF check.
		{pattern: "POST /unsubscribe/{id}/{token}", access: public, kind: raw, handle: s.unsubscribe},

		// The console: subscribers. Their addresses are personal data, seen
		// only by the role that speaks to the public and handles its requests
		// (export, erasure): communicator.
		{pattern: "GET /console/subscribers", access: communicator, kind: page, handle: s.subscribers},
		{pattern: "GET /console/subscribers/{id}/export", access: communicator, kind: page, handle: s.exportSubscriber},
		{pattern: "POST /console/subscribers/{id}/erase", access: communicator, kind: page, handle: s.eraseSubscriber},

		// The console: webhook subscriptions, for programs; same role.
		{pattern: "GET /console/webhooks", access: communicator, kind: page, handle: s.webhooks},
		{pattern: "POST /console/webhooks", access: communicator, kind: page, handle: s.createWebhookForm},
		{pattern: "POST /console/webhooks/{id}/delete", access: communicator, kind: page, handle: s.deleteWebhookForm},

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
		// The console: checks and the security posture. Every role reads
		// them; only admins create, edit, pause and delete checks (a check
		// sends traffic where it is told, so choosing where is
		// configuration); responders run one now, as someone working an
		// incident would.
		{pattern: "GET /console/checks", access: viewer, kind: page, handle: s.consoleChecks},
		{pattern: "GET /console/checks/new", access: admin, kind: page, handle: s.newCheckForm},
		{pattern: "POST /console/checks", access: admin, kind: page, handle: s.createCheckConsole},
		{pattern: "GET /console/checks/{id}", access: viewer, kind: page, handle: s.consoleCheck},
		{pattern: "GET /console/checks/{id}/edit", access: admin, kind: page, handle: s.editCheckForm},
		{pattern: "POST /console/checks/{id}/edit", access: admin, kind: page, handle: s.editCheckConsole},
		{pattern: "POST /console/checks/{id}/pause", access: admin, kind: page, handle: s.pauseCheckConsole},
		{pattern: "POST /console/checks/{id}/delete", access: admin, kind: page, handle: s.deleteCheckConsole},
		{pattern: "POST /console/checks/{id}/run", access: responder, kind: page, handle: s.runCheckConsole},
		{pattern: "GET /console/posture", access: viewer, kind: page, handle: s.posture},
		{pattern: "POST /console/services/{id}/status/automatic", access: communicator, kind: page, handle: s.unpinServiceConsole},

		// An agent's token reaches these two routes and nothing else.
		{pattern: "GET /api/v1/agent/checks", access: agent, kind: api, handle: s.apiAgentChecks, summary: "The checks an agent runs (all but paused ones), without secrets"},
		{pattern: "POST /api/v1/agent/results", access: agent, kind: api, handle: s.apiAgentResults, summary: "Record a batch of an agent's results under its token's location; keys stored before are skipped"},
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
		{pattern: "GET /api/v1/signals", access: viewer, kind: api, handle: s.apiSignals, summary: "List signals (reports of suspected problems), open first, then newest first"},
		{pattern: "POST /api/v1/signals", access: responder, kind: api, handle: s.apiCreateSignal, summary: "Report a suspected problem; it enters the triage queue as an open signal with a receipt number"},
		{pattern: "GET /api/v1/signals/{id}", access: viewer, kind: api, handle: s.apiSignal, summary: "One signal, with the reporter's contact"},
		{pattern: "POST /api/v1/signals/{id}/acknowledge", access: responder, kind: api, handle: s.apiAcknowledgeSignal, summary: "Acknowledge an open signal; 409 if it is not open"},
		{pattern: "POST /api/v1/signals/{id}/dismiss", access: responder, kind: api, handle: s.apiDismissSignal, summary: "Dismiss a signal with the reason why; 409 if it is already linked or dismissed"},
		{pattern: "GET /api/v1/pages", access: viewer, kind: api, handle: s.apiPages, summary: "List pages, newest first, with who was paged when; ?open=true for those not acknowledged"},
		{pattern: "POST /api/v1/pages", access: responder, kind: api, handle: s.apiOpenPage, summary: "Page whoever is on call by hand (about a security incident when security_incident_id is given); 404 without an escalation policy"},
		{pattern: "GET /api/v1/pages/{id}", access: viewer, kind: api, handle: s.apiPage, summary: "One page"},
		{pattern: "POST /api/v1/pages/{id}/acknowledge", access: responder, kind: api, handle: s.apiAcknowledgePage, summary: "Acknowledge a page: escalation stops and its signal is acknowledged; 409 if already acknowledged"},
		{pattern: "GET /api/v1/oncall", access: viewer, kind: api, handle: s.apiOncall, summary: "Rotas with who is on call now, and the escalation policy (null until set)"},
		{pattern: "POST /api/v1/oncall/rotas", access: admin, kind: api, handle: s.apiCreateRota, summary: "Create a rota: members (user IDs) take the pager in turn every period_days at start's local time in zone (IANA)"},
		{pattern: "PUT /api/v1/oncall/rotas/{id}", access: admin, kind: api, handle: s.apiUpdateRota, summary: "Replace a rota's name, zone, start, period and members; overrides are kept"},
		{pattern: "DELETE /api/v1/oncall/rotas/{id}", access: admin, kind: api, handle: s.apiDeleteRota, summary: "Delete a rota; 409 while the escalation policy pages it"},
		{pattern: "POST /api/v1/oncall/rotas/{id}/overrides", access: admin, kind: api, handle: s.apiAddOverride, summary: "Put someone on call from..until instead of the rota (a holiday, a swap); the latest override wins"},
		{pattern: "DELETE /api/v1/oncall/rotas/{id}/overrides/{override}", access: admin, kind: api, handle: s.apiDeleteOverride, summary: "Remove an override"},
		{pattern: "PUT /api/v1/oncall/policy", access: admin, kind: api, handle: s.apiSetPolicy, summary: "Replace the escalation policy: levels (a rota and/or user IDs, delay_minutes, default 15), repeat (0: until acknowledged)"},
		{pattern: "GET /api/v1/oncall/contacts/{user}", access: admin, kind: api, handle: s.apiContacts, summary: "A person's paging contacts"},
		{pattern: "POST /api/v1/oncall/contacts/{user}", access: admin, kind: api, handle: s.apiAddContact, summary: "Add a paging contact: email (an address), matrix (a room ID or alias), webhook (an http(s) URL)"},
		{pattern: "DELETE /api/v1/oncall/contacts/{user}/{id}", access: admin, kind: api, handle: s.apiDeleteContact, summary: "Remove a paging contact"},
		{pattern: "POST /api/v1/signals/{id}/open", access: responder, kind: api, handle: s.apiOpenIncidentFromSignal, summary: "Open a security incident from a signal and link the signal to it, in one step: the title defaults to the signal's subject, the reported moment is its receipt; 409 naming the state if the signal is already linked or dismissed"},
		{pattern: "POST /api/v1/signals/{id}/link", access: responder, kind: api, handle: s.apiLinkSignal, summary: "Link a signal to an existing security incident (its timeline gains a signal entry); 409 naming the state if the signal is already linked or dismissed"},
		{pattern: "GET /api/v1/security-incidents", access: viewer, kind: api, handle: s.apiSecurityIncidents, summary: "List private security incidents, open first, then by severity (SEV1 first), newest first"},
		{pattern: "POST /api/v1/security-incidents", access: responder, kind: api, handle: s.apiCreateSecurityIncident, summary: "Open a security incident (title, summary, severity SEV1-SEV4, kind); it starts in triage"},
		{pattern: "GET /api/v1/security-incidents/{id}", access: viewer, kind: api, handle: s.apiSecurityIncident, summary: "One security incident with its roles, key moments, computed durations, links and timeline (oldest first; ?limit= and ?offset=, default the newest 200)"},
		{pattern: "PUT /api/v1/security-incidents/{id}", access: responder, kind: api, handle: s.apiSetSecurityIncident, summary: "Replace title, summary, severity and kind"},
		{pattern: "POST /api/v1/security-incidents/{id}/status", access: responder, kind: api, handle: s.apiSetSecurityStatus, summary: "Move to a status; going back needs a reason; 409 for a closed incident (reopen it)"},
		{pattern: "POST /api/v1/security-incidents/{id}/reopen", access: responder, kind: api, handle: s.apiReopenSecurityIncident, summary: "Reopen a closed incident with the reason; 409 if it is not closed"},
		{pattern: "POST /api/v1/security-incidents/{id}/moments", access: responder, kind: api, handle: s.apiSetKeyMoments, summary: "Replace the key moments (omitted ones are cleared); times in the future or in an impossible order are refused"},
		{pattern: "POST /api/v1/security-incidents/{id}/timeline", access: responder, kind: api, handle: s.apiAddSecurityEntry, summary: "Add an observation or action, with occurred_at when it happened (not in the future)"},
		{pattern: "POST /api/v1/security-incidents/{id}/decisions", access: responder, kind: api, handle: s.apiRecordSecurityDecision, summary: "Record a decision: choice, options weighed, who decided (a user ID), why"},
		{pattern: "POST /api/v1/security-incidents/{id}/roles", access: responder, kind: api, handle: s.apiSetSecurityRole, summary: "Give a role (lead, comms, scribe, member) to an enabled account, or take it back with remove: true"},
		{pattern: "POST /api/v1/security-incidents/{id}/links", access: responder, kind: api, handle: s.apiLinkSecurityIncident, summary: "Link to another incident: related, duplicate, duplicated_by, parent, child; one link per pair"},
		{pattern: "GET /api/v1/security-incidents/{id}/breach", access: viewer, kind: api, handle: s.apiBreach, summary: "The incident's personal data breach record: answer, moment of awareness, clocks with their deadlines, decisions and register fields; 404 if never marked"},
		{pattern: "PUT /api/v1/security-incidents/{id}/breach", access: responder, kind: api, handle: s.apiMarkBreach, summary: "Mark the incident a personal data breach: yes, likely or no, with aware_at (default now; not in the future); yes and likely start the clocks"},
		{pattern: "PUT /api/v1/security-incidents/{id}/breach/register", access: responder, kind: api, handle: s.apiSetBreachRegister, summary: "Replace the breach register's fields: type, risk (none, risk, high), status, categories, numbers, consequences, remedial actions, notifications"},
		{pattern: "POST /api/v1/security-incidents/{id}/breach/decisions", access: responder, kind: api, handle: s.apiRecordBreachDecision, summary: "Record whether to notify the authority (or the people concerned), and why; after the 72 hours it needs late_reason and is flagged late"},
		{pattern: "POST /api/v1/security-incidents/{id}/breach/clocks", access: responder, kind: api, handle: s.apiRecordBreachClock, summary: "Record when the report a NIS2 clock asks for was sent (nis2_early_warning, nis2_notification, nis2_final_report)"},
		{pattern: "GET /api/v1/breach-register", access: viewer, kind: api, handle: s.apiBreachRegister, summary: "The breach register (GDPR art. 33(5)): every breach, notified or not; audited as an export"},
		{pattern: "GET /api/v1/breach-register.csv", access: viewer, kind: api, handle: s.breachRegisterCSV, summary: "The breach register as CSV (UTF-8, UTC, cells that a spreadsheet would run as formulas prefixed with a quote); audited as an export"},
		{pattern: "GET /api/v1/security-incidents/{id}/evidence", access: viewer, kind: api, handle: s.apiEvidenceList, summary: "The incident's evidence, oldest first, withdrawn items included"},
		{pattern: "POST /api/v1/security-incidents/{id}/evidence", access: responder, kind: api, handle: s.apiAddEvidence, summary: "Add evidence: a reference as JSON (location and the collector's sha256), or a file as multipart/form-data (field file, up to evidence.max_bytes, 413 beyond; its SHA-256 is computed; executables are refused) with the same fields as form fields"},
		{pattern: "GET /api/v1/security-incidents/{id}/evidence/{eid}", access: viewer, kind: api, handle: s.apiEvidence, summary: "One item of evidence with its custody log; the read is recorded in it"},
		{pattern: "GET /api/v1/security-incidents/{id}/evidence/{eid}/content", access: responder, kind: api, handle: s.serveEvidence, summary: "Download an uploaded file (application/octet-stream, attachment, no-store); recorded in its custody log; 404 for a reference"},
		{pattern: "POST /api/v1/security-incidents/{id}/evidence/{eid}/verify", access: responder, kind: api, handle: s.apiVerifyEvidence, summary: "Hash an uploaded file again and record the result (match or mismatch) in its custody log"},
		{pattern: "POST /api/v1/security-incidents/{id}/evidence/{eid}/withdraw", access: responder, kind: api, handle: s.apiWithdrawEvidence, summary: "Mark an item withdrawn, with the reason; evidence is never deleted; 409 if already withdrawn"},
		{pattern: "GET /api/v1/security-incidents/{id}/tasks", access: viewer, kind: api, handle: s.apiTasks, summary: "The incident's tasks, in the order they were added, with overdue set for open tasks past their due time"},
		{pattern: "POST /api/v1/security-incidents/{id}/tasks", access: responder, kind: api, handle: s.apiAddTask, summary: "Add a task by hand: title, detail, owner_id (an enabled account), due_at (not before the incident was opened)"},
		{pattern: "PATCH /api/v1/security-incidents/{id}/tasks/{task}", access: responder, kind: api, handle: s.apiPatchTask, summary: "Change a task: status open, done or skipped (skipped needs a reason), owner_id (null unassigns), due_at (null removes it); each change is on the timeline"},
		{pattern: "POST /api/v1/security-incidents/{id}/runbooks", access: responder, kind: api, handle: s.apiApplyRunbook, summary: "Apply a runbook: add a task for each of its items the incident does not have yet, owners resolved from the incident's roles now, due times from now"},
		{pattern: "GET /api/v1/runbooks", access: viewer, kind: api, handle: s.apiRunbooks, summary: "The runbooks, each at its current version, with its Markdown"},
		{pattern: "GET /api/v1/security-incidents/{id}/public-incident", access: viewer, kind: api, handle: s.apiPublicLink, summary: "The public incident a security incident speaks through, with its cadence of public updates; 404 if none is linked"},
		{pattern: "POST /api/v1/security-incidents/{id}/public-incident", access: communicator, kind: api, handle: s.apiLinkPublicIncident, summary: "Link an existing public incident (incident_id) or create one (title, impact, services, status, body, publish: nothing of the private incident is copied); 409 if one is linked"},
		{pattern: "POST /api/v1/security-incidents/{id}/public-updates", access: communicator, kind: api, handle: s.apiPublishPublicUpdate, summary: "Publish an update on the linked public incident (status page, feeds, subscribers), with a timeline entry; 404 if none is linked"},
		{pattern: "POST /api/v1/security-incidents/{id}/postmortem-draft", access: responder, kind: api, handle: s.apiDraftPostmortem, summary: "Assemble the linked public incident's post-mortem draft from the key moments, status changes, decisions and public updates; 409 if it has one"},
		{pattern: "GET /api/v1/subscribers", access: communicator, kind: api, handle: s.apiSubscribers, summary: "List e-mail subscribers, newest first (?status=pending|confirmed, ?limit, ?offset)"},
		{pattern: "GET /api/v1/subscribers/{id}", access: communicator, kind: api, handle: s.apiSubscriber, summary: "One subscriber"},
		{pattern: "GET /api/v1/subscribers/{id}/export", access: communicator, kind: api, handle: s.exportSubscriber, summary: "Everything kept about one subscriber, as a JSON download (recorded in the audit log)"},
		{pattern: "DELETE /api/v1/subscribers/{id}", access: communicator, kind: api, handle: s.apiDeleteSubscriber, summary: "Erase a subscriber (the audit entry keeps no address)"},
		{pattern: "GET /api/v1/webhooks", access: communicator, kind: api, handle: s.apiWebhooks, summary: "List webhook subscriptions"},
		{pattern: "POST /api/v1/webhooks", access: communicator, kind: api, handle: s.apiCreateWebhook, summary: "Create a webhook subscription; the answer holds its signing secret, shown only this once"},
		{pattern: "DELETE /api/v1/webhooks/{id}", access: communicator, kind: api, handle: s.apiDeleteWebhook, summary: "Delete a webhook subscription"},
		{pattern: "GET /api/v1/checks", access: viewer, kind: api, handle: s.apiChecks, summary: "List checks with their standing (state, flapping, consecutive fails and passes, last result, last success); header values are shown to admins only"},
		{pattern: "POST /api/v1/checks", access: admin, kind: api, handle: s.apiCreateCheck, summary: "Create a check on a service: kind, the target fields of its kind inline (as in the configuration file), interval and timeout as Go durations; fields left out take the configured defaults. Link-local and cloud-metadata targets are refused unless checks.allow_private is set"},
		{pattern: "GET /api/v1/checks/{id}", access: viewer, kind: api, handle: s.apiCheck, summary: "One check with its standing"},
		{pattern: "PUT /api/v1/checks/{id}", access: admin, kind: api, handle: s.apiUpdateCheck, summary: "Replace a check's fields (fields left out take the defaults; paused pauses it); 409 for one declared in the configuration file"},
		{pattern: "DELETE /api/v1/checks/{id}", access: admin, kind: api, handle: s.apiDeleteCheck, summary: "Delete a check with its results, findings and key history; 409 for one declared in the configuration file"},
		{pattern: "POST /api/v1/checks/{id}/run", access: responder, kind: api, handle: s.apiRunCheck, summary: "Run a check now; its result is recorded like any other and returned; 409 when checks do not run in this server"},
		{pattern: "GET /api/v1/checks/{id}/results", access: viewer, kind: api, handle: s.apiCheckResults, summary: "A check's raw results, newest first (?since=RFC 3339, default 24 hours ago; ?limit, default 100, at most 10000)"},
		{pattern: "GET /api/v1/checks/{id}/tls-keys", access: viewer, kind: api, handle: s.apiCheckTLSKeys, summary: "The public keys a check's endpoint served, newest first, with first and last sighting; key_changed_at answers when the key last changed"},
		{pattern: "GET /api/v1/tls-keys", access: viewer, kind: api, handle: s.apiStaleTLSKeys, summary: "The endpoints still serving a key first seen before a day (?first_seen_before=YYYY-MM-DD, in the server's time zone)"},
		{pattern: "GET /api/v1/findings", access: viewer, kind: api, handle: s.apiFindings, summary: "Findings (listable buckets, certificates, old protocols, weak ciphers, reused keys, failing checks), newest first (?state=open|closed|all, default open; ?kind; ?check; ?limit)"},
		{pattern: "POST /api/v1/services/{id}/status/automatic", access: communicator, kind: api, handle: s.apiUnpinService, summary: "Return a service whose status was set by hand to automatic status: its checks' standing applies at once"},
		{pattern: "GET /api/v1/audit", access: admin, kind: api, handle: s.apiAudit, summary: "Audit log entries, newest first"},
		{pattern: "GET /api/v1/audit/verify", access: admin, kind: api, handle: s.apiAuditVerify, summary: "Verify the audit hash chain"},
	}
}
