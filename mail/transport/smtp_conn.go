package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/textproto"
	"sync"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

// smtpConn is one pooled connection. Only the Send holding it from the
// pool touches client and sc; mu guards what abort, run from a context's
// AfterFunc, shares with dialling.
type smtpConn struct {
	client *gomail.Client
	sc     *smtp.Client // nil when not connected

	mu      sync.Mutex
	sock    net.Conn // the socket under sc, or being dialled
	aborted bool     // the current Send's context ended
	gen     uint64   // which Send abort belongs to

	used time.Time // end of the last transaction, or when dialled

	open *atomic.Int32 // the pool's connections open, this one among them while it is
}

func newSMTPConn(cfg SMTPConfig, open *atomic.Int32) (*smtpConn, error) {
	c := &smtpConn{open: open}
	tlsConfig := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify}
	implicitTLS := cfg.TLS == "tls"
	// Dialling through our own function keeps hold of the socket: go-mail
	// leaves it open when EHLO, STARTTLS or AUTH fail, and offers no way
	// to interrupt a command when the context ends.
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := &net.Dialer{}
		var conn net.Conn
		var err error
		if implicitTLS {
			conn, err = (&tls.Dialer{NetDialer: d, Config: tlsConfig}).DialContext(ctx, network, addr)
		} else {
			conn, err = d.DialContext(ctx, network, addr)
		}
		if err != nil {
			return nil, err
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.aborted {
			conn.Close()
			return nil, context.Canceled
		}
		c.sock = conn
		return conn, nil
	}
	client, err := gomail.NewClient(cfg.Host, clientOptions(cfg, tlsConfig, dial)...)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	c.client = client
	return c, nil
}

// arm prepares c for one Send and returns the function that aborts it:
// it closes the socket so that the command in progress fails at once.
// The abort is tied to this Send: run late, after disarm, it does nothing.
func (c *smtpConn) arm() (abort func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.aborted = false
	gen := c.gen
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.gen != gen {
			return
		}
		c.aborted = true
		if c.sock != nil {
			c.sock.Close()
		}
	}
}

// disarm makes the current Send's abort function a no-op.
func (c *smtpConn) disarm() {
	c.mu.Lock()
	c.gen++
	c.mu.Unlock()
}

func (c *smtpConn) connected() bool { return c.sc != nil }

// dial opens a new connection in place of any old one.
func (c *smtpConn) dial(ctx context.Context) error {
	c.drop()
	sc, err := c.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		c.drop()
		return err
	}
	c.sc = sc
	c.open.Add(1)
	c.used = time.Now()
	return nil
}

// drop closes the connection without QUIT: it is broken or in an
// unknown state.
func (c *smtpConn) drop() {
	c.mu.Lock()
	if c.sock != nil {
		c.sock.Close()
		c.sock = nil
	}
	c.mu.Unlock()
	if c.sc != nil {
		c.open.Add(-1)
	}
	c.sc = nil
}

// quit ends the connection politely. Errors are of no use to anyone at
// that point: the connection is going either way.
func (c *smtpConn) quit() {
	if c.sc != nil && c.sc.UpdateDeadline(5*time.Second) == nil {
		c.client.CloseWithSMTPClient(c.sc)
	}
	c.drop()
}

// idleCheck is how long a connection may sit unused before a NOOP checks
// it ahead of the next transaction. A busy connection skips that round
// trip: one the server closed in the meantime fails at MAIL instead, still
// before anything was sent, and the message is retried on a new one.
const idleCheck = 5 * time.Second

// transact runs one mail transaction on the open connection. retry
// reports that the connection failed before the server could have
// accepted the message, so that it is safe to send again on a new one;
// the broken connection is then already dropped.
//
// A transaction the server accepted needs no RSET: it ends the
// transaction by itself (RFC 5321 section 4.1.1.4). Only a refused one is
// reset.
func (c *smtpConn) transact(timeout time.Duration, from, to string, raw wire, hold func() bool) (retry bool, err error) {
	sc := c.sc
	defer func() { c.used = time.Now() }()
	// One deadline for the whole transaction: SMTPConfig.Timeout bounds
	// it, not each command. It goes first: the one left from the last
	// message may have passed while the connection sat idle (go-mail's
	// own check runs NOOP before moving it, so a connection idle for
	// longer than the timeout always fails there).
	if err := sc.UpdateDeadline(timeout); err != nil {
		c.drop()
		return true, err
	}
	if time.Since(c.used) > idleCheck {
		// A connection the server closed while idle fails here, not
		// halfway through a transaction.
		if err := sc.Noop(); err != nil {
			c.drop()
			return true, fmt.Errorf("smtp NOOP: %w", err)
		}
	}
	if ok, _ := sc.Extension("PIPELINING"); ok {
		return c.pipelined(from, to, raw, hold)
	}
	if err := sc.Mail(from); err != nil {
		return c.refused("MAIL", err)
	}
	if err := sc.Rcpt(to); err != nil {
		return c.refused("RCPT", err)
	}
	if retry, err := c.startData(); err != nil {
		return retry, err
	}
	return c.data(raw, hold)
}

// refused handles the failure of a command before the message was sent:
// a reply becomes a *SendError on a connection still usable; anything
// else is a broken connection, worth one more try on a new one.
func (c *smtpConn) refused(command string, err error) (bool, error) {
	var reply *textproto.Error
	if !errors.As(err, &reply) {
		c.drop()
		return true, fmt.Errorf("smtp %s: %w", command, err)
	}
	c.reset(reply)
	return false, replyError(command, reply)
}

// reset ends a refused transaction with RSET, or drops the connection
// when the server is closing it (421) or RSET fails.
func (c *smtpConn) reset(reply *textproto.Error) {
	if reply.Code == 421 {
		c.drop()
		return
	}
	if err := c.sc.Reset(); err != nil {
		c.drop()
	}
}
