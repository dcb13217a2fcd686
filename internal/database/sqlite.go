package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// DB is the tidings database, SQLite or PostgreSQL. The stores write the
// same SQL for both, with ? placeholders, and ask Dialect where the two
// differ.
//
// On SQLite, Write is one connection, so writers queue in Go instead of
// failing with SQLITE_BUSY, and Read a pool that WAL lets run beside it.
// On PostgreSQL every transaction on Write holds the writer lock (see
// writerLock), which keeps that one-writer rule across every instance on
// the database.
//
// Shared is for the writes made to run on several connections and several
// instances at once, relying on row locks only: the ledger's claims
// (FOR UPDATE SKIP LOCKED). On SQLite it is Write.
type DB struct {
	Dialect Dialect
	Path    string // SQLite: the file
	URL     string // PostgreSQL: the URL as configured
	Write   *sql.DB
	Read    *sql.DB
	Shared  *sql.DB

	opened os.FileInfo // the file as it was opened, for Check

	// Tightened lists the files Open found readable by others and made
	// 0600: the database holds the token secret and subscribers' data.
	Tightened []string
}

// dsn builds the connection string. Pragmas go in the DSN because they are
// per connection: an Exec would set them on one pooled connection only.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Open opens the database named by where, a postgres:// URL or an SQLite
// file path (created if needed), and brings its schema up to date. A
// database written by a newer tidings is refused untouched.
func Open(ctx context.Context, where string) (*DB, error) {
	if IsURL(where) {
		return openPostgres(ctx, where)
	}
	return openSQLite(ctx, where)
}

func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open database: no path given")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open database: %w", err)
		}
	}
	// A new database is created 0600 before SQLite opens it; SQLite gives
	// its -wal and -shm files the same mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("open database: %w", err)
	}
	// Check the schema version before anything writes: opening in WAL mode
	// already changes the file, and a newer database must stay untouched.
	if err := checkVersion(ctx, path); err != nil {
		return nil, err
	}
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db := &DB{Dialect: SQLite, Path: path, Write: w, Shared: w}
	if db.Tightened, err = tighten(path, path+"-wal", path+"-shm"); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if db.opened, err = os.Stat(path); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := db.migrate(ctx); err != nil {
		w.Close()
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	r.SetMaxOpenConns(max(4, runtime.NumCPU()))
	db.Read = r
	return db, nil
}

// tighten makes each existing file that group or others may read 0600,
// and returns those it changed.
func tighten(paths ...string) ([]string, error) {
	var changed []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return changed, err
		}
		if info.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return changed, err
			}
			changed = append(changed, p)
		}
	}
	return changed, nil
}

// Close closes the pools.
func (db *DB) Close() error {
	var errs []error
	closed := map[*sql.DB]bool{}
	for _, p := range []*sql.DB{db.Read, db.Shared, db.Write} {
		if p != nil && !closed[p] {
			closed[p] = true
			errs = append(errs, p.Close())
		}
	}
	return errors.Join(errs...)
}

// String names the database for messages: the file, or the URL without
// its password.
func (db *DB) String() string {
	if db.Dialect == Postgres {
		return Redact(db.URL)
	}
	return db.Path
}
