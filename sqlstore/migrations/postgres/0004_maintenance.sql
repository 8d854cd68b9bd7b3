-- Scheduled maintenances are incidents with a window (scheduled_for,
-- scheduled_until; NULL for an incident). reminded_at is set once, when the
-- reminder before the window is recorded.
ALTER TABLE incidents ADD COLUMN scheduled_for TIMESTAMPTZ;
ALTER TABLE incidents ADD COLUMN scheduled_until TIMESTAMPTZ;
ALTER TABLE incidents ADD COLUMN reminded_at TIMESTAMPTZ;
CREATE INDEX incidents_scheduled_for ON incidents (scheduled_for);
