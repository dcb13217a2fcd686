package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/tidings/tidings/mail/inbound"
)

// InboundEntry is one message in the inbound log: what came in, by which
// way, and what tidings did with it.
type InboundEntry struct {
	ID         int64
	At         time.Time
	Source     string // "pipe", "smtp", "imap", or a webhook's provider
	Provider   string // the parser that matched (inbound.Result.Provider)
	Kind       inbound.Kind
	Action     string // Heard.Action
	Delivery   int64  // 0 for none
	Subscriber int64  // 0 for none
	Recipient  string
	Status     string // the enhanced status code, when the report gave one
	Diagnostic string
	Reason     string
	MessageID  string // the returned original's Message-ID
}

// inboundPruneEvery is how often one process prunes the inbound log: a
// bounce storm writes many rows, and one indexed delete an hour is enough.
const inboundPruneEvery = time.Hour

// LogInbound records what one inbound message did, after Hear (or after
// the caller chose to ignore it unread), source naming the way it came
// in. Entries older than keep are pruned on the way, at most once an hour
// per process; keep 0 keeps everything.
func (l *Ledger) LogInbound(ctx context.Context, source string, res inbound.Result, h Heard, keep time.Duration) error {
	now := l.now()
	nullable := func(id int64) any {
		if id == 0 {
			return nil
		}
		return id
	}
	_, err := l.DB.Write.ExecContext(ctx, `INSERT INTO inbound_log (received_at, source, provider, kind, action, delivery_id, subscriber_id,
		recipient, status, diagnostic, reason, message_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		now.UnixNano(), source, res.Provider, string(h.Kind), h.Action, nullable(h.Delivery), nullable(h.Subscriber),
		clipReply(res.Recipient), res.Status, clipReply(res.Diagnostic), clipReply(h.Reason), clipReply(res.MessageID))
	if err != nil {
		return fmt.Errorf("log inbound message: %w", err)
	}
	if keep <= 0 {
		return nil
	}
	l.pruneMu.Lock()
	due := now.Sub(l.inboundPruned) >= inboundPruneEvery
	if due {
		l.inboundPruned = now
	}
	l.pruneMu.Unlock()
	if !due {
		return nil
	}
	r, err := l.DB.Write.ExecContext(ctx, `DELETE FROM inbound_log WHERE received_at < ?`, now.Add(-keep).UnixNano())
	if err != nil {
		return fmt.Errorf("prune inbound log: %w", err)
	}
	if n, _ := r.RowsAffected(); n > 0 {
		l.log().Info("inbound log pruned", "rows", n, "older_than", now.Add(-keep).Format(time.RFC3339))
	}
	return nil
}

// InboundLog lists the inbound log, newest first, at most limit entries
// (all when limit <= 0); unmatched keeps only what matched no delivery
// or token, or could not be classified.
func (l *Ledger) InboundLog(ctx context.Context, unmatched bool, limit int) ([]InboundEntry, error) {
	q := `SELECT id, received_at, source, provider, kind, action, COALESCE(delivery_id, 0), COALESCE(subscriber_id, 0),
		recipient, status, diagnostic, reason, message_id FROM inbound_log`
	if unmatched {
		q += ` WHERE kind = 'unmatched' OR action = 'unmatched'`
	}
	q += ` ORDER BY received_at DESC, id DESC`
	if limit <= 0 {
		limit = math.MaxInt64 // no limit; PostgreSQL refuses SQLite's -1
	}
	rows, err := l.DB.Read.QueryContext(ctx, q+` LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list inbound log: %w", err)
	}
	defer rows.Close()
	var out []InboundEntry
	for rows.Next() {
		var e InboundEntry
		var at int64
		var kind string
		if err := rows.Scan(&e.ID, &at, &e.Source, &e.Provider, &kind, &e.Action, &e.Delivery, &e.Subscriber,
			&e.Recipient, &e.Status, &e.Diagnostic, &e.Reason, &e.MessageID); err != nil {
			return nil, fmt.Errorf("list inbound log: %w", err)
		}
		e.At, e.Kind = time.Unix(0, at), inbound.Kind(kind)
		out = append(out, e)
	}
	return out, rows.Err()
}

// markUnsubscribed counts a mailto unsubscribe against the latest
// delivery sent to subscriber id: the mail the reader answered, as near
// as tidings can tell (the mailto address names the reader, not the
// mail). It returns that delivery, 0 when none was sent; the same reader
// writing twice counts once.
func (l *Ledger) markUnsubscribed(ctx context.Context, id int64) (int64, error) {
	var d int64
	err := l.DB.Read.QueryRowContext(ctx, `SELECT id FROM deliveries WHERE subscriber_id = ? AND state = 'sent'
		ORDER BY sent_at DESC, id DESC LIMIT 1`, id).Scan(&d)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("find the mail unsubscribed from: %w", err)
	}
	if _, err := l.DB.Write.ExecContext(ctx, `UPDATE deliveries SET unsubscribed_at = ? WHERE id = ? AND unsubscribed_at = 0`,
		l.now().UnixNano(), d); err != nil {
		return 0, fmt.Errorf("count unsubscribe by mail: %w", err)
	}
	return d, nil
}
