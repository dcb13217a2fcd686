package subscribers

import (
	"context"
	"database/sql"
	"fmt"
)

// Subscriber ids are never given out twice: a token names an id, and an id
// that came back would hand a forgotten person's links to whoever got it
// next. subscriber_ids (migration 0006) holds the highest id ever given
// out; every insert takes ids above it and raises it in its transaction.

// nextID reserves one id above every id given out before.
func nextID(ctx context.Context, tx *sql.Tx) (int64, error) {
	var id int64
	if err := tx.QueryRowContext(ctx, `UPDATE subscriber_ids SET last = last + 1 RETURNING last`).Scan(&id); err != nil {
		return 0, fmt.Errorf("reserve subscriber id: %w", err)
	}
	return id, nil
}

// idBlock hands out ids for a batch of inserts in one transaction: it reads
// the mark once, counts up from it, and writes it back once in done.
type idBlock struct {
	last, next int64 // next is 0 until the first id is asked for
}

func (b *idBlock) take(ctx context.Context, tx *sql.Tx) (int64, error) {
	if b.next == 0 {
		if err := tx.QueryRowContext(ctx, `SELECT last FROM subscriber_ids`).Scan(&b.last); err != nil {
			return 0, fmt.Errorf("read subscriber ids: %w", err)
		}
		b.next = b.last + 1
	}
	id := b.next
	b.next++
	return id, nil
}

// done raises the mark past every id taken; the transaction must commit
// after it.
func (b *idBlock) done(ctx context.Context, tx *sql.Tx) error {
	if b.next == 0 || b.next-1 == b.last {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE subscriber_ids SET last = ?`, b.next-1); err != nil {
		return fmt.Errorf("save subscriber ids: %w", err)
	}
	b.last = b.next - 1
	return nil
}
