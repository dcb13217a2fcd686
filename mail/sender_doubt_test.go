package mail

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/mail/transport"
)

// A connection that drops after the final dot, before the reply, leaves
// the message in doubt: the server may have it. It must not be sent again
// at once (the transport's redial is for connections that broke before
// the dot), but queued and retried after the backoff with the same
// Message-ID, so that the receiver can drop the copy.
func TestSender_DropAfterTheFinalDotIsHeldInDoubt(t *testing.T) {
	e := newSendEnv(t, 3)
	e.srv.inject(fault{stage: "DOT", rcpt: email(1), times: 1})
	if rep := e.run(t); rep != (SendReport{Sent: 2, Retried: 1}) {
		t.Fatalf("report %+v, want 2 sent, 1 retried later", rep)
	}
	d := e.delivery(t, e.ed.ID, e.subIDs[1])
	if got := e.srv.copies(email(1)); len(got) != 1 {
		t.Fatalf("%s received %d copies right away, want the 1 in doubt", email(1), len(got))
	}
	if d.State != DeliveryQueued || d.Attempts != 1 || !d.NextAttemptAt.Equal(ledgerStart.Add(testBackoff)) ||
		!strings.Contains(d.LastReply, "may have been accepted") {
		t.Fatalf("after a drop past the final dot: %+v; want queued for the backoff, in doubt", d)
	}
	e.clock.Advance(testBackoff)
	if rep := e.run(t); rep != (SendReport{Sent: 1}) {
		t.Fatalf("retry: %+v", rep)
	}
	got := e.srv.copies(email(1))
	if len(got) != 2 || got[0] != d.MessageID || got[1] != d.MessageID {
		t.Fatalf("%s received %v, want two copies of %s", email(1), got, d.MessageID)
	}
	if d := e.delivery(t, e.ed.ID, e.subIDs[1]); d.State != DeliverySent {
		t.Fatalf("delivery %s after the retry, want sent", d.State)
	}
}

// A sender whose send the server accepted records it as sent even when
// the row is no longer its claim: here its lease lapsed mid-send, another
// sender took the row and got a 451 for it. The accepted send is the
// truth; leaving the row queued would mail the subscriber twice.
func TestSender_AcceptedSendIsRecordedWhateverTheRowBecame(t *testing.T) {
	e := newSendEnv(t, 1)
	const lease = 10 * time.Minute
	release := e.srv.holdReplies()
	// Its heartbeat never comes: it counts as gone once the clock moves on.
	slow := &Sender{Ledger: e.ledger, Transport: e.srv.transport(t, 1), Composer: &testComposer{}, Workers: 1, Lease: lease,
		Heartbeat: time.Hour}
	type outcome struct {
		rep SendReport
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		rep, err := slow.SendDue(context.Background())
		done <- outcome{rep, err}
	}()
	<-e.srv.arrived // the server has the message; its 250 is held

	// The slow sender goes quiet; another takes the row and is told to
	// try later.
	e.clock.Advance(lease)
	e.srv.inject(fault{stage: "RCPT", rcpt: email(0), code: 451, times: 1})
	e.sender.Lease = lease
	if rep := e.run(t); rep != (SendReport{Retried: 1}) {
		t.Fatalf("second sender: %+v, want 1 retried", rep)
	}
	if d := e.delivery(t, e.ed.ID, e.subIDs[0]); d.State != DeliveryQueued || d.Attempts != 2 {
		t.Fatalf("after the second sender: %+v, want queued after 2 attempts", d)
	}

	release() // the server accepts the first sender's message
	out := <-done
	if out.err != nil || out.rep != (SendReport{Sent: 1}) {
		t.Fatalf("slow sender: %+v, %v; want 1 sent", out.rep, out.err)
	}
	d := e.delivery(t, e.ed.ID, e.subIDs[0])
	if d.State != DeliverySent || d.SentAt == nil {
		t.Fatalf("delivery %+v after the accepted send was recorded, want sent", d)
	}
	e.clock.Advance(24 * time.Hour)
	if rep := e.run(t); rep != (SendReport{}) {
		t.Fatalf("a later run sent %+v again", rep)
	}
	e.checkOneCopyEach(t)
}

