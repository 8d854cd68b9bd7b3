-- Runbooks: Markdown checklists, one row per runbook and one per version
-- (an edit adds a version; old ones are kept). builtin is true while the
-- current version is the text tocsin ships.
CREATE TABLE runbooks (
	id         INTEGER PRIMARY KEY,
	slug       TEXT    NOT NULL,
	lang       TEXT    NOT NULL DEFAULT '',
	title      TEXT    NOT NULL,
	version    INTEGER NOT NULL,
	builtin    INTEGER NOT NULL DEFAULT 0,
	updated_by TEXT    NOT NULL,
	updated_at INTEGER NOT NULL,
	UNIQUE (slug, lang)
);

CREATE TABLE runbook_versions (
	runbook_id INTEGER NOT NULL REFERENCES runbooks (id) ON DELETE CASCADE,
	version    INTEGER NOT NULL,
	title      TEXT    NOT NULL,
	markdown   TEXT    NOT NULL,
	created_by TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (runbook_id, version)
);

-- Tasks of a security incident. item_key (the item's text, lowercased)
-- makes a runbook applied twice add only the items missing; reminded_due
-- is the due time its owner was last reminded of.
CREATE TABLE security_tasks (
	id          INTEGER PRIMARY KEY,
	incident_id INTEGER NOT NULL REFERENCES security_incidents (id) ON DELETE CASCADE,
	runbook_id  INTEGER REFERENCES runbooks (id),
	item_key    TEXT,
	title       TEXT    NOT NULL,
	detail      TEXT    NOT NULL DEFAULT '',
	owner_id    INTEGER REFERENCES users (id),
	due_at      INTEGER,
	status      TEXT    NOT NULL,
	reason      TEXT    NOT NULL DEFAULT '',
	reminded_due INTEGER,
	created_by  TEXT    NOT NULL,
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);
CREATE INDEX security_tasks_incident ON security_tasks (incident_id, id);
CREATE UNIQUE INDEX security_tasks_item ON security_tasks (incident_id, runbook_id, item_key);
CREATE INDEX security_tasks_due ON security_tasks (status, due_at);
