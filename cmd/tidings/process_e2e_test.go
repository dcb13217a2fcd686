package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	tmail "github.com/tidings/tidings/mail"
)

// The test here runs the real binary as its own process and stop it with a
// real SIGTERM: the signal handling in main and the exit it leads to are
// what an operator (or systemd) meets, and no in-process test reaches them.

// TestProcess_SIGTERMMidEdition stops digest send in the middle of an
// edition. The transactions in flight must finish and be recorded, no new
// one may begin, nothing may be marked sent that the server did not get,
// and a second run must finish the edition so that everyone has exactly
// one copy (a copy in doubt may come twice, with the same Message-ID).
// Then serve runs on the same database and stops as promptly.
func TestProcess_SIGTERMMidEdition(t *testing.T) {
	bin := buildTidings(t)
	const subscribers = 60
	// Two connections at 100 ms a message: the edition takes about three
	// seconds, so the signal lands well inside it.
	sink := newSlowSink(t, 100*time.Millisecond)

	cfg, env, tidings := processSite(t, bin, sink)
	importReaders(t, tidings, subscribers)

	// First run: SIGTERM after ten messages, while the server holds one.
	first := startTidings(t, bin, env, "digest", "send", "daily")
	sink.waitCount(t, 10, 10*time.Second)
	sink.waitHolding(t, 5*time.Second)
	sigAt := time.Now()
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// Interrupted with most of the edition unsent: 75, "not done yet".
	first.exitsCleanly(t, 5*time.Second, exitPending)
	if out := first.output(); !strings.Contains(out, "still to send") {
		t.Errorf("digest send interrupted does not say what is left:\n%s", out)
	}
	got := sink.settled(t)
	inFlight := got.inFlightAt(sigAt)
	t.Logf("first run: %d accepted, %d of them in flight at SIGTERM, %d aborted", len(got.msgs), inFlight, got.aborted)
	if inFlight == 0 {
		t.Errorf("no message in flight at SIGTERM was accepted; the one the server held was lost")
	}
	if got.aborted > 0 {
		t.Errorf("%d SMTP transactions were cut short at SIGTERM; in-flight sends should finish", got.aborted)
	}
	// A transaction begun just after the signal may be one the process
	// had composed before it saw the signal; one begun a second later,
	// after the 100 ms sends in flight are long done, is new work. The
	// margin is wide so that a busy machine does not fail the test.
	if late := got.begunAfter(sigAt.Add(time.Second)); late > 0 {
		t.Errorf("%d SMTP transactions began more than 1s after SIGTERM", late)
	}

	// The ledger: nothing left in doubt, nothing marked sent that the
	// server did not get, and everything it got marked sent.
	sent, counts := ledgerState(t, cfg)
	if counts[tmail.DeliverySent] == subscribers {
		t.Fatalf("the edition finished before SIGTERM (%v); the test proves nothing", counts)
	}
	if counts[tmail.DeliverySending] != 0 || counts[tmail.DeliveryFailed] != 0 {
		t.Errorf("after a graceful stop: %v, want no sending or failed rows", counts)
	}
	byID := map[string]slowMsg{}
	for _, m := range got.msgs {
		byID[m.MessageID] = m
	}
	marked := map[string]bool{}
	for _, d := range sent {
		marked[d.MessageID] = true
		m, ok := byID[d.MessageID]
		if !ok {
			t.Errorf("delivery %d to %s is marked sent, but the server never got %s", d.ID, d.Email, d.MessageID)
		} else if len(m.To) != 1 || m.To[0] != d.Email {
			t.Errorf("message %s went to %v, the ledger says %s", d.MessageID, m.To, d.Email)
		}
	}
	for _, m := range got.msgs {
		if !marked[m.MessageID] {
			t.Errorf("the server accepted %s for %v, but the ledger does not mark it sent", m.MessageID, m.To)
		}
	}

	// Second run finishes the edition.
	out := tidings(0, "digest", "send", "daily")
	if !strings.Contains(out, "no new articles; no edition") || !strings.Contains(out, fmt.Sprintf("sent %d, failed 0", subscribers-len(sent))) {
		t.Errorf("second digest send:\n%s", out)
	}
	if out := tidings(0, "editions", "show", "1"); !strings.Contains(out, fmt.Sprintf("Deliveries: sent %d, queued 0, sending 0, failed 0, skipped 0", subscribers)) {
		t.Errorf("editions show 1:\n%s", out)
	}
	all := sink.settled(t)
	perRcpt := map[string][]slowMsg{}
	for _, m := range all.msgs {
		if len(m.To) != 1 {
			t.Errorf("message %s has recipients %v", m.MessageID, m.To)
			continue
		}
		perRcpt[m.To[0]] = append(perRcpt[m.To[0]], m)
	}
	if len(perRcpt) != subscribers {
		t.Errorf("%d subscribers got mail, want %d", len(perRcpt), subscribers)
	}
	owner := map[string]string{}
	dups := 0
	for rcpt, ms := range perRcpt {
		if prev, ok := owner[ms[0].MessageID]; ok {
			t.Errorf("%s and %s got the same Message-ID %s", prev, rcpt, ms[0].MessageID)
		}
		owner[ms[0].MessageID] = rcpt
		for _, m := range ms[1:] {
			dups++
			if m.MessageID != ms[0].MessageID {
				t.Errorf("%s got a second copy with another Message-ID: %s, then %s", rcpt, ms[0].MessageID, m.MessageID)
			}
			if !(ms[0].Begun.Before(sigAt) && ms[0].Accepted.After(sigAt)) {
				t.Errorf("%s got two copies, though the first was not in flight at SIGTERM", rcpt)
			}
		}
	}
	t.Logf("after the second run: %d messages to %d subscribers, %d duplicates", len(all.msgs), len(perRcpt), dups)

	// serve on the same database answers over HTTP and stops at SIGTERM.
	srv := startTidings(t, bin, env, "serve")
	base := srv.logged(t, regexp.MustCompile(`msg=serving .*url=(http://\S+)`), 10*time.Second)
	client := &http.Client{Timeout: 5 * time.Second}
	for path, want := range map[string]string{"/": "Ferry returns", "/feed.xml": "<rss"} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s: %d, body without %q:\n%.300s", path, resp.StatusCode, want, body)
		}
	}
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	srv.exitsCleanly(t, 5*time.Second)
	if !strings.Contains(srv.output(), "msg=stopped") {
		t.Errorf("serve did not log its stop:\n%s", srv.output())
	}
	if n := sink.count(); n != len(all.msgs) {
		t.Errorf("serve sent %d more messages for a finished edition", n-len(all.msgs))
	}
}

