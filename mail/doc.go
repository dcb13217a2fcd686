// Package mail owns digests and their delivery: editions, rendering, the
// delivery ledger, the sender and the archive of past editions. It may use
// the feed and subscribers packages; neither uses it. Turning a message
// into bytes and handing them to an SMTP server (or the .eml outbox) is
// mail/transport's job, a leaf this package drives through the
// transport.Transport interface.
//
// # What it owns
//
// The editions, edition_articles, deliveries, digest_runs and inbound_log
// tables, and no other: articles come through the Articles interface (*feed.Store),
// subscribers through Recipients (*subscribers.Store). A Ledger is the
// record and the source of truth for what was sent. Plan freezes an
// edition (the articles no earlier edition of the digest carried, at most
// MaxArticles, newest first) with one queued delivery per confirmed
// subscriber, queued in short transactions of a chunk of subscribers each
// so that a long list never holds the writer (a plan cut short resumes
// from its cursor); Next previews the same selection without
// writing. Stats gives the counts /metrics shows. A Renderer renders an
// edition's body once and fills in each subscriber's name and links; a
// Sender works through due deliveries; the Archive serves past editions
// on the web without any subscriber's data. Hear acts on mail that came
// back (classified by mail/inbound), marking the delivery it is about
// once, and LogInbound keeps the inbound log that tidings inbound list
// shows, pruned past its retention.
//
// # Delivery states
//
// A delivery is queued when planned; the sender claims it (sending, its
// attempt counted, the claim held for Lease) before the SMTP transaction,
// and records the outcome after:
//
//   - sent: the server accepted it (250 after the final dot). This is
//     recorded whatever the row became meanwhile: an accepted message is
//     the truth, and leaving the row to be sent again would mail it twice.
//   - failed: refused for good (5xx, or a message that cannot be
//     rendered), or out of attempts. Only a 5xx reply to MAIL, RCPT or
//     DATA counts as a bounce against the subscriber.
//   - queued again, for later: a temporary failure (4xx, timeouts, dropped
//     connections), retried with exponential backoff up to MaxAttempts.
//   - skipped: the subscriber left or was erased after the edition was
//     planned.
//
// Connection, TLS and AUTH failures are never bounces, whatever the
// server answered: they say nothing about the recipient.
//
// # In doubt
//
// Two things are in doubt, and only these are ever sent twice, always
// with the delivery's Message-ID (fixed when queued), so that a receiving
// system can drop the copy: rows left sending by a sender that died
// (taken up again once their claim lapses), and a message whose
// connection broke after the final dot, before the server's reply (queued
// for the backoff, not resent at once). Nothing is marked sent that the
// server did not accept.
//
// # Stopping
//
// When the context of Sender.SendDue ends, the sender claims nothing more and
// begins no send; the sends in flight finish (SMTPConfig.Timeout bounds
// them), their outcomes are recorded, and the claims not started on are
// given back with their attempt.
package mail
