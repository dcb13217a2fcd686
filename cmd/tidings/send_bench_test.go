package main

// BenchmarkDigestSendProcess is the headline send figure: the whole
// `tidings digest send` process (start, open, plan, render, send, ledger)
// for N subscribers (TIDINGS_BENCH_SUBSCRIBERS, a comma-separated list,
// default 20000,100000) against a loopback sink, beside a bare net/smtp
// loop sending the same message over as many connections (the default
// of smtp.connections, or TIDINGS_BENCH_CONNECTIONS) in the same
// run, with DKIM off, RSA-2048 and Ed25519 (TIDINGS_BENCH_DKIM=off,rsa,ed25519
// picks; default all), and what the machine can sign: cores ÷ the time of
// one signature, measured here.
//
// Wall time moves with whatever else runs on the machine, so each run
// also prints CPU time per 1,000 messages: of the tidings process, of the
// sink (in this process) while tidings sends, and of the bare loop with
// the sink; their ratio is what the wall-time ratio would be on cores
// with nothing else to do. The others' share of the machine during each
// run is printed from /proc/stat.
//
//	go test ./cmd/tidings -run '^$' -bench DigestSendProcess -benchtime 1x -timeout 60m
//	TIDINGS_BENCH_SUBSCRIBERS=20000 TIDINGS_BENCH_DKIM=off go test ./cmd/tidings -run '^$' -bench DigestSendProcess -benchtime 1x

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

// benchConnections is how many SMTP connections tidings and the bare
// loop both use: smtp.connections' default unless
// TIDINGS_BENCH_CONNECTIONS says otherwise.
func benchConnections(b *testing.B) int {
	v := os.Getenv("TIDINGS_BENCH_CONNECTIONS")
	if v == "" {
		return Default().SMTP.Connections
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("TIDINGS_BENCH_CONNECTIONS=%q: want a positive number", v)
	}
	return n
}

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
	sizes := []int{20000, 100000}
	if v := os.Getenv("TIDINGS_BENCH_SUBSCRIBERS"); v != "" {
		sizes = nil
		for f := range strings.SplitSeq(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				b.Fatalf("TIDINGS_BENCH_SUBSCRIBERS=%q: want positive numbers, comma-separated", v)
			}
			sizes = append(sizes, n)
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
	capacity := map[string]float64{"rsa": signCapacity(b, rsaKey), "ed25519": signCapacity(b, edKey)}
	article := "---\ntitle: The harbour in numbers\n---\n\n" + strings.Repeat("The harbour council met on Tuesday to talk about the ferry, the bridge and the budget. ", 250) + "\n"

	for _, n := range sizes {
		var csv strings.Builder
		csv.WriteString("email,name,digests\n")
		for i := range n {
			fmt.Fprintf(&csv, "reader%d@r%d.example,Reader %d,daily\n", i, i%1000, i)
		}
		list := writeFile(b, dir, fmt.Sprintf("list-%d.csv", n), csv.String())
		for _, mode := range modes {
			b.Run(fmt.Sprintf("n=%d/dkim=%s", n, mode), func(b *testing.B) {
				benchSend(b, bin, port, sink, filepath.Join(dir, fmt.Sprintf("%d-%s", n, mode)), list, article, n, mode,
					rsaKey, edKey, capacity[mode])
			})
		}
	}
}

