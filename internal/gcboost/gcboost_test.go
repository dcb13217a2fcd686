package gcboost

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

func TestRaise_HoldsTheTargetWhileAnyBoostRuns(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))

	first := Raise()
	if got := gcPercent(); got != Percent {
		t.Fatalf("during a boost the target is %d, want %d", got, Percent)
	}
	second := Raise()
	first()
	first() // a second call changes nothing
	if got := gcPercent(); got != Percent {
		t.Fatalf("with one of two boosts still held the target is %d, want %d", got, Percent)
	}
	second()
	if got := gcPercent(); got != 100 {
		t.Fatalf("after both boosts the target is %d, want 100 back", got)
	}
}

func TestRaise_KeepsWhatTheOperatorSet(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, set := range []int{-1, Percent, 800} {
		debug.SetGCPercent(set)
		restore := Raise()
		if got := gcPercent(); got != set {
			t.Errorf("GOGC %d: during a boost the target is %d, want it kept", set, got)
		}
		restore()
		if got := gcPercent(); got != set {
			t.Errorf("GOGC %d: after a boost the target is %d", set, got)
		}
	}
}
