package database_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
)

func openSQLite(t testing.TB) *database.DB {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "tidings.db"))
}

func openAt(t testing.TB, where string) *database.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	db, err := database.Open(ctx, where)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func exec(t testing.TB, db *sql.DB, queries ...string) {
	t.Helper()
	for _, q := range queries {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// fill writes rows into the tables of most owners, with the values that
// trip up a copy: NULL beside empty text, addresses in mixed case and not ASCII,
// text with quotes and newlines, the largest integers, a table without a
// key holding two equal rows, and totals of a done edition that no longer
// add up from its deliveries (a delivery erased later): no trigger may
// recount them.
func fill(t testing.TB, db *database.DB) {
	t.Helper()
	exec(t, db.Write,
		`INSERT INTO articles (id, slug, source, title, summary, content_html, published_at, updated_at, first_seen_at, removed_at, content_hash)
			VALUES ('harbour', 'harbour', 'content', 'Harbour "reopens"', '', '<p>Ships&nbsp;are back.</p>'||char(10)||'Zoë', 1764748800000000000, 1764748800000000000, 1, NULL, 'h1'),
			('ferry', 'ferry-2', 'partner', 'Ferry', 'it''s back', '', -1, 9223372036854775807, 2, 3, 'h2')`,
		`INSERT INTO article_tags VALUES ('harbour', 'Local', 0), ('harbour', 'boats', 1), ('ferry', 'boats', 0)`,
		`INSERT INTO article_assets VALUES ('harbour', 'img/quay.jpg', 1234, 5, 'quay-1.jpg'), ('harbour', 'gone.png', -1, 0, '')`,
		`INSERT INTO subscribers (id, email, name, status, route, created_at, confirmed_at, token_nonce, timezone)
			VALUES (1, 'Ana@Example.org', 'Ana', 'confirmed', 'form', 10, 11, -5, 'Europe/Lisbon'),
			(2, 'bo@example.org', '', 'pending', 'import', 12, NULL, 9223372036854775807, ''),
			(5, 'zoë@exämple.org', 'Zoë', 'unsubscribed', 'cli', 13, 14, 0, '')`,
		`UPDATE subscriber_ids SET last = 6`,
		`INSERT INTO subscriber_digests VALUES (1, 'daily'), (1, 'weekly'), (5, 'daily')`,
		`INSERT INTO subscriber_events (subscriber_id, email_hash, kind, at, ip, user_agent, route, detail)
			VALUES (1, NULL, 'subscribed', 10, '192.0.2.1', 'Mozilla/5.0', 'form', ''), (5, NULL, 'unsubscribed', 14, '', '', 'link', 'one-click'),
			(NULL, 'e3b0c44298fc1c149afbf4c8996fb924', 'forgotten', 15, '', '', 'cli', '')`,
		`INSERT INTO suppressions VALUES ('e3b0c44298fc1c149afbf4c8996fb924', 15, 'forgotten')`,
		`INSERT OR REPLACE INTO settings VALUES ('token_secret', 'c2VjcmV0'), ('token_v1_unsubscribe_max_id', '0')`,
		`INSERT INTO editions (id, digest, scheduled_at, created_at, subject, article_count, state, source_key)
			VALUES (1, 'daily', 100, 101, 'Harbour reopens', 2, 'done', ''), (3, 'daily', 200, 201, '', 0, 'sending', 'broadcast:x')`,
		`INSERT INTO edition_articles VALUES (1, 'daily', 'harbour', 0), (1, 'daily', 'ferry', 1)`,
		`INSERT INTO deliveries (id, kind, edition_id, subscriber_id, email, state, attempts, next_attempt_at, message_id, last_code, last_reply, updated_at, sent_at)
			VALUES (1, 'edition', 1, 1, 'Ana@Example.org', 'sent', 1, 0, '<1@x>', 250, '2.0.0 Ok: queued', 102, 103),
			(2, 'confirm', NULL, 2, 'bo@example.org', 'queued', 0, 104, '<2@x>', 0, '', 104, NULL),
			(4, 'edition', 3, 1, 'Ana@Example.org', 'failed', 5, 0, '<4@x>', 550, '5.1.1 no such user', 105, NULL)`,
		`INSERT INTO edition_totals VALUES (1, 7, 5, 1, 1)`,
		`INSERT INTO digest_runs VALUES ('daily', 100, 50)`,
		`INSERT INTO sources (name, url, etag, last_fetch_at, last_status) VALUES ('partner', 'https://example.com/feed.xml', 'W/"1"', 99, 200)`,
		`INSERT INTO senders VALUES ('host-1-abc', 'host', 4242, 1, 2)`,
		`INSERT INTO signup_mails VALUES (1, 'ana@example.org', 'example.org', '192.0.2.0/24'), (1, 'ana@example.org', 'example.org', '192.0.2.0/24')`,
		`INSERT INTO admin_accounts (id, email, password_hash, created_at, changed_at) VALUES (2, 'Ed@Example.org', '$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA', 1, 1)`,
		`INSERT INTO admin_sessions VALUES ('sess1', 2, 1, 2, '127.0.0.1', 'curl')`,
		`INSERT INTO admin_audit (at, account, action, detail, ip) VALUES (1, 'Ed@Example.org', 'login', '', '127.0.0.1')`,
		`INSERT INTO admin_login_failures VALUES ('ip', '192.0.2.9', 3, 4, 0)`,
		`INSERT INTO inbound_log (received_at, source, kind, action, delivery_id, subscriber_id, recipient, status) VALUES (106, 'pipe', 'bounce', 'bounced', 4, 1, 'Ana@Example.org', '5.1.1'),
			(107, 'smtp', 'unmatched', 'unmatched', NULL, NULL, '', '')`,
	)
}

// dump reads every table of an SQLite file in a plain way of its own,
// for comparing two files row by row.
func dump(t *testing.T, db *database.DB) map[string][][]any {
	t.Helper()
	names := []string{}
	rows, err := db.Read.Query(`SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		names = append(names, n)
	}
	rows.Close()
	out := map[string][][]any{}
	for _, n := range names {
		rows, err := db.Read.Query(`SELECT * FROM "` + n + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		var all [][]any
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			all = append(all, vals)
		}
		rows.Close()
		out[n] = all
	}
	return out
}

// sortedRows renders rows for an order-free comparison.
func sortedRows(rows [][]any) []string {
	var s []string
	for _, r := range rows {
		s = append(s, fmt.Sprintf("%#v", r))
	}
	sortStrings(s)
	return s
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func copyOK(t *testing.T, from, to *database.DB) database.Report {
	t.Helper()
	rep, err := database.Copy(context.Background(), from, to)
	if err != nil {
		t.Fatalf("copy %s to %s: %v", from, to, err)
	}
	if !rep.Verified() {
		t.Fatalf("copy %s to %s: not verified: %+v", from, to, rep)
	}
	return rep
}

func sums(rep database.Report) map[string]string {
	m := map[string]string{}
	for _, r := range rep.Tables {
		m[r.Table] = fmt.Sprintf("%d %s", r.Rows, r.Checksum)
	}
	return m
}

// Round trips: every table comes back equal, row by row, and the
// checksums agree on every leg.
func TestCopy_RoundTrip(t *testing.T) {
	sqlite := func(t *testing.T) string { return filepath.Join(t.TempDir(), "middle.db") }
	pg := func(t *testing.T) string { return databasetest.NewPostgres(t) }
	for name, middles := range map[string][]func(t *testing.T) string{
		"via sqlite":         {sqlite},
		"via postgres":       {pg},
		"via postgres twice": {pg, pg},
	} {
		t.Run(name, func(t *testing.T) {
			first := openSQLite(t)
			fill(t, first)
			var legs []database.Report
			at := first
			var mids []*database.DB
			for _, m := range middles {
				next := openAt(t, m(t))
				legs = append(legs, copyOK(t, at, next))
				mids = append(mids, next)
				at = next
			}
			last := openSQLite(t)
			legs = append(legs, copyOK(t, at, last))
			for _, leg := range legs[1:] {
				if !reflect.DeepEqual(sums(legs[0]), sums(leg)) {
					t.Errorf("checksums differ between legs:\n%v\n%v", sums(legs[0]), sums(leg))
				}
			}
			for _, r := range legs[0].Tables {
				if r.Table == "schema_migrations" {
					t.Error("schema_migrations was copied: each dialect numbers its own")
				}
			}
			if len(legs[0].Tables) < 20 {
				t.Errorf("only %d tables copied", len(legs[0].Tables))
			}
			a, b := dump(t, first), dump(t, last)
			if len(a) != len(b) {
				t.Fatalf("%d tables, then %d", len(a), len(b))
			}
			for n := range a {
				if !reflect.DeepEqual(sortedRows(a[n]), sortedRows(b[n])) {
					t.Errorf("table %s differs:\n%v\n%v", n, sortedRows(a[n]), sortedRows(b[n]))
				}
			}
			if got := len(a["signup_mails"]); got != 2 {
				t.Errorf("signup_mails: %d rows, want the two equal ones", got)
			}
			var total int
			if err := last.Read.QueryRow(`SELECT total FROM edition_totals WHERE edition_id = 1`).Scan(&total); err != nil || total != 7 {
				t.Errorf("edition_totals.total = %d (%v), want the 7 copied, not a recount", total, err)
			}

			// New rows on a PostgreSQL copy take ids past the copied ones.
			for _, mid := range mids {
				if mid.Dialect != database.Postgres {
					continue
				}
				var id int64
				if err := mid.Write.QueryRow(`INSERT INTO subscriber_events (subscriber_id, kind, at) VALUES (1, 'x', 1) RETURNING id`).Scan(&id); err != nil {
					t.Fatal(err)
				}
				if id != 4 {
					t.Errorf("next subscriber_events id on PostgreSQL = %d, want 4", id)
				}
				if err := mid.Write.QueryRow(`INSERT INTO admin_audit (at, action) VALUES (1, 'x') RETURNING id`).Scan(&id); err != nil || id != 2 {
					t.Errorf("next admin_audit id = %d (%v), want 2", id, err)
				}
			}
		})
	}
}

// A target with data of its own is refused, naming the tables, and left
// as it was; a freshly migrated one, whose migrations wrote a few rows
// themselves, is not.
func TestCopy_RefusesATargetThatIsNotEmpty(t *testing.T) {
	where := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "target.db") },
		"postgres": func(t *testing.T) string { return databasetest.NewPostgres(t) },
	}
	for name, w := range where {
		t.Run(name, func(t *testing.T) {
			from := openSQLite(t)
			fill(t, from)
			to := openAt(t, w(t))
			exec(t, to.Write,
				`INSERT INTO subscribers (id, email, status, created_at) VALUES (9, 'old@example.org', 'confirmed', 1)`,
				`INSERT INTO settings (key, value) VALUES ('token_secret', 'theirs')`)
			_, err := database.Copy(context.Background(), from, to)
			if !errors.Is(err, database.ErrNotEmpty) {
				t.Fatalf("err = %v, want ErrNotEmpty", err)
			}
			t.Log(err)
			for _, want := range []string{"subscribers (1 row)", "settings"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %s", err, want)
				}
			}
			var n int
			var secret string
			to.Read.QueryRow(`SELECT COUNT(*) FROM articles`).Scan(&n)
			to.Read.QueryRow(`SELECT value FROM settings WHERE key = 'token_secret'`).Scan(&secret)
			if n != 0 || secret != "theirs" {
				t.Errorf("the refused target changed: %d articles, secret %q", n, secret)
			}
		})
	}
}

