package httpserver

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"github.com/tocsin-org/tocsin"
)

var pathParam = regexp.MustCompile(`\{([a-z]+)\}`)

// openAPIDoc builds the OpenAPI 3 document from the route table, so that
// a route cannot exist without being described.
func (s *Server) openAPIDoc() []byte {
	s.openAPIOnce.Do(func() {
		paths := map[string]map[string]any{}
		for _, rt := range s.routes {
			if rt.kind != api {
				continue
			}
			method, p, _ := strings.Cut(rt.pattern, " ")
			op := map[string]any{
				"summary":     rt.summary,
				"operationId": operationID(method, p),
				"security":    []map[string][]string{{"bearer": {}}},
				"description": "Needs a token with the " + string(rt.access) + " role.",
				"responses":   responsesFor(method, p, queryParamsOf(rt.pattern) != nil),
			}
			var params []map[string]any
			for _, m := range pathParam.FindAllStringSubmatch(p, -1) {
				params = append(params, map[string]any{
					"name": m[1], "in": "path", "required": true,
					"schema": map[string]any{"type": "integer", "minimum": 1},
				})
			}
			params = append(params, queryParamsOf(rt.pattern)...)
			if params != nil {
				op["parameters"] = params
			}
			if body, ok := requestBodyOf(rt.pattern); ok {
				content := map[string]any{"application/json": map[string]any{"schema": body}}
				if mp, ok := evidenceMultipart[rt.pattern]; ok {
					content["multipart/form-data"] = map[string]any{"schema": mp}
				}
				op["requestBody"] = map[string]any{"required": true, "content": content}
			}
			if paths[p] == nil {
				paths[p] = map[string]any{}
			}
			paths[p][strings.ToLower(method)] = op
		}
		doc := map[string]any{
			"openapi": "3.0.3",
			"info":    map[string]any{"title": "tocsin API", "version": "1"},
			"paths":   paths,
			"components": map[string]any{
				"securitySchemes": map[string]any{
					"bearer": map[string]any{"type": "http", "scheme": "bearer", "description": "A token from `tocsin token create`."},
				},
				"schemas": allSchemas(),
			},
		}
		s.openAPIJSON, _ = json.MarshalIndent(doc, "", "  ")
	})
	return s.openAPIJSON
}

// Each feature keeps its OpenAPI tables in its own file; these lists
// name them all, so a new feature adds one name to each.
var (
	queryTables   = []map[string][]map[string]any{queryParams, securityQuery, pagingQuery, checkQuery}
	requestTables = []map[string]map[string]any{requestBodies, securityRequests, breachRequests, pagingRequests, evidenceRequests, checkRequests, agentRequests}
	successTables = []map[string]map[string]any{successBodies, securitySuccess, breachSuccess, pagingSuccess, evidenceSuccess, checkSuccess, agentSuccess}
	schemaTables  = []map[string]any{schemas, securitySchemas, breachSchemas, pagingSchemas, evidenceSchemas, checkSchemas, agentSchemas}
)

func queryParamsOf(pattern string) []map[string]any {
	for _, t := range queryTables {
		if q, ok := t[pattern]; ok {
			return q
		}
	}
	return nil
}

func lookup(tables []map[string]map[string]any, pattern string) (map[string]any, bool) {
	for _, t := range tables {
		if b, ok := t[pattern]; ok {
			return b, true
		}
	}
	return nil, false
}

func requestBodyOf(pattern string) (map[string]any, bool) { return lookup(requestTables, pattern) }

func successBodyOf(pattern string) (map[string]any, bool) { return lookup(successTables, pattern) }

func allSchemas() map[string]any {
	out := map[string]any{}
	for _, t := range schemaTables {
		for k, v := range t {
			out[k] = v
		}
	}
	return out
}

func operationID(method, path string) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(method))
	for _, part := range strings.Split(path, "/") {
		part = strings.Trim(part, "{}")
		if part == "" || part == "api" || part == "v1" {
			continue
		}
		b.WriteString(strings.ToUpper(part[:1]) + strings.NewReplacer(".", "", "-", "").Replace(part[1:]))
	}
	return b.String()
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func jsonResponse(desc string, schema map[string]any) map[string]any {
	return map[string]any{"description": desc, "content": map[string]any{"application/json": map[string]any{"schema": schema}}}
}

