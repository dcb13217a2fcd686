package mail

import (
	"context"
	"strings"
	"testing"
	"time"
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
