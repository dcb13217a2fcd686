package main

import (
	"regexp"
	"syscall"
	"testing"
	"time"

	tmail "github.com/tidings/tidings/mail"
)

// A sender killed with SIGKILL mid-edition leaves claims behind; the next
// serve takes them at once (the killed process is gone from this machine)
// and finishes the edition within 30 seconds of starting. Only a message
// inside an SMTP transaction at the kill, at most one per connection, may
// come twice, and then under the same Message-ID.
func TestProcess_SIGKILLThenRestartFinishes(t *testing.T) {
	bin := buildTidings(t)
	const subscribers = 60
	sink := newSlowSink(t, 100*time.Millisecond)
	cfg, env, tidings := processSite(t, bin, sink)
	importReaders(t, tidings, subscribers)

	first := startTidings(t, bin, env, "digest", "send", "daily")
	sink.waitCount(t, 10, 10*time.Second)
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.done
	_, atKill := ledgerState(t, cfg)
	if atKill[tmail.DeliverySending] == 0 {
		t.Fatalf("no claim left at the kill (%v): the test proves nothing", atKill)
	}

	restart := time.Now()
	srv := startTidings(t, bin, env, "serve")
	srv.logged(t, regexp.MustCompile(`msg=serving .*url=(http://\S+)`), 10*time.Second)
	deadline := restart.Add(30 * time.Second)
	for {
		_, c := ledgerState(t, cfg)
		if c[tmail.DeliverySent] == subscribers {
			t.Logf("at the kill %v; the edition finished %v after the restart", atKill, time.Since(restart).Round(100*time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("30 s after the restart the edition stands at %v", c)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	srv.exitsCleanly(t, 10*time.Second)

	all := sink.settled(t)
	per := map[string][]slowMsg{}
	for _, m := range all.msgs {
		per[m.To[0]] = append(per[m.To[0]], m)
	}
	if len(per) != subscribers {
		t.Errorf("%d subscribers got mail, want %d", len(per), subscribers)
	}
	dups := 0
	for rcpt, ms := range per {
		for _, m := range ms[1:] {
			dups++
			if m.MessageID != ms[0].MessageID {
				t.Errorf("%s got a second copy under another Message-ID", rcpt)
			}
		}
	}
	if dups > 2 {
		t.Errorf("%d messages came twice; at most one per connection (2) may be in doubt at a kill", dups)
	}
}
