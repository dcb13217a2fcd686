package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

func simpleMessage(to string) *Message {
	return &Message{From: mail.Address{Name: "News", Address: "news@example.org"},
		To: mail.Address{Address: to}, Subject: "Hello " + to, Text: "Hello " + to + "\n"}
}

// byRecipient counts the received messages per RCPT address.
func byRecipient(msgs []received) map[string]int {
	out := map[string]int{}
	for _, m := range msgs {
		for _, to := range m.to {
			out[to]++
		}
	}
	return out
}

func TestSMTP_DeliversMessage(t *testing.T) {
	srv := startServer(t, serverOpts{})
	d := testDKIMs(t)["rsa"]
	tr := newTestSMTP(t, srv, SMTPConfig{DKIM: d})
	m := listMessage()
	m.MessageID = "<edition-7.reader-42@example.org>"
	if err := tr.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	_, _, msgs := srv.stats()
	if len(msgs) != 1 {
		t.Fatalf("%d messages received, want 1", len(msgs))
	}
	got := msgs[0]
	if got.from != "news@example.org" || len(got.to) != 1 || got.to[0] != "jane@example.com" {
		t.Errorf("envelope MAIL FROM %q RCPT TO %q", got.from, got.to)
	}
	want, _, err := m.render(nil, fixedDate())
	if err != nil {
		t.Fatal(err)
	}
	p := parseMessage(t, got.data)
	if p.subject != m.Subject || p.header.Get("Message-ID") != m.MessageID {
		t.Errorf("subject %q, Message-ID %q", p.subject, p.header.Get("Message-ID"))
	}
	if p.text != strings.ReplaceAll(m.Text, "\n", "\r\n") || p.html != strings.ReplaceAll(m.HTML, "\n", "\r\n") {
		t.Errorf("parts changed in transit:\n%q\n%q", p.text, p.html)
	}
	for _, kv := range m.Headers {
		if p.header.Get(kv[0]) != kv[1] {
			t.Errorf("%s = %q, want %q", kv[0], p.header.Get(kv[0]), kv[1])
		}
	}
	if len(got.data) < len(want) {
		t.Errorf("received %d bytes, the unsigned message alone has %d", len(got.data), len(want))
	}
	verifyDKIM(t, got.data, d) // the bytes arrived exactly as signed
}

func TestSMTP_DKIMSurvivesTransit(t *testing.T) {
	srv := startServer(t, serverOpts{})
	for name, d := range testDKIMs(t) {
		t.Run(name, func(t *testing.T) {
			tr := newTestSMTP(t, srv, SMTPConfig{DKIM: d})
			m := listMessage()
			m.To.Address = name + "@example.com"
			if err := tr.Send(t.Context(), m); err != nil {
				t.Fatal(err)
			}
			_, _, msgs := srv.stats()
			last := msgs[len(msgs)-1]
			if last.to[0] != m.To.Address {
				t.Fatalf("last message went to %v", last.to)
			}
			verifyDKIM(t, last.data, d)
		})
	}
}

