package mail

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/subscribers"
)

func TestCheckDomainLimits(t *testing.T) {
	for _, tc := range []struct {
		limits []DomainLimit
		want   string
	}{
		{[]DomainLimit{{Domains: []string{"gmail.com", "*.yahoo.com"}, Rate: 5, Connections: 2}}, ""},
		{[]DomainLimit{{Rate: 5}}, "domain limit 1: no domains"},
		{[]DomainLimit{{Domains: []string{"gmail"}}}, `domain limit 1: "gmail" is not a domain or *.domain`},
		{[]DomainLimit{{Domains: []string{"a@b.com"}}}, `"a@b.com" is not a domain`},
		{[]DomainLimit{{Domains: []string{"b.com"}, Rate: -1}}, "rate -1 is negative"},
		{[]DomainLimit{{Domains: []string{"b.com"}, Connections: -2}}, "connections -2 is negative"},
		{[]DomainLimit{{Domains: []string{"b.com"}}, {Domains: []string{"B.com"}}}, `domain limit 2: "B.com" is already limited by domain limit 1`},
	} {
		err := CheckDomainLimits(tc.limits)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v; want %q", tc.limits, err, tc.want)
		}
	}
}

func TestPacer_RateGivesBackWhatCannotGoSoon(t *testing.T) {
	now := ledgerStart
	p := newPacer([]DomainLimit{{Domains: []string{"*.example.org"}, Rate: 4}}, time.Minute, func() time.Time { return now })
	// 4 a second, a wait of up to a second in the worker: now, +250 ms,
	// +500, +750, +1 s go; the sixth comes back at +1.25 s.
	for i := range 5 {
		wait, back := p.admit(int64(i), "mx.example.org")
		if !back.IsZero() || wait != time.Duration(i)*250*time.Millisecond {
			t.Fatalf("message %d: wait %v back %v", i, wait, back)
		}
	}
	wait, back := p.admit(5, "example.org") // the same group
	if wait != 0 || !back.Equal(now.Add(1250*time.Millisecond)) {
		t.Fatalf("sixth: wait %v back %v; want back at +1.25s", wait, back)
	}
	// Another domain is not held by this one.
	if wait, back := p.admit(6, "other.net"); wait != 0 || !back.IsZero() {
		t.Fatalf("other domain: wait %v back %v", wait, back)
	}
	// The sixth, back at its slot, takes the slot it was given rather
	// than queueing again.
	now = now.Add(1250 * time.Millisecond)
	if wait, back := p.admit(5, "example.org"); wait != 0 || !back.IsZero() {
		t.Fatalf("sixth on its return: wait %v back %v", wait, back)
	}
}

func TestPacer_TryLaterPausesAndSlowsOneDomain(t *testing.T) {
	now := ledgerStart
	p := newPacer([]DomainLimit{{Domains: []string{"slow.example"}, Rate: 10}}, time.Minute, func() time.Time { return now })
	p.admit(1, "slow.example")
	p.done("slow.example", false, true)
	_, back := p.admit(2, "slow.example")
	if !back.Equal(now.Add(time.Minute)) {
		t.Fatalf("after a 421: back %v; want in a minute", back)
	}
	if wait, back := p.admit(3, "fast.example"); wait != 0 || !back.IsZero() {
		t.Fatalf("another domain after the 421: wait %v back %v", wait, back)
	}
	if g := p.gateFor("slow.example"); g.interval(1) != 200*time.Millisecond {
		t.Errorf("pace after one 421: every %v; want half of 10/s", g.interval(1))
	}
	// A second try-later in a row doubles the pause.
	now = now.Add(time.Minute)
	p.admit(4, "slow.example")
	p.done("slow.example", false, true)
	if _, back := p.admit(5, "slow.example"); !back.Equal(now.Add(2 * time.Minute)) {
		t.Fatalf("after a second 421: back %v; want in two minutes", back)
	}
	// Successes bring the pace back.
	now = now.Add(2 * time.Minute)
	for i := range 400 {
		p.admit(int64(100+i), "slow.example")
		p.done("slow.example", true, false)
		now = now.Add(time.Second)
	}
	if g := p.gateFor("slow.example"); g.interval(1) != 100*time.Millisecond {
		t.Errorf("pace after 400 successes: every %v; want the configured 10/s back", g.interval(1))
	}
}

func TestPacer_ConnectionsPerDomain(t *testing.T) {
	now := ledgerStart
	p := newPacer([]DomainLimit{{Domains: []string{"one.example"}, Connections: 1}}, time.Minute, func() time.Time { return now })
	if _, back := p.admit(1, "one.example"); !back.IsZero() {
		t.Fatal("first send held")
	}
	if _, back := p.admit(2, "one.example"); back.IsZero() {
		t.Fatal("a second send at once to a one-connection domain went")
	}
	p.done("one.example", true, false)
	now = now.Add(time.Second)
	if _, back := p.admit(2, "one.example"); !back.IsZero() {
		t.Fatal("held after the first send ended")
	}
}

// addAt adds n confirmed subscribers of daily at domain.
func (e *ledgerEnv) addAt(t *testing.T, domain string, n int) {
	t.Helper()
	for i := range n {
		if _, err := e.subs.Add(context.Background(), fmt.Sprintf("r%d@%s", i, domain), "", []string{"daily"},
			subscribers.StatusConfirmed, subscribers.Meta{Route: "cli"}); err != nil {
			t.Fatal(err)
		}
	}
}