// responsesFor lists the documented responses of an operation; one that
// takes query parameters answers 400 when they are invalid.
func responsesFor(method, path string, hasQuery bool) map[string]any {
	errResp := jsonResponse("Error", ref("Error"))
	out := map[string]any{"401": errResp, "403": errResp}
	ok, found := successBodyOf(method + " " + path)
	switch {
	case method == "DELETE" || noContent[method+" "+path]:
		out["204"] = map[string]any{"description": "Done"}
	case strings.HasSuffix(path, ".csv"):
		out["200"] = map[string]any{"description": "OK", "content": map[string]any{"text/csv": map[string]any{"schema": map[string]any{"type": "string"}}}}
	case binaryResponses[method+" "+path]:
		out["200"] = map[string]any{"description": "The content, as an attachment", "content": map[string]any{"application/octet-stream": map[string]any{"schema": map[string]any{"type": "string", "format": "binary"}}}}
	case !found:
		out["200"] = map[string]any{"description": "OK", "content": map[string]any{"text/plain": map[string]any{"schema": map[string]any{"type": "string"}}}}
	case method == "POST" && !postAnswersOK[method+" "+path] && (!strings.Contains(path, "{") || createdWithID[method+" "+path]):
		out["201"] = jsonResponse("Created", ok)
	default:
		out["200"] = jsonResponse("OK", ok)
	}
	if hasQuery {
		out["400"] = errResp
	}
	if method != "GET" {
		out["400"] = errResp
		out["409"] = errResp
		out["413"] = errResp
		out["415"] = errResp
	}
	if strings.Contains(path, "{") || method == "DELETE" {
		out["404"] = errResp
	}
	return out
}

func query(name, desc string, schema map[string]any) map[string]any {
	return map[string]any{"name": name, "in": "query", "required": false, "description": desc, "schema": schema}
}

func object(required []string, props map[string]any) map[string]any {
	return map[string]any{"type": "object", "required": required, "properties": props, "additionalProperties": false}
}

