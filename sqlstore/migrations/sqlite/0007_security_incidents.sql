-- Private security incidents. Key moments are columns of their own (NULL
-- while unknown) so that durations are computed from them; the timeline is
-- append-only and holds automatic and manual entries.
CREATE TABLE security_incidents (
	id               INTEGER PRIMARY KEY,
	title            TEXT    NOT NULL,
	summary          TEXT    NOT NULL DEFAULT '',
	severity         TEXT    NOT NULL,
	status           TEXT    NOT NULL,
	kind             TEXT    NOT NULL,
	exposure_started INTEGER,
	exposure_ended   INTEGER,
	detected         INTEGER,
	reported         INTEGER,
	acknowledged     INTEGER,
	contained        INTEGER,
	logs_reviewed    INTEGER,
	resolved         INTEGER,
	created_by       TEXT    NOT NULL,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	closed_at        INTEGER
);
CREATE INDEX security_incidents_status ON security_incidents (status, severity, created_at);

-- Who holds which role on an incident; lead, comms and scribe have one
-- holder each (the store replaces), members any number.
CREATE TABLE security_roles (
	incident_id INTEGER NOT NULL REFERENCES security_incidents (id) ON DELETE CASCADE,
	role        TEXT    NOT NULL,
	user_id     INTEGER NOT NULL REFERENCES users (id),
	PRIMARY KEY (incident_id, role, user_id)
);
CREATE INDEX security_roles_user ON security_roles (user_id);

CREATE TABLE security_decisions (
	id          INTEGER PRIMARY KEY,
	incident_id INTEGER NOT NULL REFERENCES security_incidents (id) ON DELETE CASCADE,
	choice      TEXT    NOT NULL,
	options     TEXT    NOT NULL DEFAULT '',
	why         TEXT    NOT NULL,
	decided_by  INTEGER NOT NULL REFERENCES users (id),
	decided_at  INTEGER NOT NULL
);
CREATE INDEX security_decisions_incident ON security_decisions (incident_id);

-- occurred_at is when it happened, created_at when it was written.
CREATE TABLE security_timeline (
	id          INTEGER PRIMARY KEY,
	incident_id INTEGER NOT NULL REFERENCES security_incidents (id) ON DELETE CASCADE,
	kind        TEXT    NOT NULL,
	occurred_at INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	author      TEXT    NOT NULL,
	subject     TEXT    NOT NULL DEFAULT '',
	old_value   TEXT    NOT NULL DEFAULT '',
	new_value   TEXT    NOT NULL DEFAULT '',
	body        TEXT    NOT NULL DEFAULT '',
	decision_id INTEGER REFERENCES security_decisions (id)
);
CREATE INDEX security_timeline_incident ON security_timeline (incident_id, occurred_at, id);

-- One link per pair of incidents, stored one way: a duplicate from the
-- duplicate to the original, a parent from the parent to the child, a
-- related link from the lower ID to the higher.
CREATE TABLE security_links (
	from_id    INTEGER NOT NULL REFERENCES security_incidents (id) ON DELETE CASCADE,
	to_id      INTEGER NOT NULL REFERENCES security_incidents (id) ON DELETE CASCADE,
	kind       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (from_id, to_id),
	CHECK (from_id <> to_id)
);
CREATE INDEX security_links_to ON security_links (to_id);
