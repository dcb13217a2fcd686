package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
)

// cluster is a set of tidings serve processes on one PostgreSQL database,
// each with its own config (its own HTTP port and feed folder) over one
// content folder and one SMTP sink.
type cluster struct {
	t       *testing.T
	bin     string
	url     string
	dir     string
	content string
	configs []string
	procs   []*child
	bases   []string // each instance's http://host:port
	killed  map[int]bool
}

// newCluster writes n configs on a fresh PostgreSQL database; it skips
// the test without TIDINGS_TEST_POSTGRES.
func newCluster(t *testing.T, n, smtpPort, connections int) *cluster {
	t.Helper()
	if !databasetest.Postgres() {
		t.Skipf("%s is not set: the cluster tests need a PostgreSQL server (.ci/postgres start prints one)", databasetest.Env)
	}
	c := &cluster{t: t, bin: buildTidings(t), url: databasetest.NewPostgres(t), dir: t.TempDir(), killed: map[int]bool{}}
	c.content = filepath.Join(c.dir, "content")
	writeFile(t, c.content, "bridge.md", "---\ntitle: Bridge opens\ndate: 2026-01-20 08:30\n---\n\nThe new bridge opened on Friday.\n")
	writeFile(t, c.content, "ferry.md", "---\ntitle: Ferry returns\ndate: 2026-01-21 08:30\n---\n\nThe ferry is back.\n")
	for i := range n {
		c.configs = append(c.configs, writeFile(t, c.dir, fmt.Sprintf("tidings%d.toml", i), fmt.Sprintf(`
[site]
title = "The Harbour Gazette"
base_url = "http://127.0.0.1:8080"
email = "news@gazette.example.org"
postal_address = "1 Quay Street"
[database]
url = %q
[content]
dirs = [%q]
poll = "1m"
[feeds]
output_dir = %q
[http]
listen = "127.0.0.1:0"
admin_token = "cluster-token"
[smtp]
host = "127.0.0.1"
port = %d
tls = "none"
connections = %d
outbox_dir = %q
[[digests]]
name = "daily"
schedule = "0 7 * * *"
max_articles = 20
`, c.url, c.content, filepath.Join(c.dir, fmt.Sprint("public", i)), smtpPort, connections, filepath.Join(c.dir, "outbox"))))
	}
	return c
}

func (c *cluster) env(i int) []string { return configEnv(c.configs[i]) }

func configEnv(path string) []string {
	return append(os.Environ(), "TIDINGS_CONFIG="+path, "TIDINGS_DATABASE_URL=")
}

// run runs a command with instance 0's config and returns its output.
func (c *cluster) run(want int, args ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Env = c.env(0)
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState == nil {
		c.t.Fatalf("tidings %s: %v", strings.Join(args, " "), err)
	}
	if code := cmd.ProcessState.ExitCode(); code != want {
		c.t.Fatalf("tidings %s exited %d (%v), want %d:\n%s", strings.Join(args, " "), code, err, want, out)
	}
	return string(out)
}

// start starts every instance and waits until each serves.
func (c *cluster) start() { c.startWith(c.configs...) }

// startN starts the first n instances.
func (c *cluster) startN(n int) { c.startWith(c.configs[:n]...) }

// startWith starts an instance on each config.
func (c *cluster) startWith(configs ...string) {
	c.t.Helper()
	c.procs, c.bases, c.killed = nil, nil, map[int]bool{}
	for _, cfg := range configs {
		c.procs = append(c.procs, startTidings(c.t, c.bin, configEnv(cfg), "serve"))
	}
	for _, p := range c.procs {
		c.bases = append(c.bases, p.logged(c.t, regexp.MustCompile(`msg=serving .*url=(http://\S+)`), 60*time.Second))
	}
}

