package mailbox

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tidings/tidings/mail/inbound/mailbox/dovecottest"
)

func msg(subject string, extra int) []byte {
	return []byte("From: mailer-daemon@example.net\r\nTo: bounces+x@in.example.org\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", "-") + "@example.net>\r\n\r\n" + strings.Repeat("x", extra) + "body\r\n")
}

// handler answers by subject: "keep" ones are Kept, the rest Handled;
// it records what it saw.
type handler struct {
	mu   sync.Mutex
	seen []string
	fail error // returned once, then cleared
}

func (h *handler) handle(_ context.Context, raw []byte) (Verdict, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.fail != nil {
		err := h.fail
		h.fail = nil
		return Handled, err
	}
	i := bytes.Index(raw, []byte("Subject: "))
	subj := string(raw[i+9 : i+9+bytes.IndexByte(raw[i+9:], '\r')])
	h.seen = append(h.seen, subj)
	if strings.HasPrefix(subj, "keep") {
		return Kept, nil
	}
	return Handled, nil
}

func poller(s *dovecottest.Server, h *handler) *Poller {
	return &Poller{Addr: s.Addr, TLS: "none", Username: s.User, Password: s.Password, Handle: h.handle, Timeout: 10 * time.Second}
}

func subjects(ms []dovecottest.Message) []string {
	var out []string
	for _, m := range ms {
		i := strings.Index(m.Body, "Subject: ")
		out = append(out, m.Body[i+9:i+9+strings.IndexByte(m.Body[i+9:], '\r')])
	}
	return out
}

// Handled mail goes to the processed folder, kept (unmatched) mail stays
// unread with the keyword, a message past the size limit is never
// downloaded and stays too; the next poll looks at none of them again.
func TestPoller_MovesHandledKeepsUnmatched(t *testing.T) {
	s := dovecottest.Start(t)
	for _, m := range [][]byte{msg("bounce one", 0), msg("keep human reply", 0), msg("huge", 200<<10), msg("bounce two", 0)} {
		s.Append(t, "INBOX", m)
	}
	h := &handler{}
	p := poller(s, h)
	p.ProcessedFolder, p.MaxBytes = "Processed", 100<<10
	r, err := p.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r != (Report{Handled: 2, Kept: 1, TooLarge: 1}) {
		t.Errorf("report %+v", r)
	}
	if got := strings.Join(h.seen, ","); got != "bounce one,keep human reply,bounce two" {
		t.Errorf("handled %s, want oldest first and never the huge one", got)
	}
	inbox := s.Folder(t, "INBOX")
	if got := strings.Join(subjects(inbox), ","); got != "keep human reply,huge" {
		t.Errorf("INBOX holds %s", got)
	}
	for _, m := range inbox {
		if !m.Has(Keyword) || m.Has(`\Seen`) || m.Has(`\Deleted`) {
			t.Errorf("kept message flagged %v, want %s and unread", m.Flags, Keyword)
		}
	}
	if got := strings.Join(subjects(s.Folder(t, "Processed")), ","); got != "bounce one,bounce two" {
		t.Errorf("Processed holds %s", got)
	}
	// A fresh poller (a restart) passes them by too: the keyword says so.
	h2 := &handler{}
	p2 := poller(s, h2)
	p2.ProcessedFolder, p2.MaxBytes = "Processed", 100<<10
	if r, err := p2.Poll(context.Background()); err != nil || r != (Report{}) || len(h2.seen) != 0 {
		t.Errorf("second poll: %+v, %v, saw %v", r, err, h2.seen)
	}
}

// Without a processed folder, handled mail stays, flagged \Seen and the
// keyword; a message the callback could not take (the database was
// busy) is left untouched and taken on the next poll.
func TestPoller_FlagsAndRetries(t *testing.T) {
	s := dovecottest.Start(t)
	s.Append(t, "INBOX", msg("bounce one", 0))
	s.Append(t, "INBOX", msg("bounce two", 0))
	h := &handler{fail: errors.New("database is locked")}
	p := poller(s, h)
	_, err := p.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "left in \"INBOX\" for the next poll") || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("poll with a busy database: %v", err)
	}
	for _, m := range s.Folder(t, "INBOX") {
		if len(m.Flags) != 0 {
			t.Errorf("after the failed poll a message is flagged %v", m.Flags)
		}
	}
	if r, err := p.Poll(context.Background()); err != nil || r.Handled != 2 {
		t.Fatalf("next poll: %+v, %v", r, err)
	}
	inbox := s.Folder(t, "INBOX")
	if len(inbox) != 2 {
		t.Fatalf("INBOX holds %d messages, want both still there", len(inbox))
	}
	for _, m := range inbox {
		if !m.Has(`\Seen`) || !m.Has(Keyword) || m.Has(`\Deleted`) {
			t.Errorf("handled message flagged %v, want \\Seen and %s", m.Flags, Keyword)
		}
	}
}

