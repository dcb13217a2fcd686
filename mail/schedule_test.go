package mail

import (
	"fmt"
	"strings"
	"testing"
	"time"
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
	// Plain specs with no zone given run in time.Local, whatever zone Next
	// is asked in.
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
			s, err := ParseSchedule(tt.spec, nil)
			if err != nil {
				t.Fatalf("ParseSchedule(%q) = %v", tt.spec, err)
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
						t.Fatalf("ParseSchedule(%q) panicked: %v", spec, r)
					}
				}()
				s, err = ParseSchedule(spec, nil)
			}()
			if err == nil {
				t.Fatalf("ParseSchedule(%q) = %v, nil; want an error", spec, s)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", spec)) {
				t.Errorf("error %q does not quote the spec %q", err, spec)
			}
		})
	}
}

func TestDueMoment(t *testing.T) {
	s, err := ParseSchedule("0 7 * * *", nil)
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
