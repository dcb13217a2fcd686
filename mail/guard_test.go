package mail

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/tidings/tidings/mail/inbound"
	"github.com/tidings/tidings/mail/transport"
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
		h, err := e.ledger.Hear(ctx, inbound.Result{Kind: inbound.KindComplaint, MessageID: d.MessageID, Provider: "arf"}, e.subs, nil, 1)
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