// processSite writes a site with two articles and a config that sends
// through sink, and returns the config's path, the environment pointing
// at it and a way to run the binary to completion with it.
func processSite(t *testing.T, bin string, sink *slowSink) (cfg string, env []string, tidings func(want int, args ...string) string) {
	t.Helper()
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	writeFile(t, content, "bridge.md", "---\ntitle: Bridge opens\ndate: 2026-01-20 08:30\n---\n\nThe new bridge opened on Friday.\n")
	writeFile(t, content, "ferry.md", "---\ntitle: Ferry returns\ndate: 2026-01-21 08:30\n---\n\nThe ferry is back.\n")
	cfg = writeFile(t, dir, "tidings.toml", fmt.Sprintf(`
[site]
title = "The Harbour Gazette"
base_url = "http://127.0.0.1:8080"
email = "news@gazette.example.org"
[database]
path = %q
[content]
dirs = [%q]
[feeds]
output_dir = %q
[http]
listen = "127.0.0.1:0"
[smtp]
host = "127.0.0.1"
port = %d
tls = "none"
connections = 2
outbox_dir = %q
[[digests]]
name = "daily"
schedule = "0 7 * * *"
max_articles = 20
`, filepath.Join(dir, "data", "t.db"), content, filepath.Join(dir, "public"), sink.Addr.Port, filepath.Join(dir, "outbox")))
	env = append(os.Environ(), "TIDINGS_CONFIG="+cfg)
	tidings = func(want int, args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if cmd.ProcessState == nil {
			t.Fatalf("tidings %s: %v", strings.Join(args, " "), err)
		}
		if code := cmd.ProcessState.ExitCode(); code != want {
			t.Fatalf("tidings %s exited %d (%v), want %d:\n%s", strings.Join(args, " "), code, err, want, out)
		}
		return string(out)
	}
	return cfg, env, tidings
}

