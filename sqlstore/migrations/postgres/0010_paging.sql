-- Paging: on-call rotas (members in order, overrides), the one escalation
-- policy (its levels), each user's paging contacts, and pages with the
-- record of who was paged at which step.
CREATE TABLE rotas (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name        TEXT    NOT NULL,
	zone        TEXT    NOT NULL,
	start_at    TIMESTAMPTZ NOT NULL,
	period_days BIGINT NOT NULL,
	updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE rota_members (
	rota_id  BIGINT NOT NULL REFERENCES rotas (id) ON DELETE CASCADE,
	position BIGINT NOT NULL,
	user_id  BIGINT NOT NULL REFERENCES users (id),
	PRIMARY KEY (rota_id, position)
);

CREATE TABLE rota_overrides (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	rota_id    BIGINT NOT NULL REFERENCES rotas (id) ON DELETE CASCADE,
	user_id    BIGINT NOT NULL REFERENCES users (id),
	from_at    TIMESTAMPTZ NOT NULL,
	until_at   TIMESTAMPTZ NOT NULL,
	note       TEXT    NOT NULL DEFAULT '',
	created_by TEXT    NOT NULL,
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX rota_overrides_rota ON rota_overrides (rota_id, until_at);

-- The policy is one row (id = 1) and its levels.
CREATE TABLE escalation_policy (
	id         BIGINT PRIMARY KEY CHECK (id = 1),
	rounds     BIGINT NOT NULL,
	updated_by TEXT    NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE escalation_levels (
	position   BIGINT PRIMARY KEY,
	rota_id    BIGINT REFERENCES rotas (id),
	user_ids   TEXT    NOT NULL DEFAULT '[]',
	delay_secs BIGINT NOT NULL
);

CREATE TABLE paging_contacts (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	kind       TEXT    NOT NULL,
	address    TEXT    NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	UNIQUE (user_id, kind, address)
);

CREATE TABLE pages (
	id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	signal_id            BIGINT UNIQUE REFERENCES signals (id),
	security_incident_id BIGINT REFERENCES security_incidents (id),
	subject              TEXT    NOT NULL,
	state                TEXT    NOT NULL,
	step                 BIGINT NOT NULL,
	next_at              TIMESTAMPTZ,
	opened_by            TEXT    NOT NULL,
	opened_at            TIMESTAMPTZ NOT NULL,
	acknowledged_by      TEXT    NOT NULL DEFAULT '',
	acknowledged_user_id BIGINT,
	acknowledged_at      TIMESTAMPTZ
);
CREATE INDEX pages_due ON pages (next_at) WHERE next_at IS NOT NULL;
CREATE INDEX pages_state ON pages (state, opened_at);

CREATE TABLE page_notifications (
	page_id  BIGINT NOT NULL REFERENCES pages (id) ON DELETE CASCADE,
	step     BIGINT NOT NULL,
	level    BIGINT NOT NULL,
	round    BIGINT NOT NULL,
	user_id  BIGINT NOT NULL REFERENCES users (id),
	contacts BIGINT NOT NULL,
	paged_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (page_id, step, user_id)
);
