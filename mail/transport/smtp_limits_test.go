package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitUntil polls cond; it fails the test after a long while rather than
// hanging. No assertion depends on how long anything took.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); runtime.Gosched() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSMTP_RateLimitIsSharedByAllConnections(t *testing.T) {
	srv := startServer(t, serverOpts{})
	// One message per 1000 seconds: after the first, every Send must wait.
	tr := newTestSMTP(t, srv, SMTPConfig{Connections: 4, Rate: 0.001})
	if err := tr.Send(t.Context(), simpleMessage("first@example.com")); err != nil {
		t.Fatal(err)
	}

	// A deadline the next token cannot meet fails at once, without sending.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	err := tr.Send(ctx, simpleMessage("late@example.com"))
	cancel()
	if err == nil || IsPermanent(err) {
		t.Fatalf("err = %v, want a temporary rate-limit error", err)
	}

	// Three Sends, on three other connections, all queue on the one limiter
	// (each holds a reservation: tokens go to -3) until cancelled.
	ctx, cancel = context.WithCancel(t.Context())
	errs := make(chan error, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() { errs <- tr.Send(ctx, simpleMessage(fmt.Sprintf("w%d@example.com", i))) })
	}
	waitUntil(t, "three Sends waiting on the limiter", func() bool { return tr.limiter.Tokens() < -2 })
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	}
	if _, _, msgs := srv.stats(); len(msgs) != 1 {
		t.Errorf("%d messages received, want only the first", len(msgs))
	}
}

func TestSMTP_ContextStopsWaitingForAConnection(t *testing.T) {
	hold := make(chan struct{})
	srv := startServer(t, serverOpts{hold: hold})
	tr := newTestSMTP(t, srv, SMTPConfig{Connections: 1})

	first := make(chan error, 1)
	go func() { first <- tr.Send(context.Background(), simpleMessage("first@example.com")) }()
	waitUntil(t, "the first message in DATA", func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.inData == 1
	})

	// The only connection is busy: this Send waits for it until its context ends.
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := tr.Send(ctx, simpleMessage("second@example.com")); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want context.DeadlineExceeded", err)
	}
	close(hold)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if sessions, _, msgs := srv.stats(); sessions != 1 || len(msgs) != 1 {
		t.Errorf("%d sessions, %d messages; want 1, 1", sessions, len(msgs))
	}
}

func TestSMTP_ContextCancelsTransaction(t *testing.T) {
	hold := make(chan struct{})
	srv := startServer(t, serverOpts{hold: hold})
	tr := newTestSMTP(t, srv, SMTPConfig{})

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- tr.Send(ctx, simpleMessage("stuck@example.com")) }()
	waitUntil(t, "the message in DATA", func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.inData == 1
	})
	cancel() // the server still holds DATA: only closing the socket ends the wait
	if err := <-done; !errors.Is(err, context.Canceled) || IsPermanent(err) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	close(hold)

	if err := tr.Send(t.Context(), simpleMessage("next@example.com")); err != nil {
		t.Fatal(err)
	}
	// Whether the server kept "stuck" depends on how much of it was written
	// before the socket closed: such a message is in doubt, which is why
	// callers retry with the same Message-ID.
	sessions, _, msgs := srv.stats()
	counts := byRecipient(msgs)
	if sessions != 2 || counts["next@example.com"] != 1 || msgs[len(msgs)-1].session != 2 || counts["stuck@example.com"] > 1 {
		t.Errorf("%d sessions, messages %v; want next@ once on a new session", sessions, counts)
	}
}

