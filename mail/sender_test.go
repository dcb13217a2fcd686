package mail

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

const testBackoff = time.Minute

// sendEnv is a ledger with one planned edition for n subscribers and a
// sender to the fault server.
type sendEnv struct {
	*ledgerEnv
	srv    *faultServer
	sender *Sender
	ed     *Edition
	subIDs []int64
}

func newSendEnv(t *testing.T, n int) *sendEnv {
	t.Helper()
	e := &sendEnv{ledgerEnv: newLedgerEnv(t), srv: newFaultServer(t)}
	e.subIDs = e.addSubscribers(t, n)
	e.addArticle(t, "a1", ledgerStart.Add(-time.Hour))
	e.ed = e.plan(t, dailyDigest(), ledgerStart)
	e.sender = &Sender{Ledger: e.ledger, Transport: e.srv.transport(t, 2), Composer: &testComposer{},
		Workers: 2, MaxAttempts: 5, Backoff: testBackoff, BatchSize: 3}
	return e
}

func (e *sendEnv) run(t *testing.T) SendReport {
	t.Helper()
	rep, err := e.sender.SendDue(context.Background())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

func email(i int) string { return fmt.Sprintf("sub%d@s%d.example", i+1, i+1) }

// checkOneCopyEach asserts every subscriber got exactly one message, with
// the Message-ID of its delivery, and that every delivery is sent.
func (e *sendEnv) checkOneCopyEach(t *testing.T) {
	t.Helper()
	for i, id := range e.subIDs {
		d := e.delivery(t, e.ed.ID, id)
		got := e.srv.copies(email(i))
		if len(got) != 1 || got[0] != d.MessageID || d.State != DeliverySent || d.SentAt == nil {
			t.Errorf("%s received %v; delivery %s with %s", email(i), got, d.State, d.MessageID)
		}
	}
	ed, err := e.ledger.Edition(context.Background(), e.ed.ID)
	if err != nil || ed.State != EditionDone {
		t.Errorf("edition state %v, %v; want done", ed, err)
	}
}

func TestSender_SendsEachDeliveryOnce(t *testing.T) {
	e := newSendEnv(t, 10)
	if rep := e.run(t); rep != (SendReport{Sent: 10}) {
		t.Fatalf("report %+v, want 10 sent", rep)
	}
	e.checkOneCopyEach(t)
	if rep := e.run(t); rep != (SendReport{}) {
		t.Fatalf("second run %+v, want nothing", rep)
	}
	if n, err := e.ledger.QueueDepth(context.Background()); err != nil || n != 0 || e.srv.count() != 10 {
		t.Fatalf("queue depth %d (%v), %d messages", n, err, e.srv.count())
	}
}

func TestSender_UnsubscribedAfterQueueingIsSkipped(t *testing.T) {
	e := newSendEnv(t, 3)
	if _, err := e.subs.Unsubscribe(context.Background(), e.subIDs[1], linkMetaForTest); err != nil {
		t.Fatal(err)
	}
	if err := e.subs.Forget(context.Background(), email(2), subscribers.Meta{Route: "cli"}); err != nil {
		t.Fatal(err)
	}
	if rep := e.run(t); rep != (SendReport{Sent: 1, Skipped: 1}) {
		t.Fatalf("report %+v, want 1 sent, 1 skipped (the erased one's row is gone)", rep)
	}
	if got := e.srv.copies(email(1)); len(got) != 0 {
		t.Fatalf("unsubscribed address received %v", got)
	}
	if d := e.delivery(t, e.ed.ID, e.subIDs[1]); d.State != DeliverySkipped {
		t.Fatalf("delivery %s, want skipped", d.State)
	}
	if c := e.counts(t, e.ed.ID); c[DeliverySent] != 1 || c[DeliverySkipped] != 1 {
		t.Fatalf("counts %v", c)
	}
	if ed, err := e.ledger.Edition(context.Background(), e.ed.ID); err != nil || ed.State != EditionDone {
		t.Fatalf("edition %+v, %v; want done", ed, err)
	}
}

func TestSender_TemporaryFailuresAreRetried(t *testing.T) {
	for _, stage := range []string{"MAIL", "RCPT", "DATA"} {
		for _, code := range []int{421, 451, 452} {
			t.Run(fmt.Sprintf("%s %d", stage, code), func(t *testing.T) {
				e := newSendEnv(t, 3)
				rcpt := email(1)
				if stage == "MAIL" {
					rcpt = "" // MAIL comes before the recipient is known
				}
				e.srv.inject(fault{stage: stage, rcpt: rcpt, code: code, times: 1})
				if rep := e.run(t); rep != (SendReport{Sent: 2, Retried: 1}) {
					t.Fatalf("report %+v, want 2 sent, 1 retried", rep)
				}
				var deferred []Delivery
				for _, id := range e.subIDs {
					if d := e.delivery(t, e.ed.ID, id); d.State == DeliveryQueued {
						deferred = append(deferred, d)
					}
				}
				if len(deferred) != 1 {
					t.Fatalf("%d deliveries queued again, want 1", len(deferred))
				}
				d := deferred[0]
				if d.Attempts != 1 || d.LastCode != code || !strings.Contains(d.LastReply, "injected") ||
					!d.NextAttemptAt.Equal(ledgerStart.Add(testBackoff)) {
					t.Fatalf("deferred delivery %+v", d)
				}
				if rep := e.run(t); rep != (SendReport{}) {
					t.Fatalf("run before the backoff: %+v", rep)
				}
				e.clock.Advance(testBackoff)
				if rep := e.run(t); rep != (SendReport{Sent: 1}) {
					t.Fatalf("run after the backoff: %+v", rep)
				}
				e.checkOneCopyEach(t)
				if d := e.delivery(t, e.ed.ID, d.SubscriberID); d.Attempts != 2 {
					t.Fatalf("attempts %d, want 2", d.Attempts)
				}
			})
		}
	}
}

func TestSender_PermanentFailuresBounce(t *testing.T) {
	for _, f := range []fault{{stage: "RCPT", code: 550}, {stage: "DATA", code: 554}} {
		t.Run(fmt.Sprintf("%s %d", f.stage, f.code), func(t *testing.T) {
			e := newSendEnv(t, 3)
			ctx := context.Background()
			f.rcpt, f.times = email(0), 100
			e.srv.inject(f)
			if rep := e.run(t); rep != (SendReport{Sent: 2, Failed: 1}) {
				t.Fatalf("report %+v, want 2 sent, 1 failed", rep)
			}
			fails, err := e.ledger.Failures(ctx, e.ed.ID)
			if err != nil || len(fails) != 1 || fails[0].SubscriberID != e.subIDs[0] || fails[0].LastCode != f.code ||
				!strings.Contains(fails[0].LastReply, "injected") || fails[0].Attempts != 1 {
				t.Fatalf("failures %+v, %v", fails, err)
			}
			sub, err := e.subs.Get(ctx, e.subIDs[0])
			if err != nil || sub.Status != subscribers.StatusBounced || sub.BounceCount != 1 {
				t.Fatalf("subscriber after a %d: %+v, %v; want bounced once", f.code, sub, err)
			}
			if ed, err := e.ledger.Edition(ctx, e.ed.ID); err != nil || ed.State != EditionDone {
				t.Fatalf("edition %+v, %v; want done", ed, err)
			}

			e.clock.Advance(24 * time.Hour)
			if rep := e.run(t); rep != (SendReport{}) {
				t.Fatalf("a permanent failure was tried again: %+v", rep)
			}
			// The operator retries: the bounced address is skipped, not mailed.
			if n, err := e.ledger.Retry(ctx, e.ed.ID); n != 1 || err != nil {
				t.Fatalf("Retry = %d, %v", n, err)
			}
			if rep := e.run(t); rep != (SendReport{Skipped: 1}) {
				t.Fatalf("run after retry: %+v", rep)
			}
			if got := e.srv.copies(email(0)); len(got) != 0 {
				t.Fatalf("bounced address received %v", got)
			}
		})
	}
}

func TestSender_DroppedConnectionIsNotSent(t *testing.T) {
	e := newSendEnv(t, 3)
	// Twice: the transport redials once by itself when a connection
	// breaks before the server could have accepted the message.
	e.srv.inject(fault{stage: "DROP", rcpt: email(1), times: 2})
	if rep := e.run(t); rep != (SendReport{Sent: 2, Retried: 1}) {
		t.Fatalf("report %+v, want 2 sent, 1 retried", rep)
	}
	d := e.delivery(t, e.ed.ID, e.subIDs[1])
	if d.State != DeliveryQueued || d.Attempts != 1 || d.LastReply == "" || len(e.srv.copies(email(1))) != 0 {
		t.Fatalf("after a dropped connection: %+v, copies %v", d, e.srv.copies(email(1)))
	}
	e.srv.clearFaults()
	e.clock.Advance(testBackoff)
	if rep := e.run(t); rep != (SendReport{Sent: 1}) {
		t.Fatalf("retry: %+v", rep)
	}
	e.checkOneCopyEach(t)
}

// An outage spends no attempt: while the server refuses connections the
// sender stops and gives back what it claimed, however many rounds it
// tries, and every delivery goes once the server is back.
func TestSender_ServerDown(t *testing.T) {
	e := newSendEnv(t, 4)
	ctx := context.Background()
	e.sender.MaxAttempts = 2
	e.srv.stop()
	for round := 1; round <= 5; round++ {
		rep, err := e.sender.SendDue(ctx)
		if !errors.Is(err, transport.ErrUnreachable) || rep.Sent+rep.Failed+rep.Retried != 0 || rep.Deferred == 0 {
			t.Fatalf("round %d: %+v, %v; want deliveries deferred and ErrUnreachable", round, rep, err)
		}
		for _, id := range e.subIDs {
			if d := e.delivery(t, e.ed.ID, id); d.State != DeliveryQueued || d.Attempts != 0 {
				t.Fatalf("round %d: delivery %+v; want queued with no attempt spent", round, d)
			}
		}
		if n, err := e.ledger.QueueDepth(ctx); err != nil || n != 4 {
			t.Fatalf("queue depth %d, %v; want 4", n, err)
		}
		e.clock.Advance(time.Second)
	}
	e.srv.start()
	if rep := e.run(t); rep != (SendReport{Sent: 4}) {
		t.Fatalf("server back: %+v", rep)
	}
	e.checkOneCopyEach(t)
}

func TestSender_OutOfAttemptsFailsWithoutBounce(t *testing.T) {
	e := newSendEnv(t, 2)
	ctx := context.Background()
	e.sender.MaxAttempts = 2
	e.srv.inject(fault{stage: "RCPT", rcpt: email(0), code: 451, times: 2})
	if rep := e.run(t); rep != (SendReport{Sent: 1, Retried: 1}) {
		t.Fatalf("first attempt: %+v, want 1 sent, 1 retried", rep)
	}
	e.clock.Advance(testBackoff)
	if rep := e.run(t); rep != (SendReport{Failed: 1}) {
		t.Fatalf("second attempt: %+v, want 1 failed", rep)
	}
	if sub, err := e.subs.Get(ctx, e.subIDs[0]); err != nil || sub.Status != subscribers.StatusConfirmed || sub.BounceCount != 0 {
		t.Fatalf("a temporary failure counted as a bounce: %+v, %v", sub, err)
	}
	if n, err := e.ledger.Retry(ctx, e.ed.ID); n != 1 || err != nil {
		t.Fatalf("Retry = %d, %v", n, err)
	}
	if d := e.delivery(t, e.ed.ID, e.subIDs[0]); d.State != DeliveryQueued || d.Attempts != 0 {
		t.Fatalf("after Retry: %+v", d)
	}
	// Two 451s in a row paused the domain for twice the backoff.
	e.clock.Advance(2 * testBackoff)
	if rep := e.run(t); rep != (SendReport{Sent: 1}) {
		t.Fatalf("after Retry: %+v", rep)
	}
	e.checkOneCopyEach(t)
}

func TestSender_ResumeAfterCrash(t *testing.T) {
	e := newSendEnv(t, 5)
	ctx := context.Background()
	// A sender on another machine claimed two deliveries and died; one of
	// its messages had reached the server already.
	dead := owner{id: "elsewhere-1", host: "another-host", pid: 4242}
	if err := e.ledger.register(ctx, dead); err != nil {
		t.Fatal(err)
	}
	claimed, err := e.ledger.claim(ctx, dead, 2, 10*time.Minute, 10*time.Second, true)
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	sub, err := e.subs.Get(ctx, claimed[0].SubscriberID)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := (&testComposer{}).Compose(ctx, e.ed, sub)
	if err != nil {
		t.Fatal(err)
	}
	msg.To.Address, msg.MessageID = claimed[0].Email, claimed[0].MessageID
	if err := e.sender.Transport.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}

	// Its heartbeat is fresh: another run leaves its claims alone.
	if rep := e.run(t); rep != (SendReport{Sent: 3}) {
		t.Fatalf("run while the claim holds: %+v, want the 3 others", rep)
	}
	if c := e.counts(t, e.ed.ID); c[DeliverySending] != 2 {
		t.Fatalf("counts %v, want 2 still sending", c)
	}
	// Ten seconds without a heartbeat and its claims are taken.
	e.clock.Advance(11 * time.Second)
	if rep := e.run(t); rep != (SendReport{Sent: 2}) {
		t.Fatalf("run after the sender went quiet: %+v", rep)
	}
	for i, id := range e.subIDs {
		d := e.delivery(t, e.ed.ID, id)
		got := e.srv.copies(email(i))
		want := 1
		if id == claimed[0].SubscriberID {
			want = 2 // in doubt: sent again, under the same Message-ID
		}
		if len(got) != want || d.State != DeliverySent {
			t.Fatalf("%s: %d copies, state %s; want %d, sent", email(i), len(got), d.State, want)
		}
		for _, mid := range got {
			if mid != d.MessageID {
				t.Fatalf("%s received %v, want only %s", email(i), got, d.MessageID)
			}
		}
	}
}

