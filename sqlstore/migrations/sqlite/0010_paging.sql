-- Paging: on-call rotas (members in order, overrides), the one escalation
-- policy (its levels), each user's paging contacts, and pages with the
-- record of who was paged at which step.
CREATE TABLE rotas (
	id          INTEGER PRIMARY KEY,
	name        TEXT    NOT NULL,
	zone        TEXT    NOT NULL,
	start_at    INTEGER NOT NULL,
	period_days INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
);

CREATE TABLE rota_members (
	rota_id  INTEGER NOT NULL REFERENCES rotas (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	user_id  INTEGER NOT NULL REFERENCES users (id),
	PRIMARY KEY (rota_id, position)
);

CREATE TABLE rota_overrides (
	id         INTEGER PRIMARY KEY,
	rota_id    INTEGER NOT NULL REFERENCES rotas (id) ON DELETE CASCADE,
	user_id    INTEGER NOT NULL REFERENCES users (id),
	from_at    INTEGER NOT NULL,
	until_at   INTEGER NOT NULL,
	note       TEXT    NOT NULL DEFAULT '',
	created_by TEXT    NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX rota_overrides_rota ON rota_overrides (rota_id, until_at);

-- The policy is one row (id = 1) and its levels.
CREATE TABLE escalation_policy (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	rounds     INTEGER NOT NULL,
	updated_by TEXT    NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE escalation_levels (
	position   INTEGER PRIMARY KEY,
	rota_id    INTEGER REFERENCES rotas (id),
	user_ids   TEXT    NOT NULL DEFAULT '[]',
	delay_secs INTEGER NOT NULL
);

CREATE TABLE paging_contacts (
	id         INTEGER PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind       TEXT    NOT NULL,
	address    TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	UNIQUE (user_id, kind, address)
);

CREATE TABLE pages (
	id                   INTEGER PRIMARY KEY,
	signal_id            INTEGER UNIQUE REFERENCES signals (id),
	security_incident_id INTEGER REFERENCES security_incidents (id),
	subject              TEXT    NOT NULL,
	state                TEXT    NOT NULL,
	step                 INTEGER NOT NULL,
	next_at              INTEGER,
	opened_by            TEXT    NOT NULL,
	opened_at            INTEGER NOT NULL,
	acknowledged_by      TEXT    NOT NULL DEFAULT '',
	acknowledged_user_id INTEGER,
	acknowledged_at      INTEGER
);
CREATE INDEX pages_due ON pages (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX pages_state ON pages (state, opened_at);

CREATE TABLE page_notifications (
	page_id  INTEGER NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
	step     INTEGER NOT NULL,
	level    INTEGER NOT NULL,
	round    INTEGER NOT NULL,
	user_id  INTEGER NOT NULL REFERENCES users (id),
	contacts INTEGER NOT NULL,
	paged_at INTEGER NOT NULL,
	PRIMARY KEY (page_id, step, user_id)
);
