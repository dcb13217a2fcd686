-- Subscriber ids are never given out twice: tokens name them.
--
-- subscriber_ids holds the highest subscriber id ever given out. Every
-- insert into subscribers takes its ids above it and raises it in the same
-- transaction, so no id is given out twice: SQLite's INTEGER PRIMARY KEY
-- alone takes max(id) + 1, which after forgetting the newest subscriber is
-- that person's id again. AUTOINCREMENT would do the same job, but adding
-- it means rebuilding subscribers, and with foreign keys on, dropping that
-- table deletes every digest choice, event and delivery through ON DELETE
-- CASCADE. Ids forgotten before this migration above the highest one left
-- are not known and may be given out once more: harmless, as the links
-- made for them were signed without a nonce (0007) and no longer check.
CREATE TABLE subscriber_ids (
	one  INTEGER PRIMARY KEY CHECK (one = 1),  -- a single row
	last INTEGER NOT NULL
);

INSERT INTO subscriber_ids (one, last) SELECT 1, COALESCE(MAX(id), 0) FROM subscribers;
