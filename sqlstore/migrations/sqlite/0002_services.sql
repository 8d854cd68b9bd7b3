-- Services of the public status page and their status history.
-- A group is only a name on its services: it exists while a service names it,
-- so no group is ever left empty. name_key is the name lower-cased by tocsin
-- (Go's strings.ToLower), the key that makes names unique case-insensitively
-- the same way in both dialects.
CREATE TABLE services (
	id             INTEGER PRIMARY KEY,
	name           TEXT    NOT NULL,
	name_key       TEXT    NOT NULL UNIQUE,
	description    TEXT    NOT NULL DEFAULT '',
	link           TEXT    NOT NULL DEFAULT '',
	group_name     TEXT    NOT NULL DEFAULT '',
	position       INTEGER NOT NULL DEFAULT 0,
	status         TEXT    NOT NULL,
	config_managed INTEGER NOT NULL DEFAULT 0,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL
);

-- One row per status a service entered, its creation included.
CREATE TABLE service_status_history (
	id         INTEGER PRIMARY KEY,
	service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	status     TEXT    NOT NULL,
	at         INTEGER NOT NULL
);
CREATE INDEX service_status_history_service_at ON service_status_history (service_id, at);
CREATE INDEX service_status_history_at ON service_status_history (at);
