package mail

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

// scheduleEnv is a ledger with one digest, "daily", on spec, and a
// scheduler over it. Empty editions are made (SkipEmpty false), so every
// run shows as an edition.
func scheduleEnv(t *testing.T, spec string, catchUp bool) (*ledgerEnv, *Scheduler) {
	t.Helper()
	e := newLedgerEnv(t)
	d := dailyDigest()
	d.Schedule, d.SkipEmpty, d.CatchUp = spec, false, catchUp
	s, err := NewScheduler(e.ledger, []Digest{d}, time.UTC, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e, s
}

func (e *ledgerEnv) editions(t *testing.T) []*Edition {
	t.Helper()
	eds, err := e.ledger.Editions(context.Background(), "daily", 0)
	if err != nil {
		t.Fatal(err)
	}
	return eds
}

func TestParseSchedule_PlainSpecInSiteZone(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	s, err := ParseSchedule("0 7 * * *", berlin)
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 5, 10, 10, 0, 0, 0, time.UTC)
	if got, want := s.Next(from), time.Date(2026, 5, 11, 7, 0, 0, 0, berlin); !got.Equal(want) {
		t.Errorf("Next = %v, want %v (07:00 in the site's zone)", got, want)
	}
	if _, err := NewScheduler(nil, []Digest{{Name: "weekly", Schedule: "0 7 * *"}}, berlin, nil); err == nil ||
		!strings.Contains(err.Error(), "digest weekly") {
		t.Errorf("NewScheduler with a bad spec = %v, want an error naming the digest", err)
	}
}

// Across each daylight saving time change a daily digest makes exactly one
// edition a day, whether tidings looks every minute (tidings run from the
// system cron) or only at the moments the schedule names (Scheduler.Run).
//
// Observed robfig/cron v3.0.1 behaviour, which schedule.go corrects:
//   - spring forward: a wall-clock time in the gap (02:30 in Berlin on
//     2026-03-29, 02:30 in New York on 2026-03-08) has no moment at all;
//     Next jumps to the next day. Here it runs at the first instant after
//     the gap (03:00 summer time), once.
//   - fall back: a doubled wall-clock time (02:30 in Berlin on 2026-10-25,
//     01:30 in New York on 2026-11-01) is two moments an hour apart, and
//     a runner fires at both. Only the first makes an edition.
func TestScheduler_DaylightSaving(t *testing.T) {
	tests := []struct {
		name, spec, zone, day string
		want                  string // wall clock of the day's edition
	}{
		{"Berlin spring forward", "CRON_TZ=Europe/Berlin 30 2 * * *", "Europe/Berlin", "2026-03-29", "03:00 CEST"},
		{"Berlin fall back", "CRON_TZ=Europe/Berlin 30 2 * * *", "Europe/Berlin", "2026-10-25", "02:30 CEST"},
		{"New York spring forward, 01:30 exists", "CRON_TZ=America/New_York 30 1 * * *", "America/New_York", "2026-03-08", "01:30 EST"},
		{"New York spring forward, 02:30 does not", "CRON_TZ=America/New_York 30 2 * * *", "America/New_York", "2026-03-08", "03:00 EDT"},
		{"New York fall back", "CRON_TZ=America/New_York 30 1 * * *", "America/New_York", "2026-11-01", "01:30 EDT"},
	}
	modes := []struct {
		name string
		next func(s cron.Schedule, t time.Time) time.Time
	}{
		{"every minute", func(_ cron.Schedule, t time.Time) time.Time { return t.Add(time.Minute) }},
		{"at the schedule's moments", func(s cron.Schedule, t time.Time) time.Time {
			return s.Next(t.In(time.Local))
		}},
		{"at both instants of a doubled hour", func(s cron.Schedule, t time.Time) time.Time {
			// What robfig/cron's own runner does at a fall-back: the
			// same wall-clock time again, an hour later.
			if n := s.Next(t); n.Sub(t) > 23*time.Hour && t.Add(time.Hour).Format("15:04") == t.Format("15:04") {
				return t.Add(time.Hour)
			}
			return s.Next(t)
		}},
	}
	for _, tt := range tests {
		for _, m := range modes {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				loc := mustLoad(t, tt.zone)
				day, err := time.ParseInLocation("2006-01-02", tt.day, loc)
				if err != nil {
					t.Fatal(err)
				}
				e, sched := scheduleEnv(t, tt.spec, true)
				s, err := ParseSchedule(tt.spec, nil)
				if err != nil {
					t.Fatal(err)
				}
				// From the day before to the next day's moment, all before 06:00.
				start, end := day.AddDate(0, 0, -1), day.AddDate(0, 0, 1).Add(6*time.Hour)
				// First sight records the run and plans nothing.
				e.clock.t = start
				if eds, err := sched.PlanDue(ctx); len(eds) != 0 || err != nil {
					t.Fatalf("first sight: PlanDue = %v, %v", eds, err)
				}
				for e.clock.t = m.next(s, start); e.clock.t.Before(end); e.clock.t = m.next(s, e.clock.t) {
					if _, err := sched.PlanDue(ctx); err != nil {
						t.Fatalf("at %v: %v", e.clock.t, err)
					}
				}

				perDay := map[string][]string{}
				for _, ed := range e.editions(t) {
					at := ed.ScheduledAt.In(loc)
					perDay[at.Format("2006-01-02")] = append(perDay[at.Format("2006-01-02")], at.Format("15:04 MST"))
				}
				for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
					key := d.Format("2006-01-02")
					if got := perDay[key]; len(got) != 1 {
						t.Errorf("%s: editions at %v, want exactly one", key, got)
					}
				}
				if got := perDay[tt.day]; len(got) == 1 && got[0] != tt.want {
					t.Errorf("%s: edition at %s, want %s", tt.day, got[0], tt.want)
				}
				if len(perDay) != 3 {
					t.Errorf("editions on days %v, want the three days from %s", perDay, start.Format("2006-01-02"))
				}
			})
		}
	}
}

