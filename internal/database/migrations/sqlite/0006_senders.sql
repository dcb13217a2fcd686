-- Who is sending. A sender process registers here for as long as it
-- sends and renews heartbeat_at every few seconds; a delivery it claimed
-- names it in claimed_by. A claim whose sender is gone (its row removed,
-- its heartbeat stale, or its process no longer running on this host) is
-- taken over at once, not after a lease of minutes.
-- Times are Unix nanoseconds (UTC).
CREATE TABLE senders (
	id           TEXT PRIMARY KEY,
	host         TEXT NOT NULL,
	pid          INTEGER NOT NULL,
	started_at   INTEGER NOT NULL,
	heartbeat_at INTEGER NOT NULL
);

ALTER TABLE deliveries ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
