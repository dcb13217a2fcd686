-- A rescan compares every content file with what the store holds of it.
-- This index carries all the columns that comparison reads, so that it is
-- answered from the index alone: the rows themselves, whose HTML and text
-- spill onto overflow pages, are not read. It starts with (dir, path) and
-- so takes the place of articles_file.
DROP INDEX articles_file;
CREATE INDEX articles_file_scan ON articles (dir, path, id, source, file_size, file_mtime, removed_at,
	content_hash, slug, published_at, updated_at);
