package feed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
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

// saveUpstream writes one fetch's items in one transaction: new ids are
// inserted, changed ones updated (id, slug, published and first-seen
// times and in_digests kept), unchanged ones left alone. Nothing is ever
// unpublished here: an item that drops out of the feed stays. On a
// source's first fetch, items older than its backfill (or undated, whose
// age cannot be told) are kept out of digests.
func (s *Store) saveUpstream(ctx context.Context, src Source, items []upstreamItem, first bool, now time.Time, res *FetchResult) (err error) {
	if len(items) == 0 {
		return nil
	}
	backfill := src.Backfill
	if backfill <= 0 {
		backfill = defaultBackfill
	}
	w := s.newScanWriter(now, nil, &ScanResult{})
	defer w.rollback()
	if err := w.begin(ctx); err != nil {
		return fmt.Errorf("save upstream items: %w", err)
	}
	insert, err := w.tx.PrepareContext(w.ctx, `INSERT INTO articles (id, slug, source, path, title, author,
		summary, content_html, content_text, image, published_at, updated_at, first_seen_at, content_hash, in_digests)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("save upstream items: %w", err)
	}
	update, err := w.tx.PrepareContext(w.ctx, `UPDATE articles SET path = ?, title = ?, author = ?, summary = ?,
		content_html = ?, content_text = ?, image = ?, updated_at = ?, content_hash = ? WHERE id = ?`)
	if err != nil {
		return fmt.Errorf("save upstream items: %w", err)
	}
	lookup, err := w.tx.PrepareContext(w.ctx, `SELECT source, content_hash, published_at, updated_at FROM articles WHERE id = ?`)
	if err != nil {
		return fmt.Errorf("save upstream items: %w", err)
	}
	for _, it := range items {
		var source, hash string
		var pub, upd int64
		err := lookup.QueryRowContext(w.ctx, it.ID).Scan(&source, &hash, &pub, &upd)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			at := w.at()
			date := it.Date
			if date.IsZero() {
				date = at
			}
			updated := it.Updated
			if updated.Before(date) {
				updated = date
			}
			inDigests := !first || (!it.Undated && !date.Before(now.Add(-backfill)))
			slug, err := w.freeSlug(it.SlugBase, it.ID)
			if err == nil {
				_, err = insert.ExecContext(w.ctx, it.ID, slug, src.Name, it.Link, it.Title, it.Author, it.Summary,
					it.HTML, it.Text, it.Image, date.UnixNano(), updated.UnixNano(), at.UnixNano(), it.Hash, inDigests)
			}
			if err == nil {
				err = w.addTags(it.ID, it.Tags)
			}
			if err != nil {
				return fmt.Errorf("insert upstream item %s: %w", it.ID, err)
			}
			res.Added++
		case err != nil:
			return fmt.Errorf("look up upstream item %s: %w", it.ID, err)
		case source != src.Name:
			res.Skipped++ // the id belongs to an article from elsewhere
		case hash == it.Hash:
			res.Unchanged++
		default:
			updated := it.Updated
			if updated.IsZero() || !updated.After(fromNanos(upd)) {
				updated = w.at()
			}
			if updated.Before(fromNanos(pub)) {
				updated = fromNanos(pub)
			}
			_, err := update.ExecContext(w.ctx, it.Link, it.Title, it.Author, it.Summary, it.HTML, it.Text, it.Image,
				updated.UnixNano(), it.Hash, it.ID)
			if err == nil {
				_, err = w.deleteTags.ExecContext(w.ctx, it.ID)
			}
			if err == nil {
				err = w.addTags(it.ID, it.Tags)
			}
			if err != nil {
				return fmt.Errorf("update upstream item %s: %w", it.ID, err)
			}
			res.Updated++
		}
	}
	return w.finish(ctx, nil)
}
