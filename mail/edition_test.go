package mail

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/feed"
)

func articleIDs(as []*feed.Article) []string {
	var ids []string
	for _, a := range as {
		ids = append(ids, a.ID)
	}
	return ids
}

func TestLedger_PlanTwiceAtOneMomentMakesOneEdition(t *testing.T) {
	e := newLedgerEnv(t)
	ctx := context.Background()
	e.addArticle(t, "a1", ledgerStart.Add(-time.Hour))
	e.addSubscribers(t, 3)
	first := e.plan(t, dailyDigest(), ledgerStart)

	// A new article and a new subscriber later, the same moment again
	// (a restart, the hour DST repeats): the same edition, unchanged.
	e.addArticle(t, "a2", ledgerStart.Add(-time.Minute))
	e.addSubscribers(t, 1)
	e.clock.Advance(time.Hour)
	again, created, err := e.ledger.Plan(ctx, dailyDigest(), ledgerStart)
	if err != nil || created {
		t.Fatalf("second Plan: created %v, %v", created, err)
	}
	if again.ID != first.ID || !slices.Equal(articleIDs(again.Articles), []string{"a1"}) {
		t.Fatalf("second Plan gave edition %d with %v, want %d with [a1]", again.ID, articleIDs(again.Articles), first.ID)
	}
	eds, err := e.ledger.Editions(ctx, "daily", 0)
	if err != nil || len(eds) != 1 {
		t.Fatalf("Editions = %d, %v; want 1", len(eds), err)
	}
	if c := e.counts(t, first.ID); c[DeliveryQueued] != 3 {
		t.Fatalf("counts %v, want 3 queued", c)
	}
}

func TestLedger_PlanCarriesOnlyNewArticles(t *testing.T) {
	e := newLedgerEnv(t)
	e.addSubscribers(t, 1)
	for i, id := range []string{"a1", "a2", "a3"} {
		e.addArticle(t, id, ledgerStart.Add(time.Duration(i-5)*time.Hour))
	}
	e.addArticle(t, "future", ledgerStart.Add(30*time.Hour)) // dated after the next run too
	d := dailyDigest()
	d.MaxArticles = 2
	ed := e.plan(t, d, ledgerStart)
	if got := articleIDs(ed.Articles); !slices.Equal(got, []string{"a3", "a2"}) {
		t.Fatalf("first edition carries %v, want the newest two [a3 a2]", got)
	}

	e.clock.Advance(24 * time.Hour)
	e.addArticle(t, "a4", ledgerStart.Add(20*time.Hour))
	ed2 := e.plan(t, d, ledgerStart.Add(24*time.Hour))
	// a1 did not fit in the first edition: no edition carried it yet.
	if got := articleIDs(ed2.Articles); !slices.Equal(got, []string{"a4", "a1"}) {
		t.Fatalf("second edition carries %v, want [a4 a1]", got)
	}

	e.clock.Advance(24 * time.Hour)
	ed3 := e.plan(t, d, ledgerStart.Add(48*time.Hour))
	if got := articleIDs(ed3.Articles); !slices.Equal(got, []string{"future"}) {
		t.Fatalf("third edition carries %v, want [future], published by now", got)
	}

	// Another digest has its own memory of what it carried.
	w := dailyDigest()
	w.Name = "weekly"
	wed := e.plan(t, w, ledgerStart.Add(48*time.Hour))
	if len(wed.Articles) != 5 {
		t.Fatalf("weekly carries %v, want all five", articleIDs(wed.Articles))
	}
}

