// Package databasetest gives each test a database of its own: SQLite in
// the test's temporary folder, or, when TIDINGS_TEST_POSTGRES names a
// PostgreSQL server (`.ci/postgres start` prints one), a new database on
// that server, dropped when the test ends. The store tests run against
// both by running once with the variable and once without.
package databasetest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/tidings/tidings/internal/database"
)

// Env names the variable holding the PostgreSQL server's URL.
const Env = "TIDINGS_TEST_POSTGRES"

// Postgres reports whether the tests run against PostgreSQL.
func Postgres() bool { return os.Getenv(Env) != "" }

// Open returns a fresh, migrated database, closed when the test ends.
func Open(t testing.TB) *database.DB {
	t.Helper()
	where := filepath.Join(t.TempDir(), "tidings.db")
	if Postgres() {
		where = NewPostgres(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := database.Open(ctx, where)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Where returns where a fresh database for a test is: an SQLite path in
// the test's folder, or the URL of a new empty PostgreSQL database. The
// caller (a config, a process under test) opens it.
func Where(t testing.TB) string {
	t.Helper()
	if Postgres() {
		return NewPostgres(t)
	}
	return filepath.Join(t.TempDir(), "tidings.db")
}

var seq atomic.Int64

// NewPostgres creates an empty database on the server named by Env and
// returns its URL; it skips the test when Env is not set. The database is
// dropped when the test ends.
func NewPostgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(Env)
	if admin == "" {
		t.Skipf("%s is not set: no PostgreSQL server to test against (.ci/postgres start prints one)", Env)
	}
	name := fmt.Sprintf("tidings_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, seq.Add(1))
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { drop(admin, name) })
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", Env, err)
	}
	u.Path = "/" + name
	return u.String()
}

func drop(admin, name string) {
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		return
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
}