// importReaders ingests the site and adds n confirmed readers of daily.
func importReaders(t *testing.T, tidings func(want int, args ...string) string, n int) {
	t.Helper()
	tidings(0, "ingest")
	var csv strings.Builder
	csv.WriteString("email,name,digests\n")
	for i := range n {
		fmt.Fprintf(&csv, "reader%02d@example.org,Reader %d,daily\n", i, i)
	}
	if out := tidings(0, "subscribers", "import", "--confirmed", writeFile(t, t.TempDir(), "list.csv", csv.String())); !strings.Contains(out, fmt.Sprintf("added %d", n)) {
		t.Fatalf("import: %s", out)
	}
}

// buildTidings builds the binary once per test into a temp folder.
func buildTidings(t testing.TB) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH; cannot build the binary")
	}
	bin := filepath.Join(t.TempDir(), "tidings")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// No VCS stamp: it needs git, and the version does not matter here.
	cmd := exec.CommandContext(ctx, goBin, "build", "-buildvcs=false", "-o", bin, "./cmd/tidings")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// child is a tidings process the test started; Cleanup kills it if the
// test ends first.
type child struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed when Wait returned
	err  error         // Wait's error, read after done
}

func startTidings(t *testing.T, bin string, env []string, args ...string) *child {
	t.Helper()
	c := &child{cmd: exec.Command(bin, args...), out: &syncBuffer{}, done: make(chan struct{})}
	c.cmd.Env = env
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	return c
}

func (c *child) output() string { return c.out.String() }

// exitsCleanly waits for the process to exit by itself with status 0, or
// with status want when given.
func (c *child) exitsCleanly(t *testing.T, within time.Duration, want ...int) {
	t.Helper()
	start := time.Now()
	select {
	case <-c.done:
	case <-time.After(within):
		c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("tidings %s still running %v after SIGTERM; killed:\n%s", strings.Join(c.cmd.Args[1:], " "), within, c.output())
	}
	t.Logf("tidings %s exited %v after SIGTERM: %v", strings.Join(c.cmd.Args[1:], " "), time.Since(start).Round(time.Millisecond), c.cmd.ProcessState)
	var exit *exec.ExitError
	if c.err != nil && !errors.As(c.err, &exit) {
		t.Fatal(c.err)
	}
	code := 0
	if len(want) > 0 {
		code = want[0]
	}
	if st := c.cmd.ProcessState; !st.Exited() || st.ExitCode() != code {
		t.Errorf("tidings %s: %v, want exit status %d:\n%s", strings.Join(c.cmd.Args[1:], " "), st, code, c.output())
	}
	if out := c.output(); strings.Contains(out, "panic:") || strings.Contains(out, "DATA RACE") {
		t.Errorf("tidings %s:\n%s", strings.Join(c.cmd.Args[1:], " "), out)
	}
}

