package mail

import (
	"fmt"
	"strings"
	"time"
)

// LocalTime is a digest's deliver_at: the wall-clock time at which each
// subscriber receives an edition, in the subscriber's own time zone. The
// zero LocalTime (Set false) means at once, when the edition is planned.
type LocalTime struct {
	Set          bool
	Hour, Minute int
}

// ParseDeliverAt reads deliver_at: "local HH:MM" on a 24-hour clock
// ("local 07:00"), or "" for none.
func ParseDeliverAt(s string) (LocalTime, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return LocalTime{}, nil
	}
	bad := fmt.Errorf("%q is not \"local HH:MM\" (a time of day on a 24-hour clock, like \"local 07:00\")", s)
	clock, ok := strings.CutPrefix(s, "local ")
	clock = strings.TrimSpace(clock)
	if !ok || len(clock) != 5 || clock[2] != ':' {
		return LocalTime{}, bad
	}
	t, err := time.Parse("15:04", clock)
	if err != nil {
		return LocalTime{}, bad
	}
	return LocalTime{Set: true, Hour: t.Hour(), Minute: t.Minute()}, nil
}

// String gives t as deliver_at writes it.
func (t LocalTime) String() string {
	if !t.Set {
		return ""
	}
	return fmt.Sprintf("local %02d:%02d", t.Hour, t.Minute)
}

// Next returns the first instant at or after from at which the clock in
// loc reads t. A day on which that time does not exist (the hour daylight
// saving time skips) has it at the first instant after the gap; a day on
// which it happens twice has it at the first.
func (t LocalTime) Next(from time.Time, loc *time.Location) time.Time {
	f := from.In(loc)
	for i := range 3 { // today, tomorrow, or, across a gap, the day after
		if at := wallTime(f.Year(), f.Month(), f.Day()+i, t.Hour, t.Minute, loc); !at.Before(from) {
			return at
		}
	}
	panic("unreachable: a wall time recurs within three days")
}

// wallTime is the first instant of day y-m-d at which the clock in loc
// reads h:mi, or the end of the gap that skips it. time.Date leaves open
// which of two instants it returns for such times, so the offsets in
// effect around the day are tried one by one.
func wallTime(y int, m time.Month, d, h, mi int, loc *time.Location) time.Time {
	want := time.Date(y, m, d, h, mi, 0, 0, time.UTC) // the wall time, read as if in UTC
	t := time.Date(y, m, d, h, mi, 0, 0, loc)
	start, end := t.ZoneBounds()
	around := []time.Time{t}
	if !start.IsZero() {
		around = append(around, start.Add(-time.Nanosecond))
	}
	if !end.IsZero() {
		around = append(around, end)
	}
	var first time.Time
	for _, a := range around {
		_, off := a.Zone()
		at := want.Add(-time.Duration(off) * time.Second).In(loc)
		if wallOf(at).Equal(want) && (first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	if !first.IsZero() {
		return first
	}
	// In a gap: t was placed past it or before it; the gap ends at the
	// zone change next to t on that side.
	if wallOf(t).After(want) {
		return start
	}
	return end
}

// wallOf is what the clock reads at t, as if in UTC.
func wallOf(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}