// A value the target cannot take fails the copy with an error naming the
// table, column and row, and nothing is written. SQLite lets an INTEGER
// column hold text; no dialect's tidings reads it back as a time.
func TestCopy_ValueTheTargetCannotTake(t *testing.T) {
	where := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "target.db") },
		"postgres": func(t *testing.T) string { return databasetest.NewPostgres(t) },
	}
	for name, w := range where {
		t.Run(name, func(t *testing.T) {
			from := openSQLite(t)
			fill(t, from)
			exec(t, from.Write, `UPDATE subscriber_events SET at = 'yesterday' WHERE id = 2`)
			to := openAt(t, w(t))
			_, err := database.Copy(context.Background(), from, to)
			if err == nil {
				t.Fatal("copied text out of an INTEGER column")
			}
			t.Log(err)
			for _, want := range []string{"subscriber_events", "column at", "id=2", `"yesterday"`, "nothing was written"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %s", err, want)
				}
			}
			// Tables copied before it are gone again: subscribers come first.
			var n int
			if err := to.Read.QueryRow(`SELECT (SELECT COUNT(*) FROM subscribers) + (SELECT COUNT(*) FROM articles)`).Scan(&n); err != nil || n != 0 {
				t.Errorf("target holds %d rows (%v) after a failed copy", n, err)
			}
			// Put right, the same target takes the copy.
			exec(t, from.Write, `UPDATE subscriber_events SET at = 14 WHERE id = 2`)
			copyOK(t, from, to)
		})
	}
}

