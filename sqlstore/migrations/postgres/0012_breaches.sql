-- Personal data breaches: one record per security incident marked yes,
-- likely or no, with the moment of awareness the clocks start from and
-- the register's fields (GDPR art. 33(5)).
CREATE TABLE breaches (
	incident_id         BIGINT PRIMARY KEY REFERENCES security_incidents (id) ON DELETE CASCADE,
	answer              TEXT    NOT NULL,
	aware_at            TIMESTAMPTZ NOT NULL,
	breach_type         TEXT    NOT NULL DEFAULT '',
	risk                TEXT    NOT NULL DEFAULT '',
	status              TEXT    NOT NULL DEFAULT 'discovered',
	categories          TEXT    NOT NULL DEFAULT '',
	people              BIGINT,
	records             BIGINT,
	consequences        TEXT    NOT NULL DEFAULT '',
	remedial            TEXT    NOT NULL DEFAULT '',
	authority_at        TIMESTAMPTZ,
	authority_ref       TEXT    NOT NULL DEFAULT '',
	subjects_at         TIMESTAMPTZ,
	subjects_count      BIGINT,
	subjects_how        TEXT    NOT NULL DEFAULT '',
	nis2_early_warning  TIMESTAMPTZ,
	nis2_notification   TIMESTAMPTZ,
	nis2_final_report   TIMESTAMPTZ,
	created_at          TIMESTAMPTZ NOT NULL,
	updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX breaches_answer ON breaches (answer, aware_at);

-- Each decision whether to notify the authority (subjects false) or the
-- people concerned (subjects true), with its reason; also a decision on
-- the incident's timeline.
CREATE TABLE breach_decisions (
	id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	incident_id BIGINT NOT NULL REFERENCES breaches (incident_id) ON DELETE CASCADE,
	subjects    BOOLEAN NOT NULL,
	notify      BOOLEAN NOT NULL,
	why         TEXT    NOT NULL,
	late        BOOLEAN NOT NULL,
	late_reason TEXT    NOT NULL DEFAULT '',
	decided_by  BIGINT NOT NULL REFERENCES users (id),
	decided_at  TIMESTAMPTZ NOT NULL,
	decision_id BIGINT NOT NULL REFERENCES security_decisions (id)
);
CREATE INDEX breach_decisions_incident ON breach_decisions (incident_id, decided_at);
