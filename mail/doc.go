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
// Editions, rendering and the ledger are not built yet: see the digest
// issue.
package mail