// Text PostgreSQL cannot store (a NUL, bytes that are not UTF-8) is named
// before anything is written.
func TestCopy_TextPostgresCannotStore(t *testing.T) {
	from := openSQLite(t)
	fill(t, from)
	exec(t, from.Write, `UPDATE articles SET summary = 'a' || char(0) || 'b' WHERE id = 'ferry'`)
	to := openAt(t, databasetest.NewPostgres(t))
	_, err := database.Copy(context.Background(), from, to)
	if err == nil || !strings.Contains(err.Error(), "articles") || !strings.Contains(err.Error(), "column summary") || !strings.Contains(err.Error(), "NUL") {
		t.Fatalf("err = %v", err)
	}
}

// What a unique index on PostgreSQL holds as one, SQLite may hold as two:
// NOCASE folds ASCII only, citext every letter. The copy fails naming the
// table and the key, and writes nothing.
func TestCopy_AddressesPostgresHoldsAsOne(t *testing.T) {
	from := openSQLite(t)
	// The two come first, among enough others for several batches: the
	// failed write stops the reading.
	exec(t, from.Write, `INSERT INTO subscribers (id, email, status, created_at) VALUES (1, 'zoë@example.org', 'confirmed', 1), (2, 'ZOË@example.org', 'confirmed', 1)`,
		`WITH RECURSIVE n(i) AS (SELECT 3 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
		INSERT INTO subscribers (id, email, status, created_at) SELECT i, 'r' || i || '@example.org', 'confirmed', i FROM n`)
	to := openAt(t, databasetest.NewPostgres(t))
	_, err := database.Copy(context.Background(), from, to)
	if err == nil || !strings.Contains(err.Error(), "copy subscribers") || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("err = %v", err)
	}
}

