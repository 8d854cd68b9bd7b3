-- Checks: probes of a service (spec is the JSON of tocsin.CheckSpec, the
-- form the file and the API use too), their current standing, their raw
-- results, the findings they opened and the certificates their endpoints
-- served. A service's status moves with its checks unless a person pinned
-- it by hand (status_pinned).
ALTER TABLE services ADD COLUMN status_pinned INTEGER NOT NULL DEFAULT 0;

CREATE TABLE checks (
	id             INTEGER PRIMARY KEY,
	service_id     INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	name           TEXT    NOT NULL,
	kind           TEXT    NOT NULL,
	spec           TEXT    NOT NULL,
	interval_ms    INTEGER NOT NULL,
	timeout_ms     INTEGER NOT NULL,
	fail_threshold INTEGER NOT NULL,
	pass_threshold INTEGER NOT NULL,
	quorum         INTEGER NOT NULL,
	fail_status    TEXT    NOT NULL,
	page           INTEGER NOT NULL DEFAULT 0,
	severity       TEXT    NOT NULL,
	paused         INTEGER NOT NULL DEFAULT 0,
	config_managed INTEGER NOT NULL DEFAULT 0,
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	UNIQUE (service_id, name)
);

-- One row per check: its state from consecutive results, the per-location
-- runs the quorum counts (locations, JSON), the last result's summary and
-- the recent state changes flap damping counts (transitions, JSON).
CREATE TABLE check_status (
	check_id         INTEGER PRIMARY KEY REFERENCES checks (id) ON DELETE CASCADE,
	state            TEXT    NOT NULL,
	fails            INTEGER NOT NULL DEFAULT 0,
	passes           INTEGER NOT NULL DEFAULT 0,
	flapping         INTEGER NOT NULL DEFAULT 0,
	locations        TEXT    NOT NULL DEFAULT '{}',
	last_started_at  INTEGER,
	last_ok          INTEGER NOT NULL DEFAULT 0,
	last_degraded    INTEGER NOT NULL DEFAULT 0,
	last_duration_us INTEGER NOT NULL DEFAULT 0,
	last_status_code INTEGER NOT NULL DEFAULT 0,
	last_error       TEXT    NOT NULL DEFAULT '',
	last_location    TEXT    NOT NULL DEFAULT '',
	last_success     INTEGER,
	changed_at       INTEGER,
	transitions      TEXT    NOT NULL DEFAULT '[]'
);

-- Raw results, kept for a while and rolled up (see the history tables).
-- result_key: an agent's result is stored once however often it is sent.
CREATE TABLE check_results (
	id          INTEGER PRIMARY KEY,
	check_id    INTEGER NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
	location    TEXT    NOT NULL DEFAULT '',
	result_key  TEXT    UNIQUE,
	started_at  INTEGER NOT NULL,
	duration_us INTEGER NOT NULL,
	ok          INTEGER NOT NULL,
	degraded    INTEGER NOT NULL,
	status_code INTEGER NOT NULL DEFAULT 0,
	error       TEXT    NOT NULL DEFAULT '',
	tls         TEXT,
	bucket      TEXT
);
CREATE INDEX check_results_check_started ON check_results (check_id, started_at);

-- Unsafe things checks saw; at most one open finding per check and kind.
CREATE TABLE findings (
	id         INTEGER PRIMARY KEY,
	kind       TEXT    NOT NULL,
	check_id   INTEGER NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
	service_id INTEGER NOT NULL REFERENCES services (id) ON DELETE CASCADE,
	severity   TEXT    NOT NULL,
	detail     TEXT    NOT NULL,
	opened_at  INTEGER NOT NULL,
	closed_at  INTEGER,
	signal_id  INTEGER REFERENCES signals (id)
);
CREATE UNIQUE INDEX findings_open ON findings (check_id, kind) WHERE closed_at IS NULL;
CREATE INDEX findings_opened ON findings (opened_at);

-- Every certificate and public key (SPKI SHA-256) an endpoint served: the
-- history that tells a renewal from a rotation.
CREATE TABLE tls_certs (
	check_id    INTEGER NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
	serial      TEXT    NOT NULL,
	spki_sha256 TEXT    NOT NULL,
	not_before  INTEGER NOT NULL,
	not_after   INTEGER NOT NULL,
	first_seen  INTEGER NOT NULL,
	last_seen   INTEGER NOT NULL,
	PRIMARY KEY (check_id, serial, spki_sha256)
);
