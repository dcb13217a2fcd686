package database_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
)

// fillList writes a list of n confirmed subscribers, each with a
// subscribed event, a digest, and a sent delivery of one edition.
func fillList(b *testing.B, db *database.DB, n int) {
	b.Helper()
	nums := fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) `, n)
	exec(b, db.Write,
		nums+`INSERT INTO subscribers (id, email, name, status, route, created_at, confirmed_at, token_nonce, timezone)
			SELECT i, 'reader' || i || '@example.org', 'Reader ' || i, 'confirmed', 'import', 1764748800000000000 + i, 1764748800000000000 + i, i * 7919, 'Europe/Berlin' FROM n`,
		`UPDATE subscriber_ids SET last = (SELECT MAX(id) FROM subscribers)`,
		nums+`INSERT INTO subscriber_digests SELECT i, 'daily' FROM n`,
		nums+`INSERT INTO subscriber_events (subscriber_id, kind, at, ip, user_agent, route) SELECT i, 'subscribed', 1764748800000000000 + i, '192.0.2.1', 'Mozilla/5.0 (X11; Linux x86_64)', 'import' FROM n`,
		`INSERT INTO editions (id, digest, scheduled_at, created_at, subject, article_count, state) VALUES (1, 'daily', 1, 1, 'The daily', 10, 'done')`,
		nums+`INSERT INTO deliveries (id, kind, edition_id, subscriber_id, email, state, attempts, next_attempt_at, message_id, last_code, last_reply, updated_at, sent_at)
			SELECT i, 'edition', 1, i, 'reader' || i || '@example.org', 'sent', 1, 0, '<e1.s' || i || '.5c6d7e8f@news.example.org>', 250, '2.0.0 Ok: queued as 4XyZ', 1764748900000000000 + i, 1764748900000000000 + i FROM n`,
	)
}

// BenchmarkCopy copies a list of 100,000 subscribers (with as many
// events, digest rows and sent deliveries) each way. Run it once:
// go test ./internal/database -run '^$' -bench Copy -benchtime 1x
func BenchmarkCopy(b *testing.B) {
	const n = 100_000
	src := openSQLite(b)
	fillList(b, src, n)
	var onPG *database.DB
	if databasetest.Postgres() {
		onPG = openAt(b, databasetest.NewPostgres(b))
	}
	for _, c := range []struct {
		name     string
		from, to func(b testing.TB) *database.DB
	}{
		{"sqlite_to_sqlite", func(testing.TB) *database.DB { return src }, openSQLite},
		{"sqlite_to_postgres", func(testing.TB) *database.DB { return src }, func(b testing.TB) *database.DB {
			if onPG == nil {
				b.Skip("no PostgreSQL server to copy to")
			}
			return onPG
		}},
		{"postgres_to_sqlite", func(b testing.TB) *database.DB {
			if onPG == nil {
				b.Skip("no PostgreSQL copy to read from")
			}
			return onPG
		}, openSQLite},
	} {
		b.Run(c.name, func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				from, to := c.from(b), c.to(b)
				b.StartTimer()
				rep, err := database.Copy(context.Background(), from, to)
				if err != nil {
					b.Fatal(err)
				}
				var rows int64
				for _, t := range rep.Tables {
					rows += t.Rows
				}
				b.ReportMetric(float64(rows), "rows")
			}
		})
	}
}
