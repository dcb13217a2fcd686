package feed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tidings/tidings/feed/content"
)

// sourceState is what the store remembers of an upstream between fetches.
type sourceState struct {
	url, etag, lastModified string
	lastFetch               time.Time
	status                  int
	lastError               string
	itemCount               int
	firstFetch              time.Time // zero until a fetch brought items
	retryAfter              time.Time // zero: no wait asked for
}

func nanosOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

func nullTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNanos(n.Int64)
}

// sourceState loads the state of the named source; a source never fetched
// has the zero state.
func (s *Store) sourceState(ctx context.Context, name string) (sourceState, error) {
	var st sourceState
	var last, first, retry sql.NullInt64
	err := s.db.Read.QueryRowContext(ctx, `SELECT url, etag, last_modified, last_fetch_at, last_status, last_error,
		item_count, first_fetch_at, retry_after FROM sources WHERE name = ?`, name).Scan(
		&st.url, &st.etag, &st.lastModified, &last, &st.status, &st.lastError, &st.itemCount, &first, &retry)
	if errors.Is(err, sql.ErrNoRows) {
		return sourceState{}, nil
	}
	if err != nil {
		return st, fmt.Errorf("load source %s: %w", name, err)
	}
	st.lastFetch, st.firstFetch, st.retryAfter = nullTime(last), nullTime(first), nullTime(retry)
	return st, nil
}

// saveSourceState records the outcome of a fetch.
func (s *Store) saveSourceState(ctx context.Context, name string, st sourceState) error {
	_, err := s.db.Write.ExecContext(ctx, `INSERT INTO sources (name, url, etag, last_modified, last_fetch_at,
		last_status, last_error, item_count, first_fetch_at, retry_after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET url = excluded.url, etag = excluded.etag,
		last_modified = excluded.last_modified, last_fetch_at = excluded.last_fetch_at,
		last_status = excluded.last_status, last_error = excluded.last_error, item_count = excluded.item_count,
		first_fetch_at = excluded.first_fetch_at, retry_after = excluded.retry_after`,
		name, st.url, st.etag, st.lastModified, nanosOrNull(st.lastFetch), st.status, st.lastError, st.itemCount,
		nanosOrNull(st.firstFetch), nanosOrNull(st.retryAfter))
	if err != nil {
		return fmt.Errorf("save source %s: %w", name, err)
	}
	return nil
}

// SourceStatus is what `tidings sources list` shows of one upstream.
type SourceStatus struct {
	Name, URL, ETag, LastModified, LastError string
	LastFetch, FirstFetch, RetryAfter        time.Time // zero: never / none
	LastStatus, ItemCount                    int
}

// Sources returns the state of every upstream fetched so far, by name.
func (s *Store) Sources(ctx context.Context) ([]SourceStatus, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT name FROM sources ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list sources: %w", err)
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	out := make([]SourceStatus, 0, len(names))
	for _, n := range names {
		st, err := s.sourceState(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, SourceStatus{Name: n, URL: st.url, ETag: st.etag, LastModified: st.lastModified,
			LastError: st.lastError, LastFetch: st.lastFetch, FirstFetch: st.firstFetch, RetryAfter: st.retryAfter,
			LastStatus: st.status, ItemCount: st.itemCount})
	}
	return out, nil
}

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
