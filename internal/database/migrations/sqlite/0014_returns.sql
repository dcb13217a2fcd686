-- What came back for a delivery after it was sent: '' (nothing), 'bounce'
-- (hard), 'soft' or 'complaint'; set once, so the same report twice counts
-- once.
ALTER TABLE deliveries ADD COLUMN returned TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN returned_at INTEGER NOT NULL DEFAULT 0;