// Schemas that differ are refused, naming the table and the columns.
func TestCopy_SchemasThatDiffer(t *testing.T) {
	from := openSQLite(t)
	to := openSQLite(t)
	exec(t, to.Write, `ALTER TABLE sources ADD COLUMN extra TEXT NOT NULL DEFAULT ''`, `CREATE TABLE mine (x INTEGER)`)
	_, err := database.Copy(context.Background(), from, to)
	if err == nil || !strings.Contains(err.Error(), "table sources has columns") || !strings.Contains(err.Error(), "extra") ||
		!strings.Contains(err.Error(), "table mine is in the") {
		t.Fatalf("err = %v", err)
	}
}

// The verification reads the target back: a trigger there that changes
// what is inserted fails the copy, naming the table, and nothing stays.
func TestCopy_VerifyCatchesATargetThatChangesRows(t *testing.T) {
	from := openSQLite(t)
	fill(t, from)
	to := openSQLite(t)
	exec(t, to.Write, `CREATE TRIGGER meddle AFTER INSERT ON digest_runs BEGIN UPDATE digest_runs SET last_run_at = 0; END`)
	rep, err := database.Copy(context.Background(), from, to)
	if err == nil || !strings.Contains(err.Error(), "verify") || !strings.Contains(err.Error(), "digest_runs") {
		t.Fatalf("err = %v", err)
	}
	for _, r := range rep.Tables {
		if r.Verified != (r.Table != "digest_runs") {
			t.Errorf("%s verified = %v", r.Table, r.Verified)
		}
	}
	var n int
	to.Read.QueryRow(`SELECT COUNT(*) FROM subscribers`).Scan(&n)
	if n != 0 {
		t.Errorf("%d subscribers stayed after a copy that did not verify", n)
	}
}

