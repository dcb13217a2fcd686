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

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("mail: transport closed")
