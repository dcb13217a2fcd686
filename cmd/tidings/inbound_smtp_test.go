package main

import (
	"context"
	"errors"
	"net"
	"net/smtp"
	"net/textproto"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidings/tidings/subscribers"
)

// serve takes mail for the inbound domain over SMTP: a reader's mail to
// their unsubscribe+TOKEN@ address, sent to serve's receiver, unsubscribes
// them; other local parts and other domains are refused at RCPT, an
// outsized message at DATA, and nothing else changes.
func TestServe_InboundSMTP(t *testing.T) {
	in, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	cfg.Site.BaseURL = "http://" + ln.Addr().String()
	cfg.Database.Path = filepath.Join(dir, "tidings.db")
	cfg.Content.Dirs = []string{filepath.Join(dir, "content")}
	cfg.Feeds.OutputDir = filepath.Join(dir, "public")
	cfg.SMTP.OutboxDir = filepath.Join(dir, "outbox")
	cfg.Inbound.Domain = "in.example.org"
	cfg.Inbound.MaxBytes = 64 << 10
	m := startRunning(t, &Main{Config: cfg, Listener: ln, InboundListener: in})
	ctx := context.Background()
	add := func(email string) *subscribers.Subscriber {
		s, err := m.App.Subscribers.Add(ctx, email, "", []string{"daily"}, subscribers.StatusConfirmed, subscribers.Meta{Route: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	ana, bo := add("ana@example.com"), add("bo@example.com")
	addr := m.App.Links.UnsubscribeAddress(ana, "in.example.org")

	send := func(rcpt, body string) error {
		return smtp.SendMail(in.Addr().String(), nil, "ana@example.com", []string{rcpt}, []byte(body))
	}
	code := func(err error) int {
		var te *textproto.Error
		if errors.As(err, &te) {
			return te.Code
		}
		return 0
	}
	msg := "From: Ana <ana@example.com>\r\nTo: " + addr + "\r\nSubject: unsubscribe\r\nMessage-ID: <x1@example.com>\r\n\r\nPlease.\r\n"
	for _, tt := range []struct {
		rcpt, body string
		want       int
	}{
		{"postmaster@in.example.org", msg, 550},
		{"unsubscribe@other.example", msg, 550},
		{addr, msg + strings.Repeat(strings.Repeat("x", 98)+"\r\n", 700), 552}, // or the connection closed before the client finished
	} {
		err := send(tt.rcpt, tt.body)
		if tt.want == 552 && err != nil && code(err) == 0 {
			continue
		}
		if code(err) != tt.want {
			t.Errorf("to %s (%d bytes): %v, want %d", tt.rcpt, len(tt.body), err, tt.want)
		}
	}
	if s, err := m.App.Subscribers.Get(ctx, ana.ID); err != nil || s.Status != subscribers.StatusConfirmed {
		t.Fatalf("ana after refused mail: %v, %v", s.Status, err)
	}
	if err := send(addr, msg); err != nil {
		t.Fatalf("unsubscribe by mail: %v", err)
	}
	if s, err := m.App.Subscribers.Get(ctx, ana.ID); err != nil || s.Status != subscribers.StatusUnsubscribed {
		t.Errorf("ana after her mail: %v, %v", s.Status, err)
	}
	if s, err := m.App.Subscribers.Get(ctx, bo.ID); err != nil || s.Status != subscribers.StatusConfirmed {
		t.Errorf("bo: %v, %v", s.Status, err)
	}
}
