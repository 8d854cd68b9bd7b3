-- Evidence of security incidents: files uploaded (content sealed with the
-- server's key, in a table of its own so that lists never read it) and
-- references to what stays where it is. Append-only: an item is withdrawn,
-- never deleted. Every access after it was added is a custody event.
CREATE TABLE security_evidence (
	id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	incident_id      BIGINT  NOT NULL REFERENCES security_incidents (id),
	kind             TEXT    NOT NULL,
	description      TEXT    NOT NULL,
	sha256           TEXT    NOT NULL,
	size             BIGINT  NOT NULL DEFAULT 0,
	media_type       TEXT    NOT NULL DEFAULT '',
	filename         TEXT    NOT NULL DEFAULT '',
	location         TEXT    NOT NULL DEFAULT '',
	source           TEXT    NOT NULL DEFAULT '',
	collected_by     TEXT    NOT NULL,
	collected_at     TIMESTAMPTZ NOT NULL,
	added_by         TEXT    NOT NULL,
	added_at         TIMESTAMPTZ NOT NULL,
	withdrawn_at     TIMESTAMPTZ,
	withdrawn_by     TEXT    NOT NULL DEFAULT '',
	withdrawn_reason TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX security_evidence_incident ON security_evidence (incident_id, id);

CREATE TABLE security_evidence_content (
	evidence_id BIGINT PRIMARY KEY REFERENCES security_evidence (id),
	sealed      BYTEA   NOT NULL
);

CREATE TABLE security_custody (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	evidence_id BIGINT  NOT NULL REFERENCES security_evidence (id),
	action      TEXT    NOT NULL,
	actor       TEXT    NOT NULL,
	occurred_at TIMESTAMPTZ NOT NULL,
	detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX security_custody_evidence ON security_custody (evidence_id, id);
