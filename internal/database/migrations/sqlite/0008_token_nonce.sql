-- Tokens belong to one person (see subscribers/token.go). token_nonce is
-- mixed into the MAC of every token for the subscriber: a new value, on
-- re-subscription and on confirmation, makes every link made before stop
-- working, and a token can be checked only against the nonce of the row it
-- names. Any 64-bit value will do; it is not a secret. The links mailed
-- before this migration were signed in the old format without a nonce and
-- no longer check, whatever the nonce.
ALTER TABLE subscribers ADD COLUMN token_nonce INTEGER NOT NULL DEFAULT 0;

UPDATE subscribers SET token_nonce = random();

-- One exception keeps the promise of mail already in inboxes: the
-- unsubscribe link (and List-Unsubscribe header) of a mail sent before
-- this migration still unsubscribes the id it names, for the ids that
-- existed now. Nothing else of the old format works.
INSERT OR REPLACE INTO settings (key, value)
	SELECT 'token_v1_unsubscribe_max_id', CAST(COALESCE(MAX(id), 0) AS TEXT) FROM subscribers;
