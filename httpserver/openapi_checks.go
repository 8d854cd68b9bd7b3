package httpserver

import (
	"maps"

	"github.com/tocsin-org/tocsin"
)

// The OpenAPI description of the checks API: checks, their results, key
// histories and findings. A check's target fields (tocsin.CheckSpec) are
// inline in its object, as in the configuration file.

var (
	goDuration = map[string]any{"type": "string", "description": "A Go duration such as 30s, 5m or 1h (a bare number is seconds)."}

	// checkSpecProps are tocsin.CheckSpec's fields; each applies to the
	// kinds its description names, and a field set on another kind is
	// refused (400 naming it).
	checkSpecProps = map[string]any{
		"url":            map[string]any{"type": "string", "description": "http: the page; bucket: the bucket's URL (path or virtual-host style)."},
		"address":        map[string]any{"type": "string", "description": "tcp, smtp, imap, tls: host:port."},
		"method":         map[string]any{"type": "string", "enum": []string{"GET", "HEAD", "POST", "PUT", "OPTIONS"}, "description": "http; GET by default."},
		"headers":        map[string]any{"type": "object", "additionalProperties": str, "description": "http: request headers. Their values are shown to admins only."},
		"expect_status":  map[string]any{"type": "array", "items": integer, "description": "http: accepted status codes; 200–399 when empty."},
		"body_contains":  map[string]any{"type": "string", "description": "http"},
		"body_regex":     map[string]any{"type": "string", "description": "http: a Go regular expression."},
		"max_latency":    map[string]any{"type": "string", "description": "A slower success is degraded (Go duration)."},
		"no_redirects":   map[string]any{"type": "boolean", "description": "http: report a 3xx as it is."},
		"client_cert":    map[string]any{"type": "string", "description": "http: PEM file of a client certificate."},
		"client_key":     map[string]any{"type": "string", "description": "http: PEM file of its key."},
		"banner":         map[string]any{"type": "string", "description": "tcp, smtp, imap: a substring of the greeting."},
		"implicit_tls":   map[string]any{"type": "boolean", "description": "smtp, imap: TLS from the start (465, 993)."},
		"domain":         map[string]any{"type": "string", "description": "dns: the name."},
		"record":         map[string]any{"type": "string", "enum": []string{"A", "AAAA", "CNAME", "MX", "TXT", "NS", "CAA"}, "description": "dns; A by default."},
		"expect":         map[string]any{"type": "array", "items": str, "description": "dns: values that must be present (a TXT value may be a prefix)."},
		"resolver":       map[string]any{"type": "string", "description": "dns: host:port; the system's when empty."},
		"ca_file":        map[string]any{"type": "string", "description": "TLS: CA file instead of the system's roots."},
		"server_name":    map[string]any{"type": "string", "description": "TLS: the name to verify."},
		"expiry_days":    map[string]any{"type": "array", "items": integer, "description": "TLS: expiry tiers in days (30, 14, 7, 1 by default)."},
		"provider":       map[string]any{"type": "string", "enum": []string{"s3", "azure", "gcs"}, "description": "bucket; s3 by default."},
		"aliases":        map[string]any{"type": "array", "items": str, "description": "bucket: other URLs it is served through."},
		"endpoint":       map[string]any{"type": "string", "description": "bucket (S3): the endpoint, with bucket."},
		"bucket":         map[string]any{"type": "string", "description": "bucket (S3): the bucket's name."},
		"region":         map[string]any{"type": "string", "description": "bucket (S3)."},
		"access_key_id":  map[string]any{"type": "string", "description": "bucket: read-only admin credentials to explain the policy."},
		"secret_key_env": map[string]any{"type": "string", "description": "bucket: the environment variable holding the secret."},
	}

	checkKinds   = map[string]any{"type": "string", "enum": tocsin.CheckKinds}
	failStatuses = map[string]any{"type": "string", "enum": []tocsin.ServiceStatus{tocsin.StatusDegraded, tocsin.StatusPartialOutage, tocsin.StatusMajorOutage}}
	severities   = map[string]any{"type": "string", "enum": []string{"SEV1", "SEV2", "SEV3", "SEV4"}}

	checkBody = func() map[string]any {
		props := map[string]any{
			"service_id": integer, "name": map[string]any{"type": "string", "maxLength": 100, "description": "Unique within its service; kind and target by default."},
			"kind":           checkKinds,
			"interval":       map[string]any{"type": "string", "description": "1s to 24h (Go duration); the configured default when left out."},
			"timeout":        map[string]any{"type": "string", "description": "More than 0, at most 2m and the interval (Go duration)."},
			"fail_threshold": map[string]any{"type": "integer", "minimum": 1, "maximum": tocsin.MaxCheckThreshold},
			"pass_threshold": map[string]any{"type": "integer", "minimum": 1, "maximum": tocsin.MaxCheckThreshold},
			"quorum":         map[string]any{"type": "integer", "minimum": 0, "maximum": 20, "description": "Locations that must agree the check is down; 0 or absent: 1."},
			"fail_status":    failStatuses, "page": boolean, "severity": severities, "paused": boolean,
		}
		maps.Copy(props, checkSpecProps)
		return object([]string{"service_id", "kind"}, props)
	}()

	resultSchema = object([]string{"location", "started_at", "duration_seconds", "ok", "degraded", "status_code", "error"}, map[string]any{
		"location":   map[string]any{"type": "string", "description": "Where it ran: empty for tocsin itself, else the agent's name."},
		"started_at": dateTime, "duration_seconds": map[string]any{"type": "number"}, "ok": boolean, "degraded": boolean,
		"status_code": integer, "error": str,
		"tls":    map[string]any{"type": "object", "description": "What was seen of the certificate: spki_sha256, serial, subject, issuer, dns_names, not_before, not_after, verify_error, version, cipher, old_versions, weak_ciphers."},
		"bucket": map[string]any{"type": "object", "description": "What a bucket check saw: listable, probed, grants, policy_error."},
	})

	tlsKeySchema = map[string]any{
		"spki_sha256": map[string]any{"type": "string", "description": "Hex SHA-256 of the served public key (SPKI)."},
		"serial":      map[string]any{"type": "string", "description": "The latest certificate seen with this key."},
		"not_after":   dateTime, "first_seen": dateTime, "last_seen": dateTime,
	}

	checkSchemas = map[string]any{
		"Check": func() map[string]any {
			props := map[string]any{
				"id": integer, "service_id": integer, "name": str, "kind": checkKinds, "interval": goDuration, "timeout": goDuration,
				"fail_threshold": integer, "pass_threshold": integer, "quorum": integer, "fail_status": failStatuses, "page": boolean,
				"severity": str, "paused": boolean, "config_managed": boolean, "created_at": dateTime, "updated_at": dateTime,
				"status": object([]string{"state", "flapping", "fails", "passes", "last_result", "last_success", "changed_at"}, map[string]any{
					"state":    map[string]any{"type": "string", "enum": []tocsin.CheckState{tocsin.CheckPending, tocsin.CheckUp, tocsin.CheckDown, tocsin.CheckPaused}},
					"flapping": boolean, "fails": integer, "passes": integer,
					"last_result":  map[string]any{"allOf": []any{ref("CheckResult")}, "nullable": true},
					"last_success": nullable, "changed_at": nullable,
				}),
			}
			maps.Copy(props, checkSpecProps)
			return object([]string{"id", "service_id", "name", "kind", "interval", "timeout", "fail_threshold", "pass_threshold", "quorum",
				"fail_status", "page", "severity", "paused", "config_managed", "created_at", "updated_at", "status"}, props)
		}(),
		"CheckResult": resultSchema,
		"Finding": object([]string{"id", "kind", "service", "check", "severity", "opened_at", "closed_at", "detail", "signal_id"}, map[string]any{
			"id": integer, "kind": map[string]any{"type": "string", "enum": tocsin.FindingKinds},
			"service":  object([]string{"id", "name"}, map[string]any{"id": integer, "name": str}),
			"check":    object([]string{"id", "name"}, map[string]any{"id": integer, "name": str}),
			"severity": str, "opened_at": dateTime, "closed_at": nullable, "detail": str, "signal_id": nullableI,
		}),
	}

	checkQuery = map[string][]map[string]any{
		"GET /api/v1/checks/{id}/results": {
			query("since", "RFC 3339 date and time; 24 hours ago by default. Results of past hours (compacted a minute past each hour) are kept with less detail: starts to the second, durations to two significant digits.", dateTime),
			query("limit", "At most this many results (1 to 10000; 100 by default).", map[string]any{"type": "integer", "minimum": 1, "maximum": 10000}),
		},
		"GET /api/v1/tls-keys": {
			query("first_seen_before", "A day (YYYY-MM-DD) in the server's time zone; required.", map[string]any{"type": "string", "format": "date"}),
		},
		"GET /api/v1/findings": {
			query("state", "open (default), closed or all.", map[string]any{"type": "string", "enum": []string{"open", "closed", "all"}}),
			query("kind", "One kind of finding.", map[string]any{"type": "string", "enum": tocsin.FindingKinds}),
			query("check", "One check's findings.", integer),
			query("limit", "1 to 1000; 100 by default.", map[string]any{"type": "integer", "minimum": 1, "maximum": 1000}),
		},
	}

	checkRequests = map[string]map[string]any{
		"POST /api/v1/checks":     checkBody,
		"PUT /api/v1/checks/{id}": checkBody,
	}

	checkSuccess = map[string]map[string]any{
		"GET /api/v1/checks":              object([]string{"checks"}, map[string]any{"checks": map[string]any{"type": "array", "items": ref("Check")}}),
		"POST /api/v1/checks":             ref("Check"),
		"GET /api/v1/checks/{id}":         ref("Check"),
		"PUT /api/v1/checks/{id}":         ref("Check"),
		"POST /api/v1/checks/{id}/run":    ref("CheckResult"),
		"GET /api/v1/checks/{id}/results": object([]string{"results"}, map[string]any{"results": map[string]any{"type": "array", "items": ref("CheckResult")}}),
		"GET /api/v1/checks/{id}/tls-keys": object([]string{"check_id", "key_changed_at", "rotated", "keys"}, map[string]any{
			"check_id":       integer,
			"key_changed_at": map[string]any{"type": "string", "format": "date-time", "nullable": true, "description": "When the key served now was first seen: when the key last changed. Null before any certificate was seen."},
			"rotated":        map[string]any{"type": "boolean", "description": "An earlier key was seen: the key served now replaced it."},
			"keys":           map[string]any{"type": "array", "items": object([]string{"spki_sha256", "serial", "not_after", "first_seen", "last_seen"}, tlsKeySchema)},
		}),
		"GET /api/v1/tls-keys": object([]string{"first_seen_before", "endpoints"}, map[string]any{
			"first_seen_before": dateTime,
			"endpoints": map[string]any{"type": "array", "items": func() map[string]any {
				props := map[string]any{"check_id": integer, "check": str, "service_id": integer, "service": str, "target": str}
				maps.Copy(props, tlsKeySchema)
				return object([]string{"check_id", "check", "service_id", "service", "target", "spki_sha256", "serial", "not_after", "first_seen", "last_seen"}, props)
			}()},
		}),
		"GET /api/v1/findings":                        object([]string{"findings"}, map[string]any{"findings": map[string]any{"type": "array", "items": ref("Finding")}}),
		"POST /api/v1/services/{id}/status/automatic": ref("Service"),
	}
)
