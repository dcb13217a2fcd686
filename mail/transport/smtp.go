package transport

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/mail"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"
	"golang.org/x/time/rate"
)

// SMTPConfig says how to reach the SMTP server and how hard to push it.
type SMTPConfig struct {
	Host     string
	Port     int // 0: 587 for starttls, 465 for tls, 25 for none
	Username string
	Password string
	// TLS is "starttls" (required, the default), "tls" (implicit TLS) or
	// "none".
	TLS         string
	Connections int     // connections kept open; 0: 1
	Rate        float64 // messages per second over all connections; 0: no limit
	// Timeout bounds one SMTP transaction: from the NOOP or MAIL FROM
	// that opens it to the server's reply after the final dot, under one
	// deadline. Dialling a connection (TCP, TLS, EHLO, STARTTLS, AUTH)
	// has the same bound of its own. A Send that finds its connection
	// dropped redials and tries once more, so it spends at most two dials
	// and two transactions past the wait for a connection and for the
	// rate limit (which only its context bounds). It is what bounds a
	// send in flight at shutdown, which is let finish. 0: 30 seconds.
	Timeout time.Duration
	HELO    string // name given in EHLO; empty: the host name
	DKIM    *DKIM  // optional
	// InsecureSkipVerify accepts any server certificate. Tests only.
	InsecureSkipVerify bool
	// Logger receives the transport's own events at debug level:
	// connections opened, and dropped ones redialled. What Send returns
	// is not logged here: the caller decides. nil: discard.
	Logger *slog.Logger
}

// SMTP is the Transport that submits mail to an SMTP server over a pool of
// connections, each dialled when first needed and reused for many
// messages, under one rate limit shared by all.
//
// Each pooled connection has a go-mail Client of its own (a go-mail
// Client is one serialized connection). go-mail dials, runs EHLO,
// STARTTLS and AUTH; the transaction itself runs on go-mail's smtp.Client
// (MAIL, RCPT, DATA) so that the exact bytes Message.Bytes made, and
// signed, are what the server receives: go-mail's Client.Send can only
// send a Msg it renders itself.
type SMTP struct {
	cfg     SMTPConfig
	addr    string
	limiter *rate.Limiter // nil: no limit
	idle    chan *smtpConn
	log     *slog.Logger
	bufs    sync.Pool // of *bytes.Buffer, for rendering messages

	ctx       context.Context // done when Close is called
	cancel    context.CancelFunc
	closeOnce sync.Once

	// open counts the pool's connections that are open; dialling, those
	// being dialled. A dial refused while others are open rests its
	// connection (see rest).
	open, dialling atomic.Int32
}

// restFor is how long a connection the server refused to open, while
// others were open, stays out of the pool: a relay that takes fewer
// connections at once than the pool has is sent to on fewer, and asked
// again now and then.
const restFor = time.Minute

// errRefusedBeside is what deliver returns when the server would not
// open a connection while others of the pool were open: that connection
// rests and the message goes on another, with no attempt spent.
var errRefusedBeside = errors.New("smtp: connection refused while others are open")

var (
	_ Transport = (*SMTP)(nil)
	_ Preparer  = (*SMTP)(nil)
	_ Sharer    = (*SMTP)(nil)
	_ Holder    = (*SMTP)(nil)
)

