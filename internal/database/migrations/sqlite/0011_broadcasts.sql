-- A broadcast is an edition whose content is given, a Markdown file
-- rendered once, rather than frozen from articles: it goes through the
-- same ledger, headers, archive and unsubscribe links as a digest's.
-- source_key names the file and its target, so that sending one file twice
-- to the same subscribers is refused rather than done.
ALTER TABLE editions ADD COLUMN kind TEXT NOT NULL DEFAULT 'digest';
ALTER TABLE editions ADD COLUMN body_html TEXT NOT NULL DEFAULT '';
ALTER TABLE editions ADD COLUMN body_text TEXT NOT NULL DEFAULT '';
ALTER TABLE editions ADD COLUMN preheader TEXT NOT NULL DEFAULT '';
ALTER TABLE editions ADD COLUMN source_key TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX editions_source ON editions (source_key) WHERE source_key != '';