func TestScheduler_Outage(t *testing.T) {
	const spec = "0 7 * * *"
	at := func(day, hour, min int) time.Time { return time.Date(2026, 5, day, hour, min, 0, 0, time.UTC) }
	ctx := context.Background()
	type step struct {
		now         time.Time
		wantPlanned bool
		wantLast    time.Time
		wantAt      []time.Time // scheduled moments of all editions, newest first
	}
	tests := []struct {
		name    string
		catchUp bool
		last    time.Time // zero: a digest tidings never ran
		steps   []step
	}{
		{"down a week, catch up once", true, at(1, 7, 0), []step{
			{at(8, 12, 0), true, at(8, 7, 0), []time.Time{at(8, 7, 0)}},
			{at(8, 12, 0), false, at(8, 7, 0), []time.Time{at(8, 7, 0)}},
			{at(9, 7, 0), true, at(9, 7, 0), []time.Time{at(9, 7, 0), at(8, 7, 0)}},
		}},
		{"down a week, no catch up", false, at(1, 7, 0), []step{
			{at(8, 12, 0), false, at(8, 7, 0), nil},
			{at(8, 12, 0), false, at(8, 7, 0), nil},
			{at(9, 6, 59), false, at(8, 7, 0), nil},
			// On time (the timer fires a moment late): not a catch-up.
			{at(9, 7, 0).Add(30 * time.Second), true, at(9, 7, 0), []time.Time{at(9, 7, 0)}},
		}},
		{"new digest starts at its next moment", true, time.Time{}, []step{
			{at(8, 12, 0), false, at(8, 12, 0), nil},
			{at(8, 12, 0), false, at(8, 12, 0), nil},
			{at(9, 7, 0), true, at(9, 7, 0), []time.Time{at(9, 7, 0)}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, sched := scheduleEnv(t, spec, tt.catchUp)
			if !tt.last.IsZero() {
				if err := e.ledger.SetLastRun(ctx, "daily", tt.last); err != nil {
					t.Fatal(err)
				}
			}
			for i, st := range tt.steps {
				e.clock.t = st.now
				eds, err := sched.PlanDue(ctx)
				if err != nil || (len(eds) > 0) != st.wantPlanned {
					t.Fatalf("step %d at %v: PlanDue = %v, %v; want planned %v", i, st.now, eds, err, st.wantPlanned)
				}
				got, err := e.ledger.LastRun(ctx, "daily")
				if err != nil {
					t.Fatal(err)
				}
				if !got.Equal(st.wantLast) {
					t.Errorf("step %d: LastRun = %v, want %v", i, got, st.wantLast)
				}
				var ats []time.Time
				for _, ed := range e.editions(t) {
					ats = append(ats, ed.ScheduledAt.In(time.UTC))
				}
				if len(ats) != len(st.wantAt) {
					t.Fatalf("step %d: editions at %v, want %v", i, ats, st.wantAt)
				}
				for j := range ats {
					if !ats[j].Equal(st.wantAt[j]) {
						t.Errorf("step %d: editions at %v, want %v", i, ats, st.wantAt)
					}
				}
			}
		})
	}
}

// Run wakes at each scheduled moment: with a clock that the waits move
// on, three days pass and make three editions, each reported once.
func TestScheduler_RunWakesAtEachMoment(t *testing.T) {
	e, sched := scheduleEnv(t, "0 7 * * *", true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.clock.t = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	if err := e.ledger.SetLastRun(ctx, "daily", time.Date(2026, 5, 1, 7, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	sched.after = func(d time.Duration) <-chan time.Time {
		waits = append(waits, d)
		e.clock.Advance(d)
		c := make(chan time.Time, 1)
		c <- e.clock.Now()
		return c
	}
	planned := 0
	err := sched.Run(ctx, func(eds []*Edition) {
		planned += len(eds)
		if planned == 3 {
			cancel()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	eds := e.editions(t)
	if len(eds) != 3 || planned != 3 {
		t.Fatalf("Run made %d editions and reported %d, want 3 and 3", len(eds), planned)
	}
	if got := eds[0].ScheduledAt; !got.Equal(time.Date(2026, 5, 4, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("newest edition at %v, want 2026-05-04 07:00", got)
	}
	for _, w := range waits {
		if w > maxSleep {
			t.Errorf("Run waited %v at once; at most %v, so a clock jump is noticed", w, maxSleep)
		}
	}
}
