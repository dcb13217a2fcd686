package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tidings/tidings/mail"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseSchedule(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	// Plain specs run in the zone robfig/cron's runner uses, time.Local,
	// whatever zone Next is asked in.
	local := func(day, hour, min int) time.Time { return time.Date(2026, 5, day, hour, min, 0, 0, time.Local) }
	good := []struct {
		spec       string
		from, want time.Time // want: the first moment after from
	}{
		{"0 7 * * *", local(10, 10, 7).UTC(), local(11, 7, 0)},
		{"CRON_TZ=Europe/Berlin 0 7 * * *", time.Date(2026, 5, 10, 10, 7, 0, 0, berlin).UTC(), time.Date(2026, 5, 11, 7, 0, 0, 0, berlin)},
		{"@daily", local(10, 10, 7).UTC(), local(11, 0, 0)},
		{"*/15 * * * *", local(10, 10, 7), local(10, 10, 15)},
	}
	for _, tt := range good {
		t.Run(tt.spec, func(t *testing.T) {
			s, err := parseSchedule(tt.spec)
			if err != nil {
				t.Fatalf("parseSchedule(%q) = %v", tt.spec, err)
			}
			if got := s.Next(tt.from); !got.Equal(tt.want) {
				t.Errorf("Next(%v) = %v, want %v", tt.from, got, tt.want)
			}
		})
	}

	bad := []string{"0 7 * *", "CRON_TZ=UTC", "CRON_TZ=Mars/Base 0 7 * * *", "61 * * * *", "", "@fortnightly"}
	for _, spec := range bad {
		t.Run(fmt.Sprintf("bad %q", spec), func(t *testing.T) {
			var s any
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("parseSchedule(%q) panicked: %v", spec, r)
					}
				}()
				s, err = parseSchedule(spec)
			}()
			if err == nil {
				t.Fatalf("parseSchedule(%q) = %v, nil; want an error", spec, s)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", spec)) {
				t.Errorf("error %q does not quote the spec %q", err, spec)
			}

			cfg := Default()
			cfg.Digests[0].Schedule = spec
			verr := cfg.Validate()
			if verr == nil {
				t.Fatalf("Validate accepted schedule %q", spec)
			}
			want := []string{"digests[0].schedule"}
			if spec != "" {
				// An empty spec gets "must not be empty", which the
				// field's index already ties to its digest.
				want = append(want, "digest daily", fmt.Sprintf("%q", spec))
			}
			for _, w := range want {
				if !strings.Contains(verr.Error(), w) {
					t.Errorf("Validate error %q lacks %q", verr, w)
				}
			}
		})
	}
}

func TestDueMoment(t *testing.T) {
	s, err := parseSchedule("0 7 * * *")
	if err != nil {
		t.Fatal(err)
	}
	at := func(day, hour, min int) time.Time { return time.Date(2026, 5, day, hour, min, 0, 0, time.Local) }
	last := at(9, 7, 0)
	tests := []struct {
		name      string
		last, now time.Time
		want      time.Time // zero: nothing due
	}{
		{"before the moment", last, at(10, 6, 59), time.Time{}},
		{"at the moment", last, at(10, 7, 0), at(10, 7, 0)},
		{"a second after", last, at(10, 7, 0).Add(time.Second), at(10, 7, 0)},
		{"after an outage only the latest", last, at(12, 12, 0), at(12, 7, 0)},
		{"now is the last run", last, last, time.Time{}},
		{"now before the last run", last, at(8, 12, 0), time.Time{}},
		// The ledger gives the last run back in UTC; the moment is still
		// 07:00 where the runner fires it, not 07:00 UTC.
		{"last run in UTC", last.UTC(), at(10, 7, 0), at(10, 7, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := dueMoment(s, tt.last, tt.now)
			if !got.Equal(tt.want) {
				t.Errorf("dueMoment(last %v, now %v) = %v, want %v", tt.last, tt.now, got, tt.want)
			}
		})
	}
}

// scheduleApp is an App over a temp folder with one digest, "daily", on
// spec. Empty editions are made (skip_empty = false), so every run shows
// as an edition. It returns the clock the app reads.
func scheduleApp(t *testing.T, spec string) (*App, mail.Digest, *time.Time) {
	t.Helper()
	dir := t.TempDir()
	cfg := Default()
	cfg.Database.Path = filepath.Join(dir, "tidings.db")
	cfg.Content.Dirs = []string{filepath.Join(dir, "content")}
	cfg.Feeds.OutputDir = filepath.Join(dir, "public")
	cfg.SMTP.OutboxDir = filepath.Join(dir, "outbox")
	skip := false
	cfg.Digests[0].Schedule = spec
	cfg.Digests[0].SkipEmpty = &skip
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	app, err := NewApp(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { app.Close() })
	clock := new(time.Time)
	app.Now = func() time.Time { return *clock }
	return app, app.Digests["daily"], clock
}

func editions(t *testing.T, app *App) []*mail.Edition {
	t.Helper()
	eds, err := app.Ledger.Editions(context.Background(), "daily", 0)
	if err != nil {
		t.Fatal(err)
	}
	return eds
}

