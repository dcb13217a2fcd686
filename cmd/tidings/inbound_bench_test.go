package main

// BenchmarkInboundReceiver sends bounces to serve's SMTP receiver over 4
// connections at once, each a Postfix DSN matched to a real delivery by
// its VERP token and recorded (the first report of each; the rest are
// "already recorded", as in a bounce storm that repeats itself), and
// reports messages per second end to end: SMTP, classification, token
// check and the ledger.
//
//	go test ./cmd/tidings -run '^$' -bench InboundReceiver -benchtime 2000x

import (
	"context"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tidings/tidings/mail"
	"github.com/tidings/tidings/subscribers"
)

func BenchmarkInboundReceiver(b *testing.B) {
	in, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	cfg := Default()
	cfg.Site.BaseURL = "http://" + ln.Addr().String()
	cfg.Database.Path = filepath.Join(dir, "tidings.db")
	cfg.Content.Dirs = []string{filepath.Join(dir, "content")}
	cfg.Feeds.OutputDir = filepath.Join(dir, "public")
	cfg.SMTP.OutboxDir = filepath.Join(dir, "outbox")
	cfg.Inbound.Domain = "in.example.org"
	cfg.Inbound.ClientRate = 1e6 // one client sends it all here
	m := &Main{Config: cfg, Listener: ln, InboundListener: in}
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Open(ctx); err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done; m.Close() }()

	// 200 subscribers, one edition: 200 deliveries to bounce.
	const n = 200
	a := m.App
	for i := range n {
		if _, err := a.Subscribers.Add(ctx, fmt.Sprintf("r%d@example.com", i), "", []string{"daily"}, subscribers.StatusConfirmed, subscribers.Meta{Route: "cli"}); err != nil {
			b.Fatal(err)
		}
	}
	writeFile(b, cfg.Content.Dirs[0], "a.md", "# Harbour reopens\n\nShips are back.\n")
	if _, err := a.Ingester.Scan(ctx); err != nil {
		b.Fatal(err)
	}
	ed, _, err := a.Ledger.Plan(ctx, a.Digests["daily"], a.Now())
	if err != nil || ed == nil {
		b.Fatal(ed, err)
	}
	ds, err := a.Ledger.Deliveries(ctx, ed.ID, mail.DeliveryQueued)
	if err != nil || len(ds) != n {
		b.Fatal(len(ds), err)
	}
	tmpl, err := os.ReadFile(filepath.Join("..", "..", "testdata", "inbound", "postfix-dsn-user-unknown.eml"))
	if err != nil {
		b.Fatal(err)
	}
	msgs := make([][2]string, n)
	for i, d := range ds {
		s, err := a.Subscribers.Get(ctx, d.SubscriberID)
		if err != nil {
			b.Fatal(err)
		}
		verp := "bounces+" + a.Tokens.AddressToken(subscribers.PurposeReturn, d.ID, s.Nonce) + "@in.example.org"
		msgs[i] = [2]string{verp, strings.NewReplacer("bounces+d4711.k3f9@example.org", verp, "ada@example.com", d.Email).Replace(string(tmpl))}
	}

	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			c, err := smtp.Dial(in.Addr().String())
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Quit()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				msg := msgs[i%n]
				if err := c.Mail(""); err != nil {
					b.Error(err)
					return
				}
				if err := c.Rcpt(msg[0]); err != nil {
					b.Error(err)
					return
				}
				w, err := c.Data()
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := w.Write([]byte(strings.ReplaceAll(msg[1], "\n", "\r\n"))); err != nil {
					b.Error(err)
					return
				}
				if err := w.Close(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
	r, err := a.Ledger.Returns(ctx, ed.ID)
	if err != nil || r["bounce"] != min(n, b.N) {
		b.Fatalf("returns %v, %v; want every delivery bounced once", r, err)
	}
}
