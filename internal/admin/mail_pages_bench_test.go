package admin

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// seedMailBench fills the fixture's database the fast way, in a few SQL
// statements: n subscribers (2 % of them unsubscribed, an hour after one
// of the last 1,000 days' editions, so about two after each), 1,000 articles,
// and editions editions of the daily digest, the older ones done with
// 100 deliveries each and the newest, still sending, with one to every
// subscriber (half sent, 1 % failed, the rest queued). The pages read it
// through the ledger and the stores like any other data.
func seedMailBench(b *testing.B, f *mailFixture, n, editions int) (newest int64) {
	b.Helper()
	ctx := context.Background()
	now := f.clock.Now().UnixNano()
	db := f.ledger.DB.Write
	for _, q := range []string{
		`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :n)
		INSERT INTO subscribers (id, email, name, status, route, created_at, confirmed_at, unsubscribed_at)
		SELECT i, 'reader' || i || '@example.org', 'Reader ' || i, CASE WHEN i % 50 = 0 THEN 'unsubscribed' ELSE 'confirmed' END,
			'import', :now, :now, CASE WHEN i % 50 = 0 THEN :now - (i / 50 % 1000) * 86400000000000 + 3600000000000 END FROM s`,
		`INSERT INTO subscriber_digests (subscriber_id, digest) SELECT id, 'daily' FROM subscribers`,
		`UPDATE subscriber_ids SET last = :n`,
		`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1000)
		INSERT INTO articles (id, slug, source, title, summary, published_at, updated_at, first_seen_at, content_hash, draft)
		SELECT 'a' || i, 'a' || i, 'content', 'Article number ' || i, 'Summary of ' || i, :now - i * 3600000000000,
			:now - i * 3600000000000, :now - i * 3600000000000, 'h', i % 97 = 0 FROM s`,
		`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < :editions)
		INSERT INTO editions (id, digest, scheduled_at, created_at, subject, article_count, state)
		SELECT i, 'daily', :now - (:editions - i) * 86400000000000, :now - (:editions - i) * 86400000000000,
			'Daily news ' || i, 1, 'sending' FROM s`,
		`INSERT INTO edition_articles (edition_id, digest, article_id, position) SELECT id, 'daily', 'a' || id, 0 FROM editions WHERE id <= 1000`,
		// 100 deliveries for each older edition, to subscribers spread
		// over the list.
		`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < 99)
		INSERT INTO deliveries (kind, edition_id, subscriber_id, email, state, attempts, next_attempt_at, message_id,
			last_code, last_reply, updated_at, sent_at)
		SELECT 'edition', e.id, 1 + (e.id * 7 + s.i * 997) % :n, 'reader@example.org',
			CASE WHEN s.i = 0 THEN 'failed' ELSE 'sent' END, 1, 0, '<' || e.id || '.' || s.i || '@b>',
			CASE WHEN s.i = 0 THEN 550 ELSE 250 END, CASE WHEN s.i = 0 THEN '550 5.1.1 no such user' ELSE '' END, :now, :now
		FROM editions e, s WHERE e.id < :editions`,
		`UPDATE deliveries SET returned = 'bounce' WHERE id % 211 = 0`,
		// The newest edition, going out to everyone.
		`INSERT INTO deliveries (kind, edition_id, subscriber_id, email, state, attempts, next_attempt_at, message_id,
			last_code, last_reply, updated_at, sent_at)
		SELECT 'edition', :editions, id, email,
			CASE WHEN id % 100 = 1 THEN 'failed' WHEN id % 2 = 0 THEN 'sent' ELSE 'queued' END, 1, :now, '<n.' || id || '@b>',
			CASE WHEN id % 100 = 1 THEN 550 ELSE 0 END, CASE WHEN id % 100 = 1 THEN '550 5.7.1 relaying denied' ELSE '' END,
			:now, CASE WHEN id % 2 = 0 THEN :now - id * 1000000 END
		FROM subscribers`,
		// Done as the sender marks them: their counts are frozen then.
		`UPDATE editions SET state = 'done' WHERE id < :editions`,
		`ANALYZE`,
	} {
		// The values are integers this function holds: put in as text.
		q = strings.NewReplacer(":editions", fmt.Sprint(editions), ":now", fmt.Sprint(now), ":n", fmt.Sprint(n)).Replace(q)
		if _, err := db.ExecContext(ctx, q); err != nil {
			b.Fatalf("seed: %v\n%s", err, q)
		}
	}
	return int64(editions)
}

// The editions, digests and articles pages with 100,000 subscribers and
// 1,000 editions: each must render server-side in under 50 ms (issue 14).
// Measured through the admin's HTTP handler on a loopback server, login
// cookie and all.
func BenchmarkMailPages(b *testing.B) {
	f := newMailFixture(b, 0)
	newest := seedMailBench(b, f, 100_000, 1000)
	br := f.browser(b)
	br.login(ownerEmail, ownerPW, "")
	for _, p := range []struct{ name, path string }{
		{"editions", "/admin/editions"},
		{"editions-older", "/admin/editions?before=500"},
		{"edition-sending", fmt.Sprintf("/admin/editions/%d", newest)},
		{"edition-failures-page-5", fmt.Sprintf("/admin/editions/%d?after=%d", newest, 1000*99+500*100)},
		{"edition-done", "/admin/editions/10"},
		{"delivery", fmt.Sprintf("/admin/editions/%d/deliveries/%d", newest, 999*100+1)},
		{"digests", "/admin/digests"},
		{"digest", "/admin/digests/daily?email=reader77@example.org"},
		{"digest-send", "/admin/digests/daily/send"},
		{"articles", "/admin/articles"},
		{"articles-page-10", "/admin/articles?page=10"},
	} {
		b.Run(p.name, func(b *testing.B) {
			br.t = b
			for b.Loop() {
				if pg := br.get(p.path); pg.status != 200 {
					b.Fatalf("%s: %d %s", p.path, pg.status, pg.body)
				}
			}
		})
	}
}