func TestCopy_RefusesItself(t *testing.T) {
	db := openSQLite(t)
	_, err := database.Copy(context.Background(), db, db)
	if err == nil || !strings.Contains(err.Error(), "is the database copied from") {
		t.Fatalf("err = %v", err)
	}
}

// The source is read as one snapshot: while another connection keeps
// adding subscribers, each with its event, in one transaction, the copy
// holds no event whose subscriber it does not hold (which the target's
// foreign key would refuse) and verifies.
func TestCopy_OneSnapshotWhileOthersWrite(t *testing.T) {
	sources := map[string]func(t *testing.T) *database.DB{
		"sqlite":   func(t *testing.T) *database.DB { return openSQLite(t) },
		"postgres": func(t *testing.T) *database.DB { return openAt(t, databasetest.NewPostgres(t)) },
	}
	for name, open := range sources {
		t.Run(name, func(t *testing.T) {
			from := open(t)
			exec(t, from.Write,
				`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
				INSERT INTO subscribers (id, email, status, created_at) SELECT i, 'r' || i || '@example.org', 'confirmed', i FROM n`,
				`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
				INSERT INTO subscriber_events (subscriber_id, kind, at) SELECT i, 'subscribed', i FROM n`)
			to := openSQLite(t)
			stop := make(chan struct{})
			wrote := make(chan int)
			go func() {
				n := 0
				defer func() { wrote <- n }()
				for id := 100000; ; id++ {
					select {
					case <-stop:
						return
					default:
					}
					tx, err := from.Write.Begin()
					if err != nil {
						t.Error(err)
						return
					}
					_, err = tx.Exec(`INSERT INTO subscribers (id, email, status, created_at) VALUES (?, ?, 'pending', 1)`, id, fmt.Sprintf("new%d@example.org", id))
					if err == nil {
						_, err = tx.Exec(`INSERT INTO subscriber_events (subscriber_id, kind, at) VALUES (?, 'subscribed', 1)`, id)
					}
					if err != nil {
						tx.Rollback()
						t.Error(err)
						return
					}
					if err := tx.Commit(); err != nil {
						t.Error(err)
						return
					}
					n++
				}
			}()
			time.Sleep(20 * time.Millisecond) // the writer is under way
			var before int
			from.Read.QueryRow(`SELECT COUNT(*) FROM subscribers`).Scan(&before)
			rep, err := database.Copy(context.Background(), from, to)
			var after int
			from.Read.QueryRow(`SELECT COUNT(*) FROM subscribers`).Scan(&after)
			close(stop)
			n := <-wrote
			if err != nil {
				t.Fatal(err)
			}
			if after == before {
				t.Fatalf("nothing was written during the copy (%d writes in all): the test proves nothing", n)
			}
			var subs, events, orphans int
			to.Read.QueryRow(`SELECT (SELECT COUNT(*) FROM subscribers), (SELECT COUNT(*) FROM subscriber_events),
				(SELECT COUNT(*) FROM subscriber_events WHERE subscriber_id NOT IN (SELECT id FROM subscribers))`).Scan(&subs, &events, &orphans)
			if subs != events || orphans != 0 || subs < before || subs > after {
				t.Errorf("copied %d subscribers and %d events (%d orphans); the source had %d before the copy, %d after", subs, events, orphans, before, after)
			}
			t.Logf("%d subscribers before, %d after, %d copied; %v", before, after, subs, rep.Verified())
		})
	}
}
