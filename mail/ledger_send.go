package mail

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// outcome is what became of one claimed delivery.
type outcome int

const (
	outSent     outcome = iota // the server accepted it
	outFailed                  // refused for good, or out of attempts
	outRetry                   // try again at next
	outSkipped                 // the subscriber no longer receives the digest
	outReleased                // never tried: the sender stopped first
	outDeferred                // the server could not be reached: not an attempt, due again at once
	outPaced                   // held for its domain's pace: not an attempt, due again at next
)

// result is one outcome waiting to be recorded.
type result struct {
	d      Delivery
	kind   outcome
	code   int       // SMTP reply code, 0 when none
	reply  string    // SMTP reply or error text
	next   time.Time // outRetry: when it is due again
	bounce bool      // outFailed by a 5xx: count a bounce
}

// maxReply bounds the stored reply text.
const maxReply = 512

// claim marks up to n due deliveries sending under o's name, counts the
// attempt, and returns them. Due are queued rows whose next attempt has
// come, and sending rows whose claimant is gone: its senders row removed
// by reap or its heartbeat older than stale (a sender killed mid-send).
// A claim of no one's (made before claims named their sender) lapses
// after lease. A sender never takes its own claims again (they are in
// its hands, even if another reaped it as gone). Another live sender's
// claims are never taken, so two
// senders on one database (digest send beside serve, or several
// instances) never both send a row.
//
// Claims run on the shared pool: on PostgreSQL outside the writer lock,
// each instance's claim skipping the rows another's claim has locked
// (FOR UPDATE SKIP LOCKED), so claims never queue behind each other or
// behind a plan; on SQLite the pool is the one write connection.
func (l *Ledger) claim(ctx context.Context, o owner, n int, lease, stale time.Duration, editions bool) ([]Delivery, error) {
	var out []Delivery
	// Prepared before the transaction: on SQLite it takes the only write
	// connection.
	stmt, err := l.prepared(ctx, l.DB.Shared, `UPDATE deliveries
			SET state = 'sending', attempts = attempts + 1, next_attempt_at = ?, updated_at = ?, claimed_by = ?
			WHERE id IN (SELECT id FROM deliveries WHERE
				((state = 'queued' AND next_attempt_at <= ?)
				OR (state = 'sending' AND claimed_by = '' AND next_attempt_at <= ?)
				OR (state = 'sending' AND claimed_by != '' AND claimed_by != ? AND claimed_by NOT IN
					(SELECT id FROM senders WHERE heartbeat_at >= ?)))
				AND (? OR kind != 'edition')
				AND (kind != 'edition' OR edition_id NOT IN (SELECT id FROM editions WHERE paused_at != 0 OR planning != 0))
				LIMIT ?`+l.DB.Dialect.Pick("", " FOR UPDATE SKIP LOCKED")+`)
			RETURNING id, kind, COALESCE(edition_id, 0), subscriber_id, email, attempts, `+messageIDColumn)
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	err = inTxOn(ctx, l.DB.Shared, func(tx *sql.Tx) error {
		now := l.now()
		rows, err := tx.StmtContext(ctx, stmt).QueryContext(ctx,
			now.Add(lease).UnixNano(), now.UnixNano(), o.id, now.UnixNano(), now.UnixNano(), o.id, now.Add(-stale).UnixNano(), editions, n)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d Delivery
			if err := rows.Scan(&d.ID, &d.Kind, &d.EditionID, &d.SubscriberID, &d.Email, &d.Attempts, &d.MessageID); err != nil {
				return err
			}
			d.State = DeliverySending
			out = append(out, d)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim deliveries: %w", err)
	}
	return out, nil
}

// sentSince counts the messages sent since t.
func (l *Ledger) sentSince(ctx context.Context, t time.Time) (int, error) {
	var n int
	err := l.DB.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE state = 'sent' AND sent_at >= ?`, t.UnixNano()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sent today: %w", err)
	}
	return n, nil
}

// record writes a batch of outcomes in one transaction and, with
// checkDone, marks done the editions they finished (a query per edition,
// so the sender asks for it now and then and sweeps at the end of a
// pass rather than on every commit). Only rows still sending under o's
// claim are changed (a row another sender took over, o reaped as gone, is
// that sender's now), except for a send the server accepted: that is the
// truth whatever else happened.
func (l *Ledger) record(ctx context.Context, o owner, results []result, checkDone bool) error {
	// Prepared before the transaction takes the only write connection.
	markSent, err := l.markSentStmt(ctx)
	if err != nil {
		return fmt.Errorf("record deliveries: %w", err)
	}
	if !checkDone && allSent(results) {
		// The common commit: one statement, atomic on its own, without
		// the BEGIN and COMMIT around it (a fifth of a commit's CPU).
		now := l.now().UnixNano()
		if _, err := markSent.ExecContext(ctx, now, now, jsonInts(sentIDs(results))); err != nil {
			return fmt.Errorf("record deliveries: mark sent: %w", err)
		}
		return nil
	}
	err = l.inTx(ctx, func(tx *sql.Tx) error {
		now := l.now().UnixNano()
		editions := map[int64]bool{}
		// Accepted sends, the bulk of every commit, go in one statement.
		var sent []int64
		for _, r := range results {
			if r.kind == outSent {
				sent = append(sent, r.d.ID)
				editions[r.d.EditionID] = true
			}
		}
		if len(sent) > 0 {
			if _, err := tx.StmtContext(ctx, markSent).ExecContext(ctx, now, now, jsonInts(sent)); err != nil {
				return fmt.Errorf("mark sent: %w", err)
			}
		}
		for _, r := range results {
			var err error
			reply := clipReply(r.reply)
			switch r.kind {
			case outSent:
				continue
			case outFailed:
				_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = 'failed', last_code = ?, last_reply = ?, updated_at = ?
					WHERE id = ? AND state = 'sending' AND claimed_by = ?`, r.code, reply, now, r.d.ID, o.id)
			case outRetry:
				_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = 'queued', next_attempt_at = ?, last_code = ?,
					last_reply = ?, updated_at = ? WHERE id = ? AND state = 'sending' AND claimed_by = ?`, r.next.UnixNano(), r.code, reply, now, r.d.ID, o.id)
			case outSkipped:
				_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = 'skipped', last_reply = ?, updated_at = ?
					WHERE id = ? AND state = 'sending' AND claimed_by = ?`, reply, now, r.d.ID, o.id)
			case outReleased:
				// Not tried: the attempt the claim counted is given back.
				_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = 'queued', attempts = `+lessOne+`,
					next_attempt_at = ?, updated_at = ?, claimed_by = '' WHERE id = ? AND state = 'sending' AND claimed_by = ?`, now, now, r.d.ID, o.id)
			case outDeferred:
				// The server never answered for this message: no attempt,
				// but the reason is kept for editions show.
				_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = 'queued', attempts = `+lessOne+`,
					next_attempt_at = ?, last_code = 0, last_reply = ?, updated_at = ?, claimed_by = '' WHERE id = ? AND state = 'sending' AND claimed_by = ?`,
					now, reply, now, r.d.ID, o.id)
			case outPaced:
				_, err = tx.ExecContext(ctx, `UPDATE deliveries SET state = 'queued', attempts = `+lessOne+`,
					next_attempt_at = ?, updated_at = ?, claimed_by = '' WHERE id = ? AND state = 'sending' AND claimed_by = ?`,
					r.next.UnixNano(), now, r.d.ID, o.id)
			}
			if err != nil {
				return fmt.Errorf("delivery %d: %w", r.d.ID, err)
			}
			editions[r.d.EditionID] = true
		}
		for id := range editions {
			if !checkDone {
				break
			}
			if err := markDone(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record deliveries: %w", err)
	}
	return nil
}

