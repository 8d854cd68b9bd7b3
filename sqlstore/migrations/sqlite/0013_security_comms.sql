-- A security incident's public face: the public incident its
-- communications lead speaks through, the cadence of public updates
-- (cadence_minutes 0: the configured default) and the silence last
-- reminded of (reminded_since: the time of the last public update, or of
-- publication, when the reminder was queued; NULL until then).
CREATE TABLE security_public_links (
	security_id     INTEGER PRIMARY KEY REFERENCES security_incidents (id) ON DELETE CASCADE,
	incident_id     INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	cadence_minutes INTEGER NOT NULL DEFAULT 0,
	reminded_since  INTEGER,
	linked_by       TEXT    NOT NULL,
	linked_at       INTEGER NOT NULL
);
CREATE INDEX security_public_links_incident ON security_public_links (incident_id);

-- The SHA-256 of a post-mortem's text as published (Postmortem.Digest).
ALTER TABLE postmortems ADD COLUMN published_sha256 TEXT NOT NULL DEFAULT '';