// A sender reaped as gone (its heartbeat stale) that comes back with an
// outcome other than an accepted send changes nothing: the row is the
// claim of the sender that took it over, which sends and records it. A
// dead instance's claims are taken over once its heartbeat is older than
// stale (10 s by default, well within the 30 s a cluster allows).
func TestLedger_TakenOverClaimIgnoresTheFormerClaimant(t *testing.T) {
	e := newSendEnv(t, 1)
	ctx := context.Background()
	const stale = 10 * time.Second
	a, b := newOwner(), newOwner()
	for _, o := range []owner{a, b} {
		if err := e.ledger.register(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	got, err := e.ledger.claim(ctx, a, 10, time.Minute, stale, true)
	if err != nil || len(got) != 1 {
		t.Fatalf("a's claim: %v, %v; want the one delivery", got, err)
	}
	if again, err := e.ledger.claim(ctx, b, 10, time.Minute, stale, true); err != nil || len(again) != 0 {
		t.Fatalf("b's claim while a beats: %v, %v; want nothing", again, err)
	}
	e.clock.Advance(stale + time.Second)
	if err := e.ledger.beat(ctx, b); err != nil {
		t.Fatal(err)
	}
	taken, err := e.ledger.claim(ctx, b, 10, time.Minute, stale, true)
	if err != nil || len(taken) != 1 || taken[0].ID != got[0].ID {
		t.Fatalf("b's claim after a went quiet: %v, %v; want a's delivery", taken, err)
	}
	for _, kind := range []outcome{outRetry, outFailed, outReleased, outSkipped, outDeferred, outPaced} {
		late := []result{{d: got[0], kind: kind, code: 451, reply: "late", next: e.clock.Now()}}
		if err := e.ledger.record(ctx, a, late, true); err != nil {
			t.Fatal(err)
		}
		if d := e.delivery(t, e.ed.ID, e.subIDs[0]); d.State != DeliverySending || d.Attempts != 2 {
			t.Fatalf("after a's late outcome %d: %+v, want still sending, b's second attempt", kind, d)
		}
	}
	if err := e.ledger.record(ctx, b, []result{{d: taken[0], kind: outSent}}, true); err != nil {
		t.Fatal(err)
	}
	if d := e.delivery(t, e.ed.ID, e.subIDs[0]); d.State != DeliverySent {
		t.Fatalf("after b's send: %+v, want sent", d)
	}
}

// Claims made at once by many senders (instances on one PostgreSQL, where
// they run outside the writer lock and skip each other's locked rows)
// hand every due delivery to exactly one of them.
func TestLedger_ConcurrentClaimsNeverShareARow(t *testing.T) {
	const n, senders = 600, 6
	e := newSendEnv(t, n)
	ctx := context.Background()
	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for range senders {
		o := newOwner()
		if err := e.ledger.register(ctx, o); err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			for {
				ds, err := e.ledger.claim(ctx, o, 7, time.Minute, time.Hour, true)
				if err != nil {
					errs <- err
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					if other, ok := seen[d.ID]; ok {
						mu.Unlock()
						errs <- fmt.Errorf("delivery %d claimed by %s and %s", d.ID, other, o.id)
						return
					}
					seen[d.ID] = o.id
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("%d deliveries claimed, want %d", len(seen), n)
	}
}

// sharingTransport records the shares a sender gives it.
type sharingTransport struct {
	transport.Transport
	mu     sync.Mutex
	shares []int
}

func (s *sharingTransport) Share(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shares = append(s.shares, n)
}

// A sender counts the live senders on the database when it starts and on
// each heartbeat, and splits its rate limits among them: two instances
// sending one list keep the configured rate together. A sender gone
// quiet (heartbeat older than stale) no longer counts.
func TestSender_SplitsRatesAmongLiveSenders(t *testing.T) {
	e := newSendEnv(t, 3)
	ctx := context.Background()
	other := newOwner()
	if err := e.ledger.register(ctx, other); err != nil {
		t.Fatal(err)
	}
	tr := &sharingTransport{Transport: e.srv.transport(t, 1)}
	s := &Sender{Ledger: e.ledger, Transport: tr, Composer: &testComposer{}, Workers: 1,
		DomainLimits: []DomainLimit{{Domains: []string{"example.com"}, Rate: 1000}}}
	if _, err := s.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if len(tr.shares) == 0 || tr.shares[0] != 2 {
		t.Fatalf("shares %v, want 2 at the start (this sender and the other)", tr.shares)
	}
	if s.pacer().share != 2 {
		t.Fatalf("pacer share %d, want 2", s.pacer().share)
	}
	e.clock.Advance(time.Minute) // the other's heartbeat is stale now
	s.share(ctx)
	if got := tr.shares[len(tr.shares)-1]; got != 1 {
		t.Fatalf("share after the other went quiet: %d, want 1", got)
	}
}

// The next message is written to the server while the last outcome
// commits, but its final dot goes only after that commit: whenever a
// message arrives whole, all but one per worker of those that arrived
// before it are recorded as sent. That is what keeps a crash to at most
// one message per connection in doubt.
func TestSender_FinalDotWaitsForTheLastOutcomesCommit(t *testing.T) {
	const n, workers = 40, 2
	e := newSendEnv(t, n)
	var mu sync.Mutex
	arrived, worst := 0, 0
	e.srv.mu.Lock()
	e.srv.atDot = func() {
		// Counted and read under one lock: read before another
		// connection's dot is counted, the sent count would miss what was
		// recorded meanwhile (a loaded machine showed 3 and 4 so).
		mu.Lock()
		defer mu.Unlock()
		var sent int
		if err := e.ledger.DB.Read.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE edition_id = ? AND state = 'sent'`,
			e.ed.ID).Scan(&sent); err != nil {
			t.Error(err)
		}
		arrived++
		worst = max(worst, arrived-sent)
	}
	e.srv.mu.Unlock()
	if rep := e.run(t); rep != (SendReport{Sent: n}) {
		t.Fatalf("report %+v, want %d sent", rep, n)
	}
	e.checkOneCopyEach(t)
	if worst > workers {
		t.Fatalf("a message arrived while %d arrived messages were not recorded as sent; at most %d (one per worker) may be", worst, workers)
	}
	t.Logf("at most %d arrived messages were not yet recorded at once", worst)
}