// allSent reports whether every result is an accepted send.
func allSent(results []result) bool {
	for _, r := range results {
		if r.kind != outSent {
			return false
		}
	}
	return true
}

// sentIDs lists the deliveries of results.
func sentIDs(results []result) []int64 {
	ids := make([]int64, len(results))
	for i, r := range results {
		ids[i] = r.d.ID
	}
	return ids
}

// markSentStmt is the statement that marks accepted sends: it runs on
// every commit of a send.
func (l *Ledger) markSentStmt(ctx context.Context) (*sql.Stmt, error) {
	return l.prepared(ctx, l.DB.Write, `UPDATE deliveries SET state = 'sent', sent_at = ?, updated_at = ?
		WHERE id IN (`+l.DB.Dialect.Ints("?")+`)`)
}

// stmtKey names a statement prepared on a pool.
type stmtKey struct {
	pool  *sql.DB
	query string
}

// prepared is query prepared on pool, once: for the statements a send
// runs over and over (SQLite takes half a millisecond to prepare a claim).
func (l *Ledger) prepared(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	l.stmtMu.Lock()
	defer l.stmtMu.Unlock()
	k := stmtKey{pool, query}
	if st := l.stmts[k]; st != nil {
		return st, nil
	}
	st, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if l.stmts == nil {
		l.stmts = map[stmtKey]*sql.Stmt{}
	}
	l.stmts[k] = st
	return st, nil
}

// jsonInts encodes ids as a JSON array, for Dialect.Ints.
func jsonInts(ids []int64) string {
	b := make([]byte, 0, 8*len(ids)+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// openEditionDone is the condition of an edition with nothing left to
// send: planned to the end, and no delivery queued or sending.
const openEditionDone = `state = 'sending' AND planning = 0 AND NOT EXISTS (SELECT 1 FROM deliveries d
	WHERE d.edition_id = editions.id AND d.state IN ('queued', 'sending'))`

// markDone marks edition id done when none of its deliveries is queued or
// sending.
func markDone(ctx context.Context, tx *sql.Tx, id int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE editions SET state = 'done' WHERE id = ? AND `+openEditionDone, id); err != nil {
		return fmt.Errorf("mark edition done: %w", err)
	}
	return nil
}

// sweepDone marks done every edition with nothing left to send, such as
// one whose last open deliveries went with an erased subscriber.
func (l *Ledger) sweepDone(ctx context.Context) error {
	if _, err := l.DB.Write.ExecContext(ctx, `UPDATE editions SET state = 'done' WHERE `+openEditionDone); err != nil {
		return fmt.Errorf("mark editions done: %w", err)
	}
	return nil
}

// clipReply shortens a reply to maxReply bytes on a rune boundary.
func clipReply(s string) string {
	if len(s) <= maxReply {
		return s
	}
	n := maxReply
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
