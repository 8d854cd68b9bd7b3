-- Checks' roll-ups, one row per check and week (days since 1970-01-01
-- divided by 7) holding the week's days: runs, failures, degraded runs,
-- latency histogram and 24 hours each; see sqlstore/check_weeks.go. They
-- replace check_days (one row per check and day), whose rows this
-- migration's Go half (weeksFromDays) moves here before dropping it.
CREATE TABLE check_weeks (
	check_id BIGINT  NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
	week     BIGINT  NOT NULL,
	days     BYTEA   NOT NULL,
	PRIMARY KEY (check_id, week)
);
