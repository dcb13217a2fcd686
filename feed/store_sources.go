package feed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// SourceStatus is what the store remembers of an upstream feed between
// fetches, by the name its [[sources]] table gives it: the validators of
// a conditional request, the last outcome, and waits asked for.
type SourceStatus struct {
	Name, URL, ETag, LastModified, LastError string
	LastFetch                                time.Time // zero: never fetched
	FirstFetch                               time.Time // the first fetch that brought items; zero until then
	RetryAfter                               time.Time // no request before then (429, 503); zero: no wait asked for
	LastStatus                               int       // HTTP status of the last fetch; 0 when it got no answer
	ItemCount                                int       // items in the feed at the last fetch that parsed
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

const sourceColumns = `name, url, etag, last_modified, last_fetch_at, last_status, last_error, item_count,
	first_fetch_at, retry_after`

func scanSource(row interface{ Scan(...any) error }) (SourceStatus, error) {
	var st SourceStatus
	var last, first, retry sql.NullInt64
	err := row.Scan(&st.Name, &st.URL, &st.ETag, &st.LastModified, &last, &st.LastStatus, &st.LastError,
		&st.ItemCount, &first, &retry)
	st.LastFetch, st.FirstFetch, st.RetryAfter = nullTime(last), nullTime(first), nullTime(retry)
	return st, err
}

// Source returns what is recorded of the named upstream; for one never
// fetched, a SourceStatus with only its name.
func (s *Store) Source(ctx context.Context, name string) (SourceStatus, error) {
	st, err := scanSource(s.db.Read.QueryRowContext(ctx, `SELECT `+sourceColumns+` FROM sources WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return SourceStatus{Name: name}, nil
	}
	if err != nil {
		return SourceStatus{}, fmt.Errorf("load source %s: %w", name, err)
	}
	return st, nil
}

// SaveSource records the outcome of a fetch of the upstream st names.
func (s *Store) SaveSource(ctx context.Context, st SourceStatus) error {
	_, err := s.db.Write.ExecContext(ctx, `INSERT INTO sources (`+sourceColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET url = excluded.url, etag = excluded.etag,
		last_modified = excluded.last_modified, last_fetch_at = excluded.last_fetch_at,
		last_status = excluded.last_status, last_error = excluded.last_error, item_count = excluded.item_count,
		first_fetch_at = excluded.first_fetch_at, retry_after = excluded.retry_after`,
		st.Name, st.URL, st.ETag, st.LastModified, nanosOrNull(st.LastFetch), st.LastStatus, st.LastError, st.ItemCount,
		nanosOrNull(st.FirstFetch), nanosOrNull(st.RetryAfter))
	if err != nil {
		return fmt.Errorf("save source %s: %w", st.Name, err)
	}
	return nil
}

// Sources returns what is recorded of every upstream fetched so far, by
// name.
func (s *Store) Sources(ctx context.Context) ([]SourceStatus, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+sourceColumns+` FROM sources ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	defer rows.Close()
	out := []SourceStatus{}
	for rows.Next() {
		st, err := scanSource(rows)
		if err != nil {
			return nil, fmt.Errorf("list sources: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list sources: %w", err)
	}
	return out, nil
}
