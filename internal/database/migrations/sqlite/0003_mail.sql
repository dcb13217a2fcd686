-- Digest editions and the per-recipient delivery ledger.
-- Times are Unix nanoseconds (UTC).

-- One run of a digest. The schedule moment it belongs to is unique per
-- digest, so that a second run at the same moment (a restart, a DST
-- repeat) finds the edition instead of making another.
CREATE TABLE editions (
	id            INTEGER PRIMARY KEY,
	digest        TEXT NOT NULL,
	scheduled_at  INTEGER NOT NULL,
	created_at    INTEGER NOT NULL,
	subject       TEXT NOT NULL DEFAULT '',
	article_count INTEGER NOT NULL DEFAULT 0,
	state         TEXT NOT NULL CHECK (state IN ('sending', 'done')),
	UNIQUE (digest, scheduled_at)
);

-- The frozen article list of an edition. article_id has no foreign key:
-- the articles table belongs to the feed package, and an edition keeps
-- naming what it carried whatever happens to the article later. digest
-- repeats the edition's so that the unique index below can hold the rule
-- "an article goes into at most one edition of each digest", and answer
-- "which of these articles did digest X carry already" from the index.
CREATE TABLE edition_articles (
	edition_id INTEGER NOT NULL REFERENCES editions (id) ON DELETE CASCADE,
	digest     TEXT NOT NULL,
	article_id TEXT NOT NULL,
	position   INTEGER NOT NULL,
	PRIMARY KEY (edition_id, article_id)
);

CREATE UNIQUE INDEX edition_articles_carried ON edition_articles (digest, article_id);

-- One edition to one subscriber. message_id is fixed when the row is
-- queued and is the same on every attempt, so that a receiver can drop the
-- second copy of a message whose first attempt was in doubt. A subscriber
-- erased on request takes its deliveries (and their address snapshot) with
-- it. For a row in state 'sending', next_attempt_at is when its claim
-- lapses: a sender that dies mid-send leaves it to be taken up again then.
CREATE TABLE deliveries (
	id              INTEGER PRIMARY KEY,
	edition_id      INTEGER NOT NULL REFERENCES editions (id) ON DELETE CASCADE,
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
	UNIQUE (edition_id, subscriber_id)
);

-- The sender's work list: due rows by state and time.
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
-- Per-edition counts, failures, and "is anything of this edition still
-- open" after every batch, without scanning the edition's rows.
CREATE INDEX deliveries_edition_state ON deliveries (edition_id, state);
-- Erasing a subscriber cascades here.
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);

-- When the scheduler last ran each digest.
CREATE TABLE digest_runs (
	digest      TEXT PRIMARY KEY,
	last_run_at INTEGER NOT NULL
);
