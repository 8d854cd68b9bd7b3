-- Public incidents, the services they affect, their dated updates and the
-- earlier bodies of edited updates. An incident's status is that of its
-- newest update; published_at is NULL for a draft.
CREATE TABLE incidents (
	id            INTEGER PRIMARY KEY,
	title         TEXT    NOT NULL,
	status        TEXT    NOT NULL,
	impact        TEXT    NOT NULL,
	show_on_sites INTEGER NOT NULL DEFAULT 0,
	published_at  INTEGER,
	resolved_at   INTEGER,
	created_by    TEXT    NOT NULL,
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
);
CREATE INDEX incidents_created_at ON incidents (created_at);
CREATE INDEX incidents_published_at ON incidents (published_at);

-- The services an incident affects and the status each shows meanwhile.
CREATE TABLE incident_services (
	incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	service_id  INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	status      TEXT    NOT NULL,
	PRIMARY KEY (incident_id, service_id)
);
CREATE INDEX incident_services_service ON incident_services (service_id);

-- display_at is when the update is shown as written; created_at when it was.
CREATE TABLE incident_updates (
	id          INTEGER PRIMARY KEY,
	incident_id INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
	status      TEXT    NOT NULL,
	body        TEXT    NOT NULL,
	display_at  INTEGER NOT NULL,
	created_at  INTEGER NOT NULL,
	author      TEXT    NOT NULL
);
CREATE INDEX incident_updates_incident ON incident_updates (incident_id, display_at);

-- One row per edit of an update: the body it had before, in the order of edits.
CREATE TABLE update_revisions (
	id        INTEGER PRIMARY KEY,
	update_id INTEGER NOT NULL REFERENCES incident_updates (id) ON DELETE CASCADE,
	body      TEXT    NOT NULL,
	edited_at INTEGER NOT NULL,
	edited_by TEXT    NOT NULL
);
CREATE INDEX update_revisions_update ON update_revisions (update_id, id);
