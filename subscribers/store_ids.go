package subscribers

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
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

// newNonce returns a token nonce other than old: a renewed nonce must
// differ, or the links it was meant to end would go on working.
func newNonce(old uint64) uint64 {
	for {
		var b [8]byte
		rand.Read(b[:]) // never fails: see crypto/rand.Read
		if n := binary.LittleEndian.Uint64(b[:]); n != old {
			return n
		}
	}
}

// renewNonce gives subscriber id a new token nonce, other than old, so
// that every link made before stops working.
func renewNonce(ctx context.Context, tx *sql.Tx, id int64, old uint64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET token_nonce = ? WHERE id = ?`, int64(newNonce(old)), id); err != nil {
		return fmt.Errorf("renew token nonce: %w", err)
	}
	return nil
}
