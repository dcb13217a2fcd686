package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tidings/tidings/internal/database"
)

// Store is the subscriber list: the subscribers, subscriber_digests,
// subscriber_events and suppressions tables. Every change is one
// transaction that writes its event with it.
type Store struct {
	db      *database.DB
	digests []string          // configured digest names, sorted
	byLower map[string]string // lower-cased name to configured name
	now     func() time.Time
	caps    Caps // of the mail sign-ups cause
}

// SetSignUpCaps replaces DefaultCaps for this store.
func (s *Store) SetSignUpCaps(c Caps) { s.caps = c }

// NewStore returns a Store on an open database. digests are the digest
// names configured; a subscriber can receive only those. now is time.Now
// unless a test sets a clock.
func NewStore(db *database.DB, digests []string, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	s := &Store{db: db, byLower: map[string]string{}, now: now, caps: DefaultCaps}
	for _, d := range digests {
		if _, dup := s.byLower[strings.ToLower(d)]; !dup {
			s.byLower[strings.ToLower(d)] = d
			s.digests = append(s.digests, d)
		}
	}
	slices.Sort(s.digests)
	return s
}

// digestSep joins digest names in one column: a control character, which
// no configured name contains.
const digestSep = "\x1f"

// subscriberColumns reads a subscriber with its digests in one row, so
// lists need no second query.
func subscriberColumns(d database.Dialect) string {
	return `s.id, s.email, s.name, s.status, s.route, s.created_at, s.confirmed_at, s.unsubscribed_at,
	s.confirm_sent_at, s.bounce_count, s.complaint_count, s.token_nonce, s.timezone, ` + digestsColumn(d)
}

// digestsColumn is the column of a subscriber s's digests, joined by
// digestSep.
func digestsColumn(d database.Dialect) string {
	return d.Pick(`(SELECT group_concat(d.digest, char(31)) FROM subscriber_digests d WHERE d.subscriber_id = s.id)`,
		`(SELECT string_agg(d.digest, chr(31)) FROM subscriber_digests d WHERE d.subscriber_id = s.id)`)
}

func scanSubscriber(row interface{ Scan(...any) error }) (*Subscriber, error) {
	var sub Subscriber
	var created int64
	var confirmed, unsubscribed, sent sql.NullInt64
	var nonce int64
	var digests sql.NullString
	err := row.Scan(&sub.ID, &sub.Email, &sub.Name, &sub.Status, &sub.Route, &created, &confirmed, &unsubscribed,
		&sent, &sub.BounceCount, &sub.ComplaintCount, &nonce, &sub.TimeZone, &digests)
	if err != nil {
		return nil, err
	}
	sub.Nonce = uint64(nonce)
	sub.CreatedAt = fromNanos(created)
	sub.ConfirmedAt, sub.UnsubscribedAt, sub.ConfirmSentAt = nullTime(confirmed), nullTime(unsubscribed), nullTime(sent)
	sub.Digests = []string{}
	if digests.String != "" {
		sub.Digests = strings.Split(digests.String, digestSep)
		slices.Sort(sub.Digests)
	}
	return &sub, nil
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

func nullTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNanos(n.Int64)
	return &t
}