func TestLedger_PlanEmpty(t *testing.T) {
	e := newLedgerEnv(t)
	ctx := context.Background()
	e.addSubscribers(t, 2)
	e.addArticle(t, "sport", ledgerStart.Add(-time.Hour), "Sport")
	d := dailyDigest()
	d.Tags = []string{"politics"}

	ed, created, err := e.ledger.Plan(ctx, d, ledgerStart)
	if ed != nil || created || err != nil {
		t.Fatalf("skip_empty Plan = %v, %v, %v; want nothing", ed, created, err)
	}
	if n, err := e.ledger.QueueDepth(ctx); err != nil || n != 0 {
		t.Fatalf("queue depth %d, %v after a skipped edition", n, err)
	}

	d.SkipEmpty = false
	ed = e.plan(t, d, ledgerStart)
	if len(ed.Articles) != 0 || ed.Subject != "Example News" {
		t.Fatalf("empty edition: %v articles, subject %q", articleIDs(ed.Articles), ed.Subject)
	}
	if c := e.counts(t, ed.ID); c[DeliveryQueued] != 2 {
		t.Fatalf("counts %v: an edition sent even when empty goes to everyone", c)
	}

	d.Tags = []string{"SPORT"}
	ed = e.plan(t, d, ledgerStart.Add(time.Hour))
	if got := articleIDs(ed.Articles); !slices.Equal(got, []string{"sport"}) {
		t.Fatalf("tagged edition carries %v, want [sport]", got)
	}
}

