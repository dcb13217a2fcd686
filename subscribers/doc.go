// Package subscribers owns the subscriber list: addresses and their
// lifecycle (pending, confirmed, unsubscribed, bounced, complained), the
// digests each receives, the append-only consent record of events, the
// erasure suppressions, the signed tokens in mailed links, CSV import and
// export, and the subscribe, confirm, unsubscribe and preferences handlers
// and the admin API.
//
// Every change to a subscriber is one transaction that writes its event
// with it, so the record never misses a change. The package sends its
// confirmation mail through its own small Mailer interface and knows
// nothing of feeds, editions or delivery: the mail package asks it which
// subscribers are confirmed for a digest and tells it about bounces.
package subscribers
