-- Articles and the files they came from. Times are Unix nanoseconds (UTC).
CREATE TABLE articles (
	id            TEXT PRIMARY KEY,          -- stable: front matter id or path without extension
	slug          TEXT NOT NULL UNIQUE,      -- assigned once, used in the article URL
	source        TEXT NOT NULL,             -- "content", later an upstream source name or "api"
	path          TEXT NOT NULL DEFAULT '',  -- file path relative to its content folder
	dir           TEXT NOT NULL DEFAULT '',  -- the content folder, as configured
	title         TEXT NOT NULL,
	author        TEXT NOT NULL DEFAULT '',
	summary       TEXT NOT NULL DEFAULT '',
	content_html  TEXT NOT NULL DEFAULT '',
	content_text  TEXT NOT NULL DEFAULT '',
	image         TEXT NOT NULL DEFAULT '',
	draft         INTEGER NOT NULL DEFAULT 0,
	published_at  INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	first_seen_at INTEGER NOT NULL,
	removed_at    INTEGER,                   -- set when the source no longer has it
	content_hash  TEXT NOT NULL,
	file_size     INTEGER NOT NULL DEFAULT 0,
	file_mtime    INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX articles_published ON articles (published_at DESC);
CREATE INDEX articles_file ON articles (dir, path);

CREATE TABLE article_tags (
	article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	tag        TEXT NOT NULL,
	position   INTEGER NOT NULL,
	PRIMARY KEY (article_id, tag)
);

CREATE INDEX article_tags_tag ON article_tags (tag);
