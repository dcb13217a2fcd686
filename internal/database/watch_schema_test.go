package database_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
)

// An instance running beside one that migrated the shared database
// further stops with an error that says why, instead of writing on.
func TestWatch_StopsWhenAnotherInstanceMigratedFurther(t *testing.T) {
	db, err := database.Open(context.Background(), databasetest.NewPostgres(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- db.Watch(ctx, 50*time.Millisecond) }()
	select {
	case err := <-errc:
		t.Fatalf("Watch ended on a current schema: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	next := database.LatestVersion(database.Postgres) + 1
	if _, err := db.Write.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future.sql', 'x')`, next); err != nil {
		t.Fatal(err)
	}
	err = <-errc
	if !errors.Is(err, database.ErrTooNew) || !strings.Contains(err.Error(), "upgrade it") {
		t.Fatalf("Watch = %v, want ErrTooNew saying what to do", err)
	}
}