// benchSend measures one size and DKIM mode: b.N editions of n messages
// by the tidings process, each followed by the bare loop.
func benchSend(b *testing.B, bin string, port int, sink *countSink, site, list, article string, n int, mode, rsaKey, edKey string, capacity float64) {
	writeFile(b, filepath.Join(site, "content"), "a.md", article)
	dkim := ""
	switch mode {
	case "off":
	case "rsa":
		dkim = fmt.Sprintf("[dkim]\ndomain = \"example.org\"\nselector = \"bench\"\nkey_file = %q\n", rsaKey)
	case "ed25519":
		dkim = fmt.Sprintf("[dkim]\ndomain = \"example.org\"\nselector = \"bench\"\nkey_file = %q\n", edKey)
	default:
		b.Fatalf("TIDINGS_BENCH_DKIM: %q is not off, rsa or ed25519", mode)
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
%s`, filepath.Join(site, "t.db"), filepath.Join(site, "content"), filepath.Join(site, "public"), port, benchConnections(b), dkim))
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
	var sendTime, bareTime, sendCPU, sinkCPU, bareCPU, othersSend, othersBare time.Duration
	var maxRSS int64
	var load []string
	for range b.N {
		sink.mu.Lock()
		sink.first = nil
		sink.mu.Unlock()
		before := sink.n.Load()
		load = append(load, loadAvg())
		m0, s0 := machineBusy(), selfCPU(b)
		d, ru := tidings("digest", "send", "daily")
		m1, s1 := machineBusy(), selfCPU(b)
		sendTime += d
		child := tv(ru.Utime) + tv(ru.Stime)
		sendCPU += child
		sinkCPU += s1 - s0
		othersSend += m1 - m0 - child - (s1 - s0)
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
		m2, s2 := machineBusy(), selfCPU(b)
		bareCPU += s2 - s1
		othersBare += m2 - m1 - (s2 - s1)
		// The next edition needs a new article.
		b.StopTimer()
		writeFile(b, filepath.Join(site, "content"), fmt.Sprintf("b%d.md", time.Now().UnixNano()), article)
		tidings("ingest")
		b.StartTimer()
	}
	b.StopTimer()
	msgs := float64(n * b.N)
	rate, bare := msgs/sendTime.Seconds(), msgs/bareTime.Seconds()
	perK := func(d time.Duration) float64 { return d.Seconds() * 1e3 / (msgs / 1000) }
	b.ReportMetric(rate, "msgs/s")
	b.ReportMetric(bare, "bare-msgs/s")
	b.ReportMetric(bareTime.Seconds()/sendTime.Seconds(), "ratio")
	b.ReportMetric(float64(maxRSS)/1024, "max-rss-MB")
	b.ReportMetric(perK(sendCPU), "cpu-ms/1k")
	b.ReportMetric(perK(sinkCPU), "sink-cpu-ms/1k")
	b.ReportMetric(perK(bareCPU), "bare+sink-cpu-ms/1k")
	b.ReportMetric(bareCPU.Seconds()/(sendCPU+sinkCPU).Seconds(), "cpu-ratio")
	cores := float64(runtime.NumCPU())
	b.ReportMetric(othersSend.Seconds()/sendTime.Seconds(), "others-cores-send")
	b.ReportMetric(othersBare.Seconds()/bareTime.Seconds(), "others-cores-bare")
	aim := ""
	if capacity > 0 {
		b.ReportMetric(capacity, "sign-capacity-msgs/s")
		b.ReportMetric(rate/min(capacity, bare), "of-min(sign,bare)")
		aim = fmt.Sprintf("; %.2f of min(sign capacity %.0f/s, bare %.0f/s)", rate/min(capacity, bare), capacity, bare)
	}
	b.Logf("n=%d dkim=%s connections=%d: %.0f msgs/s vs bare %.0f, ratio %.2f%s; max RSS %.0f MB; CPU per 1,000 msgs: tidings %.0f ms + sink %.0f ms vs bare loop + sink %.0f ms (CPU ratio %.2f); load average %s; the machine's other work used %.2f of %.0f cores during the send, %.2f during the bare loop%s",
		n, mode, benchConnections(b), rate, bare, bareTime.Seconds()/sendTime.Seconds(), aim, float64(maxRSS)/1024,
		perK(sendCPU), perK(sinkCPU), perK(bareCPU), bareCPU.Seconds()/(sendCPU+sinkCPU).Seconds(),
		strings.Join(load, ", "), othersSend.Seconds()/sendTime.Seconds(), cores, othersBare.Seconds()/bareTime.Seconds(),
		loadWarning(othersSend.Seconds()/sendTime.Seconds(), othersBare.Seconds()/bareTime.Seconds()))
}

// loadWarning says so when other work took a good part of the machine.
func loadWarning(shares ...float64) string {
	for _, s := range shares {
		if s > 0.25 {
			return ": load was high, wall-time rates are low and noisy; the CPU figures hold better"
		}
	}
	return ""
}

// tv is a rusage time as a Duration.
func tv(t syscall.Timeval) time.Duration {
	return time.Duration(t.Sec)*time.Second + time.Duration(t.Usec)*time.Microsecond
}

// selfCPU is the CPU time this process (the sink, the bare loop) used so far.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return tv(ru.Utime) + tv(ru.Stime)
}

// machineBusy is the CPU time all processes on the machine used so far,
// from /proc/stat (0 where there is none).
func machineBusy() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var ticks int64
	for i, v := range f[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		t, _ := strconv.ParseInt(v, 10, 64)
		ticks += t
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// loadAvg is the one-minute load average, or "?".
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}

// bareLoop sends raw n times over benchConnections net/smtp connections,
// the body built once: the floor the process is measured against.
func bareLoop(b *testing.B, port int, raw []byte, n int) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchConnections(b) {
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

// signCapacity is what this machine can sign per second with the key in
// keyFile (RSA or Ed25519): cores ÷ the measured time of one signature
// of a SHA-256 sum, as DKIM signs.
func signCapacity(b *testing.B, keyFile string) float64 {
	data, err := os.ReadFile(keyFile)
	if err != nil {
		b.Fatal(err)
	}
	block, _ := pem.Decode(data)
	var key crypto.Signer
	var opts crypto.SignerOpts = crypto.SHA256
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		var k any
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		key, _ = k.(crypto.Signer)
		opts = crypto.Hash(0) // Ed25519 signs the sum itself
	}
	if err != nil || key == nil {
		b.Fatalf("%s: %v", keyFile, err)
	}
	sum := sha256.Sum256([]byte("message"))
	// Timed in CPU time (this process is otherwise idle here), which
	// other work on the machine does not stretch as it does wall time.
	rounds := 0
	t0, c0 := time.Now(), selfCPU(b)
	for time.Since(t0) < 500*time.Millisecond {
		if _, err := key.Sign(rand.Reader, sum[:], opts); err != nil {
			b.Fatal(err)
		}
		rounds++
	}
	wall, one := time.Since(t0)/time.Duration(rounds), (selfCPU(b)-c0)/time.Duration(rounds)
	capacity := float64(runtime.NumCPU()) / one.Seconds()
	b.Logf("one %T signature: %v of CPU (%v wall); %d cores: the machine signs %.0f a second (load average %s)",
		key, one, wall, runtime.NumCPU(), capacity, loadAvg())
	return capacity
}
