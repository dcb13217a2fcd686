-- Every inbound message tidings acted on (bounces, complaints, mailto
-- unsubscribes, auto-replies, unmatched mail), whichever way it came in,
-- for tidings inbound list. Rows older than inbound.log_retention are
-- pruned. A subscriber erased takes their rows along; the delivery a row
-- names may go with them.
CREATE TABLE inbound_log (
	id            INTEGER PRIMARY KEY,
	received_at   INTEGER NOT NULL,
	source        TEXT NOT NULL,
	provider      TEXT NOT NULL DEFAULT '',
	kind          TEXT NOT NULL,
	action        TEXT NOT NULL,
	delivery_id   INTEGER REFERENCES deliveries (id) ON DELETE SET NULL,
	subscriber_id INTEGER REFERENCES subscribers (id) ON DELETE CASCADE,
	recipient     TEXT NOT NULL DEFAULT '',
	status        TEXT NOT NULL DEFAULT '',
	diagnostic    TEXT NOT NULL DEFAULT '',
	reason        TEXT NOT NULL DEFAULT '',
	message_id    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX inbound_log_received ON inbound_log (received_at);
CREATE INDEX inbound_log_subscriber ON inbound_log (subscriber_id);
CREATE INDEX inbound_log_delivery ON inbound_log (delivery_id);
-- When a subscriber unsubscribed by mail after this delivery (the latest
-- one sent to them before their request came): editions show counts them.
ALTER TABLE deliveries ADD COLUMN unsubscribed_at INTEGER NOT NULL DEFAULT 0;
