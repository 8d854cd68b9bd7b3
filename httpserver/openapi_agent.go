package httpserver

import "github.com/tocsin-org/tocsin"

// The OpenAPI description of the agent routes (api_agent.go).

var (
	strList   = map[string]any{"type": "array", "items": str}
	goDur     = map[string]any{"type": "string", "description": "A Go duration, such as 30s or 5m."}
	checkSpec = map[string]any{"type": "object", "additionalProperties": false, "description": "What the check probes; the fields of its kind are set. secret_key_env names an environment variable the agent reads; no secret is sent.",
		"properties": map[string]any{
			"url": str, "address": str, "method": str, "headers": map[string]any{"type": "object", "additionalProperties": str},
			"expect_status": map[string]any{"type": "array", "items": integer}, "body_contains": str, "body_regex": str,
			"max_latency": goDur, "no_redirects": boolean, "client_cert": str, "client_key": str, "banner": str, "implicit_tls": boolean,
			"domain": str, "record": str, "expect": strList, "resolver": str, "ca_file": str, "server_name": str,
			"expiry_days": map[string]any{"type": "array", "items": integer}, "provider": str, "aliases": strList, "endpoint": str,
			"bucket": str, "region": str, "access_key_id": str, "secret_key_env": str,
		}}
	anyObject = map[string]any{"type": "object", "nullable": true, "description": "What the check saw, as the check kinds' observations."}

	agentSchemas = map[string]any{
		"AgentChecks": object([]string{"location", "checks"}, map[string]any{
			"location": map[string]any{"type": "string", "description": "The token's name: the location the results are recorded under."},
			"checks": map[string]any{"type": "array", "items": object([]string{"id", "name", "kind", "spec", "interval", "timeout"}, map[string]any{
				"id": integer, "name": str, "kind": map[string]any{"type": "string", "enum": tocsin.CheckKinds}, "spec": checkSpec,
				"interval": goDur, "timeout": goDur,
			})},
		}),
		"AgentReceipt": object([]string{"stored", "skipped", "unknown"}, map[string]any{
			"stored":  map[string]any{"type": "integer", "description": "Results recorded by this batch."},
			"skipped": map[string]any{"type": "integer", "description": "Results whose key was stored before (a resend)."},
			"unknown": map[string]any{"type": "integer", "description": "Results of checks the hub no longer has, dropped."},
		}),
	}

	agentRequests = map[string]map[string]any{
		"POST /api/v1/agent/results": object([]string{"results"}, map[string]any{
			"results": map[string]any{"type": "array", "maxItems": tocsin.MaxAgentBatch, "items": object([]string{"key", "check_id", "started_at", "duration_us", "ok"}, map[string]any{
				"key":         map[string]any{"type": "string", "minLength": 1, "maxLength": tocsin.MaxResultKey, "description": "Unique per result: a resend with the same key is skipped."},
				"check_id":    integer,
				"location":    map[string]any{"type": "string", "description": "Ignored: the token's location is used."},
				"started_at":  dateTime,
				"duration_us": map[string]any{"type": "integer", "minimum": 0},
				"ok":          boolean, "degraded": boolean, "status_code": integer, "error": str,
				"tls": anyObject, "bucket": anyObject,
			})},
		}),
	}

	agentSuccess = map[string]map[string]any{
		"GET /api/v1/agent/checks":   ref("AgentChecks"),
		"POST /api/v1/agent/results": ref("AgentReceipt"),
	}

	// postAnswersOK lists POST operations that create nothing new to name
	// and answer 200.
	postAnswersOK = map[string]bool{"POST /api/v1/agent/results": true}
)
