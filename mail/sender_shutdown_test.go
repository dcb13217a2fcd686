package mail

import (
	"context"
	"sync"
	"testing"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/mail/transport"
)

// countingTransport counts the Sends begun; onBegin, when set, runs at
// the start of each with its number and may hold it there.
type countingTransport struct {
	transport.Transport
	mu      sync.Mutex
	begun   int
	onBegin func(n int)
}

func (c *countingTransport) Send(ctx context.Context, m *transport.Message) error {
	c.mu.Lock()
	c.begun++
	n, f := c.begun, c.onBegin
	c.mu.Unlock()
	if f != nil {
		f(n)
	}
	return c.Transport.Send(ctx, m)
}

func (c *countingTransport) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.begun
}

// hookedArticles runs onByIDs before each ByIDs: the sender calls it, by
// way of Ledger.Edition, between claiming a batch and handing it out.
type hookedArticles struct {
	Articles
	onByIDs func()
}

func (h *hookedArticles) ByIDs(ctx context.Context, ids []string) ([]*feed.Article, error) {
	if h.onByIDs != nil {
		h.onByIDs()
	}
	return h.Articles.ByIDs(ctx, ids)
}

// checkReleased asserts that every delivery of e's edition not sent is
// queued again with the attempt its claim counted given back.
func (e *sendEnv) checkReleased(t *testing.T, sent int) {
	t.Helper()
	c := e.counts(t, e.ed.ID)
	if c[DeliverySent] != sent || c[DeliverySending] != 0 || c[DeliveryQueued] != len(e.subIDs)-sent {
		t.Fatalf("counts %v, want %d sent and the rest queued", c, sent)
	}
	for _, d := range mustDeliveries(t, e.ledger, e.ed.ID, DeliveryQueued) {
		if d.Attempts != 0 {
			t.Fatalf("a delivery never tried kept its attempt: %+v", d)
		}
	}
}

// Once the context of Run ends (SIGTERM), the sends in flight finish and
// no other begins: not the rest of a claimed batch, not a delivery handed
// to a worker as the context ended.
func TestSender_NoSendBeginsAfterShutdown(t *testing.T) {
	t.Run("while every worker sends", func(t *testing.T) {
		e := newSendEnv(t, 10)
		e.sender.Workers, e.sender.BatchSize = 2, 10
		ct := &countingTransport{Transport: e.sender.Transport}
		e.sender.Transport = ct
		gate, busy := make(chan struct{}), make(chan struct{})
		ct.onBegin = func(n int) {
			if n == 2 {
				close(busy)
			}
			if n <= 2 {
				<-gate
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		type outcome struct {
			rep SendReport
			err error
		}
		done := make(chan outcome, 1)
		go func() {
			rep, err := e.sender.SendDue(ctx)
			done <- outcome{rep, err}
		}()
		<-busy // both workers are in a send; the batch holds 8 more
		cancel()
		close(gate)
		out := <-done
		if out.err != nil || out.rep != (SendReport{Sent: 2}) || ct.count() != 2 {
			t.Fatalf("Run = %+v, %v after %d sends begun; want the 2 in flight and no other", out.rep, out.err, ct.count())
		}
		e.checkReleased(t, 2)
	})

	t.Run("while a batch is handed out", func(t *testing.T) {
		// The context ends just before the sender hands the first job to
		// an idle worker. Which of the two the sender sees first is up to
		// the Go runtime, so the moment is met many times over: each time,
		// nothing may be sent.
		e := newSendEnv(t, 3)
		e.sender.Workers, e.sender.BatchSize = 2, 10
		ct := &countingTransport{Transport: e.sender.Transport}
		e.sender.Transport = ct
		arts := &hookedArticles{Articles: e.ledger.Articles}
		e.ledger.Articles = arts
		for i := range 20 {
			ctx, cancel := context.WithCancel(context.Background())
			arts.onByIDs = cancel
			rep, err := e.sender.SendDue(ctx)
			cancel()
			if err != nil || rep != (SendReport{}) || ct.count() != 0 {
				t.Fatalf("round %d: Run = %+v, %v with %d sends begun; want none after the context ended", i, rep, err, ct.count())
			}
			e.checkReleased(t, 0)
		}
		arts.onByIDs = nil
		if rep := e.run(t); rep != (SendReport{Sent: 3}) {
			t.Fatalf("the run after: %+v", rep)
		}
		e.checkOneCopyEach(t)
	})
}
