-- Personal data breaches: one record per security incident marked yes,
-- likely or no, with the moment of awareness the clocks start from and
-- the register's fields (GDPR art. 33(5)).
CREATE TABLE breaches (
	incident_id         INTEGER PRIMARY KEY REFERENCES security_incidents (id) ON DELETE CASCADE,
	answer              TEXT    NOT NULL,
	aware_at            INTEGER NOT NULL,
	breach_type         TEXT    NOT NULL DEFAULT '',
	risk                TEXT    NOT NULL DEFAULT '',
	status              TEXT    NOT NULL DEFAULT 'discovered',
	categories          TEXT    NOT NULL DEFAULT '',
	people              INTEGER,
	records             INTEGER,
	consequences        TEXT    NOT NULL DEFAULT '',
	remedial            TEXT    NOT NULL DEFAULT '',
	authority_at        INTEGER,
	authority_ref       TEXT    NOT NULL DEFAULT '',
	subjects_at         INTEGER,
	subjects_count      INTEGER,
	subjects_how        TEXT    NOT NULL DEFAULT '',
	nis2_early_warning  INTEGER,
	nis2_notification   INTEGER,
	nis2_final_report   INTEGER,
	created_at          INTEGER NOT NULL,
	updated_at          INTEGER NOT NULL
);
CREATE INDEX breaches_answer ON breaches (answer, aware_at);

-- Each decision whether to notify the authority (subjects = 0) or the
-- people concerned (subjects = 1), with its reason; also a decision on
-- the incident's timeline.
CREATE TABLE breach_decisions (
	id          INTEGER PRIMARY KEY,
	incident_id INTEGER NOT NULL REFERENCES breaches (incident_id) ON DELETE CASCADE,
	subjects    INTEGER NOT NULL,
	notify      INTEGER NOT NULL,
	why         TEXT    NOT NULL,
	late        INTEGER NOT NULL,
	late_reason TEXT    NOT NULL DEFAULT '',
	decided_by  INTEGER NOT NULL REFERENCES users (id),
	decided_at  INTEGER NOT NULL,
	decision_id INTEGER NOT NULL REFERENCES security_decisions (id)
);
CREATE INDEX breach_decisions_incident ON breach_decisions (incident_id, decided_at);