// queryer is what reads need: the read pool, or a write transaction that
// must see its own changes.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) getSubscriber(ctx context.Context, q queryer, where string, arg any) (*Subscriber, error) {
	sub, err := scanSubscriber(q.QueryRowContext(ctx, `SELECT `+subscriberColumns(s.db.Dialect)+` FROM subscribers s WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get subscriber: %w", err)
	}
	return sub, nil
}

// Get returns one subscriber by id, or ErrNotFound.
func (s *Store) Get(ctx context.Context, id int64) (*Subscriber, error) {
	return s.getSubscriber(ctx, s.db.Read, `s.id = ?`, id)
}

// TokenNonce returns the token nonce subscriber id has now, for
// Tokens.Check, or ErrNotFound.
func (s *Store) TokenNonce(ctx context.Context, id int64) (uint64, error) {
	var n int64
	err := s.db.Read.QueryRowContext(ctx, `SELECT token_nonce FROM subscribers WHERE id = ?`, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("get token nonce: %w", err)
	}
	return uint64(n), nil
}

// GetByEmail returns the subscriber with the address (normalized first, and
// compared without regard to ASCII case), or ErrNotFound.
func (s *Store) GetByEmail(ctx context.Context, email string) (*Subscriber, error) {
	addr, err := NormalizeAddress(email)
	if err != nil {
		return nil, err
	}
	return s.getSubscriber(ctx, s.db.Read, `s.email = ?`, addr)
}

// Events returns the record of one subscriber, oldest first, or ErrNotFound.
func (s *Store) Events(ctx context.Context, id int64) ([]Event, error) {
	if _, err := s.Get(ctx, id); err != nil {
		return nil, err
	}
	rows, err := s.db.Read.QueryContext(ctx, `SELECT id, COALESCE(subscriber_id, 0), kind, at, ip, user_agent, route, detail
		FROM subscriber_events WHERE subscriber_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	defer rows.Close()
	var evs []Event
	for rows.Next() {
		var e Event
		var at int64
		if err := rows.Scan(&e.ID, &e.SubscriberID, &e.Kind, &at, &e.IP, &e.UserAgent, &e.Route, &e.Detail); err != nil {
			return nil, fmt.Errorf("list events: %w", err)
		}
		e.At = fromNanos(at)
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return evs, nil
}

// ConfirmedFor returns the confirmed subscribers receiving digest, by id;
// digest "" means every confirmed subscriber who receives any digest (a
// broadcast to all).
func (s *Store) ConfirmedFor(ctx context.Context, digest string) ([]*Subscriber, error) {
	q := `SELECT ` + subscriberColumns(s.db.Dialect) + ` FROM subscriber_digests g JOIN subscribers s ON s.id = g.subscriber_id
		WHERE g.digest = ? AND s.status = 'confirmed' ORDER BY s.id`
	args := []any{digest}
	if digest == "" {
		q = `SELECT ` + subscriberColumns(s.db.Dialect) + ` FROM subscribers s WHERE s.status = 'confirmed'
			AND EXISTS (SELECT 1 FROM subscriber_digests g WHERE g.subscriber_id = s.id) ORDER BY s.id`
		args = nil
	}
	subs, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list confirmed subscribers: %w", err)
	}
	return subs, nil
}

// ConfirmedAfterQuery is ConfirmedFor one page at a time, as SQL for
// the caller to read from inside its own statement (planning an edition
// inserts from it in one INSERT … SELECT): a SELECT of the columns id,
// email and timezone ("" when none is stored) of at most limit confirmed
// subscribers of digest ("" for those of any digest) with an id above
// after, by id, with its arguments. A caller walks the list with after
// set to the last id it got (keyset paging), so that each page is one
// short read however long the list is. The query is this package's: the
// caller only wraps it, as a subquery.
func (s *Store) ConfirmedAfterQuery(digest string, after int64, limit int) (string, []any) {
	if digest == "" {
		return `SELECT s.id, s.email, s.timezone FROM subscribers s WHERE s.status = 'confirmed' AND s.id > ?
			AND EXISTS (SELECT 1 FROM subscriber_digests g WHERE g.subscriber_id = s.id) ORDER BY s.id LIMIT ?`,
			[]any{after, limit}
	}
	return `SELECT s.id, s.email, s.timezone FROM subscriber_digests g JOIN subscribers s ON s.id = g.subscriber_id
		WHERE g.digest = ? AND g.subscriber_id > ? AND s.status = 'confirmed' ORDER BY g.subscriber_id LIMIT ?`,
		[]any{digest, after, limit}
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]*Subscriber, error) {
	rows, err := s.db.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var subs []*Subscriber
	for rows.Next() {
		sub, err := scanSubscriber(rows)
		if err != nil {
			return nil, err
		}
		subs = append(subs, sub)
	}
	return subs, rows.Err()
}

// inTx runs fn in one write transaction, committed when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// addEvent appends to the record. IP and user agent come from outside and
// are clipped to keep rows small.
func addEvent(ctx context.Context, tx *sql.Tx, id int64, kind EventKind, at time.Time, m Meta, detail string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO subscriber_events (subscriber_id, kind, at, ip, user_agent, route, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, kind, at.UnixNano(), clip(m.IP, 64), clip(m.UserAgent, 512), clip(m.Route, 32), detail)
	if err != nil {
		return fmt.Errorf("record %s event: %w", kind, err)
	}
	return nil
}

// setDigests replaces the digests of subscriber id.
func setDigests(ctx context.Context, tx *sql.Tx, id int64, digests []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM subscriber_digests WHERE subscriber_id = ?`, id); err != nil {
		return fmt.Errorf("save digests: %w", err)
	}
	for _, d := range digests {
		if _, err := tx.ExecContext(ctx, `INSERT INTO subscriber_digests (subscriber_id, digest) VALUES (?, ?)`, id, d); err != nil {
			return fmt.Errorf("save digests: %w", err)
		}
	}
	return nil
}

// checkDigests maps names to configured digests, case-insensitively, sorted
// and without repeats. With allIfEmpty, no names means every digest.
func (s *Store) checkDigests(names []string, allIfEmpty bool) ([]string, error) {
	out := []string{}
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		d, ok := s.byLower[strings.ToLower(n)]
		if !ok {
			known := "none are configured"
			if len(s.digests) > 0 {
				known = "known: " + strings.Join(s.digests, ", ")
			}
			return nil, &FieldError{Field: "digests", Err: fmt.Errorf("%w %q (%s)", ErrUnknownDigest, clip(n, 40), known)}
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	if len(out) == 0 && allIfEmpty {
		return slices.Clone(s.digests), nil
	}
	slices.Sort(out)
	return out, nil
}

// isSuppressed reports whether the address was erased on request.
func isSuppressed(ctx context.Context, q queryer, addr string) (bool, error) {
	var ok bool
	err := q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM suppressions WHERE email_hash = ?)`, addressHash(addr)).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("check suppressions: %w", err)
	}
	return ok, nil
}

func digestList(ds []string) string {
	if len(ds) == 0 {
		return "none"
	}
	return strings.Join(ds, ", ")
}
