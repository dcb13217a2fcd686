package feed

import (
	"runtime/debug"
	"sync"
)

// scanGCPercent is the garbage collector's target while a large scan
// parses. Parsing an article makes some forty times its size in garbage
// that is dead by the next one, over a live heap of a few megabytes: at
// the default 100 the collector runs every few megabytes and takes about
// a sixth of a first scan's CPU. At 400 it runs a quarter as often, for
// some 40 MB more memory while the scan lasts (measured on 10,000 files;
// see the README's performance table).
const scanGCPercent = 400

// gcBoostFiles is how many files a scan must parse to raise the target:
// a poll that finds a few changed files is over before it would matter.
const gcBoostFiles = 256

// gcBoost is process state because the target it changes is: scans may
// run at once, and the last to finish puts back what was set before the
// first began.
var gcBoost struct {
	mu   sync.Mutex
	n    int // scans holding the target raised
	prev int // the percent before the first of them
}

// raiseGC raises the collector's target for a scan of files files, unless
// it is already at least as high (GOGC=off or a larger GOGC, which the
// operator chose), and returns what puts it back.
func raiseGC(files int) (restore func()) {
	if files < gcBoostFiles {
		return func() {}
	}
	gcBoost.mu.Lock()
	defer gcBoost.mu.Unlock()
	if gcBoost.n == 0 {
		prev := debug.SetGCPercent(scanGCPercent)
		if prev < 0 || prev >= scanGCPercent {
			debug.SetGCPercent(prev)
			return func() {}
		}
		gcBoost.prev = prev
	}
	gcBoost.n++
	var once sync.Once
	return func() {
		once.Do(func() {
			gcBoost.mu.Lock()
			defer gcBoost.mu.Unlock()
			gcBoost.n--
			if gcBoost.n == 0 {
				debug.SetGCPercent(gcBoost.prev)
			}
		})
	}
}
