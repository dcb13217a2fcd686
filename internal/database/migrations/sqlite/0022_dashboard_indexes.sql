-- What the admin's dashboard counts, from indexes alone: sign-ups and
-- unsubscribes by week (subscribers), and each edition's returns
-- (deliveries; the reputation guard asks the same).
CREATE INDEX subscribers_created ON subscribers (created_at);
CREATE INDEX subscribers_unsubscribed ON subscribers (unsubscribed_at) WHERE unsubscribed_at IS NOT NULL;
CREATE INDEX deliveries_returned ON deliveries (edition_id, returned) WHERE returned != '';
