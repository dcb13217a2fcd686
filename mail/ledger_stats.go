package mail

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// LedgerStats is what the ledger holds, for monitoring (/metrics), read
// in one snapshot.
type LedgerStats struct {
	// ByState counts the deliveries in each state; every Delivery* state
	// is present, zero or not.
	ByState map[string]int
	// ByCode counts the deliveries that got an SMTP reply, by state and
	// last reply code, ordered by state and code.
	ByCode []CodeCount
	// QueueDepth is the number of deliveries not finished yet: queued or
	// sending, due or not (as QueueDepth returns it).
	QueueDepth int
	Editions   int // editions planned, every digest
}

// CodeCount is how many deliveries in State last got reply Code.
type CodeCount struct {
	State string
	Code  int
	Count int
}

// Stats reads the ledger's counts in one read transaction, so that they
// agree with each other.
func (l *Ledger) Stats(ctx context.Context) (LedgerStats, error) {
	st := LedgerStats{ByState: map[string]int{DeliveryQueued: 0, DeliverySending: 0, DeliverySent: 0, DeliveryFailed: 0, DeliverySkipped: 0}}
	tx, err := l.DB.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return LedgerStats{}, fmt.Errorf("ledger stats: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT state, last_code, COUNT(*) FROM deliveries
		GROUP BY state, last_code ORDER BY state, last_code`)
	if err != nil {
		return LedgerStats{}, fmt.Errorf("ledger stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c CodeCount
		if err := rows.Scan(&c.State, &c.Code, &c.Count); err != nil {
			return LedgerStats{}, fmt.Errorf("ledger stats: %w", err)
		}
		st.ByState[c.State] += c.Count
		if c.Code != 0 {
			st.ByCode = append(st.ByCode, c)
		}
	}
	if err := rows.Err(); err != nil {
		return LedgerStats{}, fmt.Errorf("ledger stats: %w", err)
	}
	st.QueueDepth = st.ByState[DeliveryQueued] + st.ByState[DeliverySending]
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM editions`).Scan(&st.Editions); err != nil {
		return LedgerStats{}, fmt.Errorf("ledger stats: %w", err)
	}
	return st, nil
}

// SentSince counts the deliveries accepted since t (from an index).
func (l *Ledger) SentSince(ctx context.Context, t time.Time) (int, error) { return l.sentSince(ctx, t) }

// StateCount counts the deliveries in state of one edition, or of every
// edition and notice when editionID is 0, from an index: cheap for the
// small states (failed, skipped, queued), not for sent.
func (l *Ledger) StateCount(ctx context.Context, editionID int64, state string) (int, error) {
	q, args := `SELECT COUNT(*) FROM deliveries WHERE state = ?`, []any{state}
	if editionID != 0 {
		q, args = `SELECT COUNT(*) FROM deliveries WHERE edition_id = ? AND state = ?`, []any{editionID, state}
	}
	var n int
	if err := l.DB.Read.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s deliveries: %w", state, err)
	}
	return n, nil
}
