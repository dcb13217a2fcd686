package main

// BenchmarkDigestSendProcess is the headline send figure: the whole
// `tidings digest send` process (start, open, plan, render, send, ledger)
// for N subscribers (TIDINGS_BENCH_SUBSCRIBERS, default 20,000) against a
// loopback sink, beside a bare net/smtp loop sending the same message over
// as many connections in the same run, with DKIM off, RSA-2048 and
// Ed25519 (TIDINGS_BENCH_DKIM=off,rsa,ed25519 picks; default all), and
// what the machine can sign: cores ÷ the time of one RSA signature,
// measured here.
//
//	go test ./cmd/tidings -run '^$' -bench DigestSendProcess -benchtime 1x -timeout 60m
//	TIDINGS_BENCH_SUBSCRIBERS=100000 go test ./cmd/tidings -run '^$' -bench DigestSendProcess -benchtime 1x -timeout 60m

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

const benchConnections = 4

// countSink counts what it receives and keeps the first message.
type countSink struct {
	n     atomic.Int64
	mu    sync.Mutex
	first []byte
}

func (s *countSink) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return countSession{s}, nil }

type countSession struct{ s *countSink }

func (countSession) Mail(string, *gosmtp.MailOptions) error { return nil }
func (countSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (cs countSession) Data(r io.Reader) error {
	cs.s.mu.Lock()
	keep := cs.s.first == nil
	cs.s.mu.Unlock()
	if keep {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		cs.s.mu.Lock()
		cs.s.first = b
		cs.s.mu.Unlock()
	} else if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	cs.s.n.Add(1)
	return nil
}
func (countSession) Reset()        {}
func (countSession) Logout() error { return nil }

func BenchmarkDigestSendProcess(b *testing.B) {
	n := 20000
	if v := os.Getenv("TIDINGS_BENCH_SUBSCRIBERS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("TIDINGS_BENCH_SUBSCRIBERS=%q: want a positive number", v)
		}
	}
	modes := []string{"off", "rsa", "ed25519"}
	if v := os.Getenv("TIDINGS_BENCH_DKIM"); v != "" {
		modes = strings.Split(v, ",")
	}
	bin := buildTidings(b)
	sink := &countSink{}
	srv := gosmtp.NewServer(sink)
	srv.Domain = "localhost"
	srv.MaxRecipients = 1
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port

	dir := b.TempDir()
	rsaKey, edKey := writeBenchKeys(b, dir)
	b.ReportMetric(signCapacity(b, rsaKey), "rsa-sign-capacity-msgs/s")
	var csv strings.Builder
	csv.WriteString("email,name,digests\n")
	for i := range n {
		fmt.Fprintf(&csv, "reader%d@r%d.example,Reader %d,daily\n", i, i%1000, i)
	}
	list := writeFile(b, dir, "list.csv", csv.String())
	article := "---\ntitle: The harbour in numbers\n---\n\n" + strings.Repeat("The harbour council met on Tuesday to talk about the ferry, the bridge and the budget. ", 250) + "\n"

	for _, mode := range modes {
		b.Run("dkim="+mode, func(b *testing.B) {
			site := filepath.Join(dir, mode)
			writeFile(b, filepath.Join(site, "content"), "a.md", article)
			dkim := ""
			switch mode {
			case "rsa":
				dkim = fmt.Sprintf("[dkim]\ndomain = \"example.org\"\nselector = \"bench\"\nkey_file = %q\n", rsaKey)
			case "ed25519":
				dkim = fmt.Sprintf("[dkim]\ndomain = \"example.org\"\nselector = \"bench\"\nkey_file = %q\n", edKey)
			}
			cfg := writeFile(b, site, "tidings.toml", fmt.Sprintf(`
[site]
title = "Bench News"
base_url = "https://news.example.org"
email = "news@example.org"
postal_address = "1 Quay Street"
[database]
path = %q
[content]
dirs = [%q]
[feeds]
output_dir = %q
[smtp]
host = "127.0.0.1"
port = %d
tls = "none"
connections = %d
[[digests]]
name = "daily"
schedule = "0 7 * * *"
full_content = true
%s`, filepath.Join(site, "t.db"), filepath.Join(site, "content"), filepath.Join(site, "public"), port, benchConnections, dkim))
			env := append(os.Environ(), "TIDINGS_CONFIG="+cfg)
			tidings := func(args ...string) (time.Duration, *syscall.Rusage) {
				b.Helper()
				cmd := exec.Command(bin, args...)
				cmd.Env = env
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				t0 := time.Now()
				if err := cmd.Run(); err != nil {
					b.Fatalf("tidings %s: %v\n%s", strings.Join(args, " "), err, out.String())
				}
				return time.Since(t0), cmd.ProcessState.SysUsage().(*syscall.Rusage)
			}
			tidings("subscribers", "import", "--confirmed", list)
			tidings("ingest")

			b.ResetTimer()
			var sendTime, bareTime time.Duration
			var maxRSS int64
			for range b.N {
				sink.mu.Lock()
				sink.first = nil
				sink.mu.Unlock()
				before := sink.n.Load()
				d, ru := tidings("digest", "send", "daily")
				sendTime += d
				maxRSS = max(maxRSS, ru.Maxrss)
				if got := sink.n.Load() - before; got != int64(n) {
					b.Fatalf("the sink got %d messages, want %d", got, n)
				}
				sink.mu.Lock()
				raw := sink.first
				sink.mu.Unlock()
				t0 := time.Now()
				bareLoop(b, port, raw, n)
				bareTime += time.Since(t0)
				// The next edition needs a new article.
				b.StopTimer()
				writeFile(b, filepath.Join(site, "content"), fmt.Sprintf("b%d.md", time.Now().UnixNano()), article)
				tidings("ingest")
				b.StartTimer()
			}
			b.StopTimer()
			msgs := float64(n * b.N)
			b.ReportMetric(msgs/sendTime.Seconds(), "msgs/s")
			b.ReportMetric(msgs/bareTime.Seconds(), "bare-msgs/s")
			b.ReportMetric(bareTime.Seconds()/sendTime.Seconds(), "ratio")
			b.ReportMetric(float64(maxRSS)/1024, "max-rss-MB")
		})
	}
}

