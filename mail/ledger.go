package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tidings/tidings/internal/database"
)

// Ledger is the record of editions and of every delivery: the editions,
// edition_articles, deliveries and digest_runs tables. It is the source of
// truth for what was sent, and queries no other table: articles come
// through Articles, subscribers through Recipients. Writes go through
// DB.Write in one transaction each. DB.Write is a single connection, so
// inside a transaction the other stores may only be read (their reads go
// through the read pool, which is what Plan relies on); what writes to
// them (RecordBounce) is called after the transaction.
type Ledger struct {
	DB         *database.DB
	Articles   Articles
	Recipients Recipients
	Now        func() time.Time // nil: time.Now
	Logger     *slog.Logger     // nil: discard
	// Zone is site.timezone: where a digest's deliver_at reaches
	// subscribers who have no zone of their own. nil: UTC.
	Zone *time.Location

	stmtMu sync.Mutex
	stmts  map[stmtKey]*sql.Stmt // prepared by prepared

	pruneMu       sync.Mutex
	inboundPruned time.Time // when LogInbound last pruned
	// planChunk is how many subscribers a planning transaction queues;
	// 0: as many as fit in planHold. chunkPlanned, when set, is told of each chunk
	// committed (its number from 1 in this call, its size, how long it
	// held the writer); an error stops planning there, as a crash would.
	planChunk    int
	chunkPlanned func(chunk, n int, held time.Duration) error
}

// The states of a delivery.
const (
	DeliveryQueued  = "queued"  // waiting for its next attempt
	DeliverySending = "sending" // claimed by a sender; in doubt after a crash
	DeliverySent    = "sent"    // the server accepted it
	DeliveryFailed  = "failed"  // refused for good (5xx) or out of attempts
	DeliverySkipped = "skipped" // the subscriber left before it went out
)

// The states of an edition.
const (
	EditionPlanning = "planning" // its deliveries are being queued; the sender waits for the last
	EditionSending  = "sending"  // some deliveries are queued or sending
	EditionDone     = "done"     // every delivery is sent, failed or skipped
)

// ErrEditionNotFound is returned when no edition has the id asked for.
var ErrEditionNotFound = errors.New("edition not found")

// The kinds of delivery: an edition's, or a notice to one subscriber
// that belongs to no edition (see Notices).
const (
	KindEdition    = "edition"
	KindConfirm    = "confirm"    // the link that confirms a sign-up
	KindSubscribed = "subscribed" // to an address that asked again while subscribed: how to change what it gets
	KindWelcome    = "welcome"    // after confirming
)

// Delivery is one mail to one subscriber: an edition's, or a notice.
type Delivery struct {
	ID            int64
	Kind          string
	EditionID     int64 // 0 for a notice
	SubscriberID  int64
	Email         string // the address when it was queued
	State         string
	Attempts      int
	NextAttemptAt time.Time
	MessageID     string // fixed when queued, the same on every attempt
	LastCode      int    // the last SMTP reply code; 0 when none
	LastReply     string // the last SMTP reply or error
	UpdatedAt     time.Time
	SentAt        *time.Time
}

func (l *Ledger) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Ledger) log() *slog.Logger {
	if l.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Logger
}

// Counts returns the number of deliveries of an edition in each state;
// every state is present, zero or not.
func (l *Ledger) Counts(ctx context.Context, editionID int64) (map[string]int, error) {
	counts := map[string]int{DeliveryQueued: 0, DeliverySending: 0, DeliverySent: 0, DeliveryFailed: 0, DeliverySkipped: 0}
	rows, err := l.DB.Read.QueryContext(ctx, `SELECT state, COUNT(*) FROM deliveries WHERE edition_id = ? GROUP BY state`, editionID)
	if err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("count deliveries: %w", err)
		}
		counts[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count deliveries: %w", err)
	}
	return counts, nil
}

const deliveryColumns = `id, kind, COALESCE(edition_id, 0), subscriber_id, email, state, attempts, next_attempt_at, ` +
	messageIDColumn + `, last_code, last_reply, updated_at, sent_at`

// messageIDColumn is a delivery's Message-ID, read from a row of
// deliveries. A delivery that planning queued stores it without "<" and
// "@domain>" ("e12.s345.<16 hex digits>"): the edition's plan domain
// completes it. Its rows are about a seventh smaller, the unique index on
// Message-IDs a third (planning a million took about 15 % less CPU).
// Others (notices, older rows) store it whole, "<...>".
const messageIDColumn = `CASE WHEN substr(message_id, 1, 1) = '<' THEN message_id
	ELSE '<' || message_id || '@' ||
		COALESCE((SELECT plan_domain FROM editions WHERE editions.id = deliveries.edition_id), '') || '>' END`

