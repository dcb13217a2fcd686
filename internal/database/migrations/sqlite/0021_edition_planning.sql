-- An edition is planned in chunks of subscribers, each its own short
-- transaction, so that planning a large list never holds the one writer
-- long (sign-ups and unsubscribes wait behind it). While planning is 1
-- the sender leaves the edition alone; plan_after is the keyset cursor,
-- the highest subscriber id queued so far, so that planning cut short
-- resumes where it stopped. What the chunks need is kept here too, so
-- that any process can finish the plan: plan_due (when the deliveries
-- are due, or with plan_deliver_at the moment each subscriber's hour is
-- counted from) and plan_domain (of the Message-IDs).
ALTER TABLE editions ADD COLUMN planning INTEGER NOT NULL DEFAULT 0;
ALTER TABLE editions ADD COLUMN plan_after INTEGER NOT NULL DEFAULT 0;
ALTER TABLE editions ADD COLUMN plan_due INTEGER NOT NULL DEFAULT 0;
ALTER TABLE editions ADD COLUMN plan_deliver_at TEXT NOT NULL DEFAULT '';
ALTER TABLE editions ADD COLUMN plan_domain TEXT NOT NULL DEFAULT '';
CREATE INDEX editions_planning ON editions (id) WHERE planning != 0;
