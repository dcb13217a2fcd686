package subscribers

import (
	"context"
	"testing"
	"time"
)

func TestStore_CountsAndWeeks(t *testing.T) {
	ctx := context.Background()
	e := newStoreEnv(t) // Thursday 2026-11-26
	if ws, err := e.store.Weekly(ctx); err != nil || ws != nil {
		t.Fatalf("weeks of an empty list: %v, %v", ws, err)
	}
	e.withStatus(t, "a@example.org", StatusConfirmed)
	e.withStatus(t, "b@example.org", StatusUnsubscribed)
	e.clock.Advance(14 * 24 * time.Hour) // two weeks on: Thursday 2026-12-10
	e.withStatus(t, "c@example.org", StatusPending)
	e.withStatus(t, "d@example.org", StatusBounced)
	e.store.Unsubscribe(ctx, e.withStatus(t, "e@example.org", StatusConfirmed).ID, linkMeta)
	e.clock.Advance(30 * 24 * time.Hour) // a clock a month fast signs one up ...
	e.signUp(t, "f@example.org")
	e.clock.Advance(-30 * 24 * time.Hour) // ... and counts in this week

	counts, err := e.store.CountByStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[Status]int{StatusConfirmed: 1, StatusPending: 2, StatusUnsubscribed: 2, StatusBounced: 1, StatusComplained: 0}
	for st, n := range want {
		if counts[st] != n {
			t.Errorf("%s: %d, want %d", st, counts[st], n)
		}
	}
	ws, err := e.store.Weekly(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type week struct {
		start    string
		ups, dns int
	}
	wantWeeks := []week{{"2026-11-23", 2, 1}, {"2026-11-30", 0, 0}, {"2026-12-07", 4, 1}}
	if len(ws) != len(wantWeeks) {
		t.Fatalf("weeks %+v", ws)
	}
	for i, w := range wantWeeks {
		got := ws[i]
		if got.Start.Format("2006-01-02") != w.start || got.Start.Weekday() != time.Monday || got.SignUps != w.ups || got.Unsubscribes != w.dns {
			t.Errorf("week %d: %+v, want %+v", i, got, w)
		}
	}
	n, err := e.store.UnsubscribedBetween(ctx, e.clock.Now().Add(-time.Hour), e.clock.Now().Add(time.Second))
	if err != nil || n != 1 {
		t.Errorf("unsubscribed in the last hour: %d, %v; want 1", n, err)
	}
}
