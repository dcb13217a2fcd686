package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Dialect is the SQL a database speaks.
type Dialect int

const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// Pick returns the SQL for d where the two dialects differ.
func (d Dialect) Pick(sqlite, postgres string) string {
	if d == Postgres {
		return postgres
	}
	return sqlite
}

// Ints is a subquery of the integers in a JSON array bound at
// placeholder ph ("?" or "?1"): `id IN (` + d.Ints("?") + `)` with
// `[1,2,3]`. One parameter for any number of ids, on both dialects.
func (d Dialect) Ints(ph string) string {
	if d == Postgres {
		return "SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(" + ph + " AS json))"
	}
	return "SELECT value FROM json_each(" + ph + ")"
}

// Texts is Ints for a JSON array of strings.
func (d Dialect) Texts(ph string) string {
	if d == Postgres {
		return "SELECT value FROM json_array_elements_text(CAST(" + ph + " AS json))"
	}
	return "SELECT value FROM json_each(" + ph + ")"
}

// ErrReadOnly is returned when a PostgreSQL server only reads: a replica,
// or a database set read-only.
var ErrReadOnly = errors.New("database is read-only")

// IsURL reports whether where names a PostgreSQL database rather than an
// SQLite file.
func IsURL(where string) bool {
	return strings.HasPrefix(where, "postgres://") || strings.HasPrefix(where, "postgresql://")
}

// Redact returns a database URL without its password, for messages.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a database URL that does not parse)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// ConnConfig parses a PostgreSQL URL and checks what tidings needs of it.
func ConnConfig(raw string) (*pgx.ConnConfig, error) {
	cfg, err := pgx.ParseConfig(raw)
	if err != nil {
		// pgx's message may quote the URL; say which without the password.
		return nil, fmt.Errorf("database url %s: %w", Redact(raw), errors.Unwrap(err))
	}
	u, _ := url.Parse(raw)
	if u == nil || strings.Trim(u.Path, "/") == "" && u.Query().Get("dbname") == "" {
		return nil, fmt.Errorf("database url %s names no database: add it as the path, as in postgres://user@host/tidings", Redact(raw))
	}
	cfg.ConnectTimeout = 10 * time.Second
	return cfg, nil
}

// openPostgres connects, waiting while the server is not there yet (ctx
// bounds the wait), refuses a read-only server and a schema newer than
// this binary, and migrates.
func openPostgres(ctx context.Context, raw string) (*DB, error) {
	cfg, err := ConnConfig(raw)
	if err != nil {
		return nil, err
	}
	db := &DB{Dialect: Postgres, URL: raw}
	db.Write = sql.OpenDB(newPGConnector(cfg, true))
	db.Write.SetMaxOpenConns(4)
	db.Read = sql.OpenDB(newPGConnector(cfg, false))
	db.Read.SetMaxOpenConns(16)
	db.Read.SetMaxIdleConns(8)
	db.Shared = db.Read
	if err := db.waitReachable(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.checkWritable(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// waitReachable pings until the server answers, ctx ends, or it answers
// with an error that waiting will not mend (a wrong password, a database
// that does not exist).
func (db *DB) waitReachable(ctx context.Context) error {
	delay := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := db.Read.PingContext(ctx)
		if err == nil {
			return nil
		}
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code != "57P03" { // 57P03: the server is starting up
			return fmt.Errorf("open database %s: %w", db, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("open database %s: not reachable (%w); gave up waiting: %w", db, err, ctx.Err())
		}
		if attempt == 1 || attempt%10 == 0 {
			slog.Warn("waiting for the database", "database", db.String(), "attempt", attempt, "err", err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("open database %s: not reachable (%w); gave up waiting: %w", db, err, ctx.Err())
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}

// checkWritable refuses a server that would take reads only: tidings
// would fail on the first sign-up and mark nothing sent.
func (db *DB) checkWritable(ctx context.Context) error {
	var recovery bool
	var readOnly string
	err := db.Read.QueryRowContext(ctx, `SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only')`).Scan(&recovery, &readOnly)
	if err != nil {
		return fmt.Errorf("open database %s: %w", db, err)
	}
	if recovery {
		return fmt.Errorf("open database %s: the server is a replica in recovery; point database.url at the primary: %w", db, ErrReadOnly)
	}
	if readOnly == "on" {
		return fmt.Errorf("open database %s: default_transaction_read_only is on; tidings needs to write: %w", db, ErrReadOnly)
	}
	return nil
}
