package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tidings/tidings/mail"
)

// parseSchedule parses a cron spec ("0 7 * * *", "CRON_TZ=Europe/Berlin 0
// 7 * * *", "@daily"). robfig/cron panics on some malformed specs
// ("CRON_TZ=UTC" alone), so it runs under recover.
func parseSchedule(spec string) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%q is not a cron spec", spec)
		}
	}()
	s, err = cron.ParseStandard(spec)
	if err != nil {
		return nil, fmt.Errorf("%q: %w (want minute hour day month weekday, e.g. \"0 7 * * *\")", spec, err)
	}
	if spec, ok := s.(*cron.SpecSchedule); ok {
		return zonedSchedule{spec}, nil
	}
	return s, nil
}

// zonedSchedule corrects two things robfig/cron's SpecSchedule does with
// time zones. Its Next reads a spec without CRON_TZ in the zone of the time
// it is given, and the ledger gives last runs back in UTC, while cron.New's
// runner fires in time.Local: so moments are always found in the spec's
// own zone (time.Local without CRON_TZ). And a wall-clock time that
// daylight saving time skips (02:30 in Berlin on the last Sunday of March)
// has no moment at all; here it runs once, at the first instant after the
// gap. A doubled wall-clock time is left to dueMoment.
type zonedSchedule struct{ spec *cron.SpecSchedule }

func (z zonedSchedule) Next(t time.Time) time.Time {
	t = t.In(z.spec.Location)
	next := z.spec.Next(t)
	for from := t; !next.IsZero(); {
		_, end := from.ZoneBounds()
		if end.IsZero() || !end.Before(next) {
			break
		}
		_, before := end.Add(-time.Nanosecond).Zone()
		_, after := end.Zone()
		if after > before {
			// The clock jumps from end's wall time in the old offset to
			// end: is there a moment in between by the old clock?
			old := *z.spec
			old.Location = time.FixedZone("", before)
			if m := old.Next(end.Add(-time.Second)); !m.IsZero() && m.Before(end.Add(time.Duration(after-before)*time.Second)) {
				return end
			}
		}
		from = end
	}
	return next
}

// schedule parses a digest's spec; one without CRON_TZ runs in
// site.timezone, the zone of everything else written without one, rather
// than in the host's.
func (a *App) schedule(spec string) (cron.Schedule, error) {
	if !strings.HasPrefix(spec, "CRON_TZ=") && !strings.HasPrefix(spec, "TZ=") {
		spec = "CRON_TZ=" + a.Config.Location().String() + " " + spec
	}
	return parseSchedule(spec)
}

// maxSteps bounds the walk through scheduled moments since the last run.
const maxSteps = 1 << 20

// dueMoment returns the latest scheduled moment of s after last and not
// after now, or the zero time when none is. Runs missed while tidings was
// down collapse into this one moment: a digest catches up once, never once
// per missed run. A moment with the same wall-clock time as the last run
// (a daylight saving time change repeating an hour) is not due again.
func dueMoment(s cron.Schedule, last, now time.Time) time.Time {
	var due time.Time
	t := last
	for range maxSteps {
		next := s.Next(t)
		if next.IsZero() || next.After(now) {
			break
		}
		due, t = next, next
	}
	if !due.IsZero() && !last.IsZero() && wallClock(due) == wallClock(last.In(due.Location())) {
		return time.Time{}
	}
	return due
}

// wallClock is a moment as a clock on the wall shows it, in the zone its
// schedule runs in.
func wallClock(t time.Time) string { return t.Format("2006-01-02 15:04") }

// planDue plans the edition of d if one is due, recording the run. The
// first time tidings sees a digest it records now and plans nothing: a new
// digest starts at its next scheduled moment, not with a flood. It reports
// whether an edition was made.
func (a *App) planDue(ctx context.Context, d mail.Digest, catchUp bool) (bool, error) {
	s, err := a.schedule(d.Schedule)
	if err != nil {
		return false, fmt.Errorf("digest %s: schedule %w", d.Name, err)
	}
	now := a.Now()
	last, err := a.Ledger.LastRun(ctx, d.Name)
	if err != nil {
		return false, err
	}
	if last.IsZero() {
		return false, a.Ledger.SetLastRun(ctx, d.Name, now)
	}
	due := dueMoment(s, last, now)
	if due.IsZero() {
		return false, nil
	}
	if !catchUp && now.Sub(due) > time.Minute {
		// Missed while down and catch_up is off: skip to the next moment.
		return false, a.Ledger.SetLastRun(ctx, d.Name, due)
	}
	ed, _, err := a.Ledger.Plan(ctx, d, due)
	if err != nil {
		return false, err
	}
	if err := a.Ledger.SetLastRun(ctx, d.Name, due); err != nil {
		return false, err
	}
	return ed != nil, nil
}

// catchUp reports whether a digest runs once at start after a missed
// moment (catch_up, true unless the config says otherwise).
func (a *App) catchUp(name string) bool {
	for _, d := range a.Config.Digests {
		if d.Name == name {
			return d.CatchUp == nil || *d.CatchUp
		}
	}
	return true
}

// planDigests plans every due digest; errors are logged and the others go
// on. It returns how many editions were made, and the first error.
func (a *App) planDigests(ctx context.Context) (int, error) {
	var planned int
	var first error
	for _, name := range sortedKeys(a.Digests) {
		ok, err := a.planDue(ctx, a.Digests[name], a.catchUp(name))
		if err != nil {
			a.Logger.Error("digest not planned", "component", "schedule", "digest", name, "error", err)
			if first == nil {
				first = err
			}
		}
		if ok {
			planned++
		}
	}
	return planned, first
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
