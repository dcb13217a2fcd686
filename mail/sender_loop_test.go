package mail

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestSenderLoop_SendsWhenWokenAndStops(t *testing.T) {
	e := newSendEnv(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	wake := make(chan struct{}, 1)
	var mu sync.Mutex
	var sent int
	ran := make(chan struct{}, 16)
	e.sender.Observe = func(rep SendReport, _ time.Duration, err error) {
		if err != nil {
			t.Errorf("run failed: %v", err)
		}
		mu.Lock()
		sent += rep.Sent
		mu.Unlock()
		ran <- struct{}{}
	}
	done := make(chan error, 1)
	go func() { done <- e.sender.Run(ctx, wake) }()
	<-ran // the first run, at once
	e.checkOneCopyEach(t)

	// A second edition, planned while the loop waits, goes when woken.
	e.addArticle(t, "a2", ledgerStart.Add(-time.Minute))
	ed2 := e.plan(t, dailyDigest(), ledgerStart.Add(time.Hour))
	wake <- struct{}{}
	<-ran
	if c := e.counts(t, ed2.ID); c[DeliverySent] != 4 {
		t.Errorf("second edition after wake: %v, want 4 sent", c)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Loop = %v, want nil when ctx ends", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Loop did not return after cancel")
	}
	mu.Lock()
	defer mu.Unlock()
	if sent != 8 {
		t.Errorf("sent %d in all, want 8", sent)
	}
}

// A lasting fault (here the database closed under the sender) is retried
// after pauses that double up to a minute, not every few seconds.
func TestSenderLoop_BacksOffWhileRunsFail(t *testing.T) {
	e := newSendEnv(t, 1)
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var waits []time.Duration
	e.sender.after = func(d time.Duration) <-chan time.Time {
		waits = append(waits, d)
		if len(waits) == 9 {
			cancel()
		}
		c := make(chan time.Time, 1)
		c <- time.Time{}
		return c
	}
	failures := 0
	e.sender.Observe = func(_ SendReport, _ time.Duration, err error) {
		if err != nil {
			failures++
		}
	}
	if err := e.sender.Run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}
	if len(waits) != len(want) || failures != len(want) {
		t.Fatalf("waits %v after %d failures, want %d of each", waits, failures, len(want))
	}
	for i, w := range want {
		if waits[i] != w*time.Second {
			t.Errorf("pause %d = %v, want %v", i, waits[i], w*time.Second)
		}
	}
}
