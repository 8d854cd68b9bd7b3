-- The expiry tier (days) a cert_expiring finding was opened in: a
-- certificate falling into a lower tier (30 → 14 → 7 → 1) is news again.
ALTER TABLE findings ADD COLUMN tier INTEGER NOT NULL DEFAULT 0;
