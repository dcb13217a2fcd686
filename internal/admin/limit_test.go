package admin

import (
	"context"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		failures, free int
		want           time.Duration
	}{
		{0, 5, 0}, {4, 5, 0}, {5, 5, time.Second}, {6, 5, 2 * time.Second}, {10, 5, 32 * time.Second},
		{15, 5, maxWait}, {1000, 5, maxWait}, {19, 20, 0}, {20, 20, time.Second},
	} {
		if got := backoff(tt.failures, tt.free); got != tt.want {
			t.Errorf("backoff(%d, %d) = %s, want %s", tt.failures, tt.free, got, tt.want)
		}
	}
}

func TestLimit_PairIPAccount(t *testing.T) {
	ctx := context.Background()
	s, c, _ := newTestStore(t)
	wait := func(email, ip string) time.Duration {
		t.Helper()
		w, err := s.LoginWait(ctx, email, ip)
		if err != nil {
			t.Fatal(err)
		}
		return w
	}
	fail := func(email, ip string, n int) {
		t.Helper()
		for range n {
			if err := s.LoginFailed(ctx, email, ip); err != nil {
				t.Fatal(err)
			}
		}
	}
	const owner, attacker = "198.51.100.7", "203.0.113.66"
	// The owner logs in once from home: that pair is known.
	if err := s.LoginSucceeded(ctx, ownerEmail, owner); err != nil {
		t.Fatal(err)
	}

	// Five free tries per (account, IP), then doubling waits.
	fail(ownerEmail, attacker, 5)
	if w := wait(ownerEmail, attacker); w != time.Second {
		t.Fatalf("after 5 failures: wait %s, want 1s", w)
	}
	fail(ownerEmail, attacker, 3)
	if w := wait(ownerEmail, attacker); w != 8*time.Second {
		t.Fatalf("after 8 failures: wait %s, want 8s", w)
	}
	// The owner, from their own address, is not slowed at all.
	if w := wait(ownerEmail, owner); w != 0 {
		t.Fatalf("the attacker's failures made the owner wait %s", w)
	}

	// Many failures, capped: never more than maxWait, and it passes.
	fail(ownerEmail, attacker, 100)
	if w := wait(ownerEmail, attacker); w != maxWait {
		t.Fatalf("after 108 failures: wait %s, want the cap %s", w, maxWait)
	}
	c.Advance(maxWait)
	if w := wait(ownerEmail, attacker); w != 0 {
		t.Fatalf("after the cap passed: wait %s", w)
	}

	// The IP limit: one address trying many accounts.
	for i := range 25 {
		fail(string(rune('a'+i))+"@example.org", "192.0.2.9", 1)
	}
	if w := wait("z@example.org", "192.0.2.9"); w == 0 {
		t.Fatal("25 failures from one address over 25 accounts: no wait")
	}

	// The account limit: many addresses against one account slow a new
	// address, but never the owner's known one.
	for i := range 30 {
		fail(ownerEmail, "10.0.0."+string(rune('0'+i%10))+string(rune('0'+i/10)), 1)
	}
	if w := wait(ownerEmail, "10.9.9.9"); w == 0 {
		t.Fatal("30 failures over 30 addresses: no wait for a new one")
	}
	if w := wait(ownerEmail, owner); w != 0 {
		t.Fatalf("distributed failures made the owner's known address wait %s", w)
	}

	// A success clears the pair; a day of quiet forgets the rest.
	s.LoginSucceeded(ctx, ownerEmail, attacker)
	if w := wait(ownerEmail, attacker); w != 0 {
		t.Fatalf("after a success: wait %s", w)
	}
	c.Advance(forgetAfter + time.Minute)
	if w := wait(ownerEmail, "10.9.9.9"); w != 0 {
		t.Fatalf("a day later: wait %s", w)
	}
}

func TestHTTP_LoginRateLimited(t *testing.T) {
	ta := newTestAdmin(t, Options{})
	b := ta.browser(t)
	for i := range pairFree {
		if p := b.login(ownerEmail, "wrong password!", ""); p.status != 401 {
			t.Fatalf("failure %d: %d", i+1, p.status)
		}
	}
	p := b.login(ownerEmail, ownerPW, "")
	if p.status != 429 || p.header.Get("Retry-After") == "" {
		t.Fatalf("the right password during the wait: %d %v, want 429 with Retry-After", p.status, p.header)
	}
	ta.clock.Advance(2 * time.Second)
	if p := b.login(ownerEmail, ownerPW, ""); p.status != 303 {
		t.Fatalf("after the wait: %d: %s", p.status, p.body)
	}
	log, _ := ta.Store.AuditLog(context.Background(), 0, 20)
	counts := map[string]int{}
	for _, e := range log {
		counts[e.Action]++
	}
	if counts["login.failed"] != pairFree || counts["login.refused"] != 1 || counts["login"] != 1 {
		t.Errorf("audit log counts %v", counts)
	}
}
