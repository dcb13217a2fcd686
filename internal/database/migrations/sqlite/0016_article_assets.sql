-- The files an article from a content file names as assets (its images
-- and attachments, next to it), as the scan that last parsed it found
-- them: a rescan parses the article again when one of them changed,
-- appeared or went, though the article's own file did not, so that an
-- image replaced under its old name gives the article the new one.
CREATE TABLE article_assets (
	article_id TEXT NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
	path       TEXT NOT NULL,              -- below the content folder the article is read through
	file_size  INTEGER NOT NULL,           -- -1: the file was not there
	file_mtime INTEGER NOT NULL,
	name       TEXT NOT NULL DEFAULT '',   -- its published name, '' when it was not published
	PRIMARY KEY (article_id, path)
);
