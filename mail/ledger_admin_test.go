package mail

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tidings/tidings/mail/inbound"
	"github.com/tidings/tidings/subscribers"
)

// Summaries count what became of each edition's deliveries: sent, waiting,
// failed, skipped, what came back, and who left after it reached them.
func TestLedger_SummariesAndPause(t *testing.T) {
	e := newSendEnv(t, 6)
	ctx := context.Background()
	e.srv.inject(fault{stage: "RCPT", rcpt: email(5), code: 550, times: 1})

	// Paused: the sender takes none of it.
	if err := e.ledger.Pause(ctx, e.ed.ID, "by hand"); err != nil {
		t.Fatal(err)
	}
	if err := e.ledger.Pause(ctx, e.ed.ID, "again"); !errors.Is(err, ErrPaused) {
		t.Errorf("second pause: %v", err)
	}
	if rep := e.run(t); rep.Sent != 0 {
		t.Fatalf("paused edition sent %d", rep.Sent)
	}
	s, err := e.ledger.Summary(ctx, e.ed.ID)
	if err != nil || s.Queued != 6 || s.Total != 6 || s.PausedReason != "by hand" {
		t.Fatalf("paused summary %+v, %v", s, err)
	}
	if err := e.ledger.Resume(ctx, e.ed.ID); err != nil {
		t.Fatal(err)
	}
	if rep := e.run(t); rep.Sent != 5 || rep.Failed != 1 {
		t.Fatalf("report %+v", rep)
	}
	if err := e.ledger.Pause(ctx, e.ed.ID, "late"); !errors.Is(err, ErrEditionDone) {
		t.Errorf("pause of a done edition: %v", err)
	}
	if err := e.ledger.Pause(ctx, 999, "x"); !errors.Is(err, ErrEditionNotFound) {
		t.Errorf("pause of no edition: %v", err)
	}

	// Came back: a complaint from sub1 and a hard bounce from sub2;
	// sub3 unsubscribed afterwards.
	d1, d2 := e.delivery(t, e.ed.ID, e.subIDs[0]), e.delivery(t, e.ed.ID, e.subIDs[1])
	for _, x := range []struct {
		id   int64
		kind string
	}{{d1.ID, "complaint"}, {d2.ID, "bounce"}} {
		if _, err := e.ledger.markReturned(ctx, x.id, x.kind, inbound.Result{}); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Advance(time.Hour)
	if _, err := e.subs.Unsubscribe(ctx, e.subIDs[2], subscribers.Meta{Route: "link"}); err != nil {
		t.Fatal(err)
	}

	e.clock.Advance(time.Hour)
	other := e.plan(t, Digest{Name: "daily", Title: "Example News", From: dailyDigest().From}, ledgerStart.Add(24*time.Hour))
	ss, err := e.ledger.Summaries(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2 || ss[0].ID != other.ID || ss[1].ID != e.ed.ID {
		t.Fatalf("summaries %+v, want the newer first", ss)
	}
	got := ss[1]
	if got.Sent != 5 || got.Failed != 1 || got.Queued != 0 || got.Complained != 1 || got.Bounced != 1 || got.Unsubscribed != 1 || got.Total != 6 {
		t.Errorf("summary %+v", got)
	}
	// The newer edition goes to the four still receiving it (not the
	// one who left, nor the one whose 550 made it bounced); who left
	// before it is not counted as leaving after it.
	if ss[0].Total != 4 || ss[0].Queued != 4 || ss[0].Unsubscribed != 0 {
		t.Errorf("newer summary %+v", ss[0])
	}
	if page, err := e.ledger.Summaries(ctx, other.ID, 10); err != nil || len(page) != 1 || page[0].ID != e.ed.ID {
		t.Errorf("the page before %d: %+v %v", other.ID, page, err)
	}

	// Who leaves after the next edition came out counts for that one, and
	// only once it was sent to them.
	e.clock.Advance(time.Hour)
	if _, err := e.subs.Unsubscribe(ctx, e.subIDs[3], subscribers.Meta{Route: "link"}); err != nil {
		t.Fatal(err)
	}
	if s, err := e.ledger.Summary(ctx, e.ed.ID); err != nil || s.Unsubscribed != 1 {
		t.Errorf("after a later unsubscribe: %+v %v", s, err)
	}
	// The done edition's frozen counts lose an erased subscriber's
	// delivery, and a retry reopens them to live counts.
	if err := e.subs.Forget(ctx, email(4), subscribers.Meta{Route: "cli"}); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.ledger.Summary(ctx, e.ed.ID); s.Sent != 4 || s.Total != 5 || s.Failed != 1 {
		t.Errorf("after erasing a recipient: %+v", s)
	}
	if p, err := e.ledger.EditionProgress(ctx, got); err != nil || p != nil {
		t.Errorf("progress of a done edition: %+v %v", p, err)
	}

	fs, err := e.ledger.FailuresPage(ctx, e.ed.ID, 0, 10)
	if err != nil || len(fs) != 1 || fs[0].Email != email(5) || fs[0].LastCode != 550 {
		t.Fatalf("failures %+v %v", fs, err)
	}
	if more, _ := e.ledger.FailuresPage(ctx, e.ed.ID, fs[0].ID, 10); len(more) != 0 {
		t.Errorf("failures after the last: %+v", more)
	}
	d, err := e.ledger.Delivery(ctx, fs[0].ID)
	if err != nil || d.Email != email(5) {
		t.Errorf("delivery %+v %v", d, err)
	}
	if _, err := e.ledger.Delivery(ctx, 99999); !errors.Is(err, ErrDeliveryNotFound) {
		t.Errorf("unknown delivery: %v", err)
	}

	if n, err := e.ledger.Retry(ctx, e.ed.ID); err != nil || n != 1 {
		t.Fatalf("retry: %d %v", n, err)
	}
	s, err = e.ledger.Summary(ctx, e.ed.ID)
	if err != nil || s.Sent != 4 || s.Queued != 1 || s.Failed != 0 || s.Total != 5 {
		t.Errorf("after the retry: %+v %v", s, err)
	}
	p, err := e.ledger.EditionProgress(ctx, s)
	if err != nil || p == nil || p.Done != 4 || p.Total != 5 || p.Sent != 4 {
		t.Errorf("progress after the retry: %+v %v", p, err)
	}
	// Its subscriber bounced on the 550 (bounce limit 1): skipped now.
	e.run(t)
	if s, _ := e.ledger.Summary(ctx, e.ed.ID); s.Sent != 4 || s.Skipped != 1 || s.Queued != 0 || s.State != EditionDone {
		t.Errorf("after sending the retry: %+v", s)
	}
}
