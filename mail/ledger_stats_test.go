package mail

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestLedger_Stats(t *testing.T) {
	e := newSendEnv(t, 4)
	ctx := context.Background()
	e.srv.inject(fault{stage: "RCPT", rcpt: email(0), code: 550, times: 1})
	e.srv.inject(fault{stage: "RCPT", rcpt: email(1), code: 451, times: 1})
	if rep := e.run(t); rep != (SendReport{Sent: 2, Failed: 1, Retried: 1}) {
		t.Fatalf("report %+v", rep)
	}
	d := dailyDigest()
	d.SkipEmpty = false
	e.plan(t, d, ledgerStart.Add(time.Hour)) // nothing new, sent anyway: 3 more queued (the bounced one is not)

	st, err := e.ledger.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantState := map[string]int{DeliveryQueued: 4, DeliverySending: 0, DeliverySent: 2, DeliveryFailed: 1, DeliverySkipped: 0}
	if len(st.ByState) != len(wantState) {
		t.Errorf("ByState %v, want %v", st.ByState, wantState)
	}
	for k, v := range wantState {
		if st.ByState[k] != v {
			t.Errorf("ByState %v, want %v", st.ByState, wantState)
			break
		}
	}
	wantCodes := []CodeCount{{DeliveryFailed, 550, 1}, {DeliveryQueued, 451, 1}}
	if !slices.Equal(st.ByCode, wantCodes) {
		t.Errorf("ByCode %v, want %v", st.ByCode, wantCodes)
	}
	depth, err := e.ledger.QueueDepth(ctx)
	if err != nil || st.QueueDepth != 4 || depth != st.QueueDepth || st.Editions != 2 {
		t.Errorf("queue depth %d (QueueDepth %d, %v), editions %d; want 4, 2", st.QueueDepth, depth, err, st.Editions)
	}
	// The same numbers, one state at a time, for all and for one edition.
	for state, n := range wantState {
		if got, err := e.ledger.StateCount(ctx, 0, state); err != nil || got != n {
			t.Errorf("StateCount(all, %s) = %d, %v; want %d", state, got, err, n)
		}
	}
	eds, _ := e.ledger.Editions(ctx, "", 0)
	if got, _ := e.ledger.StateCount(ctx, eds[len(eds)-1].ID, DeliveryFailed); got != 1 {
		t.Errorf("failed in the first edition: %d, want 1", got)
	}
	if got, _ := e.ledger.StateCount(ctx, eds[0].ID, DeliveryFailed); got != 0 {
		t.Errorf("failed in the second edition: %d, want 0", got)
	}
	if n, err := e.ledger.SentSince(ctx, ledgerStart.Add(-time.Hour)); err != nil || n != 2 {
		t.Errorf("SentSince: %d, %v; want 2", n, err)
	}
}
