-- The subscriber list, its consent record and the erasure suppressions.
-- Times are Unix nanoseconds (UTC).
CREATE TABLE subscribers (
	id              INTEGER PRIMARY KEY,
	-- Normalized (domain lower-cased and IDNA-encoded, local part as typed).
	-- NOCASE: Jane@x.org and jane@x.org are one subscriber, never two
	-- copies of every digest.
	email           TEXT NOT NULL UNIQUE COLLATE NOCASE,
	name            TEXT NOT NULL DEFAULT '',
	status          TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'unsubscribed', 'bounced', 'complained')),
	route           TEXT NOT NULL DEFAULT '',  -- how the address came in: form, json, api, cli, import
	created_at      INTEGER NOT NULL,
	confirmed_at    INTEGER,
	unsubscribed_at INTEGER,
	confirm_sent_at INTEGER,
	bounce_count    INTEGER NOT NULL DEFAULT 0,
	complaint_count INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX subscribers_status ON subscribers (status, id);

CREATE TABLE subscriber_digests (
	subscriber_id INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
	digest        TEXT NOT NULL,
	PRIMARY KEY (subscriber_id, digest)
);

CREATE INDEX subscriber_digests_digest ON subscriber_digests (digest, subscriber_id);

-- Append-only: who subscribed, confirmed or left, when, from where. Rows go
-- only when the person asks to be forgotten; the erasure itself is then
-- recorded with the address hash and no subscriber.
CREATE TABLE subscriber_events (
	id            INTEGER PRIMARY KEY,
	subscriber_id INTEGER REFERENCES subscribers (id) ON DELETE CASCADE,
	email_hash    TEXT,                      -- set on erasures: sha256 hex of the address
	kind          TEXT NOT NULL,
	at            INTEGER NOT NULL,
	ip            TEXT NOT NULL DEFAULT '',
	user_agent    TEXT NOT NULL DEFAULT '',
	route         TEXT NOT NULL DEFAULT '',
	detail        TEXT NOT NULL DEFAULT ''
);

CREATE INDEX subscriber_events_subscriber ON subscriber_events (subscriber_id, id);

-- Addresses erased on request, by hash: an import or an operator cannot
-- bring them back; only the person signing up again can.
CREATE TABLE suppressions (
	email_hash TEXT PRIMARY KEY,
	at         INTEGER NOT NULL,
	reason     TEXT NOT NULL DEFAULT ''
);

-- Small values the program keeps for itself (the token secret).
CREATE TABLE settings (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