// bareLoop sends raw n times over benchConnections net/smtp connections,
// the body built once: the floor the process is measured against.
func bareLoop(b *testing.B, port int, raw []byte, n int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchConnections {
		wg.Go(func() {
			c, err := smtp.Dial(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
			if err != nil {
				b.Error(err)
				return
			}
			defer c.Quit()
			for next.Add(1) <= int64(n) {
				if err := c.Mail("news@example.org"); err != nil {
					b.Error(err)
					return
				}
				if err := c.Rcpt("reader@example.org"); err != nil {
					b.Error(err)
					return
				}
				w, err := c.Data()
				if err != nil {
					b.Error(err)
					return
				}
				if _, err := w.Write(raw); err != nil {
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
}

// writeBenchKeys writes an RSA-2048 and an Ed25519 key as PEM files.
func writeBenchKeys(b *testing.B, dir string) (rsaFile, edFile string) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	rsaFile = writeFile(b, dir, "rsa.pem", string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})))
	_, ek, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ek)
	if err != nil {
		b.Fatal(err)
	}
	edFile = writeFile(b, dir, "ed25519.pem", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})))
	return rsaFile, edFile
}

// signCapacity is what this machine can sign per second with the RSA key:
// cores ÷ the measured time of one signature.
func signCapacity(b *testing.B, keyFile string) float64 {
	data, err := os.ReadFile(keyFile)
	if err != nil {
		b.Fatal(err)
	}
	block, _ := pem.Decode(data)
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256([]byte("message"))
	const rounds = 300
	t0 := time.Now()
	for range rounds {
		if _, err := key.Sign(rand.Reader, sum[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
	one := time.Since(t0) / rounds
	b.Logf("one RSA-2048 signature: %v; %d cores", one, runtime.NumCPU())
	return float64(runtime.NumCPU()) / one.Seconds()
}
