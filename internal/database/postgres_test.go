package database_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
)

func TestConnConfig_NamesWhatIsWrong(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"postgres://ana:s3cret@db.example/", "names no database"},
		{"postgres://ana@db.example", "names no database"},
		{"postgres://ana:s3cret@db.example:notaport/tidings", "database url"},
	} {
		_, err := database.ConnConfig(tc.url)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error saying %q", tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the password: %v", tc.url, err)
		}
	}
	if _, err := database.ConnConfig("postgres://ana@db.example/tidings?sslmode=disable"); err != nil {
		t.Errorf("a URL with a database: %v", err)
	}
}

func TestRedact(t *testing.T) {
	got := database.Redact("postgres://ana:s3cret@db.example/tidings?password=other&sslmode=disable")
	if strings.Contains(got, "s3cret") || strings.Contains(got, "other") || !strings.Contains(got, "ana") {
		t.Errorf("Redact = %s", got)
	}
}

// An unreachable server is waited for until the context ends, and then
// the error says what was tried. The port is one just closed on loopback.
func TestOpen_WaitsForAnUnreachableServerThenSaysSo(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = database.Open(ctx, "postgres://ana:s3cret@"+addr+"/tidings?sslmode=disable")
	if err == nil || !strings.Contains(err.Error(), "gave up waiting") {
		t.Fatalf("got %v, want it to give up waiting", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("the error shows the password: %v", err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("gave up after %v, before the context ended", d)
	}
}

func TestPostgres_OpenMigratesOnceWhenInstancesStartTogether(t *testing.T) {
	url := databasetest.NewPostgres(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	dbs := make([]*database.DB, 3)
	for i := range dbs {
		wg.Go(func() { dbs[i], errs[i] = database.Open(ctx, url) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: %v", i, err)
		}
		defer dbs[i].Close()
	}
	var n, max int
	if err := dbs[0].Read.QueryRowContext(ctx, `SELECT COUNT(*), MAX(version) FROM schema_migrations`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	if n != database.LatestVersion(database.Postgres) || max != n {
		t.Errorf("schema_migrations has %d rows up to %d, want each of %d once", n, max, database.LatestVersion(database.Postgres))
	}
	// The stores' SQL runs with ? placeholders, and CITEXT keeps one
	// subscriber per address whatever its case.
	if _, err := dbs[1].Write.ExecContext(ctx, `INSERT INTO subscribers (email, status, created_at) VALUES (?, 'pending', ?)`, "Jane@x.org", 1); err != nil {
		t.Fatal(err)
	}
	_, err := dbs[2].Write.ExecContext(ctx, `INSERT INTO subscribers (email, status, created_at) VALUES (?, 'pending', ?)`, "jane@x.org", 2)
	if err == nil {
		t.Error("jane@x.org went in beside Jane@x.org")
	}
}

func TestPostgres_RefusesANewerSchemaUntouched(t *testing.T) {
	url := databasetest.NewPostgres(t)
	ctx := context.Background()
	db, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', 'x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = database.Open(ctx, url)
	if !errors.Is(err, database.ErrTooNew) || !strings.Contains(err.Error(), "999") {
		t.Fatalf("got %v, want ErrTooNew naming version 999", err)
	}
}

func TestPostgres_RefusesAReadOnlyDatabase(t *testing.T) {
	url := databasetest.NewPostgres(t)
	ctx := context.Background()
	db, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	name := url[strings.LastIndex(url, "/")+1:]
	if i := strings.IndexByte(name, '?'); i >= 0 {
		name = name[:i]
	}
	if _, err := db.Write.ExecContext(ctx, `ALTER DATABASE "`+name+`" SET default_transaction_read_only = on`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = database.Open(ctx, url)
	if !errors.Is(err, database.ErrReadOnly) {
		t.Fatalf("got %v, want ErrReadOnly", err)
	}
}

// The writer lock makes a read-then-write in a Write transaction safe
// across instances: two instances adding one to a counter a hundred times
// each end at two hundred.
func TestPostgres_WriteTransactionsSerializeAcrossInstances(t *testing.T) {
	url := databasetest.NewPostgres(t)
	ctx := context.Background()
	a, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.Write.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('n', '0')`); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, db := range []*database.DB{a, b, a, b} {
		wg.Go(func() {
			for range 50 {
				tx, err := db.Write.BeginTx(ctx, nil)
				if err != nil {
					t.Error(err)
					return
				}
				var v string
				if err := tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'n'`).Scan(&v); err != nil {
					t.Error(err)
				}
				var n int
				for _, c := range v {
					n = 10*n + int(c-'0')
				}
				if _, err := tx.ExecContext(ctx, `UPDATE settings SET value = ? WHERE key = 'n'`, itoa(n+1)); err != nil {
					t.Error(err)
				}
				if err := tx.Commit(); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	var v string
	a.Read.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'n'`).Scan(&v)
	if v != "200" {
		t.Errorf("counter = %s after 200 serialized increments, want 200", v)
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestPostgres_OneLeaderTakenOverWhenItGoes(t *testing.T) {
	url := databasetest.NewPostgres(t)
	ctx := context.Background()
	a, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	b, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	la, lb := database.NewLeaders(a), database.NewLeaders(b)
	defer lb.Close()
	if ok, err := la.Lead(ctx, "fetch"); !ok || err != nil {
		t.Fatalf("first instance: lead = %v, %v", ok, err)
	}
	if ok, err := la.Lead(ctx, "fetch"); !ok || err != nil {
		t.Fatalf("first instance again: lead = %v, %v", ok, err)
	}
	if ok, err := lb.Lead(ctx, "fetch"); ok || err != nil {
		t.Fatalf("second instance while the first leads: lead = %v, %v", ok, err)
	}
	if ok, err := lb.Lead(ctx, "scan"); !ok || err != nil {
		t.Fatalf("second instance, other work: lead = %v, %v", ok, err)
	}
	// The first instance dies: its connections end with it, as when the
	// server drops them. (This drops the second's idle ones too; its
	// pool opens new ones.)
	defer a.Close()
	if _, err := b.Read.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := lb.Lead(ctx, "fetch")
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second instance never took over the lead")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The old leader finds its lock gone and does not lead.
	if ok, _ := la.Lead(ctx, "fetch"); ok {
		t.Error("the first instance still leads after losing its connection")
	}
}

func TestPostgres_NoticesReachEveryInstance(t *testing.T) {
	url := databasetest.NewPostgres(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got := make(chan string, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		b.Listen(ctx, "tidings_content", func(p string) { got <- p })
	}()
	// Listen connects in its own time; notify until one arrives.
	deadline := time.After(10 * time.Second)
	for {
		if err := a.Notify(ctx, "tidings_content", "articles changed"); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-got:
			if p == "" {
				continue // Listen began: notices before it were missed
			}
			if p != "articles changed" {
				t.Errorf("payload %q", p)
			}
			cancel()
			<-done
			return
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("no notice arrived")
		}
	}
}

func TestSQLite_LeadsAndNoticesAreLocal(t *testing.T) {
	db, err := database.Open(context.Background(), t.TempDir()+"/t.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if ok, err := database.NewLeaders(db).Lead(context.Background(), "fetch"); !ok || err != nil {
		t.Errorf("the one SQLite instance does not lead: %v, %v", ok, err)
	}
	if err := db.Notify(context.Background(), "c", "x"); err != nil {
		t.Error(err)
	}
	if err := db.Listen(context.Background(), "c", func(string) { t.Error("a notice on SQLite") }); err != nil {
		t.Error(err)
	}
}

func TestDialect_IntsAndTexts(t *testing.T) {
	for _, where := range []string{t.TempDir() + "/t.db", databasetest.Where(t)} {
		db, err := database.Open(context.Background(), where)
		if err != nil {
			t.Fatal(err)
		}
		var n, sum int
		if err := db.Read.QueryRow(`SELECT COUNT(*), SUM(v) FROM (SELECT 5 AS v UNION ALL SELECT 7 UNION ALL SELECT 9) x WHERE v IN (`+db.Dialect.Ints("?1")+`)`, "[5,9,11]").Scan(&n, &sum); err != nil {
			t.Fatalf("%s: %v", db.Dialect, err)
		}
		if n != 2 || sum != 14 {
			t.Errorf("%s: Ints matched %d rows summing %d, want 2 and 14", db.Dialect, n, sum)
		}
		var s string
		if err := db.Read.QueryRow(`SELECT MAX(v) FROM (SELECT 'a' AS v UNION ALL SELECT 'b') x WHERE v IN (`+db.Dialect.Texts("?")+`)`, `["a","c"]`).Scan(&s); err != nil || s != "a" {
			t.Errorf("%s: Texts: %q, %v", db.Dialect, s, err)
		}
		db.Close()
	}
}
