package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tidings/tidings/internal/database"
)

// ListFilter selects subscribers for List. Zero fields select everything.
type ListFilter struct {
	Status Status // only this status
	Digest string // only subscribers receiving this digest
	Search string // a part of the address or the name, ignoring ASCII case
	After  int64  // cursor: only ids above this, from the previous page
	Before int64  // cursor for ListPage: the page ending below this id
	Limit  int    // page size: 100 when 0, at most 1000
}

// List pages through subscribers by ascending id. next is the After of the
// following page, 0 on the last one. An unknown status gives a
// *FieldError.
func (s *Store) List(ctx context.Context, f ListFilter) (subs []*Subscriber, next int64, err error) {
	limit := f.limit()
	// One row more than asked says whether another page follows.
	q, args, err := f.query(s.db.Dialect, ">", f.After, "", limit+1)
	if err != nil {
		return nil, 0, err
	}
	subs, err = s.query(ctx, q, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list subscribers: %w", err)
	}
	if len(subs) > limit {
		subs = subs[:limit]
		next = subs[limit-1].ID
	}
	return subs, next, nil
}

// query is the SELECT of a page of f: ids cmp ("<" or ">") cursor, in id
// order (desc "DESC" or ""), at most limit rows. A search reads the rows
// in id order until the page is full: a term that matches often stops
// early; one that matches nothing reads the table (40 ms for 100,000
// rows, see the README). A trigram index (FTS5) would find it at once,
// but costs an import of 100,000 rows seven more seconds.
func (f ListFilter) query(d database.Dialect, cmp string, cursor int64, desc string, limit int) (string, []any, error) {
	var where []string
	var args []any
	// No stored address, name or digest holds such bytes, and PostgreSQL
	// refuses them in a query: say so, on either store.
	for _, fv := range [][2]string{{"search", f.Search}, {"digest", f.Digest}} {
		field, v := fv[0], fv[1]
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return "", nil, &FieldError{Field: field, Err: fmt.Errorf("%q is not text (invalid UTF-8 or a NUL byte)", v)}
		}
	}
	if q := strings.TrimSpace(f.Search); q != "" {
		pattern := "%" + likeEscaper.Replace(q) + "%"
		// SQLite's LIKE ignores the case of ASCII letters; PostgreSQL's
		// ILIKE does that and more, the nearest it has.
		like := d.Pick("LIKE", "ILIKE")
		where = append(where, `(s.email `+like+` ? ESCAPE '\' OR s.name `+like+` ? ESCAPE '\')`)
		args = append(args, pattern, pattern)
	}
	if f.Status != "" {
		st, err := ParseStatus(string(f.Status))
		if err != nil {
			return "", nil, err
		}
		// With a search, the table is read in id order all the same, and
		// the status index (+ turns it off) would only add a lookup per row.
		if len(where) > 0 && d == database.SQLite {
			where = append(where, `+s.status = ?`)
		} else {
			where = append(where, `s.status = ?`)
		}
		args = append(args, st)
	}
	if f.Digest != "" {
		where = append(where, `EXISTS (SELECT 1 FROM subscriber_digests g WHERE g.subscriber_id = s.id AND g.digest = ?)`)
		args = append(args, f.Digest)
	}
	where = append(where, `s.id `+cmp+` ?`)
	args = append(args, cursor)
	return `SELECT ` + subscriberColumns(d) + ` FROM subscribers s WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(` ORDER BY s.id %s LIMIT %d`, desc, limit), args, nil
}

// limit is the page size asked for, within its bounds.
func (f ListFilter) limit() int {
	switch {
	case f.Limit <= 0:
		return 100
	case f.Limit > 1000:
		return 1000
	}
	return f.Limit
}

// likeEscaper makes a search term match literally in LIKE ... ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// Deliverable returns the subscriber with id (its id, address, name,
// status and token nonce only: what a message needs) when it still
// receives digest: confirmed, and that digest chosen (digest "": any
// digest, for a broadcast to all). It returns nil, nil when the subscriber
// left or chose otherwise, and an error wrapping ErrNotFound when it was
// erased. One query: the sender asks before every message.
func (s *Store) Deliverable(ctx context.Context, id int64, digest string) (*Subscriber, error) {
	var sub Subscriber
	var ok bool
	var nonce int64
	err := s.db.Read.QueryRowContext(ctx, `SELECT s.id, s.email, s.name, s.token_nonce, s.status = 'confirmed' AND EXISTS
		(SELECT 1 FROM subscriber_digests g WHERE g.subscriber_id = s.id AND (? = '' OR g.digest = ?))
		FROM subscribers s WHERE s.id = ?`, digest, digest, id).Scan(&sub.ID, &sub.Email, &sub.Name, &nonce, &ok)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("subscriber %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("check subscriber %d: %w", id, err)
	}
	if !ok {
		return nil, nil
	}
	sub.Status, sub.Nonce = StatusConfirmed, uint64(nonce)
	return &sub, nil
}
