// Package subscribers owns the subscriber list: subscribers and their
// lifecycle, consent events, tokens, the subscribe, confirm, unsubscribe and
// preferences handlers, and CSV import and export. It sends mail through a
// small interface of its own and knows nothing of feeds or digests.
//
// Nothing is built here yet: see the subscribers issue.
package subscribers
