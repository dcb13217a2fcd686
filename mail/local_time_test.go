package mail

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

func TestParseDeliverAt(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want LocalTime
		ok   bool
	}{
		{"", LocalTime{}, true},
		{"local 07:00", LocalTime{Set: true, Hour: 7}, true},
		{"  local 23:59 ", LocalTime{Set: true, Hour: 23, Minute: 59}, true},
		{"local  00:00", LocalTime{Set: true}, true},
		{"local 24:00", LocalTime{}, false},
		{"local 7:00", LocalTime{}, false},
		{"local 07:60", LocalTime{}, false},
		{"local 07:00:00", LocalTime{}, false},
		{"07:00", LocalTime{}, false},
		{"local", LocalTime{}, false},
		{"Local 07:00", LocalTime{}, false},
		{"local 07:00 Europe/Berlin", LocalTime{}, false},
	} {
		got, err := ParseDeliverAt(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ParseDeliverAt(%q) = %+v, %v", tt.in, got, err)
		}
		if err == nil && got.Set {
			if again, err := ParseDeliverAt(got.String()); err != nil || again != got {
				t.Errorf("%q does not read back: %+v, %v", got.String(), again, err)
			}
		}
	}
}

func FuzzParseDeliverAt(f *testing.F) {
	for _, s := range []string{"local 07:00", "local 24:00", "", "local 7:0", "local ١٢:٣٠"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		lt, err := ParseDeliverAt(s)
		if err != nil || !lt.Set {
			return
		}
		if lt.Hour < 0 || lt.Hour > 23 || lt.Minute < 0 || lt.Minute > 59 {
			t.Fatalf("ParseDeliverAt(%q) = %+v", s, lt)
		}
		if again, err := ParseDeliverAt(lt.String()); err != nil || again != lt {
			t.Fatalf("%q reads back as %+v, %v", lt.String(), again, err)
		}
	})
}

// Next across the daylight saving time changes of 2027 (spring) and 2026
// (autumn) in two zones, the instants written out by hand.
func TestLocalTime_Next(t *testing.T) {
	utc := func(s string) time.Time {
		t.Helper()
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct {
		name, zone, at, from, want string
	}{
		{"Berlin, a plain day", "Europe/Berlin", "local 07:00", "2027-03-20T00:00:00Z", "2027-03-20T06:00:00Z"},
		{"Berlin, 07:00 on the spring-forward day is summer time", "Europe/Berlin", "local 07:00", "2027-03-28T00:00:00Z", "2027-03-28T05:00:00Z"},
		{"Berlin, 02:30 does not exist: end of the gap", "Europe/Berlin", "local 02:30", "2027-03-27T23:00:00Z", "2027-03-28T01:00:00Z"},
		{"Berlin, 02:30 twice in autumn: the first", "Europe/Berlin", "local 02:30", "2026-10-24T23:00:00Z", "2026-10-25T00:30:00Z"},
		{"Berlin, after the first 02:30 the next is tomorrow's", "Europe/Berlin", "local 02:30", "2026-10-25T00:31:00Z", "2026-10-26T01:30:00Z"},
		{"New York, 02:30 does not exist: end of the gap", "America/New_York", "local 02:30", "2027-03-14T00:00:00Z", "2027-03-14T07:00:00Z"},
		{"New York, 07:00 on the spring-forward day", "America/New_York", "local 07:00", "2027-03-14T00:00:00Z", "2027-03-14T11:00:00Z"},
		{"New York, 01:30 twice in autumn: the first", "America/New_York", "local 01:30", "2026-11-01T00:00:00Z", "2026-11-01T05:30:00Z"},
		{"at the instant itself", "America/New_York", "local 07:00", "2027-03-14T11:00:00Z", "2027-03-14T11:00:00Z"},
		{"just after it: tomorrow", "America/New_York", "local 07:00", "2027-03-14T11:00:00.000000001Z", "2027-03-15T11:00:00Z"},
		{"Lord Howe's half-hour gap", "Australia/Lord_Howe", "local 02:15", "2026-10-03T12:00:00Z", "2026-10-03T15:30:00Z"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			lt, err := ParseDeliverAt(tt.at)
			if err != nil {
				t.Fatal(err)
			}
			if got := lt.Next(utc(tt.from), mustLoad(t, tt.zone)); !got.Equal(utc(tt.want)) {
				t.Errorf("Next(%s) = %s, want %s", tt.from, got.UTC().Format(time.RFC3339), tt.want)
			}
		})
	}
}

// clockTransport records, for each message, the test clock's time when it
// was handed to the server.
type clockTransport struct {
	transport.Transport
	clock *ledgerClock
	mu    sync.Mutex
	at    map[string][]time.Time // by recipient
	ids   map[string][]string
}

func (c *clockTransport) Send(ctx context.Context, m *transport.Message) error {
	if err := c.Transport.Send(ctx, m); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at[m.To.Address] = append(c.at[m.To.Address], c.clock.Now())
	c.ids[m.To.Address] = append(c.ids[m.To.Address], m.MessageID)
	return nil
}

