package subscribers

import (
	"context"
	"fmt"
	"slices"
)

// Page is one page of subscribers in List's order (ascending id), with
// the cursors of its neighbours.
type Page struct {
	Subscribers []*Subscriber
	// Next is the After of the page that follows, 0 on the last page.
	Next int64
	// Prev is the Before of the page that precedes, 0 on the first.
	Prev int64
}

// ListPage is List able to go both ways: with f.Before set it returns
// the last f.Limit matching subscribers below that id (the page before),
// else those above f.After. Either way it pages by the id index, never
// by OFFSET, so any page costs the same. An unknown status gives a
// *FieldError.
func (s *Store) ListPage(ctx context.Context, f ListFilter) (Page, error) {
	if f.Before <= 0 {
		subs, next, err := s.List(ctx, f)
		p := Page{Subscribers: subs, Next: next}
		if f.After > 0 && len(subs) > 0 {
			p.Prev = subs[0].ID
		}
		return p, err
	}
	limit := f.limit()
	q, args, err := f.query(s.db.Dialect, "<", f.Before, "DESC", limit+1)
	if err != nil {
		return Page{}, err
	}
	subs, err := s.query(ctx, q, args...)
	if err != nil {
		return Page{}, fmt.Errorf("list subscribers: %w", err)
	}
	var p Page
	if len(subs) > limit {
		subs = subs[:limit]
		p.Prev = subs[limit-1].ID
	}
	slices.Reverse(subs)
	p.Subscribers = subs
	if len(subs) > 0 {
		// The page was asked for from the one at Before, which follows.
		p.Next = subs[len(subs)-1].ID
	}
	return p, nil
}

// Digests are the digest names configured, sorted: those a subscriber
// can receive.
func (s *Store) Digests() []string { return slices.Clone(s.digests) }
