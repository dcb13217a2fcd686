-- Each subscriber's time zone, an IANA name ("Europe/Berlin"): a digest
-- with deliver_at = "local HH:MM" mails them at that hour there. Empty:
-- the site's zone (site.timezone).
ALTER TABLE subscribers ADD COLUMN timezone TEXT NOT NULL DEFAULT '';