func TestSMTP_PoolUsesConnectionsConcurrentlyAndReusesThem(t *testing.T) {
	const conns = 3
	srv := startServer(t, serverOpts{barrier: conns})
	tr := newTestSMTP(t, srv, SMTPConfig{Connections: conns})

	// The server holds each DATA until three are in progress at once: only
	// three connections really working side by side get past it.
	send := func(n, workers int, prefix string) {
		var wg sync.WaitGroup
		jobs := make(chan int)
		for range workers {
			wg.Go(func() {
				for i := range jobs {
					if err := tr.Send(t.Context(), simpleMessage(fmt.Sprintf("%s%d@example.com", prefix, i))); err != nil {
						t.Error(err)
					}
				}
			})
		}
		for i := range n {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
	}
	send(conns, conns, "first")
	if sessions, _, _ := srv.stats(); sessions != conns {
		t.Fatalf("%d sessions for the first %d concurrent messages, want %d", sessions, conns, conns)
	}

	send(60, 8, "more")
	sessions, open, msgs := srv.stats()
	if sessions != conns || open != conns {
		t.Errorf("%d sessions (%d open) after 63 messages, want the same %d reused", sessions, open, conns)
	}
	counts := byRecipient(msgs)
	if len(msgs) != 63 || len(counts) != 63 {
		t.Fatalf("%d messages to %d recipients, want 63 each once", len(msgs), len(counts))
	}
	perSession := map[int]int{}
	for _, m := range msgs {
		perSession[m.session]++
	}
	for id, n := range perSession {
		if n < 2 {
			t.Errorf("session %d carried %d messages", id, n)
		}
	}
}

func TestSMTP_RedialsDroppedConnection(t *testing.T) {
	t.Run("closed while idle", func(t *testing.T) {
		srv := startServer(t, serverOpts{})
		tr := newTestSMTP(t, srv, SMTPConfig{})
		for i := range 3 {
			if err := tr.Send(t.Context(), simpleMessage(fmt.Sprintf("r%d@example.com", i))); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
			srv.dropAll() // the server's idle timeout strikes between messages
		}
		sessions, _, msgs := srv.stats()
		if sessions != 3 || len(msgs) != 3 || len(byRecipient(msgs)) != 3 {
			t.Errorf("%d sessions, %d messages to %v; want 3, 3, each once", sessions, len(msgs), byRecipient(msgs))
		}
	})
	t.Run("closed at the next transaction", func(t *testing.T) {
		srv := startServer(t, serverOpts{closeAfter: 2})
		tr := newTestSMTP(t, srv, SMTPConfig{})
		for i := range 5 {
			if err := tr.Send(t.Context(), simpleMessage(fmt.Sprintf("r%d@example.com", i))); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
		}
		sessions, _, msgs := srv.stats()
		counts := byRecipient(msgs)
		if sessions != 3 || len(msgs) != 5 || len(counts) != 5 {
			t.Errorf("%d sessions, %d messages to %v; want 3 sessions, 5 messages each once", sessions, len(msgs), counts)
		}
	})
}

// Refusals read the same whether the commands go pipelined (RFC 2920,
// what go-smtp offers) or one at a time.
func TestSMTP_ReplyCodes(t *testing.T) {
	for _, pipelining := range []bool{true, false} {
		t.Run(fmt.Sprintf("pipelining=%v", pipelining), func(t *testing.T) { testReplyCodes(t, !pipelining) })
	}
}

func testReplyCodes(t *testing.T, noPipelining bool) {
	srv := startServer(t, serverOpts{noPipelining: noPipelining})
	srv.rejectRcpt("busy@example.com", 451, gosmtp.EnhancedCode{4, 2, 1}, "Mailbox busy, try later")
	srv.rejectRcpt("gone@example.com", 550, gosmtp.EnhancedCode{5, 1, 1}, "No such user")
	tr := newTestSMTP(t, srv, SMTPConfig{})

	tests := []struct {
		to        string
		code      int
		enhanced  string
		permanent bool
	}{
		{"busy@example.com", 451, "4.2.1", false},
		{"gone@example.com", 550, "5.1.1", true},
	}
	for _, tt := range tests {
		t.Run(tt.to, func(t *testing.T) {
			err := tr.Send(t.Context(), simpleMessage(tt.to))
			var se *SendError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a *SendError", err)
			}
			if se.Command != "RCPT" || se.Code != tt.code || se.Enhanced != tt.enhanced || se.Permanent != tt.permanent ||
				IsPermanent(err) != tt.permanent || !strings.Contains(se.Message, "No such user") && tt.permanent {
				t.Errorf("got %+v (IsPermanent %v)", se, IsPermanent(err))
			}
		})
	}
	// A refusal leaves the connection usable.
	if err := tr.Send(t.Context(), simpleMessage("ok@example.com")); err != nil {
		t.Fatal(err)
	}
	sessions, _, msgs := srv.stats()
	if sessions != 1 || len(msgs) != 1 || msgs[0].to[0] != "ok@example.com" {
		t.Errorf("%d sessions, messages %v; want one session carrying only ok@", sessions, byRecipient(msgs))
	}
	c := <-tr.idle
	offered, _ := c.sc.Extension("PIPELINING")
	tr.idle <- c
	if offered == noPipelining {
		t.Errorf("the connection sees PIPELINING %v: the test does not take the path it names", offered)
	}
}

