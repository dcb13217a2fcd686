package mail

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/mail/inbound"
	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// acceptAll takes every message and counts them by recipient.
type acceptAll struct {
	mu  sync.Mutex
	got map[string]int
}

func (a *acceptAll) Send(_ context.Context, m *transport.Message) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.got == nil {
		a.got = map[string]int{}
	}
	a.got[m.To.Address]++
	return nil
}
func (a *acceptAll) Close() error { return nil }

// The reputation guard: complaints at 0.3% of 1,000 delivered pause the
// edition (its queued deliveries wait), a second report of the same
// complaint does not count twice, and resume sends the rest once each.
func TestGuard_ComplaintsPauseAndResumeGoesOn(t *testing.T) {
	e := newLedgerEnv(t)
	ctx := context.Background()
	e.addSubscribers(t, 1050)
	e.addArticle(t, "a", ledgerStart)
	ed := e.plan(t, dailyDigest(), ledgerStart)
	// 1,000 of them went out; 50 wait.
	if _, err := e.db.Write.ExecContext(ctx, `UPDATE deliveries SET state = 'sent', sent_at = ? WHERE edition_id = ? AND id IN
		(SELECT id FROM deliveries WHERE edition_id = ? ORDER BY id LIMIT 1000)`, ledgerStart.UnixNano(), ed.ID, ed.ID); err != nil {
		t.Fatal(err)
	}
	sent, err := e.ledger.Deliveries(ctx, ed.ID, DeliverySent)
	if err != nil || len(sent) != 1000 {
		t.Fatalf("%d sent, %v", len(sent), err)
	}
	complain := func(d Delivery) Heard {
		t.Helper()
		h, err := e.ledger.Hear(ctx, inbound.Result{Kind: inbound.KindComplaint, MessageID: d.MessageID, Provider: "arf"}, e.subs, nil, BounceLimits{Hard: 1, Soft: 3, SoftWindow: 30 * 24 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	for i := range 2 {
		if h := complain(sent[i]); h.Action != "complained" || h.Paused != "" {
			t.Fatalf("complaint %d: %+v", i+1, h)
		}
	}
	if h := complain(sent[1]); h.Action != "already recorded" {
		t.Errorf("the same complaint again: %+v", h)
	}
	h := complain(sent[2])
	if !strings.Contains(h.Paused, "complaints at 0.30%") {
		t.Fatalf("third complaint in 1,000: %+v, want the edition paused", h)
	}
	got, err := e.ledger.Edition(ctx, ed.ID)
	if err != nil || got.Paused.IsZero() || !strings.Contains(got.PausedReason, "complaints") {
		t.Fatalf("edition after the pause: %+v, %v", got, err)
	}

	tr := &acceptAll{}
	s := &Sender{Ledger: e.ledger, Transport: tr, Composer: &testComposer{}, Workers: 2}
	if rep, err := s.SendDue(ctx); err != nil || rep.Sent != 0 {
		t.Fatalf("a paused edition sent %+v, %v", rep, err)
	}
	if err := e.ledger.Resume(ctx, ed.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.ledger.Resume(ctx, ed.ID); err == nil {
		t.Error("resuming an edition that is not paused: no error")
	}
	if rep, err := s.SendDue(ctx); err != nil || rep.Sent != 50 {
		t.Fatalf("after resume: %+v, %v; want the 50 that waited", rep, err)
	}
	for addr, n := range tr.got {
		if n != 1 {
			t.Errorf("%s got %d copies", addr, n)
		}
	}
	// Resumed, the guard is off for this edition.
	if h := complain(sent[3]); h.Paused != "" {
		t.Errorf("a resumed edition paused again: %+v", h)
	}
}

// Soft bounces stop the mail only in a row: Soft of them, with none of
// the mail between them come through, within SoftWindow.
func TestHear_SoftBouncesInARow(t *testing.T) {
	e := newLedgerEnv(t)
	ctx := context.Background()
	ids := e.addSubscribers(t, 1)
	lim := BounceLimits{Hard: 1, Soft: 3, SoftWindow: 30 * 24 * time.Hour}
	var ds []Delivery
	for i := range 7 {
		at := ledgerStart.Add(time.Duration(i) * 24 * time.Hour)
		if i > 0 {
			e.clock.Advance(24 * time.Hour)
		}
		e.addArticle(t, fmt.Sprintf("a%d", i), at)
		ed := e.plan(t, dailyDigest(), at)
		if _, err := e.db.Write.ExecContext(ctx, `UPDATE deliveries SET state = 'sent', sent_at = ? WHERE edition_id = ?`, at.UnixNano(), ed.ID); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, e.delivery(t, ed.ID, ids[0]))
	}
	soft := func(d Delivery) {
		t.Helper()
		h, err := e.ledger.Hear(ctx, inbound.Result{Kind: inbound.KindBounce, MessageID: d.MessageID, Status: "4.2.2", Diagnostic: "mailbox full"}, e.subs, nil, lim)
		if err != nil || h.Action != "soft bounce counted" {
			t.Fatalf("soft bounce: %+v, %v", h, err)
		}
	}
	status := func() subscribers.Status {
		t.Helper()
		s, err := e.subs.Get(ctx, ids[0])
		if err != nil {
			t.Fatal(err)
		}
		return s.Status
	}
	// Two soft bounces, then mail that came through (ds[2]), then two
	// more: never three in a row.
	for _, i := range []int{0, 1, 3, 4} {
		soft(ds[i])
	}
	if st := status(); st != subscribers.StatusConfirmed {
		t.Fatalf("after 2 + 2 soft bounces with a delivery between: %s", st)
	}
	soft(ds[5]) // the third in a row: 3, 4, 5
	if st := status(); st != subscribers.StatusBounced {
		t.Errorf("after three soft bounces in a row: %s, want bounced", st)
	}
}

// An unsubscribe a provider reports names the delivery, not a signed
// unsubscribe+TOKEN@ address: matched by the Message-ID only when the
// report is Verified (a webhook's signature), never from a mail, which
// anyone who saw a forwarded copy's Message-ID could send.
func TestHear_ReportedUnsubscribeNeedsVerified(t *testing.T) {
	e := newLedgerEnv(t)
	ctx := context.Background()
	ids := e.addSubscribers(t, 1)
	e.addArticle(t, "a", ledgerStart)
	ed := e.plan(t, dailyDigest(), ledgerStart)
	d := e.delivery(t, ed.ID, ids[0])
	res := inbound.Result{Kind: inbound.KindUnsubscribe, MessageID: d.MessageID, Provider: "sendgrid"}
	h, err := e.ledger.Hear(ctx, res, e.subs, nil, BounceLimits{})
	if err != nil || h.Action != "unmatched" {
		t.Fatalf("an unverified unsubscribe by Message-ID: %+v, %v", h, err)
	}
	if s, _ := e.subs.Get(ctx, ids[0]); s.Status != subscribers.StatusConfirmed {
		t.Fatalf("status %s after an unverified report", s.Status)
	}
	res.Verified = true
	h, err = e.ledger.Hear(ctx, res, e.subs, nil, BounceLimits{})
	if err != nil || h.Action != "unsubscribed" || h.Subscriber != ids[0] {
		t.Fatalf("a verified unsubscribe: %+v, %v", h, err)
	}
	if s, _ := e.subs.Get(ctx, ids[0]); s.Status != subscribers.StatusUnsubscribed {
		t.Errorf("status %s after a verified report", s.Status)
	}
	res.MessageID = "<never@sent>"
	if h, err = e.ledger.Hear(ctx, res, e.subs, nil, BounceLimits{}); err != nil || h.Action != "unmatched" {
		t.Errorf("a verified report naming no delivery: %+v, %v", h, err)
	}
}
