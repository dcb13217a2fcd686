package mail

// BenchmarkPlanMillion plans one edition for N confirmed subscribers
// (TIDINGS_BENCH_PLAN_SUBSCRIBERS, default 1,000,000) while a goroutine
// signs new addresses up through subscribers.Store, and reports the plan's
// time, the longest any one of its write transactions held the writer,
// and the slowest sign-up meanwhile. plan-cpu-s is the CPU time the
// process spent meanwhile (user and system, sign-ups included): on a
// machine shared with other work it moves less than the wall time.
//
//	go test ./mail -run '^$' -bench PlanMillion -benchtime 1x -timeout 20m

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/subscribers"
)

func benchPlanSubscribers(b *testing.B) int {
	n := 1_000_000
	if s := os.Getenv("TIDINGS_BENCH_PLAN_SUBSCRIBERS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("TIDINGS_BENCH_PLAN_SUBSCRIBERS=%q: want a positive number", s)
		}
		n = v
	}
	return n
}

// seedSubscribers inserts n confirmed subscribers of daily in one
// statement each for the two tables (a generated series), and moves the
// id mark past them as the store's own inserts do.
func seedSubscribers(tb testing.TB, e *ledgerEnv, n int) {
	tb.Helper()
	ctx := context.Background()
	now := ledgerStart.UnixNano()
	for _, q := range []string{
		`WITH RECURSIVE n(i) AS (SELECT (SELECT last FROM subscriber_ids) + 1 UNION ALL SELECT i + 1 FROM n
			WHERE i < (SELECT last FROM subscriber_ids) + CAST(? AS BIGINT))
		INSERT INTO subscribers (id, email, status, route, created_at, confirmed_at, token_nonce)
		SELECT i, 'sub' || i || '@s' || (i % 5000) || '.example', 'confirmed', 'import', CAST(? AS BIGINT), CAST(? AS BIGINT), i FROM n`,
		`INSERT INTO subscriber_digests (subscriber_id, digest) SELECT id, 'daily' FROM subscribers
			WHERE id > (SELECT last FROM subscriber_ids)`,
		`UPDATE subscriber_ids SET last = (SELECT MAX(id) FROM subscribers)`,
	} {
		args := []any{n, now, now}
		if q[0] != 'W' {
			args = nil
		}
		if _, err := e.db.Write.ExecContext(ctx, q, args...); err != nil {
			tb.Fatal(err)
		}
	}
}

func BenchmarkPlanMillion(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds a million subscribers")
	}
	n := benchPlanSubscribers(b)
	e := openLedgerEnv(b, b.TempDir()+"/tidings.db", ledgerStart)
	t0 := time.Now()
	seedSubscribers(b, e, n)
	seedTime := time.Since(t0)
	ctx := context.Background()

	var planTime, planCPU, maxHeld, maxSignUp time.Duration
	var chunks, signUps int
	var helds, waits []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		at := ledgerStart.Add(time.Duration(i+1) * time.Hour)
		e.clock.Advance(time.Hour)
		e.addArticle(b, fmt.Sprintf("bench-%d", i), at.Add(-time.Minute))
		e.ledger.chunkPlanned = func(_, _ int, held time.Duration) error {
			chunks++
			maxHeld = max(maxHeld, held)
			helds = append(helds, held)
			return nil
		}
		// Sign-ups while the edition is planned, as the form makes them.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				t := time.Now()
				_, err := e.subs.SignUp(ctx, fmt.Sprintf("new%d.%d@signup.example", i, j), "", []string{"daily"}, true, 0,
					subscribers.Meta{Route: "form", IP: "192.0.2.1"})
				if err != nil {
					b.Error(err)
					return
				}
				maxSignUp = max(maxSignUp, time.Since(t))
				waits = append(waits, time.Since(t))
				signUps++
				time.Sleep(10 * time.Millisecond)
			}
		})
		b.StartTimer()

		t0, c0 := time.Now(), cpuTime()
		ed := e.plan(b, dailyDigest(), at)
		planTime += time.Since(t0)
		planCPU += cpuTime() - c0

		b.StopTimer()
		close(stop)
		wg.Wait()
		var queued int
		if err := e.db.Read.QueryRow(`SELECT COUNT(*) FROM deliveries WHERE edition_id = ?`, ed.ID).Scan(&queued); err != nil {
			b.Fatal(err)
		}
		if queued < n {
			b.Fatalf("edition %d has %d deliveries, want at least %d", ed.ID, queued, n)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(n), "subscribers")
	b.ReportMetric(seedTime.Seconds(), "seed-s")
	b.ReportMetric(planTime.Seconds()/float64(b.N), "plan-s")
	b.ReportMetric(planCPU.Seconds()/float64(b.N), "plan-cpu-s")
	b.ReportMetric(float64(maxHeld.Microseconds())/1000, "max-chunk-ms")
	b.ReportMetric(float64(p99(helds).Microseconds())/1000, "p99-chunk-ms")
	b.ReportMetric(float64(p99(waits).Microseconds())/1000, "p99-signup-ms")
	b.ReportMetric(float64(chunks)/float64(b.N), "chunks")
	b.ReportMetric(float64(maxSignUp.Microseconds())/1000, "max-signup-ms")
	b.ReportMetric(float64(signUps)/float64(b.N), "signups")
}

// p99 is the 99th percentile of ds, 0 for none.
func p99(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)*99/100]
}
