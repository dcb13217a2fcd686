package mail

import (
	"context"
	"database/sql"
	"time"
)

// lessOne is attempts - 1, never below 0: the attempt a claim counted,
// given back. (SQLite's scalar MAX(a, b) is GREATEST on PostgreSQL.)
const lessOne = `CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END`

// inTx runs fn in one write transaction, committed when fn returns nil.
// The write connection opens transactions with BEGIN IMMEDIATE, so fn
// holds the database's write lock from its start.
func (l *Ledger) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return inTxOn(ctx, l.DB.Write, fn)
}

// inTxOn runs fn in a transaction on pool and commits it.
func inTxOn(ctx context.Context, pool *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// queryer is the read pool, a read-only transaction or a write
// transaction.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Times are stored as Unix nanoseconds and read back in UTC.
func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }
