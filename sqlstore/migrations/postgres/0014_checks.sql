-- Checks: probes of a service (spec is the JSON of tocsin.CheckSpec, the
-- form the file and the API use too), their current standing, their raw
-- results, the findings they opened and the certificates their endpoints
-- served. A service's status moves with its checks unless a person pinned
-- it by hand (status_pinned).
ALTER TABLE services ADD COLUMN status_pinned BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE checks (
	id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	service_id     BIGINT  NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	name           TEXT    NOT NULL,
	kind           TEXT    NOT NULL,
	spec           TEXT    NOT NULL,
	interval_ms    BIGINT NOT NULL,
	timeout_ms     BIGINT NOT NULL,
	fail_threshold INTEGER NOT NULL,
	pass_threshold INTEGER NOT NULL,
	quorum         INTEGER NOT NULL,
	fail_status    TEXT    NOT NULL,
	page           BOOLEAN NOT NULL DEFAULT false,
	severity       TEXT    NOT NULL,
	paused         BOOLEAN NOT NULL DEFAULT false,
	config_managed BOOLEAN NOT NULL DEFAULT false,
	created_at     TIMESTAMPTZ NOT NULL,
	updated_at     TIMESTAMPTZ NOT NULL,
	UNIQUE (service_id, name)
);

-- One row per check: its state from consecutive results, the per-location
-- runs the quorum counts (locations, JSON), the last result's summary and
-- the recent state changes flap damping counts (transitions, JSON).
CREATE TABLE check_status (
	check_id         BIGINT PRIMARY KEY REFERENCES checks (id) ON DELETE CASCADE,
	state            TEXT    NOT NULL,
	fails            INTEGER NOT NULL DEFAULT 0,
	passes           INTEGER NOT NULL DEFAULT 0,
	flapping         BOOLEAN NOT NULL DEFAULT false,
	locations        TEXT    NOT NULL DEFAULT '{}',
	last_started_at  TIMESTAMPTZ,
	last_ok          BOOLEAN NOT NULL DEFAULT false,
	last_degraded    BOOLEAN NOT NULL DEFAULT false,
	last_duration_us BIGINT NOT NULL DEFAULT 0,
	last_status_code INTEGER NOT NULL DEFAULT 0,
	last_error       TEXT    NOT NULL DEFAULT '',
	last_location    TEXT    NOT NULL DEFAULT '',
	last_success     TIMESTAMPTZ,
	changed_at       TIMESTAMPTZ,
	transitions      TEXT    NOT NULL DEFAULT '[]'
);

-- Raw results, kept for a while and rolled up (see the history tables).
-- result_key: an agent's result is stored once however often it is sent.
CREATE TABLE check_results (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	check_id    BIGINT  NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
	location    TEXT    NOT NULL DEFAULT '',
	result_key  TEXT    UNIQUE,
	started_at  TIMESTAMPTZ NOT NULL,
	duration_us BIGINT NOT NULL,
	ok          BOOLEAN NOT NULL,
	degraded    BOOLEAN NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	error       TEXT    NOT NULL DEFAULT '',
	tls         TEXT,
	bucket      TEXT
);
CREATE INDEX check_results_check_started ON check_results (check_id, started_at);

-- Unsafe things checks saw; at most one open finding per check and kind.
CREATE TABLE findings (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind       TEXT    NOT NULL,
	check_id   BIGINT  NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
	service_id BIGINT  NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	severity   TEXT    NOT NULL,
	detail     TEXT    NOT NULL,
	opened_at  TIMESTAMPTZ NOT NULL,
	closed_at  TIMESTAMPTZ,
	signal_id  BIGINT REFERENCES signals (id)
);
CREATE UNIQUE INDEX findings_open ON findings (check_id, kind) WHERE closed_at IS NULL;
CREATE INDEX findings_opened ON findings (opened_at);

-- Every certificate and public key (SPKI SHA-256) an endpoint served: the
-- history that tells a renewal from a rotation.
CREATE TABLE tls_certs (
	check_id    BIGINT  NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
	serial      TEXT    NOT NULL,
	spki_sha256 TEXT    NOT NULL,
	not_before  TIMESTAMPTZ NOT NULL,
	not_after   TIMESTAMPTZ NOT NULL,
	first_seen  TIMESTAMPTZ NOT NULL,
	last_seen   TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (check_id, serial, spki_sha256)
);
