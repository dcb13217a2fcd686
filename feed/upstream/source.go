package upstream

import (
	"regexp"
	"time"
)

// DefaultInterval is how often a source is fetched when its [[sources]]
// table names no interval.
const DefaultInterval = 15 * time.Minute

// defaultBackfill is how far back an item may be dated on a source's first
// fetch and still count as new.
const defaultBackfill = 7 * 24 * time.Hour

// Source is one upstream feed, as configured in [[sources]].
type Source struct {
	Name         string
	URL          string
	Interval     time.Duration // how often the Poller fetches it; 0: DefaultInterval. Fetch itself does not wait
	Include      *regexp.Regexp
	Exclude      *regexp.Regexp
	Tags         []string
	Backfill     time.Duration // 0: 7 days
	AllowPrivate bool
}

// Every is how often the source is fetched: its Interval, or
// DefaultInterval when it names none.
func (s Source) Every() time.Duration {
	if s.Interval <= 0 {
		return DefaultInterval
	}
	return s.Interval
}

func (s Source) backfill() time.Duration {
	if s.Backfill <= 0 {
		return defaultBackfill
	}
	return s.Backfill
}
