package transport

import (
	"context"
	"errors"
)

// Transport sends messages. Send returns nil only when the receiving
// server accepted the message.
type Transport interface {
	// Send delivers m. Its errors: a *HeaderError (or another rendering
	// error) before anything is sent; a *SendError when the server
	// answered 4xx or 5xx; ErrClosed after Close; the context's error
	// when ctx ended first. Anything else (connecting, TLS, AUTH,
	// timeouts, a dropped connection) is temporary: see IsPermanent.
	Send(ctx context.Context, m *Message) error
	// Close ends the transport's connections after the sends in flight.
	Close() error
}

// Preparer is a Transport that can render and sign a message ahead of
// sending it (*SMTP): Send then only sends.
type Preparer interface {
	Prepare(m *Message) error
}

// Sharer is a Transport whose rate limit can be split among several
// senders (*SMTP): Share(n) lets this one send a 1/n part, so that n
// instances sending one list keep the configured rate together.
type Sharer interface {
	Share(n int)
}

// Holder is a Transport that can write a message while its caller still
// finishes what must come first (*SMTP): SendHeld sends as Send does, but
// calls hold once the message is written and before its final dot, which
// is what lets the server take it. The server reads the message while the
// caller waits in hold. When hold returns false the connection is closed
// without the dot, so the server cannot have taken the message, and
// SendHeld returns ErrHeld. hold is not called when the server refused
// the transaction before the message (its error is returned as Send's).
type Holder interface {
	SendHeld(ctx context.Context, m *Message, hold func() bool) error
}

// ErrHeld is what SendHeld returns when hold kept the message back: it
// was not sent.
var ErrHeld = errors.New("mail: message held back before its final dot, not sent")

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("mail: transport closed")
