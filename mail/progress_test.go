package mail

import (
	"context"
	"testing"
	"time"
)

func TestLedger_Progress(t *testing.T) {
	e := newSendEnv(t, 10)
	ctx := context.Background()
	ps, err := e.ledger.Progress(ctx)
	if err != nil || len(ps) != 1 || ps[0].Total != 10 || ps[0].Done != 0 || ps[0].Rate != 0 || ps[0].Edition != e.ed.ID {
		t.Fatalf("before sending: %+v, %v", ps, err)
	}
	// Six sent, one a second, then the clock stops: 1 msg/s, 4 left.
	for i := range 6 {
		if _, err := e.db.Write.ExecContext(ctx, `UPDATE deliveries SET state = 'sent', sent_at = ? WHERE subscriber_id = ?`,
			e.clock.Now().UnixNano(), e.subIDs[i]); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
	}
	e.clock.Advance(-time.Second)
	ps, err = e.ledger.Progress(ctx)
	if err != nil || len(ps) != 1 {
		t.Fatal(ps, err)
	}
	p := ps[0]
	if p.Done != 6 || p.Sent != 6 || p.Rate < 0.99 || p.Rate > 1.01 || p.ETA != 4*time.Second || p.Percent() != 60 {
		t.Errorf("progress %+v (%.0f%%), want 6 of 10 at 1 msg/s, 4 s to go", p, p.Percent())
	}
	e.run(t)
	if ps, err := e.ledger.Progress(ctx); err != nil || len(ps) != 0 {
		t.Errorf("after the edition is done: %+v, %v", ps, err)
	}
}
