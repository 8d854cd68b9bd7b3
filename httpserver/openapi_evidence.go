package httpserver

import "github.com/tocsin-org/tocsin"

// The OpenAPI description of evidence and of opening an incident from a
// signal.

var (
	sha256Hex = map[string]any{"type": "string", "pattern": "^(sha256:)?[0-9a-fA-F]{64}$", "description": "SHA-256 as 64 hexadecimal digits."}

	evidenceSchemas = map[string]any{
		"Evidence": object([]string{"id", "security_incident_id", "kind", "description", "sha256", "size", "media_type", "filename", "location", "source",
			"collected_by", "collected_at", "added_by", "added_at", "withdrawn_at", "withdrawn_by", "withdrawn_reason"}, map[string]any{
			"id": integer, "security_incident_id": integer,
			"kind":        map[string]any{"type": "string", "enum": []tocsin.EvidenceKind{tocsin.EvidenceFile, tocsin.EvidenceReference}},
			"description": str, "sha256": str, "size": map[string]any{"type": "integer", "description": "Bytes; 0 when unknown (reference)."},
			"media_type": str, "filename": str, "location": str, "source": str, "collected_by": str, "collected_at": dateTime,
			"added_by": str, "added_at": dateTime, "withdrawn_at": nullable, "withdrawn_by": str, "withdrawn_reason": str,
			"custody": map[string]any{"type": "array", "description": "The chain of custody, oldest first (single item only).",
				"items": object([]string{"action", "actor", "at", "detail"}, map[string]any{
					"action": map[string]any{"type": "string", "enum": []tocsin.CustodyAction{tocsin.CustodyAdded, tocsin.CustodyViewed,
						tocsin.CustodyDownloaded, tocsin.CustodyVerified, tocsin.CustodyWithdrawn}},
					"actor": str, "at": dateTime, "detail": str,
				})},
		}),
	}

	evidenceFields = map[string]any{
		"description":  map[string]any{"type": "string", "minLength": 1, "maxLength": tocsin.MaxEvidenceDescription},
		"source":       map[string]any{"type": "string", "maxLength": tocsin.MaxEvidenceLine},
		"collected_by": map[string]any{"type": "string", "maxLength": tocsin.MaxEvidenceLine, "description": "Default: the token's name."},
		"collected_at": map[string]any{"type": "string", "format": "date-time", "description": "Not in the future nor before the incident was reported, detected or opened. Omit for now."},
	}

	evidenceRequests = map[string]map[string]any{
		"POST /api/v1/security-incidents/{id}/evidence": object([]string{"description", "sha256", "location"}, merge(evidenceFields, map[string]any{
			"sha256": sha256Hex, "location": map[string]any{"type": "string", "minLength": 1, "maxLength": tocsin.MaxEvidenceLine},
			"size": map[string]any{"type": "integer", "minimum": 0},
		})),
		"POST /api/v1/security-incidents/{id}/evidence/{eid}/withdraw": object([]string{"reason"}, map[string]any{
			"reason": map[string]any{"type": "string", "minLength": 1, "maxLength": tocsin.MaxSignalReason},
		}),
		"POST /api/v1/signals/{id}/open": object([]string{"severity", "kind"}, map[string]any{
			"title":   map[string]any{"type": "string", "maxLength": 200, "description": "Default: the signal's subject."},
			"summary": securityText, "severity": severity, "kind": securityKind,
		}),
		"POST /api/v1/signals/{id}/link": object([]string{"security_incident_id"}, map[string]any{"security_incident_id": integer}),
	}

	// evidenceMultipart documents the upload form of a file.
	evidenceMultipart = map[string]map[string]any{
		"POST /api/v1/security-incidents/{id}/evidence": object([]string{"description", "file"}, merge(evidenceFields, map[string]any{
			"file":   map[string]any{"type": "string", "format": "binary", "description": "At most evidence.max_bytes (default 25 MiB); native executables are refused."},
			"sha256": map[string]any{"type": "string", "description": "Optional: the hash the sender computed; a different file is refused."},
		})),
	}

	evidenceSuccess = map[string]map[string]any{
		"GET /api/v1/security-incidents/{id}/evidence": object([]string{"evidence"}, map[string]any{
			"evidence": map[string]any{"type": "array", "items": ref("Evidence")},
		}),
		"POST /api/v1/security-incidents/{id}/evidence":                ref("Evidence"),
		"GET /api/v1/security-incidents/{id}/evidence/{eid}":           ref("Evidence"),
		"POST /api/v1/security-incidents/{id}/evidence/{eid}/verify":   ref("Evidence"),
		"POST /api/v1/security-incidents/{id}/evidence/{eid}/withdraw": ref("Evidence"),
		"POST /api/v1/signals/{id}/open":                               ref("SecurityIncident"),
		"POST /api/v1/signals/{id}/link":                               ref("Signal"),
	}

	// binaryResponses answer a download, not JSON.
	binaryResponses = map[string]bool{"GET /api/v1/security-incidents/{id}/evidence/{eid}/content": true}

	// createdWithID are POSTs under a path with an ID that create something.
	createdWithID = map[string]bool{
		"POST /api/v1/security-incidents/{id}/evidence": true,
		"POST /api/v1/signals/{id}/open":                true,
	}
)

func merge(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