// stop stops the instances still running with SIGTERM; each exits 0.
func (c *cluster) stop() {
	c.t.Helper()
	for i, p := range c.procs {
		if !c.killed[i] {
			p.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for i, p := range c.procs {
		if !c.killed[i] {
			p.exitsCleanly(c.t, 30*time.Second)
		}
	}
}

// kill kills instance i with SIGKILL.
func (c *cluster) kill(i int) {
	c.t.Helper()
	if err := c.procs[i].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	<-c.procs[i].done
	c.killed[i] = true
}

// importConfirmed adds n confirmed readers of daily through subscribers
// import.
func (c *cluster) importConfirmed(n int) {
	c.t.Helper()
	var csv bytes.Buffer
	csv.WriteString("email,name,digests\n")
	for i := range n {
		fmt.Fprintf(&csv, "reader%06d@example.org,Reader %d,daily\n", i, i)
	}
	path := filepath.Join(c.dir, "list.csv")
	if err := os.WriteFile(path, csv.Bytes(), 0o600); err != nil {
		c.t.Fatal(err)
	}
	if out := c.run(0, "subscribers", "import", "--confirmed", path); !strings.Contains(out, fmt.Sprintf("added %d", n)) {
		c.t.Fatalf("import: %s", out)
	}
}

// query runs one counting query on the cluster's database.
func (c *cluster) count(q string, args ...any) int {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	db, err := database.Open(ctx, c.url)
	if err != nil {
		c.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.Read.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		c.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// copySink is a go-smtp server that keeps, of each message it accepts,
// only the recipient and the Message-ID: enough to count copies of an
// edition of any size.
type copySink struct {
	port int
	mu   sync.Mutex
	msgs []sunk
}

type sunk struct{ to, messageID string }

func newCopySink(t *testing.T) *copySink {
	s := &copySink{}
	s.port = serveSMTP(t, s).Port
	return s
}

func (s *copySink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

func (s *copySink) snapshot() []sunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sunk(nil), s.msgs...)
}

func (s *copySink) NewSession(*smtp.Conn) (smtp.Session, error) { return &copySession{sink: s}, nil }

type copySession struct {
	sink *copySink
	to   []string
}

func (cs *copySession) Mail(string, *smtp.MailOptions) error { return nil }
func (cs *copySession) Rcpt(to string, _ *smtp.RcptOptions) error {
	cs.to = append(cs.to, to)
	return nil
}
func (cs *copySession) Reset()        { cs.to = nil }
func (cs *copySession) Logout() error { return nil }
func (cs *copySession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(bufio.NewReader(r))
	if err != nil {
		return &smtp.SMTPError{Code: 554, Message: "message does not parse: " + err.Error()}
	}
	// A message is the server's only with its final dot: one whose
	// connection closed before it is not received, as no MTA keeps it.
	if _, err := io.Copy(io.Discard, m.Body); err != nil {
		return err
	}
	id := m.Header.Get("Message-ID")
	cs.sink.mu.Lock()
	for _, to := range cs.to {
		cs.sink.msgs = append(cs.sink.msgs, sunk{to: to, messageID: id})
	}
	cs.sink.mu.Unlock()
	cs.to = nil
	return nil
}

// Three serve instances on one PostgreSQL database send one edition to
// 10,000 subscribers; one is killed with SIGKILL mid-send. Every
// subscriber gets exactly one copy (one in flight at the kill may come
// twice, under the same Message-ID), the edition is planned once, and
// tidings editions show says what the sink got.
func TestCluster_ThreeInstancesSendOneEditionThroughAKill(t *testing.T) {
	const subscribers, connections = 10000, 4
	sink := newCopySink(t)
	c := newCluster(t, 3, sink.port, connections)
	c.run(0, "ingest")
	c.importConfirmed(subscribers)
	c.start()
	defer c.stop()
	for i, base := range c.bases {
		resp, body := get(t, base+"/readyz")
		if resp.StatusCode != 200 || !strings.Contains(body, "database: postgres, reachable") {
			t.Fatalf("instance %d readyz %d:\n%s", i, resp.StatusCode, body)
		}
	}

	start := time.Now()
	// The edition is planned here; the three instances are told and send.
	if out := c.run(0, "digest", "send", "--queue", "daily"); !strings.Contains(out, "edition 1") {
		t.Fatalf("digest send --queue: %s", out)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for sink.count() < 3000 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d messages in 2 minutes", sink.count())
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.kill(1)
	atKill := sink.count()
	killedAt := time.Since(start)

	for c.count(`SELECT COUNT(*) FROM deliveries WHERE edition_id = 1 AND state = 'sent'`) < subscribers {
		if time.Now().After(deadline) {
			t.Fatalf("the edition did not finish: %s", c.run(0, "editions", "show", "1"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	took := time.Since(start)
	time.Sleep(500 * time.Millisecond) // nothing more may come

	got := sink.snapshot()
	per := map[string][]string{}
	for _, m := range got {
		per[m.to] = append(per[m.to], m.messageID)
	}
	if len(per) != subscribers {
		t.Errorf("%d subscribers got mail, want %d", len(per), subscribers)
	}
	dups := 0
	for to, ids := range per {
		for _, id := range ids[1:] {
			dups++
			if id != ids[0] {
				t.Errorf("%s got a second copy under another Message-ID (%s, %s)", to, ids[0], id)
			}
		}
	}
	if dups > connections {
		t.Errorf("%d copies came twice; at most the killed instance's %d in flight may", dups, connections)
	}
	if n := c.count(`SELECT COUNT(*) FROM editions`); n != 1 {
		t.Errorf("%d editions planned, want 1", n)
	}
	if n := c.count(`SELECT COUNT(*) FROM deliveries WHERE edition_id = 1`); n != subscribers {
		t.Errorf("%d deliveries queued, want one per subscriber (%d)", n, subscribers)
	}
	show := c.run(0, "editions", "show", "1")
	if want := fmt.Sprintf("Deliveries: sent %d, queued 0, sending 0, failed 0", len(per)); !strings.Contains(show, want) {
		t.Errorf("editions show does not say %q:\n%s", want, show)
	}
	var senders int
	for _, p := range c.procs {
		if strings.Contains(p.output(), "msg=\"deliveries sent\"") {
			senders++
		}
	}
	if senders < 2 {
		t.Errorf("only %d instances sent: the test shows no sharing", senders)
	}
	t.Logf("%d messages, %d at the kill (%v); all sent in %v (%.0f msgs/s, load was high); %d copies twice",
		len(got), atKill, killedAt.Round(time.Millisecond), took.Round(time.Millisecond), float64(len(got))/took.Seconds(), dups)
}

// An article added to the content folder appears in the feeds of all
// three instances within seconds: the leader scans it and tells the
// others, who rebuild from the database (the poll is a minute).
func TestCluster_FeedsFollowOnEveryInstance(t *testing.T) {
	sink := newCopySink(t)
	c := newCluster(t, 3, sink.port, 1)
	c.start()
	defer c.stop()
	var scanners int
	for i, base := range c.bases {
		resp, body := get(t, base+"/healthz")
		if resp.StatusCode != 200 || !strings.Contains(body, "instance: ") {
			t.Fatalf("instance %d healthz %d:\n%s", i, resp.StatusCode, body)
		}
		if regexp.MustCompile(`leading: .*scan`).MatchString(body) {
			scanners++
		}
	}
	// The leader scanned before it served; the others built from the
	// database when they heard of it, or when they began to listen.
	for i, base := range c.bases {
		c.waitFeed(i, base, "Ferry returns", time.Now())
	}
	if scanners != 1 {
		t.Errorf("%d instances lead the scan, want 1", scanners)
	}
	added := time.Now()
	writeFile(t, c.content, "lighthouse.md", "---\ntitle: Lighthouse relit\ndate: 2026-01-22 08:30\n---\n\nThe lighthouse shines again.\n")
	for i, base := range c.bases {
		c.waitFeed(i, base, "Lighthouse relit", added)
	}
	t.Logf("every instance serves the new article %v after it was written", time.Since(added).Round(time.Millisecond))

	// An article posted to one instance's API is in every feed as soon.
	req, _ := http.NewRequest(http.MethodPost, c.bases[2]+"/api/v1/articles",
		strings.NewReader(`{"title": "Harbour dredged", "content": "The harbour is deep again.", "date": "2026-01-23T08:30:00Z"}`))
	req.Header.Set("Authorization", "Bearer cluster-token")
	req.Header.Set("Content-Type", "application/json")
	posted := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/v1/articles: %d %s", resp.StatusCode, body)
	}
	for i, base := range c.bases {
		c.waitFeed(i, base, "Harbour dredged", posted)
	}
	t.Logf("every instance serves the posted article %v after the POST", time.Since(posted).Round(time.Millisecond))
}

// PostgreSQL goes away under a serve in the middle of an edition and
// comes back: serve keeps running, says not ready meanwhile, and
// finishes the edition; nothing marked sent was not, and a copy sent
// twice carries the same Message-ID.
func TestCluster_DatabaseGoesAwayMidSend(t *testing.T) {
	const subscribers, connections = 3000, 4
	sink := newCopySink(t)
	c := newCluster(t, 1, sink.port, connections)
	c.run(0, "ingest")
	c.importConfirmed(subscribers)
	viaProxy, proxy := proxied(t, c.url)
	proxy.restore()
	// The instance reaches the database through the proxy only; the
	// commands go straight to it.
	c.startWith(writeFile(t, c.dir, "serve.toml", strings.Replace(readFile(t, c.configs[0]), c.url, viaProxy, 1)))
	defer c.stop()
	if out := c.run(0, "digest", "send", "--queue", "daily"); !strings.Contains(out, "edition 1") {
		t.Fatalf("digest send --queue: %s", out)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for sink.count() < 500 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d messages in 2 minutes", sink.count())
		}
		time.Sleep(5 * time.Millisecond)
	}
	proxy.cut()
	atCut := sink.count()
	waitFor(t, func() bool {
		resp, body := get(t, c.bases[0]+"/readyz")
		return resp.StatusCode == 503 && strings.Contains(body, "not reachable")
	})
	time.Sleep(3 * time.Second)
	proxy.restore()
	for c.count(`SELECT COUNT(*) FROM deliveries WHERE edition_id = 1 AND state = 'sent'`) < subscribers {
		select {
		case <-c.procs[0].done:
			t.Fatalf("serve exited while the database was away:\n%s", c.procs[0].output())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the edition did not finish after the database came back:\n%s", c.procs[0].output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	per := map[string][]string{}
	for _, m := range sink.snapshot() {
		per[m.to] = append(per[m.to], m.messageID)
	}
	dups := 0
	for to, ids := range per {
		for _, id := range ids[1:] {
			dups++
			if id != ids[0] {
				t.Errorf("%s got a second copy under another Message-ID", to)
			}
		}
	}
	if len(per) != subscribers || dups > connections {
		t.Errorf("%d subscribers got mail (want %d), %d twice (at most %d may)", len(per), subscribers, dups, connections)
	}
	t.Logf("%d at the cut, %d after; %d twice", atCut, sink.count(), dups)
}

// waitFeed waits until instance i's /feed.xml carries title, at most 10s
// after since.
func (c *cluster) waitFeed(i int, base, title string, since time.Time) {
	c.t.Helper()
	for {
		_, feed := get(c.t, base+"/feed.xml")
		if strings.Contains(feed, title) {
			return
		}
		if time.Since(since) > 10*time.Second {
			c.t.Fatalf("instance %d: %q is not in its feed after 10s:\n%s\n--\n%s\n--\n%s", i, title, c.procs[0].output(), c.procs[1].output(), c.procs[2].output())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// proxied returns raw with its host replaced by a proxy's, not yet
// accepting.
func proxied(t *testing.T, raw string) (string, *pgProxy) {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	p := newPGProxy(t, u.Host)
	u.Host = p.addr
	return u.String(), p
}

func readFile(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Three instances whose schedulers all wake at the digest's moment plan
// its edition once, and the three send it together, each subscriber one
// copy.
func TestCluster_ScheduledEditionPlannedOnce(t *testing.T) {
	const subscribers = 300
	sink := newCopySink(t)
	c := newCluster(t, 3, sink.port, 2)
	for _, cfg := range c.configs {
		writeFile(t, c.dir, filepath.Base(cfg), strings.Replace(readFile(t, cfg), `schedule = "0 7 * * *"`, `schedule = "* * * * *"`, 1))
	}
	c.run(0, "ingest")
	c.importConfirmed(subscribers)
	// Started early in a minute, so that the moment they all wait for is
	// the next minute's start.
	if s := time.Now().Second(); s > 45 {
		time.Sleep(time.Duration(61-s) * time.Second)
	}
	c.start()
	defer c.stop()
	deadline := time.Now().Add(2 * time.Minute)
	for c.count(`SELECT COUNT(*) FROM deliveries WHERE state = 'sent'`) < subscribers {
		if time.Now().After(deadline) {
			t.Fatalf("no edition sent in 2 minutes:\n%s", c.run(0, "editions", "list"))
		}
		time.Sleep(250 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if n := c.count(`SELECT COUNT(*) FROM editions`); n != 1 {
		t.Errorf("%d editions planned at one moment by three schedulers, want 1:\n%s", n, c.run(0, "editions", "list"))
	}
	if n := c.count(`SELECT COUNT(*) FROM deliveries`); n != subscribers {
		t.Errorf("%d deliveries, want %d", n, subscribers)
	}
	per := map[string]int{}
	for _, m := range sink.snapshot() {
		per[m.to]++
	}
	for to, n := range per {
		if n != 1 {
			t.Errorf("%s got %d copies", to, n)
		}
	}
	if len(per) != subscribers {
		t.Errorf("%d subscribers got mail, want %d", len(per), subscribers)
	}
}
