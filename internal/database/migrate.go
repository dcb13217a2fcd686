package database

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

// ErrTooNew is returned when the database was migrated by a newer tidings.
var ErrTooNew = errors.New("database schema is newer than this binary")

type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the embedded migrations of a dialect in order. Each
// dialect has its own numbered files under migrations/DIALECT, whose names
// start with the version number: 0001_articles.sql.
func migrations(d Dialect) ([]migration, error) {
	dir := "migrations/" + d.String()
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a number and _", e.Name())
		}
		b, err := migrationFiles.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// LatestVersion is the schema version this binary writes for a dialect.
func LatestVersion(d Dialect) int {
	ms, err := migrations(d)
	if err != nil {
		return 0
	}
	return len(ms)
}

// checkVersion reads the schema version of an existing database file
// read-only, without the WAL pragma, and refuses one newer than this binary.
func checkVersion(ctx context.Context, path string) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	// immutable=1 keeps SQLite from creating -wal and -shm files beside a
	// database it may refuse; when a WAL file is there already (another
	// process has it open) its content counts, so read through it.
	q := "?mode=ro&immutable=1"
	if _, err := os.Stat(path + "-wal"); err == nil {
		q = "?mode=ro&_pragma=busy_timeout(5000)"
	}
	ro, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+q)
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	defer ro.Close()
	var v int
	err = ro.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		if strings.Contains(err.Error(), "no such table") {
			return nil
		}
		return fmt.Errorf("open database %s: %w", path, err)
	}
	if latest := LatestVersion(SQLite); v > latest {
		return fmt.Errorf("database %s has schema version %d, this tidings knows up to %d: upgrade tidings, or restore a backup: %w", path, v, latest, ErrTooNew)
	}
	return nil
}

// migrate applies every migration not yet recorded, each in its own
// transaction together with its record.
func (db *DB) migrate(ctx context.Context) error {
	ms, err := migrations(db.Dialect)
	if err != nil {
		return err
	}
	// Each step reads the version inside its own write transaction, so
	// that two instances starting together on one PostgreSQL database
	// apply every migration once: the second waits for the writer lock and
	// then finds the step done.
	if err := db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version BIGINT PRIMARY KEY,
			name TEXT NOT NULL,
			applied_at TEXT NOT NULL
		)`)
		return err
	}); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, m := range ms {
		err := db.inTx(ctx, func(tx *sql.Tx) error {
			var current int
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
				return err
			}
			if current > len(ms) {
				return fmt.Errorf("database %s has schema version %d, this tidings knows up to %d: upgrade tidings, or restore a backup: %w", db, current, len(ms), ErrTooNew)
			}
			if current >= m.version {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, time.Now().UTC().Format(time.RFC3339))
			return err
		})
		if errors.Is(err, ErrTooNew) {
			return err
		}
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return nil
}

// inTx runs fn in a write transaction and commits it, or rolls it back
// when fn fails.
func (db *DB) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}
