package mail

// BenchmarkSendEdition sends one edition to N subscribers (N from
// TIDINGS_BENCH_SUBSCRIBERS, default 10,000; the README's table uses
// 100,000) through a loopback SMTP sink, with a ~30 KB body, and compares
// it with a bare net/smtp loop over as many connections sending one
// prebuilt message: the ledger's cost is the ratio. TIDINGS_BENCH_DKIM=1
// signs every message with RSA-2048, TIDINGS_BENCH_DKIM=ed25519 with
// Ed25519.
//
//	go test ./mail -run '^$' -bench SendEdition -benchtime=1x
//	TIDINGS_BENCH_SUBSCRIBERS=100000 go test ./mail -run '^$' -bench SendEdition -benchtime=1x -timeout 30m

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"net"
	"net/mail"
	"net/smtp"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/tidings/tidings/mail/transport"
)

const benchConns = 4

func benchSubscribers(b *testing.B) int {
	n := 10000
	if s := os.Getenv("TIDINGS_BENCH_SUBSCRIBERS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("TIDINGS_BENCH_SUBSCRIBERS=%q: want a positive number", s)
		}
		n = v
	}
	return n
}

// sink is an SMTP server that counts and discards what it receives.
type sink struct{ n atomic.Int64 }

func (s *sink) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return sinkSession{s}, nil }

type sinkSession struct{ s *sink }

