-- The reputation guard: an edition whose complaints or hard bounces pass
-- their ceiling is paused (its queued deliveries wait) until an operator
-- resumes it, which also turns the guard off for that edition.
ALTER TABLE editions ADD COLUMN paused_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE editions ADD COLUMN paused_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE editions ADD COLUMN resumed_at INTEGER NOT NULL DEFAULT 0;
