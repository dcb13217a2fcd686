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
// fails (its error).
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
		}
	}
}
