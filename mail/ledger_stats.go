package mail

import (
	"context"
	"database/sql"
	"fmt"
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
