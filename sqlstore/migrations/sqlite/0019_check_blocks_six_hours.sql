-- Raw results are packed per check and six hours (from an hour divisible
-- by 6), no longer per hour, as soon as their hour is folded; see
-- sqlstore/check_blocks.go. This migration's Go half (blocksBySixHours)
-- moves the hourly blocks into the new table, then drops the old one.
-- A rowid table: a WITHOUT ROWID row keeps only about 1 KB in its page
-- and spills the rest to a page of its own, and six hours of a check
-- every 30 s pass that.
ALTER TABLE check_blocks RENAME TO check_blocks_hourly;
CREATE TABLE check_blocks (
	check_id INTEGER NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
	hour     INTEGER NOT NULL,
	results  BLOB    NOT NULL,
	PRIMARY KEY (check_id, hour)
);
