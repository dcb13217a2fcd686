-- When the scheduler first ran each digest: a digest with mode = "each"
-- mails the articles published since then, never the back catalogue.
ALTER TABLE digest_runs ADD COLUMN first_run_at INTEGER NOT NULL DEFAULT 0;
UPDATE digest_runs SET first_run_at = last_run_at;