// A 50 MB message is skipped by the size the server reports: the
// callback never sees it, it stays in the folder, and a log line says so.
func TestPoller_SkipsFiftyMegabytes(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 50 MB")
	}
	s := dovecottest.Start(t)
	s.Append(t, "INBOX", msg("huge", 50<<20))
	var logs bytes.Buffer
	h := &handler{}
	p := poller(s, h)
	p.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	start := time.Now()
	r, err := p.Poll(context.Background())
	if err != nil || r != (Report{TooLarge: 1}) || len(h.seen) != 0 {
		t.Fatalf("poll: %+v, %v, saw %v", r, err, h.seen)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("skipping took %v: was it downloaded?", d)
	}
	if !strings.Contains(logs.String(), "imap message too large") || !strings.Contains(logs.String(), "max_bytes=10485760") {
		t.Errorf("log: %s", logs.String())
	}
	if inbox := s.Folder(t, "INBOX"); len(inbox) != 1 || len(inbox[0].Body) < 50<<20 {
		t.Errorf("the big message is not left in INBOX whole")
	}
}

// What goes wrong on the way in says what it was, naming the server,
// the user or the folder.
func TestPoller_BadInput(t *testing.T) {
	s := dovecottest.Start(t)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := dead.Addr().String()
	dead.Close()
	for _, tt := range []struct {
		name  string
		setup func(p *Poller)
		want  []string
	}{
		{"server down", func(p *Poller) { p.Addr = deadAddr }, []string{"connect to imap server " + deadAddr}},
		{"missing folder", func(p *Poller) { p.Folder = "Bounces" }, []string{`select folder "Bounces" of bounces`}},
		{"certificate not trusted", func(p *Poller) { p.Addr, p.TLS = s.TLSAddr, "implicit" }, []string{"connect to imap server", "certificate"}},
		{"unknown tls", func(p *Poller) { p.TLS = "ssl" }, []string{`imap tls "ssl"`}},
		{"no password", func(p *Poller) { p.Password, p.NoPassword = "", "set IMAP_PW" }, []string{`no password for "bounces": set IMAP_PW`}},
		// Last: Dovecot slows the logins from an address after a failed one.
		{"wrong password", func(p *Poller) { p.Password = "wrong" }, []string{"log in to " + s.Addr + ` as "bounces"`, "Authentication failed"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := poller(s, &handler{})
			tt.setup(p)
			_, err := p.Poll(context.Background())
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// Both ways of TLS reach the server when its certificate is trusted.
func TestPoller_TLS(t *testing.T) {
	s := dovecottest.Start(t)
	s.Append(t, "INBOX", msg("bounce", 0))
	for _, tt := range []struct{ mode, addr string }{{"implicit", s.TLSAddr}, {"starttls", s.Addr}} {
		t.Run(tt.mode, func(t *testing.T) {
			h := &handler{}
			p := poller(s, h)
			p.Addr, p.TLS, p.TLSConfig = tt.addr, tt.mode, s.TLSConfig()
			if _, err := p.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Run goes on after failures, waiting longer each time, and stops when
// its context ends.
func TestPoller_RunKeepsGoing(t *testing.T) {
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := dead.Addr().String()
	dead.Close()
	var mu sync.Mutex
	var polls []error
	p := &Poller{Addr: addr, TLS: "none", Username: "u", Password: "p", Every: 10 * time.Millisecond,
		Handle: (&handler{}).handle, Polled: func(_ Report, err error) { mu.Lock(); polls = append(polls, err); mu.Unlock() }}
	var logs syncBuffer
	p.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(polls)
		mu.Unlock()
		if n >= 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d polls in 5s", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	out := logs.String()
	for _, w := range []string{"imap poll failed; trying again later", "failures_in_a_row=3", "next_try_in=80ms", "addr=" + addr} {
		if !strings.Contains(out, w) {
			t.Errorf("log does not say %q:\n%s", w, out)
		}
	}
}

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		every time.Duration
		fails int
		want  time.Duration
	}{
		{time.Minute, 1, 2 * time.Minute},
		{time.Minute, 3, 8 * time.Minute},
		{time.Minute, 10, time.Hour},
		{time.Minute, 1000, time.Hour},
		{2 * time.Hour, 1, 2 * time.Hour},
	} {
		if got := backoff(tt.every, tt.fails); got != tt.want {
			t.Errorf("backoff(%v, %d) = %v, want %v", tt.every, tt.fails, got, tt.want)
		}
	}
}

func TestClearTextAllowed(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:143": true, "[::1]:143": true, "localhost:143": true, "127.5.5.5:143": true,
		"imap.example.org:143": false, "192.0.2.1:143": false, "[2001:db8::1]:143": false, "10.0.0.1:143": false, "": false,
	} {
		if got := ClearTextAllowed(addr); got != want {
			t.Errorf("ClearTextAllowed(%q) = %v, want %v", addr, got, want)
		}
	}
}

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

// A poll stopped half-way (serve shutting down while a message is being
// heard) leaves that message untouched and no goroutine behind; Run
// stops as promptly.
func TestPoller_StopsMidPoll(t *testing.T) {
	s := dovecottest.Start(t)
	s.Append(t, "INBOX", msg("bounce one", 0))
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	hearing := make(chan struct{})
	p := poller(s, nil)
	p.Handle = func(ctx context.Context, _ []byte) (Verdict, error) {
		close(hearing)
		<-ctx.Done()
		return Handled, ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	<-hearing
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
	if inbox := s.Folder(t, "INBOX"); len(inbox) != 1 || len(inbox[0].Flags) != 0 {
		t.Errorf("the message being heard is not left as it was: %+v", inbox)
	}
}
