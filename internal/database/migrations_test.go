package database

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// openAt makes a database file at schema version v, the way a tidings of
// that version left it, and returns the connection to fill it.
func openAt(t *testing.T, v int) (*sql.DB, string) {
	t.Helper()
	ms, err := migrations(SQLite)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[:v] {
		if _, err := db.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if _, err := db.Exec(`INSERT INTO schema_migrations VALUES (?, ?, 'x')`, m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	return db, path
}

// Migration 0007 keeps the subscribers and everything that hangs off them,
// and starts the id mark at the highest id there.
func TestMigrate_SubscriberIDs(t *testing.T) {
	ctx := context.Background()
	old, path := openAt(t, 6)
	for _, q := range []string{
		`INSERT INTO subscribers (id, email, status, created_at) VALUES (1, 'a@example.org', 'confirmed', 0), (7, 'b@example.org', 'pending', 0)`,
		`INSERT INTO subscriber_digests VALUES (1, 'daily'), (7, 'daily')`,
		`INSERT INTO subscriber_events (subscriber_id, kind, at) VALUES (1, 'subscribed', 0), (7, 'subscribed', 0)`,
	} {
		if _, err := old.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var last, subs, digests, events int
	if err := db.Read.QueryRowContext(ctx, `SELECT (SELECT last FROM subscriber_ids), (SELECT COUNT(*) FROM subscribers),
		(SELECT COUNT(*) FROM subscriber_digests), (SELECT COUNT(*) FROM subscriber_events)`).Scan(&last, &subs, &digests, &events); err != nil {
		t.Fatal(err)
	}
	if last != 7 || subs != 2 || digests != 2 || events != 2 {
		t.Errorf("after migrating: mark %d, %d subscribers, %d digest rows, %d events; want 7, 2, 2, 2", last, subs, digests, events)
	}
	if _, err := db.Write.ExecContext(ctx, `INSERT INTO subscriber_ids (one, last) VALUES (2, 0)`); err == nil {
		t.Error("subscriber_ids took a second row")
	}
}

// Migration 0008 gives every subscriber there a token nonce of its own.
func TestMigrate_TokenNonce(t *testing.T) {
	ctx := context.Background()
	old, path := openAt(t, 7)
	for i := range 50 {
		if _, err := old.Exec(`INSERT INTO subscribers (id, email, status, created_at) VALUES (?, ?, 'confirmed', 0)`,
			i+1, string(rune('a'+i%26))+string(rune('a'+i/26))+"@example.org"); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var rows, distinct, zero int
	if err := db.Read.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT token_nonce), COUNT(*) FILTER (WHERE token_nonce = 0)
		FROM subscribers`).Scan(&rows, &distinct, &zero); err != nil {
		t.Fatal(err)
	}
	if rows != 50 || distinct != 50 || zero != 0 {
		t.Errorf("%d subscribers, %d distinct nonces, %d zero; want 50, 50, 0", rows, distinct, zero)
	}
}
