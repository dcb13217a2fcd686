// Package subscribers owns the subscriber list: addresses and their
// lifecycle (pending, confirmed, unsubscribed, bounced, complained), the
// digests each receives, the append-only consent record of events, the
// erasure suppressions, the signed tokens in mailed links, CSV import and
// export, and the subscribe, confirm, unsubscribe and preferences handlers
// and the admin API.
//
// Every change to a subscriber is one transaction that writes its event
// with it, so the record never misses a change.
//
// A token belongs to one person. It names a subscriber id, and ids are
// never given out twice (a high-water mark, not SQLite's max(id) + 1); its
// HMAC covers the subscriber's token nonce, which is not in the token, so
// checking one asks the store for that nonce now. Forget deletes the row,
// and with it every token for it; a new sign-up after leaving and a
// confirmation renew the nonce, ending every link made before, so a
// confirmation link works once.
//
// The package sends its confirmation mail through its own small Mailer
// interface and knows nothing of feeds, editions or delivery: the mail
// package asks it which subscribers are confirmed for a digest and tells
// it about bounces.
package subscribers
