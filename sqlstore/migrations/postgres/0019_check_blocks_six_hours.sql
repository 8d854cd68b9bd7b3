-- Raw results are packed per check and six hours (from an hour divisible
-- by 6), no longer per hour, as soon as their hour is folded; see
-- sqlstore/check_blocks.go. This migration's Go half (blocksBySixHours)
-- moves the hourly blocks into the new table, then drops the old one.
ALTER TABLE check_blocks RENAME TO check_blocks_hourly;
ALTER INDEX check_blocks_pkey RENAME TO check_blocks_hourly_pkey;
CREATE TABLE check_blocks (
	check_id BIGINT NOT NULL REFERENCES checks (id) ON DELETE CASCADE,
	hour     BIGINT NOT NULL,
	results  BYTEA  NOT NULL,
	PRIMARY KEY (check_id, hour)
);
