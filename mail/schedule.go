package mail

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// ParseSchedule parses a cron spec ("0 7 * * *", "CRON_TZ=Europe/Berlin 0
// 7 * * *", "@daily"). A spec without CRON_TZ runs in loc, the zone of
// everything else written without one, rather than in the host's.
// robfig/cron panics on some malformed specs ("CRON_TZ=UTC" alone), so it
// runs under recover.
func ParseSchedule(spec string, loc *time.Location) (s cron.Schedule, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%q is not a cron spec", spec)
		}
	}()
	if tz, ok := specZone(spec); ok {
		if _, err := time.LoadLocation(tz); err != nil || tz == "" || tz == "Local" {
			return nil, fmt.Errorf("%q: %q is not a time zone (use an IANA name like Europe/Berlin)", spec, tz)
		}
	}
	full := spec
	if loc != nil && !strings.HasPrefix(spec, "CRON_TZ=") && !strings.HasPrefix(spec, "TZ=") {
		full = "CRON_TZ=" + loc.String() + " " + spec
	}
	s, err = cron.ParseStandard(full)
	if err != nil {
		return nil, fmt.Errorf("%q: %w (want minute hour day month weekday, e.g. \"0 7 * * *\")", spec, err)
	}
	if spec, ok := s.(*cron.SpecSchedule); ok {
		return zonedSchedule{spec}, nil
	}
	return s, nil
}

// specZone returns the zone a spec's CRON_TZ= or TZ= prefix names.
func specZone(spec string) (string, bool) {
	for _, p := range []string{"CRON_TZ=", "TZ="} {
		if rest, ok := strings.CutPrefix(spec, p); ok {
			tz, _, _ := strings.Cut(rest, " ")
			return tz, true
		}
	}
	return "", false
}

// zonedSchedule corrects two things robfig/cron's SpecSchedule does with
// time zones. Its Next reads a spec without CRON_TZ in the zone of the time
// it is given, and the ledger gives last runs back in UTC: so moments are
// always found in the spec's own zone. And a wall-clock time that daylight
// saving time skips (02:30 in Berlin on the last Sunday of March) has no
// moment at all; here it runs once, at the first instant after the gap. A
// doubled wall-clock time is left to dueMoment.
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