func TestSender_CancelFinishesWhatIsInFlight(t *testing.T) {
	e := newSendEnv(t, 20)
	e.sender.Workers, e.sender.BatchSize = 1, 5
	e.srv.setDelay(100 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-e.srv.arrived // the first message is in, its reply pending
		cancel()
	}()
	rep, err := e.sender.SendDue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent < 1 || rep.Sent >= 20 || rep.Sent != e.srv.count() {
		t.Fatalf("report %+v with %d received: the send in flight must finish and count, the rest wait", rep, e.srv.count())
	}
	c := e.counts(t, e.ed.ID)
	if c[DeliverySending] != 0 || c[DeliverySent] != rep.Sent || c[DeliveryQueued] != 20-rep.Sent {
		t.Fatalf("counts %v after cancel", c)
	}
	for _, d := range mustDeliveries(t, e.ledger, e.ed.ID, DeliveryQueued) {
		if d.Attempts != 0 {
			t.Fatalf("an unstarted delivery kept its attempt: %+v", d)
		}
	}
	e.srv.setDelay(0)
	if rep := e.run(t); rep.Sent != 20-c[DeliverySent] {
		t.Fatalf("the rest: %+v", rep)
	}
	e.checkOneCopyEach(t)
}

func mustDeliveries(t *testing.T, l *Ledger, editionID int64, state string) []Delivery {
	t.Helper()
	ds, err := l.Deliveries(context.Background(), editionID, state)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestSender_EditionOfErasedSubscribersIsDone(t *testing.T) {
	e := newSendEnv(t, 1)
	if err := e.subs.Forget(context.Background(), email(0), subscribers.Meta{Route: "cli"}); err != nil {
		t.Fatal(err)
	}
	if rep := e.run(t); rep != (SendReport{}) || e.srv.count() != 0 {
		t.Fatalf("report %+v, %d messages", rep, e.srv.count())
	}
	if ed, _ := e.ledger.Edition(context.Background(), e.ed.ID); ed.State != EditionDone {
		t.Fatalf("edition %s, want done: nothing is left to send", ed.State)
	}
}
