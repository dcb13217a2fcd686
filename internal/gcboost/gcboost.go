// Package gcboost raises the garbage collector's target while a large
// piece of work runs whose garbage dies young over a small live heap: a
// first scan of many articles, a send of many messages.
package gcboost

import (
	"runtime/debug"
	"sync"
)

// Percent is the collector's target while a boost holds. Both users make
// tens of kilobytes of garbage per item (an article parsed, a message
// composed and written) over a live heap of a few megabytes: at the
// default 100 the collector runs every few megabytes and takes a sixth of
// a first scan's CPU and an eighth of a send's. At 400 it runs a quarter
// as often, for some 10 to 40 MB more memory while the work lasts
// (measured; see the README's performance table). 800 saves no more.
const Percent = 400

// boost is process state because the target it changes is: boosts may
// overlap (a scan during a send in `tidings serve`), and the last to end
// puts back what was set before the first began.
var boost struct {
	mu   sync.Mutex
	n    int // boosts holding the target raised
	prev int // the percent before the first of them
}

// Raise raises the collector's target to Percent, unless it is already
// at least as high (GOGC=off or a larger GOGC, which the operator chose),
// and returns what puts it back; calling that more than once changes
// nothing.
func Raise() (restore func()) {
	boost.mu.Lock()
	defer boost.mu.Unlock()
	if boost.n == 0 {
		prev := debug.SetGCPercent(Percent)
		if prev < 0 || prev >= Percent {
			debug.SetGCPercent(prev)
			return func() {}
		}
		boost.prev = prev
	}
	boost.n++
	var once sync.Once
	return func() {
		once.Do(func() {
			boost.mu.Lock()
			defer boost.mu.Unlock()
			boost.n--
			if boost.n == 0 {
				debug.SetGCPercent(boost.prev)
			}
		})
	}
}
