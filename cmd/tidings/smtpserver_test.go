package main

import (
	"bytes"
	"io"
	"net"
	"net/mail"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// received is one message a test SMTP server accepted.
type received struct {
	From string
	To   []string
	Data []byte
}

// smtpSink is a real SMTP server on 127.0.0.1 that keeps what it accepts.
type smtpSink struct {
	mu   sync.Mutex
	msgs []received
	got  chan struct{}
	Addr *net.TCPAddr
	// tempFail answers RCPT for an address with 451 that many times.
	tempFail map[string]int
}

func newSMTPSink(t *testing.T) *smtpSink {
	t.Helper()
	sink := &smtpSink{got: make(chan struct{}, 100)}
	sink.Addr = serveSMTP(t, sink)
	return sink
}

// serveSMTP runs a go-smtp server for backend on 127.0.0.1 until the test
// ends, and returns its address.
func serveSMTP(t *testing.T, backend smtp.Backend) *net.TCPAddr {
	t.Helper()
	srv := smtp.NewServer(backend)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr)
}

// wait returns the n-th message (1-based), waiting for it to arrive.
func (s *smtpSink) wait(t *testing.T, n int) *mail.Message {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		if len(s.msgs) >= n {
			data := s.msgs[n-1].Data
			s.mu.Unlock()
			m, err := mail.ReadMessage(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("message %d does not parse: %v", n, err)
			}
			return m
		}
		s.mu.Unlock()
		select {
		case <-s.got:
		case <-deadline:
			t.Fatalf("message %d never arrived", n)
		}
	}
}

func (s *smtpSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

func (s *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{sink: s}, nil }

type sinkSession struct {
	sink *smtpSink
	msg  received
}

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error { ss.msg.From = from; return nil }
func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.sink.mu.Lock()
	defer ss.sink.mu.Unlock()
	if ss.sink.tempFail[to] > 0 {
		ss.sink.tempFail[to]--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "try again later"}
	}
	ss.msg.To = append(ss.msg.To, to)
	return nil
}
func (ss *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.msg.Data = b
	ss.sink.mu.Lock()
	ss.sink.msgs = append(ss.sink.msgs, ss.msg)
	ss.sink.mu.Unlock()
	ss.sink.got <- struct{}{}
	ss.msg = received{}
	return nil
}
func (ss *sinkSession) Reset()        { ss.msg = received{} }
func (ss *sinkSession) Logout() error { return nil }
