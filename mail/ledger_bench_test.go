package mail

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/database/databasetest"
)

// BenchmarkLedgerClaimCommit is the ledger's own throughput, without SMTP:
// senders (1 and 3, each its own owner as instances are) claim batches of
// 100 and record them sent in commits of group (100, or 4: what a sender
// of 4 connections commits at a time, each connection waiting on its last
// outcome's commit), until an edition of 20,000 is done. It
// runs on SQLite, or on PostgreSQL with TIDINGS_TEST_POSTGRES set (where
// claims run outside the writer lock, FOR UPDATE SKIP LOCKED).
//
//	go test ./mail -run '^$' -bench LedgerClaimCommit -benchtime 3x
//	TIDINGS_TEST_POSTGRES=$(.ci/postgres start) go test ./mail -run '^$' -bench LedgerClaimCommit -benchtime 3x
func BenchmarkLedgerClaimCommit(b *testing.B) {
	const n, batch = 20000, 100
	for _, c := range []struct{ senders, group int }{{1, 100}, {3, 100}, {1, 4}} {
		senders, group := c.senders, c.group
		b.Run(fmt.Sprintf("senders=%d/group=%d", senders, group), func(b *testing.B) {
			e := openLedgerEnv(b, databasetest.Where(b), ledgerStart)
			seedSubscribers(b, e, n)
			ctx := context.Background()
			var took time.Duration
			b.ResetTimer()
			for i := range b.N {
				b.StopTimer()
				at := ledgerStart.Add(time.Duration(i+1) * time.Hour)
				e.clock.Advance(time.Hour)
				e.addArticle(b, fmt.Sprintf("bench-%d", i), at.Add(-time.Minute))
				e.plan(b, dailyDigest(), at)
				b.StartTimer()
				t0 := time.Now()
				var wg sync.WaitGroup
				for range senders {
					o := newOwner()
					if err := e.ledger.register(ctx, o); err != nil {
						b.Fatal(err)
					}
					wg.Go(func() {
						for {
							ds, err := e.ledger.claim(ctx, o, batch, time.Minute, time.Hour, true)
							if err != nil {
								b.Error(err)
								return
							}
							if len(ds) == 0 {
								return
							}
							rs := make([]result, len(ds))
							for j, d := range ds {
								rs[j] = result{d: d, kind: outSent}
							}
							for len(rs) > 0 {
								g := min(group, len(rs))
								if err := e.ledger.record(ctx, o, rs[:g], false); err != nil {
									b.Error(err)
									return
								}
								rs = rs[g:]
							}
						}
					})
				}
				wg.Wait()
				took += time.Since(t0)
			}
			b.StopTimer()
			var sent int
			if err := e.db.Read.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE state = 'sent'`).Scan(&sent); err != nil {
				b.Fatal(err)
			}
			if sent != n*b.N {
				b.Fatalf("%d sent, want %d", sent, n*b.N)
			}
			b.ReportMetric(float64(n*b.N)/took.Seconds(), "deliveries/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
