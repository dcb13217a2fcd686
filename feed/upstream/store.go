package upstream

import (
	"context"
	"time"

	"github.com/tidings/tidings/feed"
)

// Store is what upstream needs of the article store: the sources table,
// where each source's validators and last outcome are kept between
// fetches, and a way to store a fetch's items. *feed.Store is one.
type Store interface {
	// Source returns what is recorded of the named source; for one never
	// fetched, a SourceStatus with only its name.
	Source(ctx context.Context, name string) (feed.SourceStatus, error)
	// SaveSource records the outcome of a fetch.
	SaveSource(ctx context.Context, st feed.SourceStatus) error
	// Sources returns what is recorded of every source fetched so far.
	Sources(ctx context.Context) ([]feed.SourceStatus, error)
	// SaveItems stores one fetch's items in one transaction; an id that
	// another source's article holds is skipped.
	SaveItems(ctx context.Context, items []feed.Item, now time.Time) (feed.SaveResult, error)
}

var _ Store = (*feed.Store)(nil)
