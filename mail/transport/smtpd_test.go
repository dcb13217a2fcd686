package transport

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// serverOpts shape the in-process SMTP server.
type serverOpts struct {
	tls        string // "": plain; "starttls": offered; "tls": implicit
	user, pass string // when set, MAIL needs AUTH PLAIN first
	closeAfter int    // a connection is closed at the MAIL after this many messages on it
	barrier    int    // DATA waits until this many sessions are in DATA at once
	hold       chan struct{}
	slow       time.Duration // before each reply to RCPT and to the message
	dropAtDot  int           // this many messages are kept, then the connection closed before the reply
	// noPipelining hides PIPELINING from the EHLO reply, as a server
	// without it would answer, so that commands go one at a time.
	noPipelining bool
	// maxConns, when not 0, is how many connections the server keeps
	// open at once (below 0: none): one past them is greeted with a 421
	// and closed, as a relay that limits each client's connections does.
	maxConns int
}

// limitConns is a listener that greets a connection past max open ones
// with a 421 and closes it; refused counts those.
type limitConns struct {
	net.Listener
	max           int32
	open, refused atomic.Int32
}

func (l *limitConns) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.open.Add(1) > l.max {
			l.open.Add(-1)
			l.refused.Add(1)
			c.Write([]byte("421 mx.test too many connections from you, try later\r\n"))
			c.Close()
			continue
		}
		return &countedConn{Conn: c, open: &l.open}, nil
	}
}

// countedConn takes itself off its listener's open count when closed.
type countedConn struct {
	net.Conn
	open *atomic.Int32
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}

// hidePipelining is a listener whose connections leave PIPELINING out of
// what the server writes.
type hidePipelining struct{ net.Listener }

func (l hidePipelining) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	return noPipeliningConn{c}, err
}

type noPipeliningConn struct{ net.Conn }

func (c noPipeliningConn) Write(b []byte) (int, error) {
	if i := bytes.Index(b, []byte("250-PIPELINING\r\n")); i >= 0 {
		out := append(append([]byte{}, b[:i]...), b[i+len("250-PIPELINING\r\n"):]...)
		if _, err := c.Conn.Write(out); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// received is one message as the server accepted it.
type received struct {
	from    string
	to      []string
	data    []byte
	session int
	tls     bool
}

// testServer is a real SMTP server (go-smtp) on 127.0.0.1 that records
// what it accepts.
type testServer struct {
	t     *testing.T
	opts  serverOpts
	port  int
	limit *limitConns // with opts.maxConns

	mu       sync.Mutex
	sessions int // connections opened
	ids      map[*gosmtp.Conn]int
	open     map[int]*gosmtp.Conn
	msgs     []received
	reject   map[string]*gosmtp.SMTPError
	inData   int
	release  chan struct{}
	released bool
}

func startServer(t *testing.T, opts serverOpts) *testServer {
	t.Helper()
	s := &testServer{t: t, opts: opts, open: map[int]*gosmtp.Conn{}, ids: map[*gosmtp.Conn]int{}, reject: map[string]*gosmtp.SMTPError{}, release: make(chan struct{})}
	srv := gosmtp.NewServer(gosmtp.BackendFunc(s.newSession))
	srv.Domain = "mx.test"
	srv.AllowInsecureAuth = true
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch opts.tls {
	case "starttls":
		srv.TLSConfig = selfSigned(t)
	case "tls":
		l = tls.NewListener(l, selfSigned(t))
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	if opts.noPipelining {
		l = hidePipelining{l}
	}
	if opts.maxConns != 0 {
		s.limit = &limitConns{Listener: l, max: int32(max(opts.maxConns, 0))}
		l = s.limit
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

// rejectRcpt makes RCPT TO:<addr> answer code with enhanced status enh.
func (s *testServer) rejectRcpt(addr string, code int, enh gosmtp.EnhancedCode, msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reject[addr] = &gosmtp.SMTPError{Code: code, EnhancedCode: enh, Message: msg}
}

// dropAll closes every open connection from the server side, as an idle
// timeout would, and waits until the server has let go of them.
func (s *testServer) dropAll() {
	s.mu.Lock()
	for _, c := range s.open {
		c.Conn().Close()
	}
	s.mu.Unlock()
	s.waitFor("every connection closed", func() bool { return len(s.open) == 0 })
}

// waitFor polls cond (called with s.mu held) until it holds; it fails the
// test after a long while rather than hanging it.
func (s *testServer) waitFor(what string, cond func() bool) {
	s.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s.mu.Lock()
		ok := cond()
		s.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("server: gave up waiting for %s", what)
		}
	}
}

func (s *testServer) stats() (sessions, open int, msgs []received) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions, len(s.open), append([]received(nil), s.msgs...)
}

func (s *testServer) newSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.ids[c]
	if !ok { // a connection, unless a new session after STARTTLS on one
		s.sessions++
		id = s.sessions
		s.ids[c] = id
	}
	s.open[id] = c
	return &testSession{s: s, conn: c, id: id}, nil
}

type testSession struct {
	s      *testServer
	conn   *gosmtp.Conn
	id     int
	count  int
	authed bool
	from   string
	to     []string
}

func (se *testSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (se *testSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != se.s.opts.user || pass != se.s.opts.pass {
			return gosmtp.ErrAuthFailed
		}
		se.authed = true
		return nil
	}), nil
}

func (se *testSession) Mail(from string, _ *gosmtp.MailOptions) error {
	if se.s.opts.user != "" && !se.authed {
		return gosmtp.ErrAuthRequired
	}
	if n := se.s.opts.closeAfter; n > 0 && se.count >= n {
		se.conn.Conn().Close()
		return errors.New("closing")
	}
	se.from = from
	return nil
}

func (se *testSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	time.Sleep(se.s.opts.slow)
	se.s.mu.Lock()
	defer se.s.mu.Unlock()
	if e := se.s.reject[to]; e != nil {
		return e
	}
	se.to = append(se.to, to)
	return nil
}

func (se *testSession) Data(r io.Reader) error {
	s := se.s
	s.mu.Lock()
	s.inData++
	if s.inData == s.opts.barrier && !s.released {
		s.released = true
		close(s.release)
	}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inData--
		s.mu.Unlock()
	}()
	if s.opts.barrier > 0 {
		select {
		case <-s.release:
		case <-time.After(10 * time.Second):
			s.t.Errorf("server: %d sessions never were in DATA at once", s.opts.barrier)
			return &gosmtp.SMTPError{Code: 451, Message: "barrier timeout"}
		}
	}
	if s.opts.hold != nil {
		<-s.opts.hold
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	time.Sleep(s.opts.slow)
	_, isTLS := se.conn.TLSConnectionState()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, received{from: se.from, to: se.to, data: data, session: se.id, tls: isTLS})
	se.count++
	if s.opts.dropAtDot > 0 {
		s.opts.dropAtDot--
		se.conn.Conn().Close()
		return errors.New("dropped after the final dot")
	}
	return nil
}

func (se *testSession) Reset() { se.from, se.to = "", nil }

func (se *testSession) Logout() error {
	se.s.mu.Lock()
	defer se.s.mu.Unlock()
	delete(se.s.open, se.id)
	return nil
}

// selfSigned is a throwaway certificate for 127.0.0.1.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// newTestSMTP returns a transport for s, closed when the test ends.
func newTestSMTP(t *testing.T, s *testServer, cfg SMTPConfig) *SMTP {
	t.Helper()
	cfg.Host, cfg.Port = "127.0.0.1", s.port
	if cfg.TLS == "" {
		cfg.TLS = "none"
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	tr, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}
