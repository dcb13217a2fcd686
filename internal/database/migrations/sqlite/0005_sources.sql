-- Upstream feeds and what tidings remembers of each between fetches, so
-- that conditional GETs and Retry-After survive restarts and `tidings run`.
-- Times are Unix nanoseconds (UTC).
CREATE TABLE sources (
	name           TEXT PRIMARY KEY,
	url            TEXT NOT NULL,
	etag           TEXT NOT NULL DEFAULT '',
	last_modified  TEXT NOT NULL DEFAULT '',
	last_fetch_at  INTEGER,
	last_status    INTEGER NOT NULL DEFAULT 0,
	last_error     TEXT NOT NULL DEFAULT '',
	item_count     INTEGER NOT NULL DEFAULT 0,
	first_fetch_at INTEGER,                   -- the first fetch that brought items; NULL until then
	retry_after    INTEGER                    -- no request before this time (429/503 Retry-After)
);

-- 0 keeps an article out of digests while it stays in feeds: the items an
-- upstream already carried when tidings first fetched it, so that following
-- a feed does not mail its whole back catalogue.
ALTER TABLE articles ADD COLUMN in_digests INTEGER NOT NULL DEFAULT 1;
