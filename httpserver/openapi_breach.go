package httpserver

import "github.com/tocsin-org/tocsin"

// The OpenAPI description of the breach record and register.

var (
	breachAnswer = map[string]any{"type": "string", "enum": tocsin.BreachAnswers, "description": "yes and likely start the clocks."}
	breachRisk   = map[string]any{"type": "string", "enum": append([]tocsin.BreachRisk{""}, tocsin.BreachRisks...), "description": "\"\" is not assessed yet."}
	breachStatus = map[string]any{"type": "string", "enum": tocsin.BreachStatuses}
	clockKind    = map[string]any{"type": "string", "enum": tocsin.AllClocks}
	nullableInt  = map[string]any{"type": "integer", "nullable": true, "minimum": 0}
	breachText   = map[string]any{"type": "string", "maxLength": tocsin.MaxSecurityText}
	breachField  = map[string]any{"type": "string", "maxLength": tocsin.MaxBreachField}

	breachSchemas = map[string]any{
		"Breach": object([]string{"incident_id", "title", "answer", "aware_at", "clocks", "type", "risk", "status", "categories", "people", "records",
			"consequences", "remedial", "authority_notified_at", "authority_reference", "subjects_notified_at", "subjects_count", "subjects_how",
			"decisions", "created_at", "updated_at"}, map[string]any{
			"incident_id": integer, "title": str, "answer": breachAnswer, "aware_at": dateTime,
			"clocks": map[string]any{"type": "array", "description": "The running clocks (none when answered no): GDPR's, then NIS2's where configured.",
				"items": object([]string{"clock", "deadline", "left_seconds", "done_at", "overdue", "late"}, map[string]any{
					"clock": clockKind, "deadline": dateTime, "left_seconds": map[string]any{"type": "integer", "description": "Negative once past."},
					"done_at": nullable, "overdue": boolean, "late": boolean,
				})},
			"type": str, "risk": breachRisk, "status": breachStatus, "categories": str, "people": nullableInt, "records": nullableInt,
			"consequences": str, "remedial": str, "authority_notified_at": nullable, "authority_reference": str,
			"subjects_notified_at": nullable, "subjects_count": nullableInt, "subjects_how": str,
			"decisions": map[string]any{"type": "array", "items": object([]string{"id", "who", "notify", "why", "late", "late_reason", "decided_by", "decided_by_email", "decided_at", "decision_id"}, map[string]any{
				"id": integer, "who": map[string]any{"type": "string", "enum": []string{"authority", "subjects"}}, "notify": boolean, "why": str,
				"late": boolean, "late_reason": str, "decided_by": integer, "decided_by_email": str, "decided_at": dateTime,
				"decision_id": map[string]any{"type": "integer", "description": "The decision on the incident's timeline."},
			})},
			"created_at": dateTime, "updated_at": dateTime,
		}),
	}

	breachSuccess = map[string]map[string]any{
		"GET /api/v1/security-incidents/{id}/breach":            ref("Breach"),
		"PUT /api/v1/security-incidents/{id}/breach":            ref("Breach"),
		"PUT /api/v1/security-incidents/{id}/breach/register":   ref("Breach"),
		"POST /api/v1/security-incidents/{id}/breach/decisions": ref("Breach"),
		"POST /api/v1/security-incidents/{id}/breach/clocks":    ref("Breach"),
		"GET /api/v1/breach-register": object([]string{"breaches"}, map[string]any{
			"breaches": map[string]any{"type": "array", "items": ref("Breach")},
		}),
	}

	breachRequests = map[string]map[string]any{
		"PUT /api/v1/security-incidents/{id}/breach": object([]string{"answer"}, map[string]any{
			"answer": breachAnswer, "aware_at": map[string]any{"type": "string", "format": "date-time", "description": "When the host became aware (RFC 3339); not in the future. Omit for now."},
		}),
		"PUT /api/v1/security-incidents/{id}/breach/register": object([]string{}, map[string]any{
			"type": breachField, "risk": breachRisk, "status": breachStatus, "categories": breachText, "people": nullableInt, "records": nullableInt,
			"consequences": breachText, "remedial": breachText, "authority_notified_at": nullable, "authority_reference": breachField,
			"subjects_notified_at": nullable, "subjects_count": nullableInt, "subjects_how": breachText,
		}),
		"POST /api/v1/security-incidents/{id}/breach/decisions": object([]string{"notify", "why", "decided_by"}, map[string]any{
			"who":         map[string]any{"type": "string", "enum": []string{"authority", "subjects"}, "description": "Default authority."},
			"notify":      boolean,
			"why":         breachText,
			"late_reason": map[string]any{"type": "string", "maxLength": tocsin.MaxSecurityText, "description": "Required for an authority decision after the 72 hours."},
			"decided_by":  map[string]any{"type": "integer", "description": "The account of who decided."},
			"decided_at":  pastTime,
		}),
		"POST /api/v1/security-incidents/{id}/breach/clocks": object([]string{"clock"}, map[string]any{
			"clock": map[string]any{"type": "string", "enum": tocsin.NIS2Clocks}, "sent_at": pastTime,
		}),
	}
)