// storedMessageID is the local part of a Message-ID, as planning stores
// it (see messageIDColumn), or "" when it has none.
func storedMessageID(id string) string {
	local, _, found := strings.Cut(strings.TrimPrefix(strings.TrimSpace(id), "<"), "@")
	if !found || !strings.HasPrefix(local, "e") {
		return ""
	}
	return local
}

func scanDelivery(row interface{ Scan(...any) error }) (Delivery, error) {
	var d Delivery
	var next, updated int64
	var sent sql.NullInt64
	err := row.Scan(&d.ID, &d.Kind, &d.EditionID, &d.SubscriberID, &d.Email, &d.State, &d.Attempts, &next, &d.MessageID,
		&d.LastCode, &d.LastReply, &updated, &sent)
	if err != nil {
		return d, err
	}
	d.NextAttemptAt, d.UpdatedAt = fromNanos(next), fromNanos(updated)
	if sent.Valid {
		t := fromNanos(sent.Int64)
		d.SentAt = &t
	}
	return d, nil
}

// Deliveries returns the deliveries of an edition, by id; state "" means
// every state.
func (l *Ledger) Deliveries(ctx context.Context, editionID int64, state string) ([]Delivery, error) {
	rows, err := l.DB.Read.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE edition_id = ? AND (? = '' OR state = ?) ORDER BY id`, editionID, state, state)
	if err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list deliveries: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list deliveries: %w", err)
	}
	return out, nil
}

// Failures returns the failed deliveries of an edition with the last
// reply of each.
func (l *Ledger) Failures(ctx context.Context, editionID int64) ([]Delivery, error) {
	return l.Deliveries(ctx, editionID, DeliveryFailed)
}

// Retry queues the failed deliveries of an edition again, due now and
// with their attempts reset, and returns how many. The Message-ID stays.
// A subscriber that bounced is then skipped by the sender, not mailed.
func (l *Ledger) Retry(ctx context.Context, editionID int64) (int, error) {
	var n int64
	err := l.inTx(ctx, func(tx *sql.Tx) error {
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM editions WHERE id = ?)`, editionID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return fmt.Errorf("%d: %w", editionID, ErrEditionNotFound)
		}
		now := l.now().UnixNano()
		r, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'queued', attempts = 0, next_attempt_at = ?, updated_at = ?
			WHERE edition_id = ? AND state = 'failed'`, now, now, editionID)
		if err != nil {
			return err
		}
		if n, err = r.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE editions SET state = 'sending' WHERE id = ?`, editionID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("retry edition: %w", err)
	}
	return int(n), nil
}

// QueueDepth returns the number of deliveries not finished yet: queued or
// being sent, due or not.
func (l *Ledger) QueueDepth(ctx context.Context) (int, error) {
	var n int
	err := l.DB.Read.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM deliveries WHERE state = 'queued') +
		(SELECT COUNT(*) FROM deliveries WHERE state = 'sending')`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("queue depth: %w", err)
	}
	return n, nil
}

// LastRun returns when the scheduler last ran digest; the zero time if
// never.
func (l *Ledger) LastRun(ctx context.Context, digest string) (time.Time, error) {
	var at int64
	err := l.DB.Read.QueryRowContext(ctx, `SELECT last_run_at FROM digest_runs WHERE digest = ?`, digest).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("last run of %s: %w", digest, err)
	}
	return fromNanos(at), nil
}

// FirstRun returns when the scheduler first ran digest, zero if never.
func (l *Ledger) FirstRun(ctx context.Context, digest string) (time.Time, error) {
	var at int64
	err := l.DB.Read.QueryRowContext(ctx, `SELECT first_run_at FROM digest_runs WHERE digest = ?`, digest).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("first run of %s: %w", digest, err)
	}
	return fromNanos(at), nil
}

// SetLastRun records that the scheduler ran digest at t; the first time,
// that it first ran then.
func (l *Ledger) SetLastRun(ctx context.Context, digest string, t time.Time) error {
	_, err := l.DB.Write.ExecContext(ctx, `INSERT INTO digest_runs (digest, last_run_at, first_run_at) VALUES (?, ?, ?)
		ON CONFLICT (digest) DO UPDATE SET last_run_at = excluded.last_run_at`, digest, t.UnixNano(), t.UnixNano())
	if err != nil {
		return fmt.Errorf("record run of %s: %w", digest, err)
	}
	return nil
}
