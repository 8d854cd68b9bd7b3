-- Checks' roll-ups, one row per check and week (days since 1970-01-01
-- divided by 7) holding the week's days: runs, failures, degraded runs,
-- latency histogram and 24 hours each; see sqlstore/check_weeks.go. They
-- replace check_days (one row per check and day), whose rows this
-- migration's Go half (weeksFromDays) moves here before dropping it.
CREATE TABLE check_weeks (
	check_id INTEGER NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
	week     INTEGER NOT NULL,
	days     BLOB    NOT NULL,
	PRIMARY KEY (check_id, week)
);
-- A rowid table, unlike check_days: a WITHOUT ROWID row keeps only about
-- 1 KB in its page and spills the rest to a page of its own, and a week of
-- a check whose latency varies widely can pass that.
