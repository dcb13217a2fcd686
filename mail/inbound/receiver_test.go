package inbound

import (
	"context"
	"errors"
	"net"
	"net/smtp"
	"net/textproto"
	"sync/atomic"
	"testing"
)

// The receiver takes only its own local parts at its domain, hands each
// message on once with its recipients, answers 451 when the handler
// cannot take it, and slows a client past its rate with 421.
func TestReceiver(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var handled atomic.Int32
	fail := atomic.Bool{}
	r := &Receiver{Domain: "in.example.org", PerClient: 1, Handle: func(_ context.Context, env []string, raw []byte) error {
		if fail.Load() {
			return errors.New("database busy")
		}
		if len(env) != 1 || env[0] != "bounces+abc@in.example.org" || len(raw) == 0 {
			t.Errorf("handed %v, %d bytes", env, len(raw))
		}
		handled.Add(1)
		return nil
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	send := func(rcpt string) int {
		err := smtp.SendMail(ln.Addr().String(), nil, "", []string{rcpt}, []byte("Subject: x\r\n\r\nbody\r\n"))
		var te *textproto.Error
		if errors.As(err, &te) {
			return te.Code
		}
		if err != nil {
			t.Fatal(err)
		}
		return 250
	}
	if c := send("other@in.example.org"); c != 550 {
		t.Errorf("another local part: %d", c)
	}
	if c := send("bounces+abc@elsewhere.example"); c != 550 {
		t.Errorf("another domain: %d", c)
	}
	if c := send("bounces+abc@in.example.org"); c != 250 || handled.Load() != 1 {
		t.Errorf("ours: %d, handled %d", c, handled.Load())
	}
	fail.Store(true)
	if c := send("bounces+abc@in.example.org"); c != 451 {
		t.Errorf("handler failing: %d, want 451 so the sender tries again", c)
	}
	fail.Store(false)
	codes := map[int]int{}
	for range 15 {
		codes[send("bounces+abc@in.example.org")]++
	}
	if codes[421] == 0 {
		t.Errorf("15 more messages at once from one client: %v, want some slowed with 421", codes)
	}
}
