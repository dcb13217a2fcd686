package admin

import (
	"testing"
	"time"
)

func TestMemo(t *testing.T) {
	var m memo
	calls := 0
	count := func() (int, error) { calls++; return calls, nil }
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		fp   string
		at   time.Duration
		want int
	}{
		{"done", 0, 1},
		{"done", 5 * time.Second, 1},     // kept
		{"sending", 6 * time.Second, 2},  // the fingerprint changed
		{"sending", 40 * time.Second, 3}, // past the ttl
		{"sending", 41 * time.Second, 3},
		{"sending", 30 * time.Second, 4}, // the clock went back: not trusted
	} {
		got, err := remember(&m, "x", tt.fp, t0.Add(tt.at), 30*time.Second, count)
		if err != nil || got != tt.want {
			t.Errorf("at %s fp %s: %d, want %d", tt.at, tt.fp, got, tt.want)
		}
	}
}