func TestLedger_ConcurrentPlansFreezeEachArticleOnce(t *testing.T) {
	e := newLedgerEnv(t)
	e.addSubscribers(t, 2)
	for i := range 30 {
		e.addArticle(t, "a"+string(rune('A'+i)), ledgerStart.Add(-time.Duration(i+1)*time.Minute))
	}
	d := dailyDigest()
	d.MaxArticles = 5
	var wg sync.WaitGroup
	eds := make([]*Edition, 8)
	errs := make([]error, 8)
	for i := range 8 {
		wg.Go(func() {
			// Two runs per moment, four moments, all at once.
			eds[i], _, errs[i] = e.ledger.Plan(context.Background(), d, ledgerStart.Add(time.Duration(i/2)*time.Minute))
		})
	}
	wg.Wait()
	seen := map[string]int64{}
	byID := map[int64]bool{}
	for i, ed := range eds {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if ed == nil || byID[ed.ID] {
			continue
		}
		byID[ed.ID] = true
		for _, a := range ed.Articles {
			if other, dup := seen[a.ID]; dup {
				t.Fatalf("article %s frozen in editions %d and %d", a.ID, other, ed.ID)
			}
			seen[a.ID] = ed.ID
		}
	}
	all, err := e.ledger.Editions(context.Background(), "daily", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 || len(seen) != 20 {
		t.Fatalf("%d editions carry %d articles; want 4 moments of 5 articles each", len(all), len(seen))
	}
}

func TestLedger_PlanQueuesOneDeliveryPerConfirmedSubscriber(t *testing.T) {
	e := newLedgerEnv(t)
	ctx := context.Background()
	ids := e.addSubscribers(t, 3)
	if _, err := e.subs.Unsubscribe(ctx, ids[1], linkMetaForTest); err != nil {
		t.Fatal(err)
	}
	e.addArticle(t, "a1", ledgerStart.Add(-time.Hour))
	ed := e.plan(t, dailyDigest(), ledgerStart)
	ds, err := e.ledger.Deliveries(ctx, ed.ID, "")
	if err != nil || len(ds) != 2 {
		t.Fatalf("%d deliveries, %v; want 2 (the unsubscribed one left out)", len(ds), err)
	}
	re := regexp.MustCompile(`^<e(\d+)\.s(\d+)\.[0-9a-f]{16}@example\.org>$`)
	for _, d := range ds {
		m := re.FindStringSubmatch(d.MessageID)
		if m == nil || m[1] != itoa64(ed.ID) || m[2] != itoa64(d.SubscriberID) {
			t.Errorf("Message-ID %q, want <e%d.s%d.hex@example.org>", d.MessageID, ed.ID, d.SubscriberID)
		}
		if d.State != DeliveryQueued || d.Attempts != 0 || !d.NextAttemptAt.Equal(ledgerStart) || d.Email == "" {
			t.Errorf("delivery %+v: want queued, due now, with the address", d)
		}
		// Stored without "<" and "@domain>", the edition completing it;
		// the sender reads it whole (the claim) and a return matches it.
		var stored string
		if err := e.db.Read.QueryRow(`SELECT message_id FROM deliveries WHERE id = ?`, d.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if "<"+stored+"@example.org>" != d.MessageID || storedMessageID(d.MessageID) != stored {
			t.Errorf("stored Message-ID %q for %q, want it without the brackets and domain", stored, d.MessageID)
		}
	}
	if n, err := e.ledger.QueueDepth(ctx); err != nil || n != 2 {
		t.Errorf("queue depth %d, %v; want 2", n, err)
	}
	claimed, err := e.ledger.claim(ctx, owner{id: "test"}, 10, time.Minute, time.Hour, true)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claimed %d, %v; want 2", len(claimed), err)
	}
	for _, c := range claimed {
		if c.MessageID != e.delivery(t, ed.ID, c.SubscriberID).MessageID {
			t.Errorf("claimed with Message-ID %q, want the one it was planned with", c.MessageID)
		}
	}
}

func TestLedger_EditionReadsBack(t *testing.T) {
	e := newLedgerEnv(t)
	ctx := context.Background()
	e.addArticle(t, "old", ledgerStart.Add(-2*time.Hour), "City", "Harbour")
	e.addArticle(t, "new", ledgerStart.Add(-time.Hour))
	d := dailyDigest()
	d.Subject = `{{.Title}} for {{.Date.Format "2 Jan"}}: {{.Count}} stories
		{{- range .Articles}} | {{.Title}}{{end}}`
	ed := e.plan(t, d, ledgerStart) // nobody subscribed: done at once
	want := "Example News for 26 Nov: 2 stories | Title of new | Title of old"
	if ed.Subject != want || ed.State != EditionDone {
		t.Fatalf("subject %q state %s, want %q done", ed.Subject, ed.State, want)
	}
	got, err := e.ledger.Edition(ctx, ed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(articleIDs(got.Articles), []string{"new", "old"}) || !slices.Equal(got.Articles[1].Tags, []string{"City", "Harbour"}) ||
		got.Articles[0].ContentHTML == "" || got.Subject != want || got.ArticleCount != 2 || !got.ScheduledAt.Equal(ledgerStart) {
		t.Fatalf("Edition = %+v", got)
	}
	if _, err := e.ledger.Edition(ctx, 999); !errors.Is(err, ErrEditionNotFound) {
		t.Fatalf("unknown edition: %v", err)
	}
	if _, err := e.ledger.Retry(ctx, 999); !errors.Is(err, ErrEditionNotFound) {
		t.Fatalf("retry unknown edition: %v", err)
	}

	d.Subject = "{{.Nope}}"
	if err := d.CheckSubject(); err == nil {
		t.Fatal("CheckSubject accepted a template naming an unknown field")
	}
	e.addArticle(t, "newer", ledgerStart)
	if _, _, err := e.ledger.Plan(ctx, d, ledgerStart.Add(time.Hour)); err == nil {
		t.Fatal("Plan accepted a subject template naming an unknown field")
	}
	if eds, err := e.ledger.Editions(ctx, "", 0); err != nil || len(eds) != 1 {
		t.Fatalf("%d editions (%v) after a failed Plan, want 1", len(eds), err)
	}
}

func TestDigest_DefaultSubject(t *testing.T) {
	d := Digest{Name: "daily", Title: "Example News"}
	one := []*feed.Article{{Title: "Harbour reopens"}}
	three := append(one, &feed.Article{Title: "b"}, &feed.Article{Title: "c"})
	for _, tt := range []struct {
		as   []*feed.Article
		want string
	}{{nil, "Example News"}, {one, "Example News: Harbour reopens"}, {three, "Example News: Harbour reopens (and 2 more)"}} {
		if got, err := d.RenderSubject(tt.as, ledgerStart); err != nil || got != tt.want {
			t.Errorf("subject = %q, %v; want %q", got, err, tt.want)
		}
	}
	d.Subject = "  {{.Title}}\r\n\tnews  "
	if got, err := d.RenderSubject(nil, ledgerStart); err != nil || got != "Example News news" {
		t.Errorf("subject with line breaks = %q, %v", got, err)
	}
}

func TestLedger_LastRun(t *testing.T) {
	e := newLedgerEnv(t)
	ctx := context.Background()
	if at, err := e.ledger.LastRun(ctx, "daily"); err != nil || !at.IsZero() {
		t.Fatalf("LastRun before any = %v, %v", at, err)
	}
	for _, at := range []time.Time{ledgerStart, ledgerStart.Add(24 * time.Hour)} {
		if err := e.ledger.SetLastRun(ctx, "daily", at); err != nil {
			t.Fatal(err)
		}
		if got, err := e.ledger.LastRun(ctx, "daily"); err != nil || !got.Equal(at) {
			t.Fatalf("LastRun = %v, %v; want %v", got, err, at)
		}
	}
}

func TestLedger_EditionKeepsArticlesTakenDown(t *testing.T) {
	e := newLedgerEnv(t)
	ctx := context.Background()
	for i, id := range []string{"c", "b", "a"} {
		e.addArticle(t, id, ledgerStart.Add(-time.Duration(i+1)*time.Hour), "Tag-"+id)
	}
	ed := e.plan(t, dailyDigest(), ledgerStart)
	// After the edition went out, "b" is taken down and "c" deleted
	// outright: the edition still shows b, and leaves out what is gone.
	if _, err := e.db.Write.ExecContext(ctx, `UPDATE articles SET removed_at = ?, draft = 1 WHERE id = 'b'`, ledgerStart.UnixNano()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Write.ExecContext(ctx, `DELETE FROM articles WHERE id = 'c'`); err != nil {
		t.Fatal(err)
	}
	got, err := e.ledger.Edition(ctx, ed.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(articleIDs(got.Articles), []string{"b", "a"}) || got.Articles[0].Removed == nil ||
		!slices.Equal(got.Articles[0].Tags, []string{"Tag-b"}) || got.ArticleCount != 3 {
		t.Fatalf("Edition carries %v (count %d), want [b a] with b removed and tagged", articleIDs(got.Articles), got.ArticleCount)
	}
}

// A preview (digest preview, send --dry-run) shows what planning at that
// moment freezes: the same selection, the same subject.
func TestLedger_NextIsWhatPlanMakes(t *testing.T) {
	tests := []struct {
		name     string
		digest   func(*Digest)
		articles map[string][]string // id to tags, published an hour apart in this order of ids
		want     [][]string          // the articles of each edition planned in turn; nil: none
	}{
		{"newest first, at most MaxArticles, the rest next time", func(d *Digest) { d.MaxArticles = 2 },
			map[string][]string{"a": nil, "b": nil, "c": nil}, [][]string{{"c", "b"}, {"a"}, nil}},
		{"only the digest's tags", func(d *Digest) { d.Tags = []string{"city"} },
			map[string][]string{"a": {"City"}, "b": {"sport"}, "c": {"city", "x"}}, [][]string{{"c", "a"}, nil}},
		{"an empty edition when it does not skip them", func(d *Digest) { d.SkipEmpty = false },
			map[string][]string{"a": nil}, [][]string{{"a"}, {}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newLedgerEnv(t)
			ctx := context.Background()
			e.addSubscribers(t, 1)
			for _, id := range []string{"a", "b", "c"} {
				if tags, ok := tt.articles[id]; ok {
					e.addArticle(t, id, ledgerStart.Add(-time.Duration('z'-id[0])*time.Hour), tags...)
				}
			}
			d := dailyDigest()
			tt.digest(&d)
			for i, want := range tt.want {
				next, err := e.ledger.Next(ctx, d)
				if err != nil {
					t.Fatal(err)
				}
				ed, created, err := e.ledger.Plan(ctx, d, e.clock.Now())
				if err != nil || (ed != nil) != created {
					t.Fatalf("edition %d: Plan = %v, %v, %v", i, ed, created, err)
				}
				if want == nil {
					if next != nil || ed != nil {
						t.Fatalf("edition %d: Next %v, Plan %v; want none", i, next, ed)
					}
					continue
				}
				if next == nil || ed == nil {
					t.Fatalf("edition %d: Next %v, Plan %v; want both", i, next, ed)
				}
				got := articleIDs(next.Articles)
				if !slices.Equal(got, want) || !slices.Equal(articleIDs(ed.Articles), got) ||
					next.Subject != ed.Subject || next.ArticleCount != ed.ArticleCount {
					t.Fatalf("edition %d: Next %v %q, Plan %v %q; want %v", i, got, next.Subject,
						articleIDs(ed.Articles), ed.Subject, want)
				}
				e.clock.Advance(time.Hour)
			}
		})
	}
}
