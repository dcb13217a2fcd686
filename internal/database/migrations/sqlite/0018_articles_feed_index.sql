-- What a feed build reads of every article to cut its feeds and tell
-- what changed, in the order the feeds list them: that index is read from
-- here alone, never from the rows, whose content comes before these
-- columns and spans overflow pages. The last column is the content's
-- size, for feeds.max_item_bytes.
CREATE INDEX articles_feed ON articles (published_at DESC, id, draft, removed_at, slug, source, path,
	updated_at, content_hash, (octet_length(content_html) + octet_length(content_text)));
