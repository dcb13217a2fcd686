package main

import (
	"compress/gzip"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

// bootServe starts tidings serve on 127.0.0.1:0 over a temp folder, as a
// user would run it, and returns its base URL and content folder.
func bootServe(t *testing.T) (base, content string) {
	t.Helper()
	base, content, _ = bootServeWith(t, nil)
	return base, content
}

// bootServeWith is bootServe with a say in the config, and the app back.
func bootServeWith(t *testing.T, configure func(*Config)) (base, content string, app *App) {
	t.Helper()
	dir := t.TempDir()
	content = filepath.Join(dir, "content")
	os.MkdirAll(content, 0o755)
	writeFile(t, content, "bridge.md", "---\ntitle: Bridge opens\ndate: 2026-11-20 08:30\nauthor: Jane Roe\ntags: [City, Ελλάδα]\n---\n\nThe new bridge opened on Friday.\n")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base = "http://" + ln.Addr().String()
	cfg := Default()
	cfg.Site.BaseURL = base
	cfg.Database.Path = filepath.Join(dir, "data", "tidings.db")
	cfg.Content.Dirs = []string{content}
	cfg.Content.Poll = Duration{50 * time.Millisecond}
	cfg.Feeds.OutputDir = filepath.Join(dir, "public")
	cfg.SMTP.OutboxDir = filepath.Join(dir, "outbox")
	if configure != nil {
		configure(&cfg)
	}
	m := startMain(t, cfg, ln, io.Discard)
	return base, content, m.App
}

// startMain opens and runs a Main on ln, as tidings serve does, and stops
// it when the test ends, failing the test if it does not stop cleanly.
// It returns once the server answers /healthz.
func startMain(t *testing.T, cfg Config, ln net.Listener, logs io.Writer) *Main {
	t.Helper()
	return startRunning(t, &Main{Config: cfg, Logs: logs, Listener: ln})
}

// startRunning is startMain for a Main the test set up itself.
func startRunning(t *testing.T, m *Main) *Main {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := m.Open(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop")
		}
		m.Close()
	})
	// The first scan runs before the listener answers; wait for it.
	base := "http://" + m.Listener.Addr().String()
	waitFor(t, func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	return m
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	// Ask for what we name; the transport would add gzip on its own.
	if req.Header.Get("Accept-Encoding") == "" {
		req.Header.Set("Accept-Encoding", "identity")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestServe_FeedsAndPages(t *testing.T) {
	base, content := bootServe(t)

	// The front page lists the article and names all three feeds.
	resp, body := get(t, base+"/")
	if resp.StatusCode != 200 || !strings.Contains(body, "Bridge opens") {
		t.Fatalf("front page %d:\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{
		`<link rel="alternate" type="application/rss+xml" title="Example News (RSS)" href="` + base + `/feed.xml">`,
		`<link rel="alternate" type="application/atom+xml" title="Example News (Atom)" href="` + base + `/atom.xml">`,
		`<link rel="alternate" type="application/feed+json" title="Example News (JSON Feed)" href="` + base + `/feed.json">`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("front page lacks %s\n%s", want, body)
		}
	}

	for _, f := range []struct{ path, ctype string }{
		{"/feed.xml", "application/rss+xml; charset=utf-8"},
		{"/atom.xml", "application/atom+xml; charset=utf-8"},
		{"/feed.json", "application/feed+json; charset=utf-8"},
	} {
		resp, body := get(t, base+f.path)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != f.ctype {
			t.Fatalf("%s: %d %s", f.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		parsed, err := gofeed.NewParser().ParseString(body)
		if err != nil || len(parsed.Items) != 1 {
			t.Fatalf("%s does not parse to one item: %v", f.path, err)
		}
		if parsed.FeedLink != base+f.path {
			t.Errorf("%s self link %q", f.path, parsed.FeedLink)
		}
		// The item link resolves to the article's page.
		if r, page := get(t, parsed.Items[0].Link); r.StatusCode != 200 || !strings.Contains(page, "The new bridge opened on Friday.") {
			t.Errorf("%s item link %s: %d", f.path, parsed.Items[0].Link, r.StatusCode)
		}
		// 304 with the ETag, and with the date.
		etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
		if r, b := get(t, base+f.path, "If-None-Match", etag); r.StatusCode != 304 || b != "" {
			t.Errorf("%s If-None-Match %s: %d", f.path, etag, r.StatusCode)
		}
		if r, _ := get(t, base+f.path, "If-Modified-Since", lm); r.StatusCode != 304 {
			t.Errorf("%s If-Modified-Since %s: %d", f.path, lm, r.StatusCode)
		}
		if r, _ := get(t, base+f.path, "If-None-Match", `"other"`, "If-Modified-Since", lm); r.StatusCode != 200 {
			t.Errorf("%s: a stale ETag must win over the date: %d", f.path, r.StatusCode)
		}
	}

	// The Greek tag's feed, at its percent-encoded URL.
	resp, body = get(t, base+"/tags/%CE%B5%CE%BB%CE%BB%CE%AC%CE%B4%CE%B1/atom.xml")
	if resp.StatusCode != 200 || !strings.Contains(body, "Bridge opens") {
		t.Errorf("tag feed: %d", resp.StatusCode)
	}
	if resp, body := get(t, base+"/tags/%CE%B5%CE%BB%CE%BB%CE%AC%CE%B4%CE%B1/"); resp.StatusCode != 200 || !strings.Contains(body, "Tagged “Ελλάδα”") {
		t.Errorf("tag page: %d", resp.StatusCode)
	}
	if resp, _ := get(t, base+"/tags/nope/feed.xml"); resp.StatusCode != 404 {
		t.Errorf("unknown tag feed: %d", resp.StatusCode)
	}
	if resp, _ := get(t, base+"/articles/nope"); resp.StatusCode != 404 {
		t.Errorf("unknown article: %d", resp.StatusCode)
	}

	// gzip when accepted.
	resp, body = get(t, base+"/feed.xml", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip: %v", resp.Header)
	}
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(zr)
	if !strings.Contains(string(plain), "Bridge opens") {
		t.Error("gzip body does not hold the feed")
	}

	// A new article shows up within a poll.
	writeFile(t, content, "second.md", "# Second story\n\nMore news.\n")
	waitFor(t, func() bool {
		_, body := get(t, base+"/feed.json")
		return strings.Contains(body, "Second story")
	})
}

// An address nobody serves gets the site's own 404 page, and a known one
// asked with the wrong method a 405 that names the right one.
func TestServe_UnknownRoutes(t *testing.T) {
	base, _ := bootServe(t)
	resp, body := get(t, base+"/no/such/page", "Accept", "text/html")
	if resp.StatusCode != 404 || !strings.Contains(body, "<html") || !strings.Contains(body, "/no/such/page") {
		t.Errorf("unknown page: %d %q", resp.StatusCode, body)
	}
	req, _ := http.NewRequest("DELETE", base+"/feed.xml", nil)
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 405 || !strings.Contains(r.Header.Get("Allow"), "GET") {
		t.Errorf("DELETE /feed.xml: %d, Allow %q", r.StatusCode, r.Header.Get("Allow"))
	}
}

func TestServe_Head(t *testing.T) {
	base, _ := bootServe(t)
	resp, err := http.Head(base + "/feed.xml")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("ETag") == "" || resp.ContentLength <= 0 {
		t.Errorf("HEAD: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestServe_HealthAndMetrics(t *testing.T) {
	// No poll before /metrics is read: each one builds the feeds again
	// (on a loaded machine one came within the 50 ms bootServe polls at).
	base, _, _ := bootServeWith(t, func(c *Config) { c.Content.Poll = Duration{time.Hour} })
	if resp, body := get(t, base+"/readyz"); resp.StatusCode != 200 || !strings.Contains(body, "ready") {
		t.Errorf("readyz %d %q", resp.StatusCode, body)
	}
	// What this instance is: one SQLite instance leads every role.
	if resp, body := get(t, base+"/healthz"); resp.StatusCode != 200 ||
		!regexp.MustCompile(`^ok\ninstance: \S+-\d+-[0-9a-f]{6}\ndatabase: sqlite, reachable\nleading: scan\n$`).MatchString(body) {
		t.Errorf("healthz %d %q", resp.StatusCode, body)
	}
	resp, body := get(t, base+"/metrics")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("metrics %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{
		`tidings_articles_ingested_total{kind="added"} 1`,
		`tidings_articles_rejected_total 0`,
		`tidings_feed_builds_total{outcome="ok"} 1`,
		`tidings_deliveries{state="sent"} 0`,
		`tidings_queue_depth 0`,
		`tidings_job_last_run_success{job="ingest"} 1`,
		"# TYPE tidings_deliveries gauge",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

// An article posted to the authoring API is in the feeds at once after the
// next build, and a deleted one leaves them.
func TestServe_AuthoringAPI(t *testing.T) {
	base, _, app := bootServeWith(t, func(c *Config) { c.HTTP.AdminToken = "tok" })
	req, _ := http.NewRequest("POST", base+"/api/v1/articles", strings.NewReader(`{"title":"From the CMS","content":"Pushed **here**.","tags":["cms"]}`))
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	if _, err := app.Feeds.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, base+"/feed.json"); !strings.Contains(body, "From the CMS") {
		t.Errorf("posted article not in the feed:\n%s", body)
	}
	if resp, _ := get(t, base+"/api/v1/articles"); resp.StatusCode != 401 {
		t.Errorf("API without a token: %d", resp.StatusCode)
	}
}
