package feed

import (
	"context"
	"fmt"
	"time"

	"github.com/tidings/tidings/feed/content"
)

// Item is one item of an upstream feed on its way into the store.
type Item struct {
	Doc content.Doc
	// Backfill marks an item the feed already carried when it was first
	// fetched: stored and in feeds, but kept out of digests.
	Backfill bool
}

// SaveResult counts what SaveItems did.
type SaveResult struct {
	Added, Updated, Unchanged int
	Skipped                   int // ids that an article of another source holds
}

// SaveItems writes one fetch's items in one transaction: new ids are
// inserted, changed ones updated (id, slug, published and first-seen
// times and backfill mark kept), unchanged ones left alone. An id that an
// article of another source holds is skipped. Nothing is ever unpublished
// here: an item that drops out of its feed stays.
func (s *Store) SaveItems(ctx context.Context, items []Item, now time.Time) (SaveResult, error) {
	var res SaveResult
	w := s.newWriter(now)
	defer w.rollback()
	for i := range items {
		d := &items[i].Doc
		prev, err := w.find(ctx, d.ID)
		if err != nil {
			return SaveResult{}, fmt.Errorf("look up upstream item %s: %w", d.ID, err)
		}
		if prev != nil && prev.source != d.Source {
			res.Skipped++
			continue
		}
		out, err := w.put(ctx, entry{doc: d, backfill: items[i].Backfill}, prev)
		if err != nil {
			return SaveResult{}, fmt.Errorf("save upstream item %s: %w", d.ID, err)
		}
		switch out {
		case added:
			res.Added++
		case updated:
			res.Updated++
		default:
			res.Unchanged++
		}
	}
	if err := w.commit(); err != nil {
		return SaveResult{}, fmt.Errorf("save upstream items: %w", err)
	}
	return res, nil
}