func TestSMTP_Close(t *testing.T) {
	srv := startServer(t, serverOpts{})
	tr := newTestSMTP(t, srv, SMTPConfig{Connections: 2, Rate: 0.001})
	if err := tr.Send(t.Context(), simpleMessage("a@example.com")); err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 1)
	go func() { waiting <- tr.Send(context.Background(), simpleMessage("b@example.com")) }()
	waitUntil(t, "a Send waiting on the limiter", func() bool { return tr.limiter.Tokens() < 0 })

	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-waiting; !errors.Is(err, ErrClosed) {
		t.Errorf("waiting Send: %v, want ErrClosed", err)
	}
	if err := tr.Send(t.Context(), simpleMessage("c@example.com")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: %v, want ErrClosed", err)
	}
	srv.waitFor("the connection closed by QUIT", func() bool { return len(srv.open) == 0 })
	if err := tr.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestNewSMTP_RejectsBadConfig(t *testing.T) {
	tests := []SMTPConfig{
		{},
		{Host: "mx.example.org", TLS: "ssl"},
		{Host: "mx.example.org", Port: 70000},
		{Host: "mx.example.org", Connections: -1},
		{Host: "mx.example.org", Rate: -1},
	}
	for _, cfg := range tests {
		if _, err := NewSMTP(cfg); err == nil {
			t.Errorf("NewSMTP(%+v) accepted it", cfg)
		}
	}
}

func TestSMTP_TimeoutBoundsTheTransaction(t *testing.T) {
	tests := []struct {
		name    string
		opts    serverOpts
		timeout time.Duration
	}{
		// The server never answers the final dot.
		{"no reply after the message", serverOpts{hold: make(chan struct{})}, 200 * time.Millisecond},
		// Each reply is in time on its own; together they are not. The
		// timeout is the bound of the transaction, not of each command.
		{"slow replies add up", serverOpts{slow: 600 * time.Millisecond}, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, tt.opts)
			if tt.opts.hold != nil {
				t.Cleanup(func() { close(tt.opts.hold) }) // before the server closes
			}
			tr := newTestSMTP(t, srv, SMTPConfig{Timeout: tt.timeout})
			done := make(chan error, 1)
			go func() { done <- tr.Send(context.Background(), simpleMessage("slow@example.com")) }()
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("Send outlived its timeout by far")
			}
			var se *SendError
			if !errors.Is(err, os.ErrDeadlineExceeded) || IsPermanent(err) || errors.As(err, &se) {
				t.Fatalf("err = %v, want a temporary deadline error", err)
			}
			// The whole message was written: in doubt, not tried again here.
			if sessions, _, _ := srv.stats(); sessions != 1 {
				t.Errorf("%d sessions, want 1: a message that may have been accepted is not resent at once", sessions)
			}
		})
	}
}

func TestSMTP_LogsRedials(t *testing.T) {
	srv := startServer(t, serverOpts{})
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	tr := newTestSMTP(t, srv, SMTPConfig{Logger: logger})
	for i := range 2 {
		if err := tr.Send(t.Context(), simpleMessage(fmt.Sprintf("r%d@example.com", i))); err != nil {
			t.Fatal(err)
		}
		srv.dropAll()
	}
	mu.Lock()
	defer mu.Unlock()
	addr := fmt.Sprintf("smtp_server=127.0.0.1:%d", srv.port)
	for _, want := range []string{"smtp connection opened", "smtp connection dropped, redialling", addr} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log has no %q:\n%s", want, logs.String())
		}
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Several senders sending one list split its rate: Share(n) leaves each a
// 1/n part, and Share(1) (or less) gives back the whole.
func TestSMTP_ShareSplitsTheRate(t *testing.T) {
	srv := startServer(t, serverOpts{})
	tr := newTestSMTP(t, srv, SMTPConfig{Connections: 1, Rate: 12})
	for _, c := range []struct {
		n    int
		want float64
	}{{3, 4}, {1, 12}, {0, 12}, {4, 3}} {
		tr.Share(c.n)
		if got := float64(tr.limiter.Limit()); got != c.want {
			t.Errorf("Share(%d): %v a second, want %v", c.n, got, c.want)
		}
	}
	free := newTestSMTP(t, srv, SMTPConfig{Connections: 1})
	free.Share(3) // no rate: nothing to split, and no panic
	if free.limiter != nil {
		t.Error("a transport without a rate got a limiter")
	}
}