func TestSMTP_HeaderInjectionSendsNothing(t *testing.T) {
	srv := startServer(t, serverOpts{})
	tr := newTestSMTP(t, srv, SMTPConfig{})
	m := simpleMessage("a@example.com")
	m.Headers = [][2]string{{"List-Unsubscribe", "<https://x.example/u>\r\nBcc: victim@example.net"}}
	err := tr.Send(t.Context(), m)
	var he *HeaderError
	if !errors.As(err, &he) || he.Header != "List-Unsubscribe" || IsPermanent(err) {
		t.Fatalf("err = %v, want a HeaderError for List-Unsubscribe", err)
	}
	if sessions, _, msgs := srv.stats(); sessions != 0 || len(msgs) != 0 {
		t.Errorf("%d sessions, %d messages after a refused message; want none", sessions, len(msgs))
	}
}

func TestIsPermanent(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&SendError{Code: 550, Permanent: true}, true},
		{fmt.Errorf("deliver: %w", &SendError{Code: 554, Permanent: true}), true},
		{&SendError{Code: 451}, false},
		{errors.New("EOF"), false},
		{context.DeadlineExceeded, false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := IsPermanent(tt.err); got != tt.want {
			t.Errorf("IsPermanent(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

// A connection that breaks after the final dot, before the reply, is not
// redialled for another try as one broken earlier is: the server may have
// the message. Send reports a temporary error; the caller's later retry,
// with the same Message-ID, is what sends it again.
func TestSMTP_DropAfterTheFinalDotIsNotResent(t *testing.T) {
	srv := startServer(t, serverOpts{dropAtDot: 1})
	tr := newTestSMTP(t, srv, SMTPConfig{})
	m := simpleMessage("doubt@example.com")
	m.MessageID = "<doubt@example.org>"
	err := tr.Send(t.Context(), m)
	var se *SendError
	if err == nil || IsPermanent(err) || errors.As(err, &se) || !strings.Contains(err.Error(), "may have been accepted") || errors.Is(err, ErrUnreachable) {
		t.Fatalf("err = %v, want a temporary error saying the message may have been accepted", err)
	}
	if sessions, _, msgs := srv.stats(); sessions != 1 || len(msgs) != 1 {
		t.Fatalf("%d sessions, %d messages; want the one in doubt on one session, not resent", sessions, len(msgs))
	}
	if err := tr.Send(t.Context(), m); err != nil {
		t.Fatalf("the caller's retry: %v", err)
	}
	sessions, _, msgs := srv.stats()
	if sessions != 2 || len(msgs) != 2 || parseMessage(t, msgs[1].data).header.Get("Message-ID") != m.MessageID {
		t.Fatalf("%d sessions, %d messages; want the retry on a new session with the same Message-ID", sessions, len(msgs))
	}
}

// The envelope sender is the Return-Path when one is given (VERP), and
// the From header stays the reader's From.
func TestSMTP_ReturnPathIsTheEnvelopeSender(t *testing.T) {
	srv := startServer(t, serverOpts{})
	tr := newTestSMTP(t, srv, SMTPConfig{})
	m := simpleMessage("ana@example.com")
	m.ReturnPath = "bounces+abc123@news.example.org"
	if err := tr.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	_, _, msgs := srv.stats()
	if len(msgs) != 1 || msgs[0].from != "bounces+abc123@news.example.org" || !bytes.Contains(msgs[0].data, []byte("From: \"News\" <news@example.org>")) {
		t.Fatalf("received %+v", msgs)
	}
	m.ReturnPath = "bounces@example.org\r\nRCPT TO:<x@y>"
	var he *HeaderError
	if err := tr.Send(t.Context(), m); !errors.As(err, &he) {
		t.Errorf("a return path with a line break: %v", err)
	}
}

// A message prepared (rendered and signed) ahead is sent as it was
// prepared, and its signature verifies on arrival.
func TestSMTP_PreparedMessage(t *testing.T) {
	srv := startServer(t, serverOpts{})
	d := testDKIMs(t)["dual"]
	tr := newTestSMTP(t, srv, SMTPConfig{DKIM: d})
	m := listMessage()
	if err := tr.Prepare(m); err != nil {
		t.Fatal(err)
	}
	if err := tr.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	_, _, msgs := srv.stats()
	if len(msgs) != 1 || !bytes.Equal(msgs[0].data, m.prepared) {
		t.Fatalf("received %d messages; the first is the prepared bytes: %v", len(msgs), len(msgs) == 1 && bytes.Equal(msgs[0].data, m.prepared))
	}
	verifyDKIM(t, msgs[0].data, d)
}

// An unsigned message is prepared into a pooled buffer that Send gives
// back, with the buffers of the parts a BodyTemplate filled: each of
// several messages prepared and sent in turn arrives whole and as its
// own, and one sent again is rendered again, not sent from buffers that
// another message has taken meanwhile.
func TestSMTP_PreparedBuffersReused(t *testing.T) {
	srv := startServer(t, serverOpts{})
	tr := newTestSMTP(t, srv, SMTPConfig{})
	date := time.Date(2026, 3, 1, 7, 0, 0, 0, time.UTC)
	var want [][]byte
	var sent []*Message
	for i := range 5 {
		m := listMessage()
		m.Date = date
		m.MessageID = fmt.Sprintf("<m%d@example.org>", i)
		m.Text, m.HTML = strings.Repeat(fmt.Sprintf("message %d\n", i), 100*(5-i))+"für "+m.MessageID+"\n", "<p>"+m.MessageID+"</p>"
		if i%2 == 0 { // filled from a template, as the renderer does: its part's buffer is pooled too
			tpl, err := NewBodyTemplate([]string{strings.Repeat(fmt.Sprintf("message %d\n", i), 100*(5-i)) + "für ", "\n"})
			if err != nil {
				t.Fatal(err)
			}
			part, ok, err := tpl.Fill([]string{m.MessageID})
			if err != nil || !ok {
				t.Fatal(ok, err)
			}
			m.TextPart = part
		}
		raw, err := m.Bytes(nil)
		if err != nil {
			t.Fatal(err)
		}
		raw = sameBoundary(raw)
		if err := tr.Prepare(m); err != nil {
			t.Fatal(err)
		}
		if err := tr.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
		want, sent = append(want, raw), append(sent, m)
	}
	if err := tr.Send(t.Context(), sent[0]); err != nil { // its buffer is another's by now
		t.Fatal(err)
	}
	want = append(want, want[0])
	_, _, msgs := srv.stats()
	if len(msgs) != len(want) {
		t.Fatalf("received %d messages, want %d", len(msgs), len(want))
	}
	for i, m := range msgs {
		if !bytes.Equal(sameBoundary(m.data), want[i]) {
			t.Errorf("message %d arrived as\n%.200q\nwant\n%.200q", i, m.data, want[i])
		}
	}
}

// sameBoundary puts one boundary in place of the message's random one.
func sameBoundary(raw []byte) []byte {
	_, rest, ok := bytes.Cut(raw, []byte("boundary="))
	if !ok {
		return raw
	}
	b, _, _ := bytes.Cut(rest, []byte("\r\n"))
	b = bytes.Trim(b, `"`)
	return bytes.ReplaceAll(raw, b, []byte("BOUNDARY"))
}

// A relay that keeps fewer connections open at once than the pool has
// refuses the others at their greeting; the messages go on the ones it
// keeps, none fails and none is told the server is unreachable.
func TestSMTP_ARelayTakingFewerConnectionsIsSentToOnThose(t *testing.T) {
	srv := startServer(t, serverOpts{maxConns: 2})
	tr := newTestSMTP(t, srv, SMTPConfig{Connections: 4})
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for w := range 4 {
		wg.Go(func() {
			for i := range 10 {
				errs <- tr.Send(t.Context(), simpleMessage(fmt.Sprintf("r%d-%d@example.com", w, i)))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("send through a relay of 2 connections with a pool of 4: %v", err)
		}
	}
	_, _, msgs := srv.stats()
	if len(msgs) != 40 {
		t.Fatalf("%d messages received, want 40", len(msgs))
	}
	for to, n := range byRecipient(msgs) {
		if n != 1 {
			t.Errorf("%s got %d copies", to, n)
		}
	}
	if srv.limit.refused.Load() == 0 {
		t.Error("the relay refused no connection: the pool never tried more than it takes")
	}
	if got := tr.open.Load(); got > 2 {
		t.Errorf("%d connections open, the relay keeps 2", got)
	}
}

// A relay that refuses every connection is unreachable, as before.
func TestSMTP_ARelayRefusingEveryConnectionIsUnreachable(t *testing.T) {
	srv := startServer(t, serverOpts{maxConns: -1})
	tr := newTestSMTP(t, srv, SMTPConfig{Connections: 4})
	if err := tr.Send(t.Context(), simpleMessage("ana@example.com")); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("send through a relay that refuses every connection: %v, want ErrUnreachable", err)
	}
}
