package admin

import (
	"context"
	"time"

	"github.com/tidings/tidings/mail/transport"
)

// Actions are what the editions, digests and articles pages do that
// needs the running app (its renderer, transport, sender and fetcher);
// cmd/tidings provides them, so that this package stays free of the app.
// A nil func leaves its button out.
type Actions struct {
	// Preview renders the next edition of digest as the subscriber with
	// address email gets it ("" for a sample reader); an error wrapping
	// subscribers.ErrNotFound when no subscriber has that address.
	Preview func(ctx context.Context, digest, email string) (*transport.Message, error)
	// TestSend mails one copy of the next edition to an address, outside
	// the ledger (tidings digest test).
	TestSend func(ctx context.Context, digest, to string) error
	// SendNow plans an edition of digest now and has the sender send it
	// in the background (tidings digest send); 0 when there was nothing
	// new to send.
	SendNow func(ctx context.Context, digest string) (editionID int64, err error)
	// Wake tells the sender that deliveries were queued again (after a
	// retry or a resume).
	Wake func()
	// CheckSource fetches the named upstream feed now, as its poll
	// would, recording the outcome.
	CheckSource func(ctx context.Context, name string) error
}

// Source is one configured upstream feed.
type Source struct {
	Name, URL string
	Every     time.Duration
}

func (a *Admin) wake() {
	if a.o.Data.Actions.Wake != nil {
		a.o.Data.Actions.Wake()
	}
}
