// Package inbound decides what a message that came back to tidings is: a
// bounce (hard or soft), a complaint, a mailto unsubscribe request, an
// auto-reply, a delay or success report, or unmatched. It is a leaf: it
// imports no package of this module, reads one raw RFC 5322 message
// (MIME through github.com/emersion/go-message's textproto) and returns a
// Result saying what it is, whom it is about (the failed or complaining
// address, the addresses it was sent to, so that the caller can read a
// VERP token, and the returned original's Message-ID), and why.
//
// The rules, in order: an RFC 5965 feedback report (ARF); an RFC 3464
// delivery-status part with a usable per-recipient block (failed is a
// bounce, delayed a delay, delivered or relayed a success report);
// Microsoft's JMRP complaint shape; the failure notices of Postfix, Exim,
// Exchange and Office 365, Gmail, Yahoo and qmail read from their text
// and from the headers of the original they return or quote; a mail
// system's failure notice in no known format that still names the failed
// recipient or the original's Message-ID; auto-replies (RFC 3834
// Auto-Submitted, X-Autoreply, Precedence: auto_reply, out-of-office
// subjects); mail to the List-Unsubscribe mailto address. A report's
// structure wins over its Auto-Submitted header, and an auto-reply or a
// bounce sent to the unsubscribe address unsubscribes no one.
//
// Input is hostile: Options bound the bytes read (ErrTooLarge, found
// without holding the message in memory), the MIME parts and the nesting
// (ErrTooComplex); input with no header is ErrMalformed. Broken base64 or
// quoted-printable and unknown charsets are decoded as far as they go and
// never fail a message.
//
// Receiver takes such mail over SMTP for the inbound domain (only its
// bounce and unsubscribe local parts, bounded in size and in rate per
// client) and hands each message to a function; mail/inbound/mailbox
// does the same for an IMAP folder it polls.
//
// It does not match a Result to a delivery or a subscriber, verify VERP
// or unsubscribe tokens, or change any subscriber: that is the mail
// package's Ledger.Hear, which every way in (the pipe command, serve's
// receiver, the IMAP poller) ends in.
package inbound
