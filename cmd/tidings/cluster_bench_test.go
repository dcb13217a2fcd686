package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/database"
)

// TestClusterBench_OneEdition is the cluster's send figure: one edition
// to N subscribers (TIDINGS_BENCH_CLUSTER=N; skipped without it, and
// without TIDINGS_TEST_POSTGRES) sent by one, two and three tidings serve
// on one PostgreSQL database, 4 SMTP connections each, to one loopback
// go-smtp sink. Each round plans a new edition with digest send --queue
// and times it until the ledger has every delivery sent; the database's
// CPU is that of the server backends connected to the test database,
// sampled from /proc while the round runs.
//
//	TIDINGS_BENCH_CLUSTER=100000 TIDINGS_TEST_POSTGRES=$(.ci/postgres start) go test ./cmd/tidings -run ClusterBench -v -timeout 60m
func TestClusterBench_OneEdition(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("TIDINGS_BENCH_CLUSTER"))
	if n <= 0 {
		t.Skip("TIDINGS_BENCH_CLUSTER (the number of subscribers) is not set")
	}
	sink := newCopySink(t)
	c := newCluster(t, 3, sink.port, 4)
	importStart := time.Now()
	c.importConfirmed(n)
	t.Logf("imported %d subscribers in %v", n, time.Since(importStart).Round(time.Millisecond))
	for round := 1; round <= 3; round++ {
		writeFile(t, c.content, fmt.Sprintf("round%d.md", round), fmt.Sprintf("---\ntitle: Round %d\ndate: 2026-02-0%d 08:30\n---\n\nNews of round %d.\n", round, round, round))
		c.run(0, "ingest")
		c.startN(round)
		cpu := newBackendCPU(t, c.url)
		planStart := time.Now()
		if out := c.run(0, "digest", "send", "--queue", "daily"); !strings.Contains(out, fmt.Sprintf("edition %d", round)) {
			t.Fatalf("digest send --queue: %s", out)
		}
		planned := time.Since(planStart)
		sendStart := time.Now()
		deadline := sendStart.Add(30 * time.Minute)
		for c.count(`SELECT COUNT(*) FROM deliveries WHERE edition_id = ? AND state = 'sent'`, round) < n {
			if time.Now().After(deadline) {
				t.Fatalf("round %d did not finish in 30 minutes", round)
			}
			time.Sleep(250 * time.Millisecond)
		}
		sent := time.Since(sendStart)
		dbCPU := cpu.stop()
		t.Logf("%d instance(s): %d messages in %v (%.0f msgs/s); planning %v; database CPU %v (%.0f ms per 1,000 messages); load %s",
			round, n, sent.Round(time.Millisecond), float64(n)/sent.Seconds(), planned.Round(time.Millisecond),
			dbCPU.Round(time.Millisecond), float64(dbCPU.Milliseconds())*1000/float64(n), loadAvg())
		c.stop()
	}
	if got := sink.count(); got < 3*n {
		t.Errorf("the sink got %d messages, want %d", got, 3*n)
	}
}

// backendCPU sums the CPU time of the PostgreSQL backends connected to
// one database, sampling them every 200 ms so that a backend that ends
// counts up to its last sample.
type backendCPU struct {
	t    *testing.T
	quit chan struct{}
	done chan struct{}
	mu   sync.Mutex
	last map[int]int64 // pid: utime+stime in clock ticks
}

func newBackendCPU(t *testing.T, url string) *backendCPU {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, err := database.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	b := &backendCPU{t: t, quit: make(chan struct{}), done: make(chan struct{}), last: map[int]int64{}}
	go func() {
		defer close(b.done)
		defer db.Close()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			b.sample(db)
			select {
			case <-b.quit:
				b.sample(db)
				return
			case <-tick.C:
			}
		}
	}()
	return b
}

func (b *backendCPU) sample(db *database.DB) {
	rows, err := db.Read.Query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if err != nil {
		return
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) != nil {
			continue
		}
		if ticks, ok := procTicks(pid); ok {
			b.mu.Lock()
			b.last[pid] = max(b.last[pid], ticks)
			b.mu.Unlock()
		}
	}
}

// stop ends the sampling and returns the CPU time of every backend seen.
// Backends opened before the round (the instances' pools) count from
// their start, which is the instances' start-up: small beside a round.
func (b *backendCPU) stop() time.Duration {
	close(b.quit)
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	var ticks int64
	for _, v := range b.last {
		ticks += v
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ is 100 on Linux
}

// procTicks reads a process's user and system time from /proc/PID/stat.
func procTicks(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name may hold spaces; the fields after ")" are fixed.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	return u + st, err1 == nil && err2 == nil
}
