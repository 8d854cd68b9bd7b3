-- Scheduled maintenances are incidents with a window (scheduled_for,
-- scheduled_until; NULL for an incident). reminded_at is set once, when the
-- reminder before the window is recorded.
ALTER TABLE incidents ADD COLUMN scheduled_for INTEGER;
ALTER TABLE incidents ADD COLUMN scheduled_until INTEGER;
ALTER TABLE incidents ADD COLUMN reminded_at INTEGER;
CREATE INDEX incidents_scheduled_for ON incidents (scheduled_for);
