package mail

import (
	"context"

	"github.com/tidings/tidings/mail/transport"
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

// A 35-second outage in the middle of an edition, with a one-second retry
// backoff: every delivery is sent once the server is back, none failed
// for want of attempts (before the breaker, such an outage failed most of
// an edition for good).
func TestSenderRun_OutageLosesNothing(t *testing.T) {
	const n = 2000
	e := newSendEnv(t, n)
	e.sender.Backoff, e.sender.MaxAttempts, e.sender.BatchSize, e.sender.Workers = time.Second, 5, 100, 4
	outage := 35 * time.Second
	var mu sync.Mutex
	var sends int
	stopped, down := false, time.Duration(0)
	// The server goes away when a quarter of the edition is sent, in the
	// middle of a pass, and comes back after 35 seconds of the sender's
	// pauses.
	e.sender.Transport = &hookTransport{Transport: e.srv.transport(t, 4), before: func() {
		mu.Lock()
		defer mu.Unlock()
		if sends++; sends == n/4 {
			e.srv.stop()
			stopped = true
		}
	}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.sender.after = func(d time.Duration) <-chan time.Time {
		mu.Lock()
		if stopped && down < outage {
			if down += d; down >= outage {
				e.srv.start()
			}
		}
		mu.Unlock()
		e.clock.Advance(d)
		c := make(chan time.Time, 1)
		c <- e.clock.Now()
		return c
	}
	e.sender.Observe = func(SendReport, time.Duration, error) {
		if c := e.counts(t, e.ed.ID); c[DeliverySent]+c[DeliveryFailed] == n {
			cancel()
		}
	}
	done := make(chan error, 1)
	go func() { done <- e.sender.Run(ctx, nil) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(90 * time.Second):
		cancel()
		<-done
		t.Fatalf("edition not finished: %v", e.counts(t, e.ed.ID))
	}
	mu.Lock()
	defer mu.Unlock()
	if !stopped || down < outage {
		t.Fatalf("the outage did not happen (stopped %v, down %v)", stopped, down)
	}
	c := e.counts(t, e.ed.ID)
	if c[DeliverySent] != n || c[DeliveryFailed] != 0 {
		t.Fatalf("after a %v outage: %v, want all %d sent and none failed", outage, c, n)
	}
	for i, id := range e.subIDs {
		if got := e.srv.copies(email(i)); len(got) == 0 || len(got) > 2 {
			t.Fatalf("%s received %d copies", email(i), len(got))
		}
		if d := e.delivery(t, e.ed.ID, id); d.Attempts > 2 {
			t.Errorf("%s: %d attempts spent on an outage", email(i), d.Attempts)
		}
	}
}

// hookTransport calls before ahead of each Send.
type hookTransport struct {
	transport.Transport
	before func()
}

func (h *hookTransport) Send(ctx context.Context, m *transport.Message) error {
	h.before()
	return h.Transport.Send(ctx, m)
}