var (
	str             = map[string]any{"type": "string"}
	integer         = map[string]any{"type": "integer"}
	boolean         = map[string]any{"type": "boolean"}
	dateTime        = map[string]any{"type": "string", "format": "date-time"}
	nullable        = map[string]any{"type": "string", "format": "date-time", "nullable": true}
	serviceStatus   = map[string]any{"type": "string", "enum": tocsin.ServiceStatuses}
	servicePosition = map[string]any{"type": "integer", "minimum": 0, "maximum": 10000, "description": "Order within the group, smaller first."}
	roleList        = map[string]any{"type": "array", "minItems": 1, "items": map[string]any{"type": "string", "enum": []string{"viewer", "responder", "communicator", "approver", "admin", "agent"}}}

	schemas = map[string]any{
		"Error": object([]string{"error"}, map[string]any{"error": object([]string{"code", "message"}, map[string]any{"code": str, "message": str})}),
		"User": object([]string{"id", "email", "roles"}, map[string]any{
			"id": integer, "email": str, "name": str, "roles": roleList, "lang": str,
			"two_factor": boolean, "disabled_at": nullable, "created_at": dateTime,
		}),
		"Token": object([]string{"id", "name", "roles"}, map[string]any{
			"id": integer, "name": str, "roles": roleList, "created_by": str,
			"created_at": dateTime, "last_used_at": nullable, "revoked_at": nullable,
		}),
		"Service": object([]string{"id", "name", "description", "link", "group", "position", "status", "config_managed", "created_at", "updated_at"}, map[string]any{
			"id": integer, "name": str, "description": str, "link": str, "group": str, "position": integer, "status": serviceStatus,
			"config_managed": boolean, "created_at": dateTime, "updated_at": dateTime,
			"status_pinned": map[string]any{"type": "boolean", "description": "The status was set by hand; checks leave it alone until it is returned to automatic."},
		}),
		"Incident": object([]string{"id", "title", "status", "impact", "services", "show_on_sites", "scheduled_for", "scheduled_until", "reminded_at", "published", "published_at", "resolved_at", "created_by", "created_at", "updated_at", "updates"}, map[string]any{
			"id": integer, "title": str, "status": incidentStatus, "impact": map[string]any{"type": "string", "enum": append(slices.Clone(tocsin.Impacts), tocsin.ImpactMaintenance)},
			"scheduled_for": windowStart, "scheduled_until": windowEnd,
			"reminded_at":   map[string]any{"type": "string", "format": "date-time", "nullable": true, "description": "When a maintenance's reminder was recorded."},
			"services":      map[string]any{"type": "array", "items": incidentService},
			"show_on_sites": boolean, "published": boolean, "published_at": nullable, "resolved_at": nullable,
			"created_by": str, "created_at": dateTime, "updated_at": dateTime,
			"updates": map[string]any{"type": "array", "items": ref("Update"), "description": "Newest first by display time."},
		}),
		"Update": object([]string{"id", "status", "body", "display_at", "created_at", "backdated", "author", "revisions"}, map[string]any{
			"id": integer, "status": incidentStatus, "body": map[string]any{"type": "string", "description": "Markdown."},
			"display_at": dateTime, "created_at": dateTime, "backdated": boolean, "author": str,
			"revisions": map[string]any{"type": "array", "description": "Earlier bodies, oldest first.", "items": object([]string{"body", "edited_at", "edited_by"}, map[string]any{
				"body": str, "edited_at": dateTime, "edited_by": str,
			})},
		}),
		"Signal": object([]string{"id", "receipt", "source", "subject", "body", "contact", "attachments", "received_at", "state", "acknowledged_by", "acknowledged_at", "closed_by", "closed_at", "reason", "security_incident_id"}, map[string]any{
			"id": integer, "receipt": map[string]any{"type": "string", "description": "The number shown to the reporter; it grants access to nothing."},
			"source":  map[string]any{"type": "string", "enum": tocsin.SignalSources},
			"subject": str, "body": map[string]any{"type": "string", "description": "Plain text, as reported."},
			"contact": map[string]any{"type": "string", "description": "How to reach the reporter (personal data); empty when not given."},
			"attachments": map[string]any{"type": "array", "description": "What an e-mail carried; the content is not kept.", "items": object([]string{"name", "type", "size"}, map[string]any{
				"name": str, "type": str, "size": integer,
			})},
			"received_at": dateTime, "state": signalState, "acknowledged_by": str, "acknowledged_at": nullable,
			"closed_by": str, "closed_at": nullable, "reason": map[string]any{"type": "string", "description": "Why it was dismissed."},
			"security_incident_id": map[string]any{"type": "integer", "nullable": true, "description": "The security incident a linked signal belongs to."},
		}),
		"Subscriber": object([]string{"id", "email", "status", "lang", "all_services", "services", "created_at", "confirmed_at", "confirmation_sent_at"}, map[string]any{
			"id": integer, "email": str, "status": map[string]any{"type": "string", "enum": []string{"pending", "confirmed"}},
			"lang": map[string]any{"type": "string", "enum": []string{"fr", "en"}}, "all_services": boolean,
			"services":   map[string]any{"type": "array", "items": integer, "description": "Service IDs, when not all_services."},
			"created_at": dateTime, "confirmed_at": nullable, "confirmation_sent_at": nullable,
			"service_names": map[string]any{"type": "array", "items": str, "description": "In exports only."},
			"exported_at":   map[string]any{"type": "string", "format": "date-time", "description": "In exports only."},
		}),
		"Webhook": object([]string{"id", "url", "all_services", "services", "created_by", "created_at"}, map[string]any{
			"id": integer, "url": str, "all_services": boolean,
			"services":   map[string]any{"type": "array", "items": integer},
			"created_by": str, "created_at": dateTime,
			"secret": map[string]any{"type": "string", "description": "In the creation's answer only: the HMAC-SHA256 key of X-Tocsin-Signature."},
		}),
		"Postmortem": object([]string{"incident_id", "status", "revision", "summary", "timeline", "impact", "root_cause", "went_well", "changes",
			"contributors", "approved_by", "approved_at", "published_by", "published_at", "created_at", "updated_at"}, map[string]any{
			"incident_id": integer, "status": map[string]any{"type": "string", "enum": []string{"draft", "approved", "published"}},
			"revision": map[string]any{"type": "integer", "description": "The version of the text; an approval names the one it approves."},
			"summary":  str, "timeline": timeline, "impact": str, "root_cause": str, "went_well": str, "changes": str,
			"contributors": map[string]any{"type": "array", "items": str, "description": "Who wrote or edited it; none of them may approve it."},
			"approved_by":  str, "approved_at": nullable, "published_by": str, "published_at": nullable,
			"published_sha256": map[string]any{"type": "string", "description": "Once published: the hex SHA-256 of the text's canonical serialisation (docs/ARCHITECTURE.md), also in the audit entry postmortem.publish; empty before."},
			"created_at":       dateTime, "updated_at": dateTime,
		}),
		"AuditEntry": object([]string{"seq", "at", "action"}, map[string]any{
			"seq": integer, "at": dateTime, "actor": str, "ip": str, "action": str, "target": str,
			"before": str, "after": str, "prev_hash": str, "hash": str,
		}),
	}

	successBodies = map[string]map[string]any{
		"GET /api/v1/me":                                 ref("Token"),
		"GET /api/v1/users":                              object([]string{"users"}, map[string]any{"users": map[string]any{"type": "array", "items": ref("User")}}),
		"POST /api/v1/users":                             ref("User"),
		"GET /api/v1/users/{id}":                         ref("User"),
		"POST /api/v1/users/{id}/disable":                ref("User"),
		"GET /api/v1/tokens":                             object([]string{"tokens"}, map[string]any{"tokens": map[string]any{"type": "array", "items": ref("Token")}}),
		"POST /api/v1/tokens":                            object([]string{"token", "info"}, map[string]any{"token": str, "info": ref("Token")}),
		"GET /api/v1/services":                           object([]string{"services"}, map[string]any{"services": map[string]any{"type": "array", "items": ref("Service")}}),
		"POST /api/v1/services":                          ref("Service"),
		"GET /api/v1/services/{id}":                      ref("Service"),
		"PUT /api/v1/services/{id}":                      ref("Service"),
		"POST /api/v1/services/{id}/status":              ref("Service"),
		"GET /api/v1/incidents":                          object([]string{"incidents"}, map[string]any{"incidents": map[string]any{"type": "array", "items": ref("Incident")}}),
		"POST /api/v1/incidents":                         ref("Incident"),
		"GET /api/v1/incidents/{id}":                     ref("Incident"),
		"POST /api/v1/incidents/{id}/updates":            ref("Incident"),
		"POST /api/v1/incidents/{id}/publish":            ref("Incident"),
		"GET /api/v1/incidents/{id}/postmortem":          ref("Postmortem"),
		"PUT /api/v1/incidents/{id}/postmortem":          ref("Postmortem"),
		"POST /api/v1/incidents/{id}/postmortem/approve": ref("Postmortem"),
		"POST /api/v1/incidents/{id}/postmortem/publish": ref("Postmortem"),
		"PUT /api/v1/incidents/{id}":                     ref("Incident"),
		"GET /api/v1/subscribers":                        object([]string{"subscribers"}, map[string]any{"subscribers": map[string]any{"type": "array", "items": ref("Subscriber")}}),
		"GET /api/v1/subscribers/{id}":                   ref("Subscriber"),
		"GET /api/v1/subscribers/{id}/export":            ref("Subscriber"),
		"GET /api/v1/webhooks":                           object([]string{"webhooks"}, map[string]any{"webhooks": map[string]any{"type": "array", "items": ref("Webhook")}}),
		"POST /api/v1/webhooks":                          ref("Webhook"),
		"GET /api/v1/audit":                              object([]string{"entries"}, map[string]any{"entries": map[string]any{"type": "array", "items": ref("AuditEntry")}}),
		"GET /api/v1/audit/verify":                       object([]string{"entries", "intact"}, map[string]any{"entries": integer, "intact": boolean, "broken_at": integer, "reason": str}),
		"GET /api/v1/signals":                            object([]string{"signals"}, map[string]any{"signals": map[string]any{"type": "array", "items": ref("Signal")}}),
		"POST /api/v1/signals":                           ref("Signal"),
		"GET /api/v1/signals/{id}":                       ref("Signal"),
		"POST /api/v1/signals/{id}/acknowledge":          ref("Signal"),
		"POST /api/v1/signals/{id}/dismiss":              ref("Signal"),
	}

	// queryParams documents the query strings operations read.
	queryParams = map[string][]map[string]any{
		"GET /api/v1/incidents": {
			query("open", "true: open incidents only; false: resolved ones only.", boolean),
			query("maintenance", "true: scheduled maintenances only; false: incidents only.", boolean),
			query("limit", "Incidents returned, 1 to 1000 (default 50).", map[string]any{"type": "integer", "minimum": 1, "maximum": 1000}),
		},
		"GET /api/v1/signals": {
			query("state", "Only signals in this state.", signalState),
			query("limit", "Signals returned, 1 to 1000 (default 100).", map[string]any{"type": "integer", "minimum": 1, "maximum": 1000}),
		},
		"GET /api/v1/subscribers": {
			query("status", "pending or confirmed; both when left out.", map[string]any{"type": "string", "enum": []string{"pending", "confirmed"}}),
			query("limit", "Subscribers returned, 1 to 1000 (default 100).", map[string]any{"type": "integer", "minimum": 1, "maximum": 1000}),
			query("offset", "Subscribers skipped.", map[string]any{"type": "integer", "minimum": 0}),
		},
		"GET /api/v1/audit": {
			query("actor", "Part of the actor label (e-mail, token:NAME, cli, system).", str),
			query("action", "Action prefix, such as user. or token.create.", str),
			query("target", "Exact target, such as user:3.", str),
			query("since", "First day (YYYY-MM-DD, in the server's time zone).", map[string]any{"type": "string", "format": "date"}),
			query("until", "Last day, included (YYYY-MM-DD).", map[string]any{"type": "string", "format": "date"}),
			query("page", "Page number, from 1.", map[string]any{"type": "integer", "minimum": 1, "maximum": 100000}),
			query("limit", "Entries per page, 1 to 1000.", map[string]any{"type": "integer", "minimum": 1, "maximum": 1000}),
		},
	}

	requestBodies = map[string]map[string]any{
		"POST /api/v1/users": object([]string{"email", "roles", "password"}, map[string]any{
			"email": str, "name": str, "roles": roleList, "password": map[string]any{"type": "string", "minLength": 12},
		}),
		"POST /api/v1/tokens":               object([]string{"name", "roles"}, map[string]any{"name": str, "roles": roleList}),
		"POST /api/v1/services":             serviceBody,
		"PUT /api/v1/services/{id}":         serviceBody,
		"POST /api/v1/services/{id}/status": object([]string{"status"}, map[string]any{"status": serviceStatus}),
		"POST /api/v1/incidents": object([]string{"title", "body"}, map[string]any{
			"title":           incidentTitle,
			"impact":          impact,
			"services":        incidentServices,
			"show_on_sites":   boolean,
			"scheduled_for":   windowStart,
			"scheduled_until": windowEnd,
			"status":          map[string]any{"type": "string", "enum": incidentStatus["enum"], "description": "The first update's status; required for an incident, scheduled (the default) for a maintenance."},
			"body":            updateBody,
			"display_at":      displayAt,
			"publish":         map[string]any{"type": "boolean", "description": "Publish at once; otherwise the incident is a draft only staff see."},
		}),
		"PUT /api/v1/incidents/{id}": object([]string{"title"}, map[string]any{
			"title": incidentTitle, "impact": impact, "services": incidentServices, "show_on_sites": boolean,
			"scheduled_for": windowStart, "scheduled_until": windowEnd,
		}),
		"POST /api/v1/incidents/{id}/updates": object([]string{"status", "body"}, map[string]any{
			"status": incidentStatus, "body": updateBody, "display_at": displayAt,
		}),
		"POST /api/v1/webhooks": object([]string{"url"}, map[string]any{
			"url":          map[string]any{"type": "string", "maxLength": 2000, "description": "An absolute http:// or https:// URL."},
			"all_services": boolean, "services": map[string]any{"type": "array", "items": integer},
		}),
		"PUT /api/v1/updates/{id}": object([]string{"body"}, map[string]any{"body": updateBody}),
		"POST /api/v1/signals": object([]string{"subject", "body"}, map[string]any{
			"subject": map[string]any{"type": "string", "minLength": 1, "maxLength": tocsin.MaxSignalSubject},
			"body":    map[string]any{"type": "string", "minLength": 1, "maxLength": tocsin.MaxSignalBody, "description": "Plain text (at most 64 KiB)."},
			"contact": map[string]any{"type": "string", "maxLength": tocsin.MaxSignalContact, "description": "How to reach the reporter; optional."},
		}),
		"POST /api/v1/signals/{id}/dismiss": object([]string{"reason"}, map[string]any{
			"reason": map[string]any{"type": "string", "minLength": 1, "maxLength": tocsin.MaxSignalReason},
		}),
		"PUT /api/v1/incidents/{id}/postmortem": object([]string{"summary"}, map[string]any{
			"summary": pmSection, "timeline": timeline, "impact": pmSection, "root_cause": pmSection, "went_well": pmSection, "changes": pmSection,
		}),
		"POST /api/v1/incidents/{id}/postmortem/approve": object([]string{"revision"}, map[string]any{
			"revision": map[string]any{"type": "integer", "minimum": 1, "description": "The version you read; 409 if the text changed since."},
		}),
	}

	// noContent lists the operations other than DELETE that answer 204.
	noContent = map[string]bool{"PUT /api/v1/updates/{id}": true}

	incidentStatus  = map[string]any{"type": "string", "enum": slices.Concat(tocsin.IncidentStatuses, tocsin.MaintenanceStatuses)}
	signalState     = map[string]any{"type": "string", "enum": tocsin.SignalStates}
	impact          = map[string]any{"type": "string", "enum": tocsin.Impacts}
	incidentService = object([]string{"id", "status"}, map[string]any{"id": integer, "status": serviceStatus})
	pmSection       = map[string]any{"type": "string", "maxLength": tocsin.MaxUpdateBytes, "description": "Markdown."}
	timeline        = map[string]any{"type": "array", "maxItems": tocsin.MaxTimelineEntries, "description": "Dated entries; stored in time order.",
		"items": object([]string{"at", "text"}, map[string]any{"at": dateTime, "text": map[string]any{"type": "string", "minLength": 1, "maxLength": tocsin.MaxTimelineEntryText}})}
	updateBody = map[string]any{"type": "string", "minLength": 1, "maxLength": tocsin.MaxUpdateBytes, "description": "Markdown."}
	displayAt  = map[string]any{"type": "string", "format": "date-time", "description": "Backdates the update (RFC 3339); shown as written later. Omit for now."}

	// A scheduled maintenance's fields; its services in requests need no status.
	incidentTitle    = map[string]any{"type": "string", "minLength": 1, "maxLength": 200}
	windowStart      = map[string]any{"type": "string", "format": "date-time", "nullable": true, "description": "A scheduled maintenance's start (RFC 3339); null for an incident."}
	windowEnd        = map[string]any{"type": "string", "format": "date-time", "nullable": true, "description": "A scheduled maintenance's end, after its start."}
	incidentServices = map[string]any{"type": "array", "items": object([]string{"id"}, map[string]any{"id": integer, "status": serviceStatus}),
		"description": "Affected services, each with the status it shows while the incident is open (under_maintenance for a maintenance, whatever is sent)."}

	// serviceBody creates a service or replaces its fields; the status has
	// a route of its own.
	serviceBody = object([]string{"name"}, map[string]any{
		"name":        map[string]any{"type": "string", "minLength": 1, "maxLength": 100},
		"description": map[string]any{"type": "string", "maxLength": 1000},
		"link":        map[string]any{"type": "string", "description": "An http:// or https:// address, or empty."},
		"group":       map[string]any{"type": "string", "maxLength": 100, "description": "Empty for none; a group exists while a service names it."},
		"position":    servicePosition,
	})
)
