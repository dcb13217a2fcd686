package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// idleWait bounds how long Run sleeps with nothing due, so that a row
// queued by another process (a digest send beside serve) is not left
// waiting for a wake-up that never comes here.
const idleWait = 30 * time.Second

// maxLoopBackoff caps the pause after runs that failed in a row.
const maxLoopBackoff = time.Minute

// Run sends due deliveries until ctx ends: at once, whenever wake
// receives, and when the next retry or lapsed claim comes due. A run that
// fails (the database is gone, say) is logged and tried again after a
// pause that doubles, up to a minute, so that a lasting fault is one log
// line a minute, not one every few seconds. Sends in flight when ctx ends
// finish and are recorded before Run returns nil.
func (s *Sender) Run(ctx context.Context, wake <-chan struct{}) error {
	var pause time.Duration
	for ctx.Err() == nil {
		start := time.Now()
		rep, err := s.SendDue(ctx)
		if s.Observe != nil {
			s.Observe(rep, time.Since(start), err)
		}
		wait := idleWait
		switch {
		case err != nil && ctx.Err() == nil:
			pause = min(max(2*pause, time.Second), maxLoopBackoff)
			wait = pause
			s.Ledger.log().Error("delivery run failed", "retry_in", pause, "error", err)
		default:
			pause = 0
			next, ok, err := s.Ledger.NextDue(ctx)
			if err == nil && ok {
				wait = min(wait, max(next.Sub(s.Ledger.now()), 0))
			}
			if !rep.Capped.IsZero() {
				// Editions wait for tomorrow; sign-up mail still goes
				// when a wake-up says it is queued.
				wait = max(wait, min(rep.Capped.Sub(s.Ledger.now()), idleWait))
			}
		}
		after, stop := s.timer(wait)
		select {
		case <-ctx.Done():
		case <-wake:
		case <-after:
		}
		stop()
	}
	return nil
}

// timer waits for d; tests replace it through Sender.after.
func (s *Sender) timer(d time.Duration) (<-chan time.Time, func()) {
	if s.after != nil {
		return s.after(d), func() {}
	}
	t := time.NewTimer(d)
	return t.C, func() { t.Stop() }
}

// NextDue returns when the next queued delivery's attempt, or the next
// claim's lapse, comes; ok is false when nothing is open.
func (l *Ledger) NextDue(ctx context.Context) (at time.Time, ok bool, err error) {
	var n sql.NullInt64
	err = l.DB.Read.QueryRowContext(ctx, `SELECT MIN(next_attempt_at) FROM deliveries WHERE state IN ('queued', 'sending')`).Scan(&n)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, fmt.Errorf("next due delivery: %w", err)
	}
	if !n.Valid {
		return time.Time{}, false, nil
	}
	return fromNanos(n.Int64), true, nil
}
