package main

import (
	"context"
	"fmt"
	netmail "net/mail"

	"github.com/tidings/tidings/internal/admin"
	"github.com/tidings/tidings/mail"
	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// adminMailData is what the admin's editions, digests and articles pages
// read and do: the same code the digest, editions and sources commands
// run.
func (a *App) adminMailData() admin.MailData {
	var srcs []admin.Source
	for _, s := range a.sources() {
		srcs = append(srcs, admin.Source{Name: s.Name, URL: s.URL, Every: s.Every()})
	}
	return admin.MailData{
		Articles: a.Articles, Rejections: a.Ingester.Rejections, Sources: srcs,
		Actions: admin.Actions{
			Preview: func(ctx context.Context, digest, email string) (*transport.Message, error) {
				d, err := a.digestNamed(digest)
				if err != nil {
					return nil, err
				}
				var s *subscribers.Subscriber
				if email != "" {
					if s, err = a.Subscribers.GetByEmail(ctx, email); err != nil {
						return nil, err
					}
				}
				return a.previewNext(ctx, d, s)
			},
			TestSend: func(ctx context.Context, digest, to string) error {
				d, err := a.digestNamed(digest)
				if err != nil {
					return err
				}
				addr, err := netmail.ParseAddress(to)
				if err != nil {
					return fmt.Errorf("%q: want an address", to)
				}
				return a.testSend(ctx, d, addr)
			},
			SendNow: func(ctx context.Context, digest string) (int64, error) {
				d, err := a.digestNamed(digest)
				if err != nil {
					return 0, err
				}
				ed, _, err := a.Ledger.Plan(ctx, d, a.Now())
				if err != nil || ed == nil {
					return 0, err
				}
				a.wake()
				return ed.ID, nil
			},
			Wake:        a.wake,
			CheckSource: a.checkSource,
		},
	}
}

// wake tells serve's sender that deliveries are due.
func (a *App) wake() {
	select {
	case a.wakeSender <- struct{}{}:
	default:
	}
}

// previewNext renders the next edition of d as s gets it (nil: a sample
// reader); with nothing new, the empty edition the layout would make.
func (a *App) previewNext(ctx context.Context, d mail.Digest, s *subscribers.Subscriber) (*transport.Message, error) {
	ed, err := a.Ledger.Next(ctx, d)
	if err != nil {
		return nil, err
	}
	if ed == nil {
		d.SkipEmpty = false
		if ed, err = a.Ledger.Next(ctx, d); err != nil {
			return nil, err
		}
	}
	return a.Renderer.Preview(ed, s)
}

// testSend mails one copy of d's next edition to addr, outside the ledger.
func (a *App) testSend(ctx context.Context, d mail.Digest, addr *netmail.Address) error {
	msg, err := a.previewNext(ctx, d, &subscribers.Subscriber{Email: addr.Address, Name: addr.Name})
	if err != nil {
		return err
	}
	msg.To = *addr
	msg.Subject = "[test] " + msg.Subject
	if err := a.Transport.Send(ctx, msg); err != nil {
		return fmt.Errorf("send test to %s: %w", addr.Address, err)
	}
	return nil
}

// checkSource fetches the named upstream now, as its poll would, and
// rebuilds the feeds when it brought articles.
func (a *App) checkSource(ctx context.Context, name string) error {
	for _, src := range a.sources() {
		if src.Name != name {
			continue
		}
		res, err := a.fetcher().Fetch(ctx, src)
		if err == nil {
			err = res.Err
		}
		if err != nil {
			return err
		}
		if res.Added+res.Updated > 0 {
			_, err = a.Feeds.Build(ctx)
		}
		return err
	}
	return fmt.Errorf("no source is named %q", name)
}
