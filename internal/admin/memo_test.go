package admin

import (
	"context"
	"testing"
	"time"

	"github.com/tidings/tidings/subscribers"
)

func TestMemo(t *testing.T) {
	var m memo
	calls := 0
	count := func() (int, error) { calls++; return calls, nil }
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		fp   string
		at   time.Duration
		want int
	}{
		{"done", 0, 1},
		{"done", 5 * time.Second, 1},     // kept
		{"sending", 6 * time.Second, 2},  // the fingerprint changed
		{"sending", 40 * time.Second, 3}, // past the ttl
		{"sending", 41 * time.Second, 3},
		{"sending", 30 * time.Second, 4}, // the clock went back: not trusted
	} {
		got, err := remember(&m, "x", tt.fp, t0.Add(tt.at), 30*time.Second, false, count)
		if err != nil || got != tt.want {
			t.Errorf("at %s fp %s: %d, want %d", tt.at, tt.fp, got, tt.want)
		}
	}
	if got, _ := remember(&m, "x", "sending", t0.Add(31*time.Second), 30*time.Second, true, count); got != 5 {
		t.Errorf("fresh: %d, want a new count", got)
	}
}

// Run counts the dashboard afresh while it is looked at, and stops with
// its context.
func TestAdmin_RunRefreshes(t *testing.T) {
	db := openDB(t)
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	ta := newTestAdmin(t, Options{DB: db, Data: Data{Subscribers: subscribers.NewStore(db, nil, c.Now)}})
	ta.refreshEvery = time.Millisecond
	stamp := func() time.Time {
		ta.memo.mu.Lock()
		defer ta.memo.mu.Unlock()
		return ta.memo.m["states"].at
	}
	b := ta.browser(t)
	b.login(ownerEmail, ownerPW, "")
	if p := b.get("/admin/"); p.status != 200 {
		t.Fatalf("dashboard: %d", p.status)
	}
	viewedAt := stamp()
	ta.clock.Advance(time.Minute)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ta.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for !stamp().After(viewedAt) {
		if time.Now().After(deadline) {
			t.Fatal("Run did not count the dashboard again within 5 s")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}
