// Package mailbox polls an IMAP mailbox for the mail that comes back to
// tidings (bounces, complaints, mailto unsubscribes) and hands each
// message to a callback that classifies and acts on it. It owns the
// IMAP side only: what a message means is mail/inbound's, what it does
// is the caller's.
//
// A message the callback handled is moved to a processed folder, or
// flagged \Seen and $Tidings where there is none; one it kept (unmatched
// mail, for a person to read) is flagged $Tidings and left as it was;
// one it could not take (the database was busy) is left untouched for
// the next poll. Nothing is ever deleted or expunged.
package mailbox
