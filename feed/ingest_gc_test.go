package feed

import (
	"runtime/debug"
	"testing"
)

// gcPercent reads the collector's target without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func TestRaiseGC_HoldsTheTargetWhileAnyLargeScanRuns(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	small := raiseGC(gcBoostFiles - 1)
	if got := gcPercent(); got != 100 {
		t.Fatalf("a small scan set the target to %d, want it left at 100", got)
	}
	small()

	first := raiseGC(10000)
	if got := gcPercent(); got != scanGCPercent {
		t.Fatalf("during a large scan the target is %d, want %d", got, scanGCPercent)
	}
	second := raiseGC(10000)
	first()
	first() // a second call changes nothing
	if got := gcPercent(); got != scanGCPercent {
		t.Fatalf("with one of two scans still running the target is %d, want %d", got, scanGCPercent)
	}
	second()
	if got := gcPercent(); got != 100 {
		t.Fatalf("after both scans the target is %d, want 100 back", got)
	}
}

func TestRaiseGC_KeepsWhatTheOperatorSet(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, set := range []int{-1, scanGCPercent, 800} {
		debug.SetGCPercent(set)
		restore := raiseGC(10000)
		if got := gcPercent(); got != set {
			t.Errorf("GOGC %d: during a scan the target is %d, want it kept", set, got)
		}
		restore()
		if got := gcPercent(); got != set {
			t.Errorf("GOGC %d: after a scan the target is %d", set, got)
		}
	}
}
