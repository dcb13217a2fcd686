-- Lists of editions (the admin's) show what became of each one's
-- deliveries. Counting them is reading every delivery of every edition
-- listed: for editions to 100,000 subscribers, too slow for a page. So:
--
-- edition_totals freezes the counts of an edition when it is done (the
-- trigger below, whichever code marks it done); reopening it (a retry)
-- drops them, and a delivery deleted from a done edition (its subscriber
-- erased) is taken off them. A done edition with no row is counted from
-- deliveries, as a sending one always is.
CREATE TABLE edition_totals (
	edition_id INTEGER PRIMARY KEY REFERENCES editions (id) ON DELETE CASCADE,
	total      INTEGER NOT NULL,
	sent       INTEGER NOT NULL,
	failed     INTEGER NOT NULL,
	skipped    INTEGER NOT NULL
);

CREATE TRIGGER edition_totals_done AFTER UPDATE OF state ON editions
WHEN NEW.state = 'done' AND OLD.state != 'done'
BEGIN
	INSERT OR REPLACE INTO edition_totals (edition_id, total, sent, failed, skipped)
	SELECT NEW.id, COUNT(*), COALESCE(SUM(state = 'sent'), 0), COALESCE(SUM(state = 'failed'), 0), COALESCE(SUM(state = 'skipped'), 0)
	FROM deliveries WHERE edition_id = NEW.id;
END;

CREATE TRIGGER edition_totals_reopen AFTER UPDATE OF state ON editions
WHEN NEW.state != 'done'
BEGIN
	DELETE FROM edition_totals WHERE edition_id = NEW.id;
END;

CREATE TRIGGER edition_totals_erased AFTER DELETE ON deliveries
WHEN OLD.edition_id IS NOT NULL
BEGIN
	UPDATE edition_totals SET total = total - 1, sent = sent - (OLD.state = 'sent'),
		failed = failed - (OLD.state = 'failed'), skipped = skipped - (OLD.state = 'skipped')
	WHERE edition_id = OLD.edition_id;
END;

INSERT INTO edition_totals (edition_id, total, sent, failed, skipped)
SELECT e.id, COUNT(d.id), COALESCE(SUM(d.state = 'sent'), 0), COALESCE(SUM(d.state = 'failed'), 0), COALESCE(SUM(d.state = 'skipped'), 0)
FROM editions e JOIN deliveries d ON d.edition_id = e.id WHERE e.state = 'done' GROUP BY e.id;

-- What came back (bounces, complaints) per edition, from the few rows
-- that did; and the first and last sent of an edition (its sending rate)
-- without reading the rest.
-- deliveries_returned (edition_id, returned) is made by 0022.
CREATE INDEX deliveries_edition_sent ON deliveries (edition_id, sent_at) WHERE state = 'sent';
