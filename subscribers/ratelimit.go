package subscribers

import (
	"math"
	"sync"
	"time"
)

// limiter allows n events per key in a sliding window. It is small and
// clock-injectable (x/time/rate reads the wall clock), and forgets keys
// whose window has passed, so memory stays bounded by recent traffic.
type limiter struct {
	n      int
	window time.Duration
	now    func() time.Time

	mu    sync.Mutex
	hits  map[string][]time.Time
	swept time.Time
}

func newLimiter(n int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{n: n, window: window, now: now, hits: map[string][]time.Time{}}
}

// allow records an event for key and returns 0, or returns the seconds to
// wait (for Retry-After) when key is over its limit; then nothing is
// recorded.
func (l *limiter) allow(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.swept) > l.window {
		for k, ts := range l.hits {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= l.window {
				delete(l.hits, k)
			}
		}
		l.swept = now
	}
	ts := l.hits[key]
	for len(ts) > 0 && now.Sub(ts[0]) >= l.window {
		ts = ts[1:]
	}
	if len(ts) >= l.n {
		l.hits[key] = ts
		return max(1, int(math.Ceil(ts[0].Add(l.window).Sub(now).Seconds())))
	}
	l.hits[key] = append(ts, now)
	return 0
}
