-- The daily limit counts what went out since the day began.
CREATE INDEX deliveries_sent_at ON deliveries (sent_at) WHERE state = 'sent';
