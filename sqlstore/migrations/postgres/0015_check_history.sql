-- Checks' history: per check and UTC day (days since 1970-01-01) the runs,
-- failures and degraded runs, a latency histogram (hist) and the 24 hours
-- packed in one blob (hours); see sqlstore/check_hist.go. Kept 400 days.
CREATE TABLE check_days (
	check_id BIGINT  NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
	day      INTEGER NOT NULL,
	runs     BIGINT  NOT NULL,
	failures BIGINT  NOT NULL,
	degraded BIGINT  NOT NULL,
	hist     BYTEA   NOT NULL,
	hours    BYTEA   NOT NULL,
	PRIMARY KEY (check_id, day)
);

-- A raw result is folded into check_days once: compaction marks it, and
-- finds the unmarked ones (the last hour's, and late ones from agents) by
-- this small partial index.
ALTER TABLE check_results ADD COLUMN folded BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX check_results_unfolded ON check_results (started_at) WHERE NOT folded;
