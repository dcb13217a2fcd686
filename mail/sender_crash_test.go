package mail

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/mail/transport"
)

// crashHelperEnv tells the test binary it runs as the sender that
// TestSender_KilledMidSend kills: "dbpath|port".
const crashHelperEnv = "TIDINGS_TEST_SENDER_CRASH"

// crashLease is the claim lease of both senders in the crash test.
const crashLease = time.Minute

// TestSender_HelperProcess is not a test by itself: it is the child
// process of TestSender_KilledMidSend, a sender killed with SIGKILL.
func TestSender_HelperProcess(t *testing.T) {
	spec := os.Getenv(crashHelperEnv)
	if spec == "" {
		t.Skip("the sender that TestSender_KilledMidSend kills")
	}
	path, portText, _ := strings.Cut(spec, "|")
	port, err := strconv.Atoi(portText)
	if err != nil {
		t.Fatal(err)
	}
	e := openLedgerEnv(t, path, time.Now())
	e.ledger.Now = time.Now
	tr, err := transport.NewSMTP(transport.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: "none", Connections: 2, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := &Sender{Ledger: e.ledger, Transport: tr, Composer: &testComposer{}, Workers: 2, BatchSize: 5, Lease: crashLease}
	s.SendDue(context.Background())
	t.Fatal("the sender finished before it was killed")
}

func TestSender_KilledMidSend(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	const n = 60
	start := time.Now().UTC()
	path := filepath.Join(t.TempDir(), "tidings.db")
	e := openLedgerEnv(t, path, start)
	srv := newFaultServer(t)
	ids := e.addSubscribers(t, n)
	e.addArticle(t, "a1", start.Add(-time.Hour))
	ed := e.plan(t, dailyDigest(), start)

	// The child sends slowly: each message is received, then acknowledged
	// 30 ms later, so that some are always received and not acknowledged.
	srv.setDelay(30 * time.Millisecond)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSender_HelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%d", crashHelperEnv, path, srv.port))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for srv.count() < n/4 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the child sent %d messages in 30 s:\n%s", srv.count(), out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL: no deferred function runs
		t.Fatal(err)
	}
	cmd.Wait()
	atKill := map[int64]string{}
	for _, d := range mustDeliveries(t, e.ledger, ed.ID, "") {
		atKill[d.SubscriberID] = d.State
	}
	c := e.counts(t, ed.ID)
	t.Logf("at the kill: %d received, deliveries %v", srv.count(), c)
	if c[DeliverySent] == 0 || c[DeliverySent] == n || c[DeliverySending] == 0 {
		t.Fatalf("killed at the wrong moment: %v", c)
	}

	// Another sender finishes at once: the dead one's process is gone, so
	// its claims are free without waiting for its heartbeat to go stale.
	srv.setDelay(0)
	e.clock.Advance(time.Since(start))
	s := &Sender{Ledger: e.ledger, Transport: srv.transport(t, 2), Composer: &testComposer{}, Workers: 2, BatchSize: 5, Lease: crashLease}
	rep, err := s.SendDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sent != n-c[DeliverySent] {
		t.Fatalf("the second sender sent %d, want the %d not recorded as sent", rep.Sent, n-c[DeliverySent])
	}
	dups := 0
	for i, id := range ids {
		d := e.delivery(t, ed.ID, id)
		got := srv.copies(email(i))
		if d.State != DeliverySent || len(got) == 0 {
			t.Fatalf("%s: delivery %s, %d copies", email(i), d.State, len(got))
		}
		for _, mid := range got {
			if mid != d.MessageID {
				t.Fatalf("%s received %v, want only %s", email(i), got, d.MessageID)
			}
		}
		if len(got) > 1 {
			dups++
			if len(got) > 2 || atKill[id] != DeliverySending {
				t.Fatalf("%s received %d copies; its delivery was %s at the kill: only those in doubt may come twice",
					email(i), len(got), atKill[id])
			}
		}
	}
	t.Logf("%d in doubt at the kill came twice, under one Message-ID", dups)
	// Each outcome is committed before its connection takes the next
	// message: at most one message per connection is in doubt.
	if dups > 2 {
		t.Errorf("%d messages came twice after the kill; at most 2 (one per connection) may be in doubt", dups)
	}
}
