-- Mail to one subscriber that belongs to no edition goes through the
-- ledger too: the confirmation of a sign-up, the note to an address that
-- is subscribed already, the welcome after confirming. Such a delivery
-- has a kind other than 'edition' and no edition. edition_id becomes
-- nullable, which SQLite can only do by building the table again; nothing
-- references deliveries, so dropping the old one takes nothing with it.
CREATE TABLE deliveries_new (
	id              INTEGER PRIMARY KEY,
	kind            TEXT NOT NULL DEFAULT 'edition',
	edition_id      INTEGER REFERENCES editions (id) ON DELETE CASCADE,
	subscriber_id   INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
	email           TEXT NOT NULL,
	state           TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'skipped')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER NOT NULL,
	message_id      TEXT NOT NULL UNIQUE,
	last_code       INTEGER NOT NULL DEFAULT 0,
	last_reply      TEXT NOT NULL DEFAULT '',
	updated_at      INTEGER NOT NULL,
	sent_at         INTEGER,
	claimed_by      TEXT NOT NULL DEFAULT '',
	UNIQUE (edition_id, subscriber_id),
	CHECK ((kind = 'edition') = (edition_id IS NOT NULL))
);

INSERT INTO deliveries_new (id, kind, edition_id, subscriber_id, email, state, attempts, next_attempt_at, message_id,
	last_code, last_reply, updated_at, sent_at, claimed_by)
	SELECT id, 'edition', edition_id, subscriber_id, email, state, attempts, next_attempt_at, message_id,
	last_code, last_reply, updated_at, sent_at, claimed_by FROM deliveries;

DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;

CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_edition_state ON deliveries (edition_id, state);
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);
