// Package mail owns digests: editions, rendering, the delivery ledger,
// SMTP sending, retries, bounces and the archive. It may use the feed and
// subscribers packages; neither uses it.
//
// Nothing is built here yet: see the digest issue.
package mail
