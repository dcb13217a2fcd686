-- Everything a feed build reads of an article but its content, in the
-- order the feeds list them: the build's index of articles is read from
-- this index alone, never from the rows, whose content comes first and
-- spans overflow pages. The last column is the content's size, for
-- feeds.max_item_bytes.
CREATE INDEX articles_feed ON articles (published_at DESC, id, draft, removed_at, slug, source, path, title,
	author, summary, image, updated_at, first_seen_at, content_hash,
	(octet_length(content_html) + octet_length(content_text)));