// NewSMTP checks cfg and prepares the pool; nothing is dialled until the
// first Send.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp: host is empty")
	}
	if cfg.TLS == "" {
		cfg.TLS = "starttls"
	}
	defaultPort := map[string]int{"starttls": 587, "tls": 465, "none": 25}[cfg.TLS]
	if defaultPort == 0 {
		return nil, fmt.Errorf("smtp: tls %q: want starttls, tls or none", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = defaultPort
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return nil, fmt.Errorf("smtp: port %d: want 1 to 65535", cfg.Port)
	}
	if cfg.Connections < 0 {
		return nil, fmt.Errorf("smtp: connections %d: want 1 or more", cfg.Connections)
	}
	cfg.Connections = max(cfg.Connections, 1)
	if cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) {
		return nil, fmt.Errorf("smtp: rate %v: want messages per second, 0 for no limit", cfg.Rate)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}

	s := &SMTP{
		cfg:  cfg,
		addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		idle: make(chan *smtpConn, cfg.Connections),
		log:  cfg.Logger.With("smtp_server", net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))),
	}
	if cfg.Rate > 0 {
		// A burst of one: the rate holds over any window, not on average.
		s.limiter = rate.NewLimiter(rate.Limit(cfg.Rate), 1)
	}
	for range cfg.Connections {
		c, err := newSMTPConn(cfg, &s.open)
		if err != nil {
			return nil, err
		}
		s.idle <- c
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Share sets the rate limit to a 1/n part of the configured rate (n below
// 1 counts as 1); without a rate it does nothing.
func (s *SMTP) Share(n int) {
	if s.limiter != nil {
		s.limiter.SetLimit(rate.Limit(s.cfg.Rate / float64(max(n, 1))))
	}
}

// Send renders m, waits for a free connection and the rate limit, and
// submits m. A connection found dropped (idle timeout, EOF, broken pipe)
// before the server could have accepted the message is closed, redialled
// once and the message tried once more on it. A connection that breaks
// after the whole message was written is not retried here: the server
// may have accepted it, and the caller's retry with the same Message-ID
// lets the receiver drop a copy.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	return s.SendHeld(ctx, m, nil)
}

// SendHeld is Send with hold called before the message's final dot (see
// Holder); a nil hold holds nothing.
func (s *SMTP) SendHeld(ctx context.Context, m *Message, hold func() bool) error {
	raw, dotFree := m.prepared, m.dotFree
	if buf := m.preparedBuf; buf != nil {
		// Prepared unsigned, its buffer goes back to the pool once it is
		// sent: sent again, it is rendered again; signed, it is sent as
		// it is.
		m.prepared, m.preparedBuf = nil, nil
		defer s.putBuffer(buf)
	}
	if raw == nil {
		buf := s.getBuffer()
		defer s.putBuffer(buf)
		var err error
		if raw, _, dotFree, err = m.renderTo(buf, s.cfg.DKIM, time.Now()); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.ctx.Err() != nil {
		return ErrClosed
	}

	from := m.From
	if m.ReturnPath != "" {
		from = mail.Address{Address: m.ReturnPath}
	}
	for {
		var c *smtpConn
		select {
		case c = <-s.idle:
		case <-ctx.Done():
			return fmt.Errorf("smtp: wait for a connection: %w", ctx.Err())
		case <-s.ctx.Done():
			return ErrClosed
		}
		err := s.sendOn(ctx, c, envelope(from), envelope(m.To), wire{raw, dotFree}, hold)
		if errors.Is(err, errRefusedBeside) {
			s.rest(c, err)
			continue
		}
		s.idle <- c
		return err
	}
}

// sendOn sends raw on c, taken from the pool, once the rate limit lets it.
func (s *SMTP) sendOn(ctx context.Context, c *smtpConn, from, to string, raw wire, hold func() bool) error {
	if s.ctx.Err() != nil { // Close began while this Send waited
		return ErrClosed
	}
	if s.limiter != nil {
		waitCtx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(s.ctx, cancel)
		err := s.limiter.Wait(waitCtx)
		stop()
		cancel()
		if s.ctx.Err() != nil {
			return ErrClosed
		}
		if err != nil {
			return fmt.Errorf("smtp: wait for the rate limit: %w", err)
		}
	}
	return s.deliver(ctx, c, from, to, raw, hold)
}

// rest keeps c out of the pool for restFor (or until Close), after the
// server refused to open it while others were open.
func (s *SMTP) rest(c *smtpConn, err error) {
	s.log.Warn("smtp server refused a connection while others were open; sending on fewer for a while",
		"open", s.open.Load(), "rest", restFor.String(), slog.Any("error", err))
	go func() {
		t := time.NewTimer(restFor)
		defer t.Stop()
		select {
		case <-t.C:
		case <-s.ctx.Done():
		}
		s.idle <- c
	}()
}

// othersOpen reports whether another connection of the pool is open,
// once those being dialled meanwhile are (or could not be): the first
// sends of a pass dial together, and a refusal may come before the
// others are open.
func (s *SMTP) othersOpen(ctx context.Context) bool {
	deadline := time.Now().Add(s.cfg.Timeout)
	for s.dialling.Load() > 0 && s.open.Load() == 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	return s.open.Load() > 0
}

// Prepare renders and signs m now, so that Send has only to send it: a
// caller with work to wait for (the sender waits for its last outcome's
// commit) signs the next message in the meantime. A message changed
// after Prepare must be prepared again.
//
// An unsigned message is rendered into a buffer of the pool that Send
// gives back (a signed one is a copy: its buffer goes back at once), so
// that a run of sends renders without allocating a message each.
func (s *SMTP) Prepare(m *Message) error {
	buf := s.getBuffer()
	raw, _, dotFree, err := m.renderTo(buf, s.cfg.DKIM, time.Now())
	if err != nil {
		s.putBuffer(buf)
		return err
	}
	if s.cfg.DKIM != nil {
		s.putBuffer(buf)
		buf = nil
	}
	if m.preparedBuf != nil { // prepared twice: the first one's is done with
		s.putBuffer(m.preparedBuf)
	}
	m.prepared, m.preparedBuf, m.dotFree = raw, buf, dotFree
	return nil
}

func (s *SMTP) getBuffer() *bytes.Buffer {
	if b, _ := s.bufs.Get().(*bytes.Buffer); b != nil {
		return b
	}
	return new(bytes.Buffer)
}

// maxPooled bounds the buffers kept for reuse: an outsized message should
// not hold its memory for the rest of the run.
const maxPooled = 1 << 20

func (s *SMTP) putBuffer(b *bytes.Buffer) {
	if b.Cap() <= maxPooled {
		b.Reset()
		s.bufs.Put(b)
	}
}

// deliver submits raw on c, dialling c first if needed.
func (s *SMTP) deliver(ctx context.Context, c *smtpConn, from, to string, raw wire, hold func() bool) error {
	// Cancelling ctx closes the socket, so that no read or write outlasts
	// it; the connection is then dropped and the next Send redials.
	stop := context.AfterFunc(ctx, c.arm())
	defer func() {
		if !stop() {
			c.drop()
		}
		c.disarm()
	}()

	if !c.connected() {
		s.dialling.Add(1)
		err := c.dial(ctx)
		s.dialling.Add(-1)
		if err != nil {
			if ctx.Err() == nil && s.othersOpen(ctx) {
				return fmt.Errorf("%w: %w", errRefusedBeside, err)
			}
			return s.dialError(ctx, err)
		}
		s.log.Debug("smtp connection opened")
	}
	retry, err := c.transact(s.cfg.Timeout, from, to, raw, hold)
	if err == nil || !retry || ctx.Err() != nil {
		return withContext(ctx, err)
	}
	s.log.Debug("smtp connection dropped, redialling", slog.Any("error", err))
	if derr := c.dial(ctx); derr != nil {
		return fmt.Errorf("%w; then %w", err, s.dialError(ctx, derr))
	}
	_, err = c.transact(s.cfg.Timeout, from, to, raw, hold)
	return withContext(ctx, err)
}

// withContext puts the context's error in front of err when the context
// ended: its closing the socket is then what made the command fail.
func withContext(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	return fmt.Errorf("%w (%w)", ctx.Err(), err)
}

func (s *SMTP) dialError(ctx context.Context, err error) error {
	return withContext(ctx, fmt.Errorf("smtp: connect to %s: %w: %w", s.addr, ErrUnreachable, err))
}

// Close stops the waiting Sends (they return ErrClosed), waits for those
// in flight and ends every connection with QUIT.
func (s *SMTP) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		var wg sync.WaitGroup
		for range s.cfg.Connections {
			c := <-s.idle
			wg.Go(c.quit)
		}
		wg.Wait()
	})
	return nil
}

// envelope is an address as MAIL FROM and RCPT TO take it: "<a@b>".
func envelope(a mail.Address) string {
	return (&mail.Address{Address: a.Address}).String()
}

// clientOptions are the go-mail options every pooled connection uses.
func clientOptions(cfg SMTPConfig, tlsConfig *tls.Config, dial gomail.DialContextFunc) []gomail.Option {
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tlsConfig),
		gomail.WithDialContextFunc(dial),
	}
	switch cfg.TLS {
	case "tls":
		// The dial function does the TLS handshake; WithSSL keeps go-mail
		// from asking for STARTTLS on top.
		opts = append(opts, gomail.WithSSL())
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(cfg.HELO))
	}
	if cfg.Username != "" {
		// go-mail's auto-discovery does not count implicit TLS through a
		// custom dialer as encrypted, so it is not used: this list is
		// tried in order. PLAIN and LOGIN refuse by themselves to send a
		// password in clear to anything but localhost.
		opts = append(opts, gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthSCRAMSHA256PLUS, gomail.SMTPAuthSCRAMSHA256,
				gomail.SMTPAuthSCRAMSHA1PLUS, gomail.SMTPAuthSCRAMSHA1, gomail.SMTPAuthCramMD5,
				gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	return opts
}