// A daily digest frozen at midnight UTC and delivered at a local hour, run
// with an injected clock across the spring-forward days of New York
// (2027-03-14) and Berlin (2027-03-28): each subscriber receives each
// edition once, at the first moment its hour has come in its zone (at the
// end of the gap when the hour does not exist that day), and a restart
// half-way through a day sends nothing twice.
func TestLocalTime_DeliveryAcrossDaylightSaving(t *testing.T) {
	for _, at := range []string{"local 07:00", "local 02:30"} {
		t.Run(at, func(t *testing.T) {
			t.Parallel()
			testLocalDelivery(t, at)
		})
	}
}

func testLocalDelivery(t *testing.T, deliverAt string) {
	ctx := context.Background()
	const step = 15 * time.Minute
	path := filepath.Join(t.TempDir(), "tidings.db")
	start := time.Date(2027, 3, 12, 23, 0, 0, 0, time.UTC)
	e := openLedgerEnv(t, path, start)
	srv := newFaultServer(t)
	tr := &clockTransport{Transport: srv.transport(t, 2), clock: e.clock, at: map[string][]time.Time{}, ids: map[string][]string{}}

	zones := map[string]string{"berlin@de.example": "Europe/Berlin", "ny@us.example": "America/New_York", "site@uk.example": ""}
	for addr, zone := range zones {
		s, err := e.subs.Add(ctx, addr, "", []string{"daily"}, subscribers.StatusConfirmed, subscribers.Meta{Route: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.subs.SetTimeZone(ctx, s.ID, zone, subscribers.Meta{Route: "cli"}); err != nil {
			t.Fatal(err)
		}
	}
	d := dailyDigest()
	d.Schedule, d.SkipEmpty, d.CatchUp = "0 0 * * *", false, true
	var err error
	if d.DeliverAt, err = ParseDeliverAt(deliverAt); err != nil {
		t.Fatal(err)
	}
	wire := func(e *ledgerEnv) (*Scheduler, *Sender) {
		e.ledger.Zone = time.UTC // site.timezone
		sched, err := NewScheduler(e.ledger, []Digest{d}, time.UTC, nil)
		if err != nil {
			t.Fatal(err)
		}
		return sched, &Sender{Ledger: e.ledger, Transport: tr, Composer: &testComposer{}, Workers: 2, MaxAttempts: 5,
			Backoff: testBackoff, BatchSize: 10}
	}
	sched, sender := wire(e)

	// The two days around each change, and the plain days between.
	end := time.Date(2027, 3, 29, 23, 0, 0, 0, time.UTC)
	restart := time.Date(2027, 3, 14, 9, 0, 0, 0, time.UTC) // Berlin's sent, New York's waiting
	restarted := false
	for now := start; now.Before(end); now = now.Add(step) {
		e.clock.t = now
		if !restarted && !now.Before(restart) {
			// A new process on the same database: what it knows comes
			// from the ledger alone.
			e.db.Close()
			e = openLedgerEnv(t, path, now)
			tr.clock = e.clock
			sched, sender = wire(e)
			restarted = true
		}
		if _, err := sched.PlanDue(ctx); err != nil {
			t.Fatalf("at %v: plan: %v", now, err)
		}
		if _, err := sender.SendDue(ctx); err != nil {
			t.Fatalf("at %v: send: %v", now, err)
		}
	}

	eds := e.editions(t)
	if len(eds) != 17 {
		t.Fatalf("%d editions from 2027-03-13 to 2027-03-29, want one a day: 17", len(eds))
	}
	lt := d.DeliverAt
	for addr, zone := range zones {
		loc := time.UTC
		if zone != "" {
			loc = mustLoad(t, zone)
		}
		// Written out independently of Next: the hour on the day of the
		// edition, or, on a day it does not exist (02:30 on the
		// spring-forward day), 03:00, where the gap ends in both zones.
		on := func(day time.Time) time.Time {
			w := time.Date(day.Year(), day.Month(), day.Day(), lt.Hour, lt.Minute, 0, 0, loc)
			if w.Hour() != lt.Hour || w.Minute() != lt.Minute {
				w = time.Date(day.Year(), day.Month(), day.Day(), 3, 0, 0, 0, loc)
			}
			return w
		}
		var want []time.Time
		for i := len(eds) - 1; i >= 0; i-- { // oldest first
			day := eds[i].ScheduledAt.In(loc)
			w := on(day)
			if w.Before(eds[i].ScheduledAt) { // New York at midnight UTC is still the day before
				w = on(day.AddDate(0, 0, 1))
			}
			want = append(want, w)
		}
		got := tr.at[addr]
		if len(got) != len(want) {
			t.Errorf("%s (%s): %d mails, want %d, one per edition: %v", addr, zone, len(got), len(want), got)
			continue
		}
		seen := map[string]bool{}
		for _, id := range tr.ids[addr] {
			if seen[id] {
				t.Errorf("%s received %s twice", addr, id)
			}
			seen[id] = true
		}
		for i := range want {
			// Sent at the first step of the clock at or after its time.
			if late := got[i].Sub(want[i]); late < 0 || late >= step {
				t.Errorf("%s (%s): edition %d sent at %s, due %s", addr, zone, i+1,
					got[i].In(loc).Format("2006-01-02 15:04 MST"), want[i].In(loc).Format("2006-01-02 15:04 MST"))
			}
		}
	}
	for _, ed := range eds {
		c := e.counts(t, ed.ID)
		if c[DeliverySent] != 3 || len(c) > 0 && c[DeliveryQueued]+c[DeliverySending]+c[DeliveryFailed] != 0 {
			t.Errorf("edition %d (%s): %v", ed.ID, ed.ScheduledAt.Format("01-02"), c)
		}
	}
	if !restarted {
		t.Fatal("the restart did not happen")
	}
}

// Planning writes the local hours into the ledger, where editions show
// reads them by the hour.
func TestLedger_WaitingByHour(t *testing.T) {
	e := newLedgerEnv(t)
	ctx := context.Background()
	e.clock.t = time.Date(2027, 3, 13, 0, 0, 0, 0, time.UTC)
	e.ledger.Zone = mustLoad(t, "Asia/Tokyo")
	for i, zone := range []string{"Europe/Berlin", "Europe/Berlin", "America/New_York", "", "Mars/Olympus"} {
		s, err := e.subs.Add(ctx, fmt.Sprintf("s%d@x.example", i), "", []string{"daily"}, subscribers.StatusConfirmed, subscribers.Meta{Route: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		if zone == "Mars/Olympus" {
			// A zone stored before this machine's zone database lost it:
			// the site's zone, not a failed plan.
			if _, err := e.db.Write.ExecContext(ctx, `UPDATE subscribers SET timezone = ? WHERE id = ?`, zone, s.ID); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if _, err := e.subs.SetTimeZone(ctx, s.ID, zone, subscribers.Meta{Route: "cli"}); err != nil {
			t.Fatal(err)
		}
	}
	d := dailyDigest()
	d.SkipEmpty, d.DeliverAt = false, LocalTime{Set: true, Hour: 7}
	ed := e.plan(t, d, e.clock.t)
	ws, err := e.ledger.Waiting(ctx, ed.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := fmt.Sprint(ws)
	// Tokyo 07:00 is 22:00 UTC, the day before: past, so the next day's.
	want := fmt.Sprint([]Waiting{
		{time.Date(2027, 3, 13, 6, 0, 0, 0, time.UTC), 2},  // Berlin, winter time
		{time.Date(2027, 3, 13, 12, 0, 0, 0, time.UTC), 1}, // New York, still winter time
		{time.Date(2027, 3, 13, 22, 0, 0, 0, time.UTC), 2}, // the site's zone, Tokyo, for the others
	})
	if got != want {
		t.Errorf("waiting\n got %s\nwant %s", got, want)
	}
	// Nothing is due before the first hour.
	rep, err := (&Sender{Ledger: e.ledger, Transport: &clockTransport{}, Composer: &testComposer{}, Workers: 1, MaxAttempts: 5,
		Backoff: testBackoff, BatchSize: 10}).SendDue(ctx)
	if err != nil || rep.Sent != 0 {
		t.Errorf("send before anyone's hour: %+v, %v", rep, err)
	}
}

// BenchmarkLocalTime_Next is what deliver_at adds to planning per
// subscriber, in a zone with daylight saving time.
func BenchmarkLocalTime_Next(b *testing.B) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	lt := LocalTime{Set: true, Hour: 7}
	from := time.Date(2027, 3, 28, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		lt.Next(from, loc)
	}
}

// BenchmarkPlan_DeliverAt plans an edition for 20,000 subscribers in
// four zones, with and without deliver_at.
func BenchmarkPlan_DeliverAt(b *testing.B) {
	for _, local := range []bool{false, true} {
		b.Run(fmt.Sprintf("deliver_at=%v", local), func(b *testing.B) {
			e := newLedgerEnv(b)
			ctx := context.Background()
			addBenchSubscribers(b, e, 20000)
			if _, err := e.db.Write.ExecContext(ctx, `UPDATE subscribers SET timezone = CASE id % 4
				WHEN 1 THEN 'Europe/Berlin' WHEN 2 THEN 'America/New_York' WHEN 3 THEN 'Asia/Tokyo' ELSE '' END`); err != nil {
				b.Fatal(err)
			}
			d := dailyDigest()
			d.SkipEmpty = false
			if local {
				d.DeliverAt = LocalTime{Set: true, Hour: 7}
			}
			at := ledgerStart
			for b.Loop() {
				at = at.Add(time.Hour)
				if _, _, err := e.ledger.Plan(ctx, d, at); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
