package mail

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/tidings/tidings/mail/transport"
)

// faultServer is a real SMTP server on 127.0.0.1 that keeps the
// Message-ID of each message it accepts, by recipient, and misbehaves on
// demand: refusals at MAIL, RCPT or DATA, a connection dropped in the
// middle of DATA, a slow reply, or no server at all (stop, start).
type faultServer struct {
	t    testing.TB
	port int

	mu       sync.Mutex
	srv      *gosmtp.Server
	ln       net.Listener // srv's listener, closed by stop whether or not Serve has taken it yet
	faults   []*fault
	received map[string][]string // recipient to Message-IDs, in order
	total    int
	delay    time.Duration // before the reply to DATA, after the message counts as received
	hold     chan struct{} // when set, the reply to DATA waits until it is closed
	arrived  chan struct{}
	atDot    func() // when set, called as each message's final dot arrives, before it counts
}

// fault makes the server misbehave for the next times transactions to
// rcpt ("" any, "@domain" any at domain; a MAIL fault cannot know the
// recipient) at stage "MAIL",
// "RCPT", "DATA" (refused with code), "DROP" (connection closed while
// the message is being sent) or "DOT" (the whole message received and
// counted, then the connection closed before the reply: the sender cannot
// know it arrived).
type fault struct {
	stage string
	rcpt  string
	code  int
	times int
}

func newFaultServer(t testing.TB) *faultServer {
	t.Helper()
	fs := &faultServer{t: t, received: map[string][]string{}, arrived: make(chan struct{}, 1)}
	fs.start()
	t.Cleanup(fs.stop)
	return fs
}

// start serves on the server's port (a new one the first time).
func (fs *faultServer) start() {
	fs.t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(fs.port)))
	if err != nil {
		fs.t.Fatalf("listen: %v", err)
	}
	srv := gosmtp.NewServer(fs)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	fs.mu.Lock()
	fs.srv, fs.ln = srv, ln
	fs.port = ln.Addr().(*net.TCPAddr).Port
	fs.mu.Unlock()
	go srv.Serve(ln)
}

// stop closes the listener and every connection: the server is down.
// The listener is closed here rather than left to srv.Close, which closes
// only the listeners Serve has registered: stopped before the goroutine
// running Serve got that far, the server would go on accepting.
func (fs *faultServer) stop() {
	fs.mu.Lock()
	srv, ln := fs.srv, fs.ln
	fs.srv, fs.ln = nil, nil
	fs.mu.Unlock()
	if srv != nil {
		ln.Close()
		srv.Close()
	}
}

func (fs *faultServer) inject(f fault) {
	fs.mu.Lock()
	fs.faults = append(fs.faults, &f)
	fs.mu.Unlock()
}

func (fs *faultServer) clearFaults() {
	fs.mu.Lock()
	fs.faults = nil
	fs.mu.Unlock()
}

func (fs *faultServer) setDelay(d time.Duration) {
	fs.mu.Lock()
	fs.delay = d
	fs.mu.Unlock()
}

// take uses up one matching fault and returns it, or nil.
func (fs *faultServer) take(stage, rcpt string) *fault {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.faults {
		if f.stage == stage && f.times > 0 && (f.rcpt == "" || f.rcpt == rcpt ||
			strings.HasPrefix(f.rcpt, "@") && strings.HasSuffix(rcpt, f.rcpt)) {
			f.times--
			return f
		}
	}
	return nil
}

// copies returns the Message-IDs rcpt received.
func (fs *faultServer) copies(rcpt string) []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]string(nil), fs.received["<"+rcpt+">"]...)
}

func (fs *faultServer) count() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.total
}

// transport is an SMTP transport to the server, closed with the test.
func (fs *faultServer) transport(t testing.TB, conns int) *transport.SMTP {
	t.Helper()
	tr, err := transport.NewSMTP(transport.SMTPConfig{Host: "127.0.0.1", Port: fs.port, TLS: "none", Connections: conns, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

func (fs *faultServer) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	return &faultSession{fs: fs, conn: c}, nil
}

type faultSession struct {
	fs   *faultServer
	conn *gosmtp.Conn
	rcpt string
}

func smtpError(code int) error {
	return &gosmtp.SMTPError{Code: code, EnhancedCode: gosmtp.EnhancedCode{code / 100, 0, 0}, Message: "injected " + strconv.Itoa(code)}
}

func (s *faultSession) Mail(string, *gosmtp.MailOptions) error {
	if f := s.fs.take("MAIL", ""); f != nil {
		return smtpError(f.code)
	}
	return nil
}

func (s *faultSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	if f := s.fs.take("RCPT", strings.Trim(to, "<>")); f != nil {
		return smtpError(f.code)
	}
	s.rcpt = "<" + strings.Trim(to, "<>") + ">"
	return nil
}

func (s *faultSession) Data(r io.Reader) error {
	rcpt := strings.Trim(s.rcpt, "<>")
	if f := s.fs.take("DROP", rcpt); f != nil {
		io.CopyN(io.Discard, r, 200)
		s.conn.Conn().Close()
		return errors.New("dropped")
	}
	msg, err := mail.ReadMessage(bufio.NewReader(r))
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, msg.Body); err != nil {
		return err
	}
	if f := s.fs.take("DATA", rcpt); f != nil {
		return smtpError(f.code)
	}
	s.fs.mu.Lock()
	atDot := s.fs.atDot
	s.fs.mu.Unlock()
	if atDot != nil {
		atDot()
	}
	s.fs.mu.Lock()
	s.fs.received[s.rcpt] = append(s.fs.received[s.rcpt], msg.Header.Get("Message-Id"))
	s.fs.total++
	delay, hold := s.fs.delay, s.fs.hold
	s.fs.mu.Unlock()
	select {
	case s.fs.arrived <- struct{}{}:
	default:
	}
	if f := s.fs.take("DOT", rcpt); f != nil {
		s.conn.Conn().Close()
		return errors.New("dropped after the final dot")
	}
	time.Sleep(delay) // a slow server: received, not yet acknowledged
	if hold != nil {
		<-hold
	}
	return nil
}

// holdReplies makes the replies to DATA wait, after the message counts as
// received, until the returned function is called.
func (fs *faultServer) holdReplies() (release func()) {
	hold := make(chan struct{})
	fs.mu.Lock()
	fs.hold = hold
	fs.mu.Unlock()
	var once sync.Once
	release = func() {
		once.Do(func() {
			fs.mu.Lock()
			fs.hold = nil
			fs.mu.Unlock()
			close(hold)
		})
	}
	fs.t.Cleanup(release)
	return release
}

func (s *faultSession) Reset()        { s.rcpt = "" }
func (s *faultSession) Logout() error { return nil }
