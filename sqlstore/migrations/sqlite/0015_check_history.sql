-- Checks' history: per check and UTC day (days since 1970-01-01) the runs,
-- failures and degraded runs, a latency histogram (hist) and the 24 hours
-- packed in one blob (hours); see sqlstore/check_hist.go. Kept 400 days.
CREATE TABLE check_days (
	check_id INTEGER NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
	day      INTEGER NOT NULL,
	runs     INTEGER NOT NULL,
	failures INTEGER NOT NULL,
	degraded INTEGER NOT NULL,
	hist     BLOB    NOT NULL,
	hours    BLOB    NOT NULL,
	PRIMARY KEY (check_id, day)
) WITHOUT ROWID;

-- A raw result is folded into check_days once: compaction marks it, and
-- finds the unmarked ones (the last hour's, and late ones from agents) by
-- this small partial index.
ALTER TABLE check_results ADD COLUMN folded INTEGER NOT NULL DEFAULT 0;
CREATE INDEX check_results_unfolded ON check_results (started_at) WHERE folded = 0;

-- Raw results older than two hours, packed per check and hour (hours since
-- 1970) with their repeated texts stored once; see sqlstore/check_blocks.go.
-- Kept as long as raw results (checks.retention).
CREATE TABLE check_blocks (
	check_id INTEGER NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
	hour     INTEGER NOT NULL,
	results  BLOB NOT NULL,
	PRIMARY KEY (check_id, hour)
) WITHOUT ROWID;
