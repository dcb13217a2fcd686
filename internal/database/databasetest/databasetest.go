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
	"strings"
	"sync"
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
// the test's folder, or the URL of a new PostgreSQL database with the
// schema in place (copied from a template migrated once per test binary,
// which saves most of a second per test). The caller (a config, a process
// under test) opens it.
func Where(t testing.TB) string {
	t.Helper()
	if Postgres() {
		return create(t, template(t))
	}
	return filepath.Join(t.TempDir(), "tidings.db")
}

var (
	tmplOnce sync.Once
	tmplName string
	tmplErr  error
)

// template makes, once per process, a migrated database to copy, and
// drops those of test processes that are gone.
func template(t testing.TB) string {
	tmplOnce.Do(func() {
		admin := os.Getenv(Env)
		dropStaleTemplates(admin)
		tmplName = fmt.Sprintf("tidings_tmpl_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9)
		if tmplErr = exec(admin, `CREATE DATABASE `+pgx.Identifier{tmplName}.Sanitize()); tmplErr != nil {
			return
		}
		u, err := url.Parse(admin)
		if err != nil {
			tmplErr = err
			return
		}
		u.Path = "/" + tmplName
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		db, err := database.Open(ctx, u.String())
		if err != nil {
			tmplErr = err
			return
		}
		tmplErr = db.Close()
	})
	if tmplErr != nil {
		t.Fatalf("template test database: %v", tmplErr)
	}
	return tmplName
}

// dropStaleTemplates drops the templates whose test process has ended.
func dropStaleTemplates(admin string) {
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		return
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	rows, err := db.Query(`SELECT datname FROM pg_database WHERE datname LIKE 'tidings\_tmpl\_%' OR datname LIKE 'tidings\_test\_%'`)
	if err != nil {
		return
	}
	var stale []string
	for rows.Next() {
		var name string
		rows.Scan(&name)
		var pid int
		if _, err := fmt.Sscanf(strings.TrimPrefix(strings.TrimPrefix(name, "tidings_tmpl_"), "tidings_test_"), "%d", &pid); err != nil {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err != nil {
			stale = append(stale, name)
		}
	}
	rows.Close()
	for _, name := range stale {
		drop(admin, name)
	}
}

var seq atomic.Int64

// NewPostgres creates an empty database on the server named by Env and
// returns its URL; it skips the test when Env is not set. The database is
// dropped when the test ends.
func NewPostgres(t testing.TB) string {
	t.Helper()
	return create(t, "")
}

// create makes a database, a copy of template when one is named.
func create(t testing.TB, template string) string {
	t.Helper()
	admin := os.Getenv(Env)
	if admin == "" {
		t.Skipf("%s is not set: no PostgreSQL server to test against (.ci/postgres start prints one)", Env)
	}
	name := fmt.Sprintf("tidings_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e6, seq.Add(1))
	q := `CREATE DATABASE ` + pgx.Identifier{name}.Sanitize()
	if template != "" {
		q += ` TEMPLATE ` + pgx.Identifier{template}.Sanitize() + ` STRATEGY FILE_COPY`
	}
	var err error
	for range 50 {
		// Two copies of one template at once: the second is told the
		// template is in use, and tries again.
		if err = exec(admin, q); err == nil || !strings.Contains(err.Error(), "is being accessed by other users") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
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

func exec(admin, q string) error {
	cfg, err := pgx.ParseConfig(admin)
	if err != nil {
		return fmt.Errorf("%s: %w", Env, err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err = db.ExecContext(ctx, q)
	return err
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
