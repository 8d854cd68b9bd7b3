package httpserver

import "github.com/tocsin-org/tocsin"

// The OpenAPI description of the on-call and paging API.

var (
	idList    = map[string]any{"type": "array", "items": integer}
	nullableI = map[string]any{"type": "integer", "nullable": true}

	rotaBody = object([]string{"name", "zone", "start", "period_days"}, map[string]any{
		"name":        map[string]any{"type": "string", "minLength": 1, "maxLength": tocsin.MaxRotaName},
		"zone":        map[string]any{"type": "string", "description": "IANA time zone hand-overs are counted in, e.g. Europe/Paris."},
		"start":       map[string]any{"type": "string", "format": "date-time", "description": "The first hand-over; later ones keep its local time of day in zone, across DST changes."},
		"period_days": map[string]any{"type": "integer", "minimum": 1, "maximum": tocsin.MaxRotaPeriodDays},
		"members":     map[string]any{"type": "array", "maxItems": tocsin.MaxRotaMembers, "items": integer, "description": "User IDs in the order they take the pager from start."},
	})

	levelBody = map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
		"rota_id":       map[string]any{"type": "integer", "description": "Whoever is on call in this rota."},
		"user_ids":      idList,
		"delay_minutes": map[string]any{"type": "integer", "minimum": 0, "maximum": 1440, "description": "Before the next level is paged; 0 or absent: 15."},
	}}
	policyBody = object([]string{"levels"}, map[string]any{
		"levels": map[string]any{"type": "array", "minItems": 1, "maxItems": tocsin.MaxEscalationLevels, "items": levelBody},
		"repeat": map[string]any{"type": "integer", "minimum": 0, "maximum": tocsin.MaxEscalationRounds, "description": "Rounds through the levels; 0 pages until someone acknowledges."},
	})

	pagingSchemas = map[string]any{
		"Page": object([]string{"id", "signal_id", "security_incident_id", "subject", "state", "step", "next_at", "opened_by", "opened_at", "acknowledged_by", "acknowledged_at", "time_to_acknowledge_seconds", "paged"}, map[string]any{
			"id": integer, "signal_id": nullableI, "security_incident_id": nullableI, "subject": str,
			"state": map[string]any{"type": "string", "enum": []tocsin.PageState{tocsin.PageOpen, tocsin.PageAcknowledged, tocsin.PageExhausted}},
			"step":  integer, "next_at": nullable, "opened_by": str, "opened_at": dateTime, "acknowledged_by": str, "acknowledged_at": nullable,
			"time_to_acknowledge_seconds": nullableI,
			"paged": map[string]any{"type": "array", "items": object([]string{"user_id", "email", "level", "round", "step", "messages", "paged_at"}, map[string]any{
				"user_id": integer, "email": str, "level": integer, "round": integer, "step": integer, "messages": integer, "paged_at": dateTime,
			})},
		}),
		"Rota": object([]string{"id", "name", "zone", "start", "period_days", "members", "overrides", "on_call", "shift_ends"}, map[string]any{
			"id": integer, "name": str, "zone": str, "start": dateTime, "period_days": integer, "members": idList,
			"overrides": map[string]any{"type": "array", "items": object([]string{"id", "user_id", "from", "until", "note"}, map[string]any{
				"id": integer, "user_id": integer, "from": dateTime, "until": dateTime, "note": str,
			})},
			"on_call": nullableI, "shift_ends": nullable,
		}),
		"Oncall": object([]string{"rotas", "policy"}, map[string]any{
			"rotas": map[string]any{"type": "array", "items": ref("Rota")},
			"policy": map[string]any{"type": "object", "nullable": true, "additionalProperties": false, "required": []string{"levels", "repeat"}, "properties": map[string]any{
				"levels": map[string]any{"type": "array", "items": levelBody}, "repeat": integer,
			}},
		}),
		"Contacts": object([]string{"contacts"}, map[string]any{
			"contacts": map[string]any{"type": "array", "items": object([]string{"id", "kind", "address", "created_at"}, map[string]any{
				"id": integer, "kind": map[string]any{"type": "string", "enum": tocsin.ContactKinds}, "address": str, "created_at": dateTime,
			})},
		}),
	}

	pagingQuery = map[string][]map[string]any{
		"GET /api/v1/pages": {query("open", "true: pages not acknowledged yet only.", boolean)},
	}

	pagingRequests = map[string]map[string]any{
		"POST /api/v1/pages": object([]string{"subject"}, map[string]any{
			"subject":              map[string]any{"type": "string", "minLength": 1, "maxLength": tocsin.MaxSignalSubject},
			"security_incident_id": nullableI,
		}),
		"POST /api/v1/oncall/rotas":     rotaBody,
		"PUT /api/v1/oncall/rotas/{id}": rotaBody,
		"POST /api/v1/oncall/rotas/{id}/overrides": object([]string{"user_id", "from", "until"}, map[string]any{
			"user_id": integer, "from": dateTime, "until": map[string]any{"type": "string", "format": "date-time", "description": "Excluded; after from."},
			"note": map[string]any{"type": "string", "maxLength": tocsin.MaxOverrideNote},
		}),
		"PUT /api/v1/oncall/policy": policyBody,
		"POST /api/v1/oncall/contacts/{user}": object([]string{"kind", "address"}, map[string]any{
			"kind": map[string]any{"type": "string", "enum": tocsin.ContactKinds}, "address": map[string]any{"type": "string", "minLength": 1, "maxLength": 2000},
		}),
	}

	pagingSuccess = map[string]map[string]any{
		"GET /api/v1/pages": object([]string{"pages"}, map[string]any{
			"pages": map[string]any{"type": "array", "items": ref("Page")},
		}),
		"POST /api/v1/pages":                       ref("Page"),
		"GET /api/v1/pages/{id}":                   ref("Page"),
		"POST /api/v1/pages/{id}/acknowledge":      ref("Page"),
		"GET /api/v1/oncall":                       ref("Oncall"),
		"POST /api/v1/oncall/rotas":                ref("Rota"),
		"PUT /api/v1/oncall/rotas/{id}":            ref("Rota"),
		"POST /api/v1/oncall/rotas/{id}/overrides": ref("Rota"),
		"PUT /api/v1/oncall/policy":                ref("Oncall"),
		"GET /api/v1/oncall/contacts/{user}":       ref("Contacts"),
		"POST /api/v1/oncall/contacts/{user}":      ref("Contacts"),
	}
)
