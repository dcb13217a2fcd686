// Package mail owns digests: editions, rendering, the delivery ledger,
// SMTP sending, retries, bounces and the archive. It may use the feed and
// subscribers packages; neither uses it.
//
// Every mail leaves through a Transport. A Message renders itself to the
// exact RFC 5322 bytes that are sent (signed with DKIM when configured);
// SMTP submits them over a pool of reused connections under a shared
// rate limit, and Outbox writes them as .eml files when no SMTP server is
// configured. A *SendError carries the server's reply; IsPermanent tells
// a bounce (5xx) from a failure worth retrying.
//
// A Ledger plans editions (the articles no earlier edition of a digest
// carried, frozen with one queued delivery per confirmed subscriber, in one
// transaction) and is the source of truth for what was sent. A Sender
// works through due deliveries: claimed and marked sending before the SMTP
// transaction, sent only after the server accepted, 4xx retried with
// backoff, 5xx failed and reported as a bounce; rows left sending by a
// crash are sent again with the same Message-ID once their claim lapses.
// The Renderer renders an edition's body once and fills in each
// subscriber's name and links; the Archive serves past editions on the
// web without any subscriber's data.
package mail
