-- The admin's edition lists count each edition's bounces and complaints:
-- a partial index holds only the deliveries that came back, so the count
-- does not read every delivery of a large edition.
CREATE INDEX deliveries_returned ON deliveries (edition_id, returned) WHERE returned != '';
