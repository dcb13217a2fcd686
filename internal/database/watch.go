package database

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// ErrGone is returned by Check when the database file was removed,
// replaced or made read-only under a running tidings: SQLite would go on
// writing to the unlinked file (or fail on every write), losing what it
// records, so a daemon stops instead.
var ErrGone = errors.New("database file is gone")

// Check reports whether the file the database was opened from is still
// there, the same file, and writable. It returns an error wrapping ErrGone
// naming what changed.
func (db *DB) Check() error {
	if db.Dialect != SQLite {
		return nil // a server's database has no file of ours to lose
	}
	info, err := os.Stat(db.Path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w: %s was removed while tidings ran", ErrGone, db.Path)
	case err != nil:
		return fmt.Errorf("%w: %s: %w", ErrGone, db.Path, err)
	case db.opened != nil && !os.SameFile(info, db.opened):
		return fmt.Errorf("%w: %s was replaced by another file while tidings ran", ErrGone, db.Path)
	}
	// No write bit at all is read-only by the operator's word even for
	// root, whom access(2) lets write anyway.
	if info.Mode().Perm()&0o222 == 0 {
		return fmt.Errorf("%w: %s is no longer writable (mode %v)", ErrGone, db.Path, info.Mode().Perm())
	}
	if err := syscall.Access(db.Path, 2 /* W_OK */); err != nil {
		return fmt.Errorf("%w: %s is no longer writable: %w", ErrGone, db.Path, err)
	}
	return nil
}

// Watch checks the file every interval until ctx ends (nil) or a check
// fails (its error). On PostgreSQL it checks the schema instead: when
// another instance, a newer tidings, has migrated the database past what
// this binary knows, Watch returns an error wrapping ErrTooNew, so that
// this instance stops rather than write rows it does not understand. A
// server that does not answer is not a failure here: the stores wait and
// retry, and readiness says so.
func (db *DB) Watch(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := db.Check(); err != nil {
				return err
			}
			if err := db.checkSchema(ctx); err != nil {
				return err
			}
		}
	}
}

// checkSchema returns an error wrapping ErrTooNew when a PostgreSQL
// database holds migrations this binary does not have.
func (db *DB) checkSchema(ctx context.Context) error {
	if db.Dialect != Postgres {
		return nil // one instance holds an SQLite file; Open checked it
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return nil
	}
	if latest := LatestVersion(db.Dialect); v > latest {
		return fmt.Errorf("database %s was migrated to schema version %d by a newer tidings while this one (which knows up to %d) ran: this instance stops rather than write to a schema it does not know; upgrade it: %w",
			db, v, latest, ErrTooNew)
	}
	return nil
}

// SchemaVersion is the highest migration applied to the database.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.Read.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}
