package mail

import (
	"context"
	"crypto/rand"

	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// owner is one sender's registration in the senders table: the name its
// claims carry.
type owner struct {
	id   string
	host string
	pid  int
}

func newOwner() owner {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	host, _ := os.Hostname()
	return owner{id: hex.EncodeToString(b[:]), host: host, pid: os.Getpid()}
}

// register records o as a live sender.
func (l *Ledger) register(ctx context.Context, o owner) error {
	now := l.now().UnixNano()
	_, err := l.DB.Write.ExecContext(ctx, `INSERT INTO senders (id, host, pid, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?)`,
		o.id, o.host, o.pid, now, now)
	if err != nil {
		return fmt.Errorf("register sender: %w", err)
	}
	return nil
}

// beat renews o's heartbeat.
func (l *Ledger) beat(ctx context.Context, o owner) error {
	_, err := l.DB.Write.ExecContext(ctx, `UPDATE senders SET heartbeat_at = ? WHERE id = ?`, l.now().UnixNano(), o.id)
	if err != nil {
		return fmt.Errorf("sender heartbeat: %w", err)
	}
	return nil
}

// liveSenders counts the senders whose heartbeat is fresher than stale,
// o among them: those the rate limits are split among.
func (l *Ledger) liveSenders(ctx context.Context, stale time.Duration) (int, error) {
	var n int
	err := l.DB.Read.QueryRowContext(ctx, `SELECT COUNT(*) FROM senders WHERE heartbeat_at >= ?`,
		l.now().Add(-stale).UnixNano()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count live senders: %w", err)
	}
	return max(n, 1), nil
}

// unregister removes o; its claims were given back or recorded first.
func (l *Ledger) unregister(ctx context.Context, o owner) error {
	if _, err := l.DB.Write.ExecContext(ctx, `DELETE FROM senders WHERE id = ?`, o.id); err != nil {
		return fmt.Errorf("unregister sender: %w", err)
	}
	return nil
}

// reap removes the senders that are gone: those whose heartbeat is older
// than stale, and those on this host whose process no longer runs (a
// kill -9, a crash), which frees their claims at once instead of after
// stale. It returns how many it removed.
func (l *Ledger) reap(ctx context.Context, self owner, stale time.Duration) (int, error) {
	rows, err := l.DB.Read.QueryContext(ctx, `SELECT id, host, pid, heartbeat_at FROM senders`)
	if err != nil {
		return 0, fmt.Errorf("list senders: %w", err)
	}
	var gone []string
	cutoff := l.now().Add(-stale).UnixNano()
	for rows.Next() {
		var o owner
		var beat int64
		if err := rows.Scan(&o.id, &o.host, &o.pid, &beat); err != nil {
			rows.Close()
			return 0, fmt.Errorf("list senders: %w", err)
		}
		if beat < cutoff || (o.host == self.host && o.pid != self.pid && !processRuns(o.pid)) {
			gone = append(gone, o.id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("list senders: %w", err)
	}
	for _, id := range gone {
		if _, err := l.DB.Write.ExecContext(ctx, `DELETE FROM senders WHERE id = ?`, id); err != nil {
			return 0, fmt.Errorf("remove dead sender: %w", err)
		}
	}
	return len(gone), nil
}

// processRuns reports whether a process with that id exists here.
func processRuns(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Claimant is a sender holding claims, as Claimants reports it.
type Claimant struct {
	Host     string
	PID      int
	Claimed  int // deliveries it has marked sending
	LastBeat time.Time
}

// Claimants lists the live senders that hold claims now: what a second
// sender (digest send beside serve) can say it is waiting for.
func (l *Ledger) Claimants(ctx context.Context) ([]Claimant, error) {
	rows, err := l.DB.Read.QueryContext(ctx, `SELECT s.host, s.pid, s.heartbeat_at, COUNT(d.id) FROM senders s
		JOIN deliveries d ON d.claimed_by = s.id AND d.state = 'sending' GROUP BY s.id ORDER BY s.started_at`)
	if err != nil {
		return nil, fmt.Errorf("list claimants: %w", err)
	}
	defer rows.Close()
	var out []Claimant
	for rows.Next() {
		var c Claimant
		var beat int64
		if err := rows.Scan(&c.Host, &c.PID, &beat, &c.Claimed); err != nil {
			return nil, fmt.Errorf("list claimants: %w", err)
		}
		c.LastBeat = fromNanos(beat)
		out = append(out, c)
	}
	return out, rows.Err()
}
