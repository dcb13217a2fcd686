package mail

import (
	"context"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// ledgerClock is a settable Now, safe for the sender's goroutines.
type ledgerClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *ledgerClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *ledgerClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// ledgerEnv is a real database with the feed and subscriber stores and a
// ledger on it.
type ledgerEnv struct {
	db     *database.DB
	clock  *ledgerClock
	subs   *subscribers.Store
	ledger *Ledger
}

var ledgerStart = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

func newLedgerEnv(t testing.TB) *ledgerEnv {
	t.Helper()
	return openLedgerEnv(t, databasetest.Where(t), ledgerStart)
}

func openLedgerEnv(t testing.TB, path string, now time.Time) *ledgerEnv {
	t.Helper()
	db, err := database.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clock := &ledgerClock{t: now}
	subs := subscribers.NewStore(db, []string{"daily", "weekly"}, clock.Now)
	return &ledgerEnv{db: db, clock: clock, subs: subs,
		ledger: &Ledger{DB: db, Articles: feed.NewStore(db), Recipients: subs, Now: clock.Now}}
}

// addArticle inserts a published article directly: the ledger reads the
// articles table, and ingesting files would test the feed package.
func (e *ledgerEnv) addArticle(t testing.TB, id string, published time.Time, tags ...string) {
	t.Helper()
	ctx := context.Background()
	_, err := e.db.Write.ExecContext(ctx, `INSERT INTO articles (id, slug, source, title, content_html, content_text,
		published_at, updated_at, first_seen_at, content_hash) VALUES (?, ?, 'content', ?, ?, ?, ?, ?, ?, 'h')`,
		id, id, "Title of "+id, "<p>Body of "+id+"</p>", "Body of "+id, published.UnixNano(), published.UnixNano(), published.UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	for i, tag := range tags {
		if _, err := e.db.Write.ExecContext(ctx, `INSERT INTO article_tags (article_id, tag, position) VALUES (?, ?, ?)`, id, tag, i); err != nil {
			t.Fatal(err)
		}
	}
}

// addSubscribers adds n more confirmed subscribers of daily, numbered on
// from those there are (sub1@s1.example, ...), each at a domain of its own
// so that one refusal does not pace the rest, and returns their ids.
func (e *ledgerEnv) addSubscribers(t testing.TB, n int) []int64 {
	t.Helper()
	var base int
	if err := e.db.Read.QueryRow(`SELECT COUNT(*) FROM subscribers`).Scan(&base); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for i := range n {
		s, err := e.subs.Add(context.Background(), fmt.Sprintf("sub%d@s%d.example", base+i+1, base+i+1), "", []string{"daily"},
			subscribers.StatusConfirmed, subscribers.Meta{Route: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, s.ID)
	}
	return ids
}

func (e *ledgerEnv) delivery(t testing.TB, editionID, subscriberID int64) Delivery {
	t.Helper()
	d, err := scanDelivery(e.db.Read.QueryRowContext(context.Background(), `SELECT `+deliveryColumns+` FROM deliveries
		WHERE edition_id = ? AND subscriber_id = ?`, editionID, subscriberID))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (e *ledgerEnv) counts(t testing.TB, editionID int64) map[string]int {
	t.Helper()
	c, err := e.ledger.Counts(context.Background(), editionID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *ledgerEnv) plan(t testing.TB, d Digest, at time.Time) *Edition {
	t.Helper()
	ed, created, err := e.ledger.Plan(context.Background(), d, at)
	if err != nil || !created {
		t.Fatalf("Plan = %v, created %v, %v", ed, created, err)
	}
	return ed
}

func dailyDigest() Digest {
	return Digest{Name: "daily", Title: "Example News", MaxArticles: 20, SkipEmpty: true,
		From: mail.Address{Name: "Example News", Address: "news@example.org"}}
}

// testComposer fills what the renderer would: subject, both bodies, From.
// pad makes the text body that many bytes longer.
type testComposer struct {
	from mail.Address
	pad  string
	html string
}

func (c *testComposer) Compose(_ context.Context, e *Edition, s *subscribers.Subscriber) (*transport.Message, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\n", s.Email)
	for _, a := range e.Articles {
		fmt.Fprintf(&b, "* %s\n", a.Title)
	}
	b.WriteString(c.pad)
	from := c.from
	if from.Address == "" {
		from = mail.Address{Name: "Example News", Address: "news@example.org"}
	}
	return &transport.Message{From: from, Subject: e.Subject, Text: b.String(), HTML: c.html,
		Headers: [][2]string{{"List-Id", "<daily.example.org>"}}}, nil
}

var linkMetaForTest = subscribers.Meta{Route: "link"}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }
