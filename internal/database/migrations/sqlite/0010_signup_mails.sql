-- Every mail a sign-up asks for (a confirmation link, or the note to an
-- address subscribed already), by the mailbox it goes to, its domain and
-- the network the request came from: what caps them, so that the form
-- cannot be used to bomb a mailbox. Rows older than a day are of no use
-- and are deleted as new ones come in. Times are Unix nanoseconds (UTC).
CREATE TABLE signup_mails (
	at      INTEGER NOT NULL,
	mailbox TEXT NOT NULL,  -- the address as its provider reads it: gmail dots and +tags folded
	domain  TEXT NOT NULL,
	net     TEXT NOT NULL   -- the requester's /24 (IPv4) or /64 (IPv6)
);

CREATE INDEX signup_mails_mailbox ON signup_mails (mailbox, at);
CREATE INDEX signup_mails_domain ON signup_mails (domain, at);
CREATE INDEX signup_mails_net ON signup_mails (net, at);
CREATE INDEX signup_mails_at ON signup_mails (at);
