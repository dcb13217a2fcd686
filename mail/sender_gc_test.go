package mail

import (
	"context"
	"runtime/debug"
	"sync"
	"testing"

	"github.com/tidings/tidings/internal/gcboost"
	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// gcComposer notes the collector's target at each message it composes.
type gcComposer struct {
	testComposer
	mu   sync.Mutex
	seen []int
}

func (c *gcComposer) Compose(ctx context.Context, e *Edition, s *subscribers.Subscriber) (*transport.Message, error) {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	c.mu.Lock()
	c.seen = append(c.seen, p)
	c.mu.Unlock()
	return c.testComposer.Compose(ctx, e, s)
}

func TestSender_LargePassRaisesTheGCTargetUntilItEnds(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct {
		name    string
		n       int
		boosted bool // after the first full claim of 3
	}{{"a claim comes back full", 10, true}, {"no claim is full", 2, false}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSendEnv(t, tc.n)
			c := &gcComposer{}
			e.sender.Composer = c
			if rep := e.run(t); rep.Sent != tc.n {
				t.Fatalf("report %+v, want %d sent", rep, tc.n)
			}
			if got := debug.SetGCPercent(100); got != 100 {
				t.Fatalf("after the pass the target is %d, want 100 back", got)
			}
			for i, p := range c.seen {
				if want := map[bool]int{true: gcboost.Percent, false: 100}[tc.boosted]; p != want {
					t.Fatalf("message %d was composed with the target at %d, want %d (all: %v)", i, p, want, c.seen)
				}
			}
		})
	}
}
