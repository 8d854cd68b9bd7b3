package httpserver

import "github.com/tocsin-org/tocsin"

// The OpenAPI description of the private security incidents' API.

var (
	securityStatus = map[string]any{"type": "string", "enum": tocsin.SecurityStatuses}
	severity       = map[string]any{"type": "string", "enum": tocsin.Severities, "description": "SEV1 is the worst; the definitions are in the configuration (severities)."}
	securityKind   = map[string]any{"type": "string", "enum": tocsin.SecurityKinds}
	incidentRole   = map[string]any{"type": "string", "enum": tocsin.IncidentRoles}
	linkKind       = map[string]any{"type": "string", "enum": tocsin.LinkKinds, "description": "Read from this incident: duplicate means this one duplicates the other; parent that this one is the other's parent."}
	seconds64      = map[string]any{"type": "integer", "nullable": true}
	securityText   = map[string]any{"type": "string", "maxLength": tocsin.MaxSecurityText}
	pastTime       = map[string]any{"type": "string", "format": "date-time", "description": "When it happened (RFC 3339); not in the future. Omit for now."}

	keyMoments = func() map[string]any {
		props := map[string]any{}
		for _, m := range tocsin.AllKeyMoments {
			props[string(m)] = nullable
		}
		return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	}()

	securitySchemas = map[string]any{
		"SecurityIncident": object([]string{"id", "title", "summary", "severity", "status", "kind", "key_moments", "durations", "roles", "links", "created_by", "created_at", "updated_at", "closed_at"}, map[string]any{
			"id": integer, "title": str, "summary": str, "severity": severity, "status": securityStatus, "kind": securityKind,
			"key_moments": keyMoments,
			"durations": object([]string{"time_to_acknowledge_seconds", "time_to_contain_seconds", "exposure_seconds", "exposure_ongoing"}, map[string]any{
				"time_to_acknowledge_seconds": seconds64, "time_to_contain_seconds": seconds64, "exposure_seconds": seconds64, "exposure_ongoing": boolean,
			}),
			"roles": map[string]any{"type": "array", "items": object([]string{"role", "user_id", "email", "disabled"}, map[string]any{
				"role": incidentRole, "user_id": integer, "email": str, "disabled": boolean,
			})},
			"links": map[string]any{"type": "array", "items": object([]string{"kind", "id", "title", "status"}, map[string]any{
				"kind": linkKind, "id": integer, "title": str, "status": securityStatus,
			})},
			"created_by": str, "created_at": dateTime, "updated_at": dateTime, "closed_at": nullable,
			"timeline":       map[string]any{"type": "array", "items": ref("SecurityEntry"), "description": "A page of the timeline, oldest first (single incident only)."},
			"timeline_total": map[string]any{"type": "integer", "description": "Entries in the whole timeline."},
		}),
		"PublicLink": object([]string{"security_incident_id", "incident_id", "title", "status", "published", "cadence_minutes", "last_public_update_at", "next_due_at", "reminded", "linked_by", "linked_at"}, map[string]any{
			"security_incident_id": integer, "incident_id": integer, "title": str, "status": incidentStatus, "published": boolean,
			"cadence_minutes":       map[string]any{"type": "integer", "description": "Minutes without a public update before the communications lead is reminded."},
			"last_public_update_at": nullable, "next_due_at": map[string]any{"type": "string", "format": "date-time", "nullable": true, "description": "Null when no cadence runs: the public incident is a draft or resolved."},
			"reminded": map[string]any{"type": "boolean", "description": "The current silence was reminded already."}, "linked_by": str, "linked_at": dateTime,
		}),
		"SecurityEntry": object([]string{"id", "kind", "occurred_at", "created_at", "author"}, map[string]any{
			"id": integer, "kind": map[string]any{"type": "string", "enum": []tocsin.EntryKind{tocsin.EntryCreated, tocsin.EntryStatus, tocsin.EntryReopened,
				tocsin.EntryRole, tocsin.EntryMoment, tocsin.EntryDecision, tocsin.EntryLink, tocsin.EntrySeverity, tocsin.EntryEdited,
				tocsin.EntryObservation, tocsin.EntryAction, tocsin.EntryTaskAdded, tocsin.EntryTaskStatus, tocsin.EntryTaskOwner,
				tocsin.EntryTaskDue, tocsin.EntryRunbookApplied, tocsin.EntryPublicLink, tocsin.EntryPublicUpdate, tocsin.EntryCadence, tocsin.EntryPostmortem, tocsin.EntryBreach,
				tocsin.EntryEvidence, tocsin.EntrySignal, tocsin.EntryNotified}},
			"occurred_at": dateTime, "created_at": dateTime, "author": str, "subject": str, "old": str, "new": str, "body": str,
			"decision": object([]string{"id", "choice", "options", "why", "decided_by", "decided_by_email", "decided_at"}, map[string]any{
				"id": integer, "choice": str, "options": str, "why": str, "decided_by": integer, "decided_by_email": str, "decided_at": dateTime,
			}),
		}),
		"Task": object([]string{"id", "incident_id", "runbook_id", "title", "detail", "owner_id", "due_at", "overdue", "status", "created_by", "created_at", "updated_at"}, map[string]any{
			"id": integer, "incident_id": integer,
			"runbook_id":    map[string]any{"type": "integer", "nullable": true, "description": "The runbook it came from; null when added by hand."},
			"runbook_title": str, "title": str, "detail": str,
			"owner_id":    map[string]any{"type": "integer", "nullable": true, "description": "Null when unassigned."},
			"owner_email": str, "due_at": nullable,
			"overdue": map[string]any{"type": "boolean", "description": "Open and past its due time."},
			"status":  taskStatus, "reason": map[string]any{"type": "string", "description": "Why it was skipped."},
			"created_by": str, "created_at": dateTime, "updated_at": dateTime,
		}),
		"Runbook": object([]string{"id", "slug", "lang", "title", "version", "builtin", "updated_by", "updated_at", "markdown"}, map[string]any{
			"id": integer, "slug": str, "lang": map[string]any{"type": "string", "enum": []string{"", "en", "fr"}}, "title": str,
			"version": integer, "builtin": map[string]any{"type": "boolean", "description": "The current version is the one tocsin ships."},
			"updated_by": str, "updated_at": dateTime,
			"markdown": map[string]any{"type": "string", "maxLength": tocsin.MaxRunbookSize, "description": "# Title, a description, then items \"- [ ] text (owner: lead, due: 30m)\" with indented details."},
		}),
	}

	securityBody = object([]string{"title", "severity", "kind"}, map[string]any{
		"title": map[string]any{"type": "string", "minLength": 1, "maxLength": 200}, "summary": securityText,
		"severity": severity, "kind": securityKind,
	})

	taskStatus = map[string]any{"type": "string", "enum": tocsin.TaskStatuses}
	taskList   = object([]string{"tasks"}, map[string]any{"tasks": map[string]any{"type": "array", "items": ref("Task")}})

	securitySuccess = map[string]map[string]any{
		"GET /api/v1/security-incidents/{id}/tasks":          taskList,
		"POST /api/v1/security-incidents/{id}/tasks":         ref("Task"),
		"PATCH /api/v1/security-incidents/{id}/tasks/{task}": ref("Task"),
		"POST /api/v1/security-incidents/{id}/runbooks": object([]string{"added", "tasks"}, map[string]any{
			"added": map[string]any{"type": "integer", "description": "Tasks added; 0 when the incident had every item already."},
			"tasks": map[string]any{"type": "array", "items": ref("Task")},
		}),
		"GET /api/v1/runbooks": object([]string{"runbooks"}, map[string]any{"runbooks": map[string]any{"type": "array", "items": ref("Runbook")}}),
		"GET /api/v1/security-incidents": object([]string{"security_incidents"}, map[string]any{
			"security_incidents": map[string]any{"type": "array", "items": ref("SecurityIncident")},
		}),
		"POST /api/v1/security-incidents":                       ref("SecurityIncident"),
		"GET /api/v1/security-incidents/{id}":                   ref("SecurityIncident"),
		"PUT /api/v1/security-incidents/{id}":                   ref("SecurityIncident"),
		"POST /api/v1/security-incidents/{id}/status":           ref("SecurityIncident"),
		"POST /api/v1/security-incidents/{id}/reopen":           ref("SecurityIncident"),
		"POST /api/v1/security-incidents/{id}/moments":          ref("SecurityIncident"),
		"POST /api/v1/security-incidents/{id}/timeline":         ref("SecurityIncident"),
		"POST /api/v1/security-incidents/{id}/decisions":        ref("SecurityIncident"),
		"POST /api/v1/security-incidents/{id}/roles":            ref("SecurityIncident"),
		"POST /api/v1/security-incidents/{id}/links":            ref("SecurityIncident"),
		"GET /api/v1/security-incidents/{id}/public-incident":   ref("PublicLink"),
		"POST /api/v1/security-incidents/{id}/public-incident":  ref("PublicLink"),
		"POST /api/v1/security-incidents/{id}/public-updates":   ref("PublicLink"),
		"POST /api/v1/security-incidents/{id}/postmortem-draft": ref("Postmortem"),
	}

	securityQuery = map[string][]map[string]any{
		"GET /api/v1/security-incidents": {
			query("open", "true: open incidents only; false: closed ones only.", boolean),
		},
		"GET /api/v1/security-incidents/{id}": {
			query("limit", "Timeline entries returned, 1 to 1000 (default 200).", map[string]any{"type": "integer", "minimum": 1, "maximum": 1000}),
			query("offset", "Timeline entries skipped from the oldest; without it, the newest entries are returned.", map[string]any{"type": "integer", "minimum": 0}),
		},
	}

	securityRequests = map[string]map[string]any{
		"POST /api/v1/security-incidents":             securityBody,
		"PUT /api/v1/security-incidents/{id}":         securityBody,
		"POST /api/v1/security-incidents/{id}/status": object([]string{"status"}, map[string]any{"status": securityStatus, "reason": securityText}),
		"POST /api/v1/security-incidents/{id}/reopen": object([]string{"reason"}, map[string]any{
			"status": map[string]any{"type": "string", "enum": tocsin.SecurityStatuses[:len(tocsin.SecurityStatuses)-1], "description": "Default investigating."},
			"reason": map[string]any{"type": "string", "minLength": 1, "maxLength": tocsin.MaxSecurityText},
		}),
		"POST /api/v1/security-incidents/{id}/moments": keyMoments,
		"POST /api/v1/security-incidents/{id}/timeline": object([]string{"kind", "body"}, map[string]any{
			"kind": map[string]any{"type": "string", "enum": tocsin.ManualKinds}, "body": securityText, "occurred_at": pastTime,
		}),
		"POST /api/v1/security-incidents/{id}/decisions": object([]string{"choice", "why", "decided_by"}, map[string]any{
			"choice": securityText, "options": securityText, "why": securityText,
			"decided_by": map[string]any{"type": "integer", "description": "The account of who decided."}, "decided_at": pastTime,
		}),
		"POST /api/v1/security-incidents/{id}/roles": object([]string{"role", "user_id"}, map[string]any{
			"role": incidentRole, "user_id": integer, "remove": map[string]any{"type": "boolean", "description": "Take the role back instead."},
		}),
		"POST /api/v1/security-incidents/{id}/links": object([]string{"kind", "other_id"}, map[string]any{"kind": linkKind, "other_id": integer}),
		"POST /api/v1/security-incidents/{id}/tasks": object([]string{"title"}, map[string]any{
			"title":    map[string]any{"type": "string", "minLength": 1, "maxLength": tocsin.MaxRunbookItemText},
			"detail":   securityText,
			"owner_id": map[string]any{"type": "integer", "description": "An enabled account; omit or 0 for none."},
			"due_at":   map[string]any{"type": "string", "format": "date-time", "nullable": true, "description": "Not before the incident was opened."},
		}),
		"PATCH /api/v1/security-incidents/{id}/tasks/{task}": {"type": "object", "additionalProperties": false, "minProperties": 1, "properties": map[string]any{
			"status":   taskStatus,
			"reason":   map[string]any{"type": "string", "maxLength": tocsin.MaxSecurityText, "description": "Needed with status skipped."},
			"owner_id": map[string]any{"type": "integer", "nullable": true, "description": "An enabled account; null or 0 unassigns. Omit to keep."},
			"due_at":   map[string]any{"type": "string", "format": "date-time", "nullable": true, "description": "Null removes it; not before the incident was opened. Omit to keep."},
		}},
		"POST /api/v1/security-incidents/{id}/runbooks": object([]string{"runbook"}, map[string]any{
			"runbook": map[string]any{"type": "integer", "description": "The runbook's ID (GET /api/v1/runbooks)."},
		}),
		"POST /api/v1/security-incidents/{id}/public-incident": publicIncidentBody(),
		"POST /api/v1/security-incidents/{id}/public-updates": object([]string{"status", "body"}, map[string]any{
			"status": incidentStatus, "body": updateBody, "display_at": displayAt,
		}),
	}
)

// publicIncidentBody links an existing public incident or creates one with
// the fields of POST /api/v1/incidents.
func publicIncidentBody() map[string]any {
	create := requestBodies["POST /api/v1/incidents"]
	props := map[string]any{"incident_id": map[string]any{"type": "integer", "description": "Link this existing public incident; the other fields are then ignored."}}
	for k, v := range create["properties"].(map[string]any) {
		props[k] = v
	}
	return map[string]any{"type": "object", "properties": props, "additionalProperties": false,
		"description": "Either incident_id, or title and body (and the other fields) of a public incident to create."}
}