// A domain that answers 421 is paused alone: the rest of the edition goes
// at full pace in the same pass, the refused domain costs at most one
// refusal per connection instead of one per message, and when it takes
// mail again every message arrives once.
func TestSender_TryLaterFromOneDomainSlowsOnlyIt(t *testing.T) {
	e := &sendEnv{ledgerEnv: newLedgerEnv(t), srv: newFaultServer(t)}
	for _, d := range []string{"a.example", "b.example", "slow.example"} {
		e.addAt(t, d, 30)
	}
	e.addArticle(t, "a1", ledgerStart.Add(-time.Hour))
	e.ed = e.plan(t, dailyDigest(), ledgerStart)
	e.sender = &Sender{Ledger: e.ledger, Transport: e.srv.transport(t, 2), Composer: &testComposer{},
		Workers: 2, MaxAttempts: 3, Backoff: testBackoff, BatchSize: 10}
	e.srv.inject(fault{stage: "RCPT", rcpt: "@slow.example", code: 421, times: 1000})

	rep := e.run(t)
	if rep.Sent != 60 || rep.Retried > 2 || rep.Retried+rep.Paced != 30 || rep.Failed != 0 {
		t.Fatalf("first pass: %+v; want the 60 others sent, slow.example refused at most once per connection and the rest held", rep)
	}
	for i := range 30 {
		if n := len(e.srv.copies(fmt.Sprintf("r%d@a.example", i))); n != 1 {
			t.Fatalf("r%d@a.example got %d copies in the first pass", i, n)
		}
	}
	refused := 1000 - e.srv.faults[0].times
	e.srv.clearFaults()

	// Nothing is due until the pause ends.
	if rep := e.run(t); rep != (SendReport{}) {
		t.Fatalf("during the pause: %+v", rep)
	}
	for range 5 {
		e.clock.Advance(testBackoff)
		e.run(t)
	}
	for _, d := range []string{"a.example", "b.example", "slow.example"} {
		for i := range 30 {
			if n := len(e.srv.copies(fmt.Sprintf("r%d@%s", i, d))); n != 1 {
				t.Errorf("r%d@%s got %d copies", i, d, n)
			}
		}
	}
	if refused > 2 {
		t.Errorf("slow.example refused %d times; want at most one per connection", refused)
	}
	var attempts int
	if err := e.db.Read.QueryRow(`SELECT MAX(attempts) FROM deliveries`).Scan(&attempts); err != nil || attempts > 2 {
		t.Errorf("most attempts of a delivery: %d, %v; held messages spend none", attempts, err)
	}
}

// A daily limit sends that many edition messages a day and carries the
// rest to the next day; sign-up mail is not held by it.
func TestSender_DailyLimitCarriesTheRestToTomorrow(t *testing.T) {
	e := newSendEnv(t, 10)
	e.sender.DailyLimit = 4
	rep := e.run(t)
	if rep.Sent != 4 || rep.Capped.IsZero() {
		t.Fatalf("first day: %+v; want 4 sent and capped", rep)
	}
	if want := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC); !rep.Capped.Equal(want) {
		t.Errorf("capped until %v; want %v", rep.Capped, want)
	}
	if rep := e.run(t); rep.Sent != 0 {
		t.Fatalf("again the same day: %+v", rep)
	}
	e.clock.Advance(17 * time.Hour) // the next day
	if rep := e.run(t); rep.Sent != 4 {
		t.Fatalf("second day: %+v; want 4", rep)
	}
	e.clock.Advance(24 * time.Hour)
	if rep := e.run(t); rep.Sent != 2 || !rep.Capped.IsZero() {
		t.Fatalf("third day: %+v; want the last 2, not capped", rep)
	}
	e.checkOneCopyEach(t)
}

// A domain without a limit that says 421 is slowed to half the pace it
// had, and a list of many domains keeps no state for the quiet ones.
func TestPacer_UnlimitedDomainSlowsToHalfItsPace(t *testing.T) {
	now := ledgerStart
	p := newPacer(nil, time.Minute, func() time.Time { return now })
	for i := range 100 { // 10 a second for 10 s
		p.admit(int64(i), "free.example")
		p.done("free.example", true, false)
		now = now.Add(100 * time.Millisecond)
	}
	p.admit(100, "free.example")
	p.done("free.example", false, true)
	if g := p.gateFor("free.example"); g.interval(1) != 200*time.Millisecond {
		t.Errorf("after a 421 at 10/s: every %v; want 5/s", g.interval(1))
	}
	now = now.Add(time.Hour)
	for i := range 3 * sweepGates {
		d := fmt.Sprintf("d%d.example", i)
		p.admit(int64(1000+i), d)
		p.done(d, true, false)
	}
	if n := len(p.gates); n > 2*sweepGates {
		t.Errorf("%d gates kept for %d quiet domains", n, 3*sweepGates)
	}
	if g := p.gates["free.example"]; g == nil || g.factor >= 1 {
		t.Error("the slowed domain was forgotten")
	}
}

// Several live senders split each configured rate; a domain without one
// stays unpaced.
func TestPacer_ShareSplitsConfiguredRates(t *testing.T) {
	now := ledgerStart
	p := newPacer([]DomainLimit{{Domains: []string{"big.example"}, Rate: 10}}, time.Minute, func() time.Time { return now })
	p.setShare(2)
	if g := p.gateFor("big.example"); g.interval(p.share) != 200*time.Millisecond {
		t.Errorf("10/s split between 2: every %v, want 200ms", g.interval(p.share))
	}
	if g := p.gateFor("free.example"); g.interval(p.share) != 0 {
		t.Errorf("an unlimited domain split: every %v, want unpaced", g.interval(p.share))
	}
}