// logged waits for a line of the process's output to match re and returns
// the first submatch.
func (c *child) logged(t *testing.T, re *regexp.Regexp, within time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(c.output()); m != nil {
			return m[1]
		}
		select {
		case <-c.done:
			t.Fatalf("tidings %s exited (%v) before logging %s:\n%s", strings.Join(c.cmd.Args[1:], " "), c.err, re, c.output())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("tidings %s did not log %s within %v:\n%s", strings.Join(c.cmd.Args[1:], " "), re, within, c.output())
	return ""
}

// syncBuffer is a bytes.Buffer the process's output can be copied into
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ledgerState reads edition 1's sent deliveries and its counts by state
// from the database, as tidings editions show does.
func ledgerState(t *testing.T, cfgPath string) ([]tmail.Delivery, map[string]int) {
	t.Helper()
	cfg, err := LoadConfig(cfgPath, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	app, err := NewApp(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer app.Close()
	sent, err := app.Ledger.Deliveries(ctx, 1, tmail.DeliverySent)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := app.Ledger.Counts(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	return sent, counts
}

// slowSink is a real SMTP server that takes delay over each DATA before it
// accepts, so that an edition takes long enough to be interrupted. It
// notes when each transaction began and was accepted, and counts those
// the client abandoned.
type slowSink struct {
	delay time.Duration
	Addr  *net.TCPAddr

	mu      sync.Mutex
	msgs    []slowMsg
	begun   []time.Time // every MAIL FROM
	holding int         // DATA received and not yet answered
	aborted int         // transactions ended without a completed DATA
}

type slowMsg struct {
	received
	MessageID       string
	Begun, Accepted time.Time
}

func newSlowSink(t *testing.T, delay time.Duration) *slowSink {
	t.Helper()
	sink := &slowSink{delay: delay}
	sink.Addr = serveSMTP(t, sink)
	return sink
}

func (s *slowSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

func (s *slowSink) waitCount(t *testing.T, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for s.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d messages arrived within %v", s.count(), n, within)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// settled returns what the sink recorded once it holds no message, so
// that a message the client gave up on while the sink held it counts.
func (s *slowSink) settled(t *testing.T) sinkSnapshot {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s.mu.Lock()
		if s.holding == 0 {
			defer s.mu.Unlock()
			return sinkSnapshot{msgs: append([]slowMsg(nil), s.msgs...), begun: append([]time.Time(nil), s.begun...), aborted: s.aborted}
		}
		s.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatal("the sink still holds a message after 5s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitHolding waits until the sink holds a message it has not answered
// yet: a transaction surely in flight.
func (s *slowSink) waitHolding(t *testing.T, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		s.mu.Lock()
		n := s.holding
		s.mu.Unlock()
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no message in flight within %v", within)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// sinkSnapshot is a copy of what the sink recorded.
type sinkSnapshot struct {
	msgs    []slowMsg
	begun   []time.Time
	aborted int
}

// inFlightAt counts the messages begun before at and accepted after it.
func (ss sinkSnapshot) inFlightAt(at time.Time) int {
	n := 0
	for _, m := range ss.msgs {
		if m.Begun.Before(at) && m.Accepted.After(at) {
			n++
		}
	}
	return n
}

// begunAfter counts the transactions begun after at.
func (ss sinkSnapshot) begunAfter(at time.Time) int {
	n := 0
	for _, b := range ss.begun {
		if b.After(at) {
			n++
		}
	}
	return n
}

func (s *slowSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &slowSession{sink: s}, nil }

type slowSession struct {
	sink *slowSink
	msg  slowMsg
	inTx bool
}

func (ss *slowSession) Mail(from string, _ *smtp.MailOptions) error {
	now := time.Now()
	ss.sink.mu.Lock()
	ss.sink.begun = append(ss.sink.begun, now)
	ss.sink.mu.Unlock()
	ss.msg = slowMsg{received: received{From: from}, Begun: now}
	ss.inTx = true
	return nil
}

func (ss *slowSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *slowSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.sink.mu.Lock()
	ss.sink.holding++
	ss.sink.mu.Unlock()
	time.Sleep(ss.sink.delay)
	ss.sink.mu.Lock()
	ss.sink.holding--
	ss.sink.mu.Unlock()
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "message does not parse: " + err.Error()}
	}
	ss.msg.Data = b
	ss.msg.MessageID = m.Header.Get("Message-ID")
	ss.msg.Accepted = time.Now()
	ss.sink.mu.Lock()
	ss.sink.msgs = append(ss.sink.msgs, ss.msg)
	ss.sink.mu.Unlock()
	ss.inTx = false
	return nil
}

func (ss *slowSession) Reset() { ss.abandon() }

func (ss *slowSession) Logout() error {
	ss.abandon()
	return nil
}

// abandon counts a transaction that ended before its DATA was accepted.
func (ss *slowSession) abandon() {
	if ss.inTx {
		ss.sink.mu.Lock()
		ss.sink.aborted++
		ss.sink.mu.Unlock()
	}
	ss.inTx = false
	ss.msg = slowMsg{}
}