// Across each daylight saving time change a daily digest makes exactly one
// edition a day, whether tidings looks every minute (tidings run from the
// system cron) or only at the moments the schedule names (the robfig/cron
// runner of tidings serve).
//
// Observed robfig/cron v3.0.1 behaviour, which schedule.go corrects:
//   - spring forward: a wall-clock time in the gap (02:30 in Berlin on
//     2026-03-29, 02:30 in New York on 2026-03-08) has no moment at all;
//     Next jumps to the next day. Here it runs at the first instant after
//     the gap (03:00 summer time), once.
//   - fall back: a doubled wall-clock time (02:30 in Berlin on 2026-10-25,
//     01:30 in New York on 2026-11-01) is two moments an hour apart, and
//     the runner fires at both. Only the first makes an edition.
func TestPlanDue_DaylightSaving(t *testing.T) {
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
			return s.Next(t.In(time.Local)) // as cron.New's runner asks
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
				app, d, clock := scheduleApp(t, tt.spec)
				s, err := parseSchedule(tt.spec)
				if err != nil {
					t.Fatal(err)
				}
				// From the day before to the next day's moment, all before 06:00.
				start, end := day.AddDate(0, 0, -1), day.AddDate(0, 0, 1).Add(6*time.Hour)
				// First sight records the run and plans nothing.
				*clock = start
				if ok, err := app.planDue(ctx, d, true); ok || err != nil {
					t.Fatalf("first sight: planDue = %v, %v", ok, err)
				}
				for *clock = m.next(s, start); clock.Before(end); *clock = m.next(s, *clock) {
					if _, err := app.planDue(ctx, d, true); err != nil {
						t.Fatalf("at %v: %v", *clock, err)
					}
				}

				perDay := map[string][]string{}
				for _, e := range editions(t, app) {
					at := e.ScheduledAt.In(loc)
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

func TestPlanDue_Outage(t *testing.T) {
	const spec = "0 7 * * *"
	// The test config's site.timezone (UTC), which plain specs run in.
	at := func(day, hour, min int) time.Time { return time.Date(2026, 5, day, hour, min, 0, 0, time.UTC) }
	ctx := context.Background()

	lastRun := func(t *testing.T, app *App) time.Time {
		t.Helper()
		got, err := app.Ledger.LastRun(ctx, "daily")
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	type step struct {
		now         time.Time
		catchUp     bool
		wantPlanned bool
		wantLast    time.Time
		wantAt      []time.Time // scheduled moments of all editions, newest first
	}
	tests := []struct {
		name  string
		last  time.Time // zero: a digest tidings never ran
		steps []step
	}{
		{"down a week, catch up once", at(1, 7, 0), []step{
			{at(8, 12, 0), true, true, at(8, 7, 0), []time.Time{at(8, 7, 0)}},
			{at(8, 12, 0), true, false, at(8, 7, 0), []time.Time{at(8, 7, 0)}},
			{at(9, 7, 0), true, true, at(9, 7, 0), []time.Time{at(9, 7, 0), at(8, 7, 0)}},
		}},
		{"down a week, no catch up", at(1, 7, 0), []step{
			{at(8, 12, 0), false, false, at(8, 7, 0), nil},
			{at(8, 12, 0), false, false, at(8, 7, 0), nil},
			{at(9, 6, 59), false, false, at(8, 7, 0), nil},
			// On time (the runner fires a moment late): not a catch-up.
			{at(9, 7, 0).Add(30 * time.Second), false, true, at(9, 7, 0), []time.Time{at(9, 7, 0)}},
		}},
		{"new digest starts at its next moment", time.Time{}, []step{
			{at(8, 12, 0), true, false, at(8, 12, 0), nil},
			{at(8, 12, 0), true, false, at(8, 12, 0), nil},
			{at(9, 7, 0), true, true, at(9, 7, 0), []time.Time{at(9, 7, 0)}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, d, clock := scheduleApp(t, spec)
			if !tt.last.IsZero() {
				if err := app.Ledger.SetLastRun(ctx, "daily", tt.last); err != nil {
					t.Fatal(err)
				}
			}
			for i, st := range tt.steps {
				*clock = st.now
				ok, err := app.planDue(ctx, d, st.catchUp)
				if err != nil || ok != st.wantPlanned {
					t.Fatalf("step %d at %v: planDue = %v, %v; want %v", i, st.now, ok, err, st.wantPlanned)
				}
				if got := lastRun(t, app); !got.Equal(st.wantLast) {
					t.Errorf("step %d: LastRun = %v, want %v", i, got, st.wantLast)
				}
				eds := editions(t, app)
				var got []time.Time
				for _, e := range eds {
					got = append(got, e.ScheduledAt.In(time.UTC))
				}
				if len(got) != len(st.wantAt) {
					t.Fatalf("step %d: editions at %v, want %v", i, got, st.wantAt)
				}
				for j := range got {
					if !got[j].Equal(st.wantAt[j]) {
						t.Errorf("step %d: editions at %v, want %v", i, got, st.wantAt)
					}
				}
			}
		})
	}
}