func (sinkSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (sinkSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (ss sinkSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	ss.s.n.Add(1)
	return nil
}
func (sinkSession) Reset()        {}
func (sinkSession) Logout() error { return nil }

func startSink(b *testing.B) (*sink, int) {
	s := &sink{}
	srv := gosmtp.NewServer(s)
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	return s, ln.Addr().(*net.TCPAddr).Port
}

// benchBody returns a text and an HTML body of about 10 and 20 KB.
func benchBody() (text, html string) {
	words := strings.Fields("harbour council bridge ferry budget school market weather festival museum library tide")
	var t, h strings.Builder
	for i := 0; t.Len() < 10000; i++ {
		t.WriteString(words[i%len(words)])
		if i%12 == 11 {
			t.WriteString(".\n")
		} else {
			t.WriteString(" ")
		}
	}
	for i := 0; h.Len() < 20000; i++ {
		fmt.Fprintf(&h, `<p>%s <a href="https://example.org/a/%d">%s</a> %s.</p>`+"\n",
			words[i%len(words)], i, words[(i+3)%len(words)], strings.Repeat(words[(i+5)%len(words)]+" ", 8))
	}
	return t.String(), h.String()
}

// addBenchSubscribers inserts n confirmed subscribers of daily in one
// transaction: the benchmark measures sending, not signing up.
func addBenchSubscribers(b *testing.B, e *ledgerEnv, n int) {
	ctx := context.Background()
	tx, err := e.db.Write.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	now := ledgerStart.UnixNano()
	for i := range n {
		r, err := tx.ExecContext(ctx, `INSERT INTO subscribers (email, status, route, created_at, confirmed_at)
			VALUES (?, 'confirmed', 'import', ?, ?)`, email(i), now, now)
		if err != nil {
			b.Fatal(err)
		}
		id, err := r.LastInsertId()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO subscriber_digests (subscriber_id, digest) VALUES (?, 'daily')`, id); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkSendEdition(b *testing.B) {
	n := benchSubscribers(b)
	e := openLedgerEnv(b, b.TempDir()+"/tidings.db", ledgerStart)
	addBenchSubscribers(b, e, n)
	sk, port := startSink(b)
	text, html := benchBody()
	cfg := transport.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: "none", Connections: benchConns, Timeout: 30 * time.Second}
	switch os.Getenv("TIDINGS_BENCH_DKIM") {
	case "":
	case "ed25519":
		// Every message signed with an Ed25519 key.
		_, key, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		if cfg.DKIM, err = transport.NewDKIM("example.org", "bench", key); err != nil {
			b.Fatal(err)
		}
	default:
		// The DKIM-on rate: every message signed with an RSA-2048 key.
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			b.Fatal(err)
		}
		if cfg.DKIM, err = transport.NewDKIM("example.org", "bench", key); err != nil {
			b.Fatal(err)
		}
	}
	tr, err := transport.NewSMTP(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	s := &Sender{Ledger: e.ledger, Transport: tr, Composer: &testComposer{pad: text, html: html}, Workers: benchConns}

	// One message as the sender makes them, built once for the bare loop.
	raw, err := (&transport.Message{From: dailyDigest().From, To: mail.Address{Address: email(0)}, Subject: "Example News: a title",
		Text: text, HTML: html, Headers: [][2]string{{"List-Id", "<daily.example.org>"}}}).Bytes(nil)
	if err != nil {
		b.Fatal(err)
	}

	var sendTime, bareTime, planTime time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		at := ledgerStart.Add(time.Duration(i+1) * time.Hour)
		e.clock.Advance(time.Hour)
		e.addArticle(b, fmt.Sprintf("bench-%d", i), at.Add(-time.Minute))
		t0 := time.Now()
		e.plan(b, dailyDigest(), at)
		planTime += time.Since(t0)
		b.StartTimer()

		t0 = time.Now()
		rep, err := s.SendDue(context.Background())
		sendTime += time.Since(t0)
		if err != nil || rep.Sent != n {
			b.Fatalf("Run = %+v, %v; want %d sent", rep, err, n)
		}

		b.StopTimer()
		t0 = time.Now()
		bareSend(b, port, raw, n)
		bareTime += time.Since(t0)
		b.StartTimer()
	}
	b.StopTimer()
	if got := sk.n.Load(); got != int64(2*n*b.N) {
		b.Fatalf("sink received %d messages, want %d", got, 2*n*b.N)
	}
	msgs := float64(n * b.N)
	b.ReportMetric(float64(len(raw))/1024, "KB/msg")
	b.ReportMetric(msgs/sendTime.Seconds(), "msgs/s")
	b.ReportMetric(msgs/bareTime.Seconds(), "bare-msgs/s")
	b.ReportMetric(bareTime.Seconds()/sendTime.Seconds(), "ratio")
	b.ReportMetric(planTime.Seconds()/float64(b.N), "plan-s")
}

// bareSend sends raw n times over benchConns net/smtp connections: the
// SMTP floor the sender is measured against.
func bareSend(b *testing.B, port int, raw []byte, n int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, benchConns)
	for range benchConns {
		wg.Go(func() {
			c, err := smtp.Dial(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				errs <- err
				return
			}
			defer c.Quit()
			for next.Add(1) <= int64(n) {
				err := c.Mail("news@example.org")
				if err == nil {
					err = c.Rcpt("sub1@example.com")
				}
				var w io.WriteCloser
				if err == nil {
					w, err = c.Data()
				}
				if err == nil {
					_, err = w.Write(raw)
				}
				if err == nil {
					err = w.Close()
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// BenchmarkSendMemory is the sender's memory for a long list: an edition
// planned for N subscribers (TIDINGS_BENCH_PLAN_SUBSCRIBERS, default
// 1,000,000), of which each iteration sends the next
// TIDINGS_BENCH_SEND_FIRST (default 50,000) to a loopback sink that
// discards them, while the Go heap in use is sampled every 20 ms. The
// sender claims, checks and records a batch at a time, so its heap should
// not grow with N: compare a run at 100,000 with one at a million.
// rss-peak-MB is the whole process's high-water mark (SQLite's page
// cache, seeding and planning included).
//
//	go test ./mail -run '^$' -bench SendMemory -benchtime 1x -timeout 30m
func BenchmarkSendMemory(b *testing.B) {
	if testing.Short() {
		b.Skip("seeds a million subscribers")
	}
	n := benchPlanSubscribers(b)
	first := 50_000
	if s := os.Getenv("TIDINGS_BENCH_SEND_FIRST"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v <= 0 {
			b.Fatalf("TIDINGS_BENCH_SEND_FIRST=%q: want a positive number", s)
		}
		first = v
	}
	e := openLedgerEnv(b, b.TempDir()+"/tidings.db", ledgerStart)
	seedSubscribers(b, e, n)
	e.addArticle(b, "bench", ledgerStart.Add(-time.Minute))
	e.plan(b, dailyDigest(), ledgerStart)
	sk, port := startSink(b)
	text, html := benchBody()
	tr, err := transport.NewSMTP(transport.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: "none", Connections: benchConns,
		Timeout: 30 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	s := &Sender{Ledger: e.ledger, Transport: tr, Composer: &testComposer{pad: text, html: html}, Workers: benchConns}

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	var peak uint64
	var sendTime time.Duration
	b.ResetTimer()
	for i := range b.N {
		ctx, cancel := context.WithCancel(context.Background())
		want := int64((i + 1) * first)
		done := make(chan struct{})
		go func() {
			defer close(done)
			var ms runtime.MemStats
			for ctx.Err() == nil {
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
				if sk.n.Load() >= want {
					cancel()
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
		t0 := time.Now()
		if _, err := s.SendDue(ctx); err != nil {
			b.Fatal(err)
		}
		sendTime += time.Since(t0)
		cancel()
		<-done
	}
	b.StopTimer()
	sent := sk.n.Load()
	if sent < int64(b.N*first) {
		b.Fatalf("sent %d, want at least %d", sent, b.N*first)
	}
	b.ReportMetric(float64(n), "subscribers")
	b.ReportMetric(float64(sent), "sent")
	b.ReportMetric(float64(sent)/sendTime.Seconds(), "msgs/s")
	b.ReportMetric(float64(base)/(1<<20), "heap-before-MB")
	b.ReportMetric(float64(peak)/(1<<20), "heap-peak-MB")
	b.ReportMetric(rssPeakMB(), "rss-peak-MB")
}

// rssPeakMB is the process's resident high-water mark (VmHWM), 0 where
// /proc does not say.
func rssPeakMB() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err == nil {
				return float64(kb) / 1024
			}
		}
	}
	return 0
}
