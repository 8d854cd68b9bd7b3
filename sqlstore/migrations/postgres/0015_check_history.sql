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

-- Raw results older than two hours, packed per check and hour (hours since
-- 1970) with their repeated texts stored once; see sqlstore/check_blocks.go.
-- Kept as long as raw results (checks.retention).
CREATE TABLE check_blocks (
	check_id BIGINT NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
	hour     BIGINT NOT NULL,
	results  BYTEA NOT NULL,
	PRIMARY KEY (check_id, hour)
);
