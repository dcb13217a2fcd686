package admin

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// The login rate limit. Failed logins are counted under three keys: the
// (account, IP) pair, the IP, and the account. A key's first free
// failures cost nothing; after those each failure doubles the wait before
// the next attempt under that key (1 s, 2 s, 4 s ...), capped at maxWait.
// A count is forgotten forgetAfter after its last failure, and a
// successful login clears its pair.
//
// The owner cannot be locked out by someone else: the account-wide count
// does not apply to a pair that has logged in before (the owner's own
// addresses), and the pair and IP counts are the attacker's own. At worst
// a new address waits maxWait between attempts while an attack goes on;
// `tidings admin passwd` on the server always works.
const (
	pairFree    = 5
	wideFree    = 20
	maxWait     = 15 * time.Minute
	forgetAfter = 24 * time.Hour
)

// limitKey is one counter of the rate limit.
type limitKey struct{ kind, key string }

func limitKeys(email, ip string) []limitKey {
	email = strings.ToLower(strings.TrimSpace(email))
	return []limitKey{{"pair", email + " " + ip}, {"ip", ip}, {"account", email}}
}

// backoff is the wait after failures under a key that lets free go by.
func backoff(failures, free int) time.Duration {
	if failures < free {
		return 0
	}
	n := failures - free
	if n >= 20 {
		return maxWait
	}
	return min(maxWait, time.Second<<n)
}

// LoginWait is how long a login for email from ip must wait before it
// may be tried; zero when it may be tried now.
func (s *Store) LoginWait(ctx context.Context, email, ip string) (time.Duration, error) {
	now := s.now()
	var wait time.Duration
	var known bool
	for _, k := range limitKeys(email, ip) {
		var failures int
		var last int64
		var isKnown bool
		err := s.db.Read.QueryRowContext(ctx, `SELECT failures, last_at, known FROM admin_login_failures WHERE kind = ? AND key = ?`,
			k.kind, k.key).Scan(&failures, &last, &isKnown)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("read login failures: %w", err)
		}
		if k.kind == "pair" {
			known = isKnown
		}
		if k.kind == "account" && known {
			continue
		}
		lastAt := fromNanos(last)
		if now.Sub(lastAt) > forgetAfter {
			continue
		}
		free := wideFree
		if k.kind == "pair" {
			free = pairFree
		}
		if left := lastAt.Add(backoff(failures, free)).Sub(now); left > wait {
			wait = left
		}
	}
	return wait, nil
}

// LoginFailed counts a failed login for email from ip under each key.
func (s *Store) LoginFailed(ctx context.Context, email, ip string) error {
	now := nanos(s.now())
	stale := nanos(s.now().Add(-forgetAfter))
	return s.inTx(ctx, func(tx *sql.Tx) error {
		for _, k := range limitKeys(email, ip) {
			_, err := tx.ExecContext(ctx, `INSERT INTO admin_login_failures (kind, key, failures, last_at) VALUES (?, ?, 1, ?)
				ON CONFLICT (kind, key) DO UPDATE SET
				failures = CASE WHEN admin_login_failures.last_at < ? THEN 1 ELSE admin_login_failures.failures + 1 END,
				last_at = excluded.last_at`,
				k.kind, k.key, now, stale)
			if err != nil {
				return fmt.Errorf("count login failure: %w", err)
			}
		}
		// Forget what no longer counts, so random addresses cannot grow the table.
		if _, err := tx.ExecContext(ctx, `DELETE FROM admin_login_failures WHERE last_at < ? AND known = 0`, stale); err != nil {
			return fmt.Errorf("forget login failures: %w", err)
		}
		return nil
	})
}

// LoginSucceeded clears the pair's count and marks it known, so the
// account-wide count no longer applies to it.
func (s *Store) LoginSucceeded(ctx context.Context, email, ip string) error {
	k := limitKeys(email, ip)[0]
	_, err := s.db.Write.ExecContext(ctx, `INSERT INTO admin_login_failures (kind, key, failures, last_at, known) VALUES (?, ?, 0, ?, 1)
		ON CONFLICT (kind, key) DO UPDATE SET failures = 0, last_at = excluded.last_at, known = 1`, k.kind, k.key, nanos(s.now()))
	if err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}
