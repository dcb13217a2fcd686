package mail

import (
	"context"
	"testing"
	"time"
)

// eachEnv is a ledger with digest "daily" in ModeEach (delay 10 minutes,
// tag "city") and two subscribers, run once so that it has a start.
func eachEnv(t *testing.T) (*ledgerEnv, *Scheduler, Digest) {
	t.Helper()
	e := newLedgerEnv(t)
	d := dailyDigest()
	d.Mode, d.Delay, d.Tags = ModeEach, 10*time.Minute, []string{"city"}
	s, err := NewScheduler(e.ledger, []Digest{d}, time.UTC, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.addSubscribers(t, 2)
	e.addArticle(t, "archive", ledgerStart.Add(-time.Hour), "city")
	if eds := planDue(t, s); len(eds) != 0 {
		t.Fatalf("the first run planned %d editions: the back catalogue was mailed", len(eds))
	}
	return e, s, d
}

func planDue(t *testing.T, s *Scheduler) []*Edition {
	t.Helper()
	eds, err := s.PlanDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return eds
}

func TestEach_OneEditionPerArticleAfterItsDelay(t *testing.T) {
	e, s, _ := eachEnv(t)
	ctx := context.Background()
	now := e.clock.Now()
	e.addArticle(t, "a", now.Add(time.Minute), "city")
	e.addArticle(t, "b", now.Add(time.Minute), "city") // the same moment: two editions all the same
	e.addArticle(t, "sport", now.Add(time.Minute), "sport")
	e.addArticle(t, "late", now.Add(5*time.Minute), "city")
	if _, err := e.db.Write.ExecContext(ctx, `UPDATE articles SET in_digests = 0 WHERE id = 'late'`); err != nil {
		t.Fatal(err) // an upstream's back catalogue: never mailed
	}

	e.clock.Advance(10 * time.Minute)
	if eds := planDue(t, s); len(eds) != 0 {
		t.Fatalf("%d editions before the delay was over", len(eds))
	}
	_, wake, err := s.dueAll(ctx, e.clock.Now())
	if err != nil || !wake.Equal(now.Add(11*time.Minute)) {
		t.Errorf("wake = %v, %v; want when a and b are due", wake, err)
	}
	e.clock.Advance(time.Minute)
	eds := planDue(t, s)
	if len(eds) != 2 {
		t.Fatalf("%d editions, want one for a and one for b", len(eds))
	}
	subjects := map[string]bool{}
	for _, ed := range eds {
		if ed.ArticleCount != 1 || e.counts(t, ed.ID)[DeliveryQueued] != 2 {
			t.Errorf("edition %d: %d articles, %v", ed.ID, ed.ArticleCount, e.counts(t, ed.ID))
		}
		subjects[ed.Subject] = true
	}
	if !subjects["Title of a"] || !subjects["Title of b"] {
		t.Errorf("subjects %v, want each article's title", subjects)
	}
	// Edited later, an article is not mailed again; nor is anything twice.
	if _, err := e.db.Write.ExecContext(ctx, `UPDATE articles SET updated_at = ?, title = 'Fixed' WHERE id = 'a'`, e.clock.Now().UnixNano()); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	if eds := planDue(t, s); len(eds) != 0 {
		t.Errorf("%d more editions: an edit or a second pass mailed again", len(eds))
	}
	if _, created, err := e.ledger.PlanArticle(ctx, s.digests[0].Digest, eds[0].Articles[0], e.clock.Now()); err != nil || created {
		t.Errorf("PlanArticle of a carried article: created %v, %v", created, err)
	}
}

// An article that arrives dated in the past (a file written last week and
// dropped in today) is new when it is first seen.
func TestEach_OldDateFirstSeenNowIsNew(t *testing.T) {
	e, s, _ := eachEnv(t)
	ctx := context.Background()
	e.addArticle(t, "old", ledgerStart.Add(-7*24*time.Hour), "city")
	if _, err := e.db.Write.ExecContext(ctx, `UPDATE articles SET first_seen_at = ? WHERE id = 'old'`, e.clock.Now().UnixNano()); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(10 * time.Minute)
	if eds := planDue(t, s); len(eds) != 1 {
		t.Errorf("%d editions, want the newly seen article's", len(eds))
	}
}

func TestEach_PlanIsRefused(t *testing.T) {
	e, _, d := eachEnv(t)
	if _, _, err := e.ledger.Plan(context.Background(), d, e.clock.Now()); err == nil {
		t.Error("Plan of a digest in mode each made an edition")
	}
}

// serve's scheduler wakes when the next article is due, not a minute later.
func TestEach_RunWakesWhenTheArticleIsDue(t *testing.T) {
	e, s, _ := eachEnv(t)
	s.digests[0].Delay = 5 * time.Second
	e.addArticle(t, "a", e.clock.Now(), "city")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var waits []time.Duration
	var planned int
	s.after = func(d time.Duration) <-chan time.Time {
		waits = append(waits, d)
		e.clock.Advance(d)
		if len(waits) == 2 {
			cancel()
		}
		ch := make(chan time.Time, 1)
		ch <- e.clock.Now()
		return ch
	}
	if err := s.Run(ctx, func(eds []*Edition) { planned += len(eds) }); err != nil {
		t.Fatal(err)
	}
	if waits[0] != 5*time.Second || planned != 1 {
		t.Errorf("waits %v, planned %d; want a first wait of 5s, then the article's edition", waits, planned)
	}
}
