// Package transport turns one mail into bytes and hands them to a
// receiving system. It is a leaf: it imports no other tidings package, and
// knows nothing of digests, subscribers or the ledger.
//
// It owns:
//
//   - Message: one mail to one recipient, rendered to the exact RFC 5322
//     bytes that are sent. Header values that could break out of their
//     field (CR, LF) are refused with a *HeaderError before anything is
//     sent; parts are 7bit when they are ASCII lines of at most 998
//     octets, quoted-printable otherwise. NewMessageID makes a random
//     Message-ID for mail that has no stable one.
//   - DKIM: tidings' own signer (relaxed/relaxed, SHA-256, RSA or
//     Ed25519; the tests verify it with go-msgauth) over the fields a list mail should sign, the one-click
//     unsubscribe ones included. go-mail's own signer is not used: its
//     signatures stop verifying once h= grows past about 71 characters.
//   - SMTP: a pool of connections on github.com/wneessen/go-mail under one
//     rate limit. go-mail dials and runs EHLO, STARTTLS and AUTH; the
//     transaction runs on its smtp.Client so that the signed bytes are the
//     bytes sent. One go-mail Client is one serialized connection, so each
//     pooled connection has its own. SMTPConfig.Timeout bounds each
//     transaction and each dial.
//   - Outbox: the Transport used without an SMTP server, one .eml file per
//     message, complete or absent.
//
// The rules every caller may rely on:
//
//   - Send returns nil only when the server accepted the message (250
//     after the final dot).
//   - A *SendError carries a reply to MAIL, RCPT or DATA. IsPermanent is
//     true for 5xx only: the recipient was refused and trying again cannot
//     help. 4xx, timeouts and dropped connections are temporary.
//   - Failures to connect, to start TLS or to authenticate are never
//     SendErrors, even when the server answered 5xx: they say nothing
//     about the recipient and must never count as a bounce.
//   - A connection that breaks before the final dot was sent is redialled
//     once and the message tried again on the new one: the server cannot
//     have taken it. One that breaks after the final dot, before the reply,
//     is not retried here: the message is in doubt (the server may have
//     accepted it), and Send returns a temporary error so that the caller
//     tries it later with the same Message-ID, which lets the receiver drop
//     a copy.
//   - After Close, Send returns ErrClosed; sends in flight finish first.
//
// go-mail traps worked around here: after an idle drop its Send fails its
// NOOP check (so the NOOP runs here, after the deadline is renewed, and a
// failure redials); its SetListUnsubscribe* helpers do not reject CR or
// LF (so headers are written and checked here, never through go-mail's
// Msg).
package transport
