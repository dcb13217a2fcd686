package inbound

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/time/rate"
)

// Receiver is an SMTP server for the inbound domain, so that an operator
// can point that domain's MX at tidings: it takes mail only for the
// bounce and unsubscribe local parts (bare or with +TOKEN) at Domain,
// no larger than MaxBytes, at a bounded rate per client address, and
// hands each message with its envelope recipients to Handle. A message
// Handle fails is refused with a temporary error, so the sending server
// tries again later; one it takes is accepted.
type Receiver struct {
	Domain string
	// LocalParts are the local parts taken; "bounces" and "unsubscribe"
	// when empty.
	LocalParts []string
	MaxBytes   int64 // 10 MiB when zero
	// PerClient is the messages per second one client address may send
	// (bursts of ten times that); 0: 100.
	PerClient float64
	Handle    func(ctx context.Context, envelope []string, raw []byte) error
	Logger    *slog.Logger

	mu      sync.Mutex
	clients map[string]*rate.Limiter
}

// Serve answers SMTP on ln until ctx ends, then closes the server; the
// sessions in progress end with it.
func (r *Receiver) Serve(ctx context.Context, ln net.Listener) error {
	srv := smtp.NewServer(receiverBackend{r: r, ctx: ctx})
	srv.Domain = r.Domain
	srv.MaxMessageBytes = r.maxBytes()
	srv.MaxRecipients = 10
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	srv.ErrorLog = log.New(io.Discard, "", 0)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("smtp receiver on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	err := srv.Close()
	<-errc
	if err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("smtp receiver shutdown: %w", err)
	}
	return nil
}

func (r *Receiver) maxBytes() int64 {
	if r.MaxBytes > 0 {
		return r.MaxBytes
	}
	return defaultMaxBytes
}

func (r *Receiver) log() *slog.Logger {
	if r.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Logger
}

// allow spends one message of client's rate.
func (r *Receiver) allow(client string) bool {
	per := r.PerClient
	if per <= 0 {
		per = 100
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.clients == nil || len(r.clients) > 10000 {
		r.clients = map[string]*rate.Limiter{} // forget them all rather than grow without end
	}
	l, ok := r.clients[client]
	if !ok {
		l = rate.NewLimiter(rate.Limit(per), int(10*per)+1)
		r.clients[client] = l
	}
	return l.Allow()
}

// takes reports whether addr is one of ours: a local part taken, bare or
// with +TOKEN, at Domain.
func (r *Receiver) takes(addr string) bool {
	local, domain, ok := strings.Cut(strings.ToLower(addr), "@")
	if !ok || domain != strings.ToLower(r.Domain) {
		return false
	}
	base, _, _ := strings.Cut(local, "+")
	parts := r.LocalParts
	if len(parts) == 0 {
		parts = []string{"bounces", "unsubscribe"}
	}
	for _, p := range parts {
		if base == p {
			return true
		}
	}
	return false
}

type receiverBackend struct {
	r   *Receiver
	ctx context.Context
}

func (b receiverBackend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	host, _, _ := net.SplitHostPort(c.Conn().RemoteAddr().String())
	return &receiverSession{r: b.r, ctx: b.ctx, client: host}, nil
}

type receiverSession struct {
	r      *Receiver
	ctx    context.Context
	client string
	rcpts  []string
}

var (
	errNoSuchUser = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
	errSlowDown   = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "too many messages, try later"}
	errTryLater   = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "cannot take it now, try later"}
)

func (s *receiverSession) Mail(string, *smtp.MailOptions) error {
	if !s.r.allow(s.client) {
		s.r.log().Warn("inbound smtp: client over its rate", "client", s.client)
		return errSlowDown
	}
	return nil
}

func (s *receiverSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !s.r.takes(to) {
		return errNoSuchUser
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *receiverSession) Data(rd io.Reader) error {
	var b bytes.Buffer
	if _, err := io.Copy(&b, rd); err != nil {
		return err // too large: go-smtp answers 552
	}
	if err := s.r.Handle(s.ctx, s.rcpts, b.Bytes()); err != nil {
		s.r.log().Error("inbound smtp: message not taken; the sender will try again", "client", s.client, "error", err)
		return errTryLater
	}
	return nil
}

func (s *receiverSession) Reset()        { s.rcpts = nil }
func (s *receiverSession) Logout() error { return nil }
