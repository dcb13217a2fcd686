package database

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Leaders holds this instance's leader locks: the work that one instance
// of a cluster does at a time (fetching upstream feeds, scanning content
// folders). A PostgreSQL session-level advisory lock on a connection kept
// open for it: when the instance dies its connection closes, the server
// lets the lock go, and another instance takes it on its next try. On
// SQLite, where one instance runs, this instance always leads.
type Leaders struct {
	db *DB

	mu    sync.Mutex
	conns map[string]*sql.Conn
}

// NewLeaders returns the leader locks of db, none held yet.
func NewLeaders(db *DB) *Leaders {
	return &Leaders{db: db, conns: map[string]*sql.Conn{}}
}

// Lead reports whether this instance leads name, taking the lock when no
// other instance holds it. Call it before each round of the work: a lock
// lost with its connection is noticed and taken again when free.
func (l *Leaders) Lead(ctx context.Context, name string) (bool, error) {
	if l.db.Dialect != Postgres {
		return true, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.conns[name]; ok {
		if err := c.PingContext(ctx); err == nil {
			return true, nil
		}
		c.Close()
		delete(l.conns, name)
		slog.Warn("lost the leader lock with its connection", "work", name)
	}
	c, err := l.db.Read.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("leader lock %s: %w", name, err)
	}
	var got bool
	if err := c.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(?)`, lockKey("leader:"+name)).Scan(&got); err != nil {
		c.Close()
		return false, fmt.Errorf("leader lock %s: %w", name, err)
	}
	if !got {
		c.Close()
		return false, nil
	}
	l.conns[name] = c
	return true, nil
}

// Close lets every lock go.
func (l *Leaders) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for name, c := range l.conns {
		// Closing the connection returns it to the pool still locked;
		// unlock first so that the pool's next user holds nothing. A
		// server that does not answer holds the lock no longer anyway
		// once the pool is closed, so the unlock waits 2 s at most.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c.ExecContext(ctx, `SELECT pg_advisory_unlock(?)`, lockKey("leader:"+name))
		cancel()
		c.Close()
		delete(l.conns, name)
	}
}

// lockKey is the advisory lock key of a name.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("tidings:" + name))
	return int64(h.Sum64())
}

// Notify tells every instance listening on channel (this one too) that
// something changed; payload says what. On SQLite there is no one else to
// tell and it does nothing.
func (db *DB) Notify(ctx context.Context, channel, payload string) error {
	if db.Dialect != Postgres {
		return nil
	}
	if _, err := db.Shared.ExecContext(ctx, `SELECT pg_notify(?, ?)`, channel, payload); err != nil {
		return fmt.Errorf("notify %s: %w", channel, err)
	}
	return nil
}

// Listen calls fn with the payload of every notice on channel until ctx
// ends, on a connection of its own that it opens again when it drops.
// Each time it starts listening, the first time too, it calls fn with ""
// once: notices sent before (while it was gone, or before this process
// listened at all) were missed. On SQLite it returns at once.
func (db *DB) Listen(ctx context.Context, channel string, fn func(payload string)) error {
	if db.Dialect != Postgres {
		return nil
	}
	cfg, err := ConnConfig(db.URL)
	if err != nil {
		return err
	}
	delay := 250 * time.Millisecond
	for ctx.Err() == nil {
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			_, err = conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize())
		}
		if err == nil {
			delay = 250 * time.Millisecond
			fn("")
			for err == nil {
				var n *pgconn.Notification
				n, err = conn.WaitForNotification(ctx)
				if err == nil {
					fn(n.Payload)
				}
			}
		}
		if conn != nil {
			conn.Close(context.Background())
		}
		if ctx.Err() != nil {
			break
		}
		slog.Warn("listening for changes: connection lost, trying again", "channel", channel, "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(delay):
		}
		delay = min(2*delay, 5*time.Second)
	}
	return nil
}
