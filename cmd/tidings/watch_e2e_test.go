package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

// watchedServe runs serve over a temp content folder holding the given
// files, with the poll an hour away: whatever it finds sooner, the
// watcher found. It returns the base URL, the content folder and the log.
func watchedServe(t *testing.T, files map[string]string) (base, content string, logs *syncBuffer) {
	t.Helper()
	cfg := lifeConfig(t)
	cfg.Content.Poll = Duration{time.Hour}
	cfg.Feeds.Items = 200
	content = cfg.Content.Dirs[0]
	for name, text := range files {
		writeFile(t, content, name, text)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base = "http://" + ln.Addr().String()
	cfg.Site.BaseURL = base
	logs = &syncBuffer{}
	startMain(t, cfg, ln, logs)
	// The watcher tells once that its watches are in place; the rescan
	// that follows finds what came before them.
	waitFor(t, func() bool { return rescans(t, base) >= 1 })
	return base, content, logs
}

// rescans reads from /metrics how many rescans the watcher asked for.
func rescans(t *testing.T, base string) int {
	t.Helper()
	_, body := get(t, base+"/metrics")
	m := regexp.MustCompile(`(?m)^tidings_content_rescans_total\{trigger="watch"\} (\d+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

// feedTitles reads /feed.xml as a feed reader would.
func feedTitles(t *testing.T, base string) map[string]bool {
	t.Helper()
	_, body := get(t, base+"/feed.xml")
	f, err := gofeed.NewParser().ParseString(body)
	if err != nil {
		t.Fatalf("feed.xml: %v", err)
	}
	titles := map[string]bool{}
	for _, it := range f.Items {
		titles[it.Title] = true
	}
	return titles
}

// within fails the test unless ok holds within d.
func within(t *testing.T, d time.Duration, what string, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// The first minute's promise: a file copied into the content folder is in
// the feed served over HTTP within 2 s, and gone within 2 s of being
// removed, with no poll in between. So is one in a folder made after
// serve started.
func TestServe_WatchedContentInTheFeedWithin2s(t *testing.T) {
	base, content, _ := watchedServe(t, map[string]string{"bridge.md": "---\ntitle: Bridge opens\n---\n\nOn Friday.\n"})
	if !feedTitles(t, base)["Bridge opens"] {
		t.Fatal("the article there at the start is not in the feed")
	}

	// Copied in: written elsewhere, then moved into place, as cp and
	// editors do.
	tmp := filepath.Join(t.TempDir(), "harbour.md")
	os.WriteFile(tmp, []byte("---\ntitle: Harbour reopens\n---\n\nShips are back.\n"), 0o644)
	harbour := filepath.Join(content, "harbour.md")
	if err := os.Rename(tmp, harbour); err != nil {
		t.Fatal(err)
	}
	took := within(t, 2*time.Second, "a file copied in", func() bool { return feedTitles(t, base)["Harbour reopens"] })
	t.Logf("added: in the feed after %v", took)

	// Its page is there too.
	if resp, _ := get(t, base+"/articles/harbour-reopens"); resp.StatusCode != http.StatusOK {
		t.Errorf("/articles/harbour-reopens: %d", resp.StatusCode)
	}

	// Changed.
	os.WriteFile(harbour, []byte("---\ntitle: Harbour reopens at last\n---\n\nShips are back.\n"), 0o644)
	took = within(t, 2*time.Second, "a file changed", func() bool { return feedTitles(t, base)["Harbour reopens at last"] })
	t.Logf("changed: in the feed after %v", took)

	os.Remove(harbour)
	took = within(t, 2*time.Second, "a file removed", func() bool { return !feedTitles(t, base)["Harbour reopens at last"] })
	t.Logf("removed: gone from the feed after %v", took)

	// A folder made now, and a file in it.
	os.MkdirAll(filepath.Join(content, "2026", "12"), 0o755)
	writeFile(t, filepath.Join(content, "2026", "12"), "ferry.txt", "Ferry timetable\n\nThe winter timetable starts.\n")
	took = within(t, 2*time.Second, "a file in a new subfolder", func() bool { return feedTitles(t, base)["Ferry timetable"] })
	t.Logf("in a new subfolder: in the feed after %v", took)
}

// 100 files written at once into a folder of 1,000 are one rescan and one
// rebuild; a rejected file among them is logged once, not on every
// rescan.
func TestServe_ABurstOfFilesIsOneRebuild(t *testing.T) {
	files := map[string]string{"broken.md": "---\ntitle: [unclosed\n---\n\nBody.\n"}
	for i := range 1000 {
		files[fmt.Sprintf("old/%02d/a%04d.md", i%20, i)] = fmt.Sprintf("---\ntitle: Old %d\n---\n\nOld news.\n", i)
	}
	base, content, logs := watchedServe(t, files)
	before := rescans(t, base)
	for i := range 100 {
		writeFile(t, content, fmt.Sprintf("new%03d.md", i), fmt.Sprintf("---\ntitle: New %d\n---\n\nNews.\n", i))
	}
	// What counts here is how many rebuilds, not how fast: parsing 100
	// articles under -race takes longer than the 2 s of one.
	waitFor(t, func() bool {
		titles := feedTitles(t, base)
		return titles["New 0"] && titles["New 99"]
	})
	time.Sleep(time.Second) // time for a second rebuild, were there one
	if n := rescans(t, base) - before; n != 1 {
		t.Errorf("100 files at once: %d rescans, want 1", n)
	}
	log := logs.String()
	if n := strings.Count(log, `msg="content scanned"`); n != 2 || !strings.Contains(log, "added=100 ") {
		t.Errorf("%d content scans that changed something, want 2 (start, the 100 files):\n%s", n, log)
	}
	// One build at the start, one for the burst.
	if n := strings.Count(log, `msg="feeds built"`); n != 2 {
		t.Errorf("feeds built %d times, want 2:\n%s", n, log)
	}
	if n := strings.Count(log, `msg="content file rejected"`); n != 1 {
		t.Errorf("the broken file logged %d times over 3 scans, want once:\n%s", n, log)
	}
	// Changed, it is logged again, once.
	writeFile(t, content, "broken.md", "---\ntitle: [still unclosed\n---\n\nBody.\n")
	within(t, 2*time.Second, "the changed broken file logged", func() bool {
		return strings.Count(logs.String(), `msg="content file rejected"`) == 2
	})
}

// tidings ingest fetches the upstream feeds that are due, as run does,
// and reports them; one within its interval is left alone.
func TestCLI_IngestFetchesDueSources(t *testing.T) {
	var hits atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Partner</title><link>https://partner.example/</link><description>p</description>`+
			`<item><title>Partner story</title><link>https://partner.example/1</link><guid>p-1</guid><description>From the partner.</description></item></channel></rss>`)
	}))
	defer up.Close()
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tidings.toml", fmt.Sprintf(`
[database]
path = %q
[content]
dirs = [%q]
[feeds]
output_dir = %q
[[sources]]
name = "partner"
url = %q
interval = "1h"
allow_private = true
`, filepath.Join(dir, "t.db"), filepath.Join(dir, "content"), filepath.Join(dir, "public"), up.URL))
	env := map[string]string{"TIDINGS_CONFIG": cfg}
	out, errs, code := run(t, env, "ingest")
	if code != 0 || !strings.Contains(out, "upstream: 1 source fetched, articles added 1, updated 0") {
		t.Fatalf("ingest (exit %d):\n%s%s", code, out, errs)
	}
	if out, _, _ := run(t, env, "articles", "show", "partner:p-1"); !strings.Contains(out, "Partner story") {
		t.Errorf("the fetched item is not stored:\n%s", out)
	}
	// Within its interval: not fetched again.
	if out, _, code := run(t, env, "ingest"); code != 0 || !strings.Contains(out, "upstream: 0 sources fetched") || hits.Load() != 1 {
		t.Errorf("second ingest (exit %d, %d fetches):\n%s", code, hits.Load(), out)
	}

	// A source that fails is reported, and the exit status says so.
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	b, _ := os.ReadFile(cfg)
	writeFile(t, dir, "tidings.toml", string(b)+fmt.Sprintf("[[sources]]\nname = \"down\"\nurl = %q\nallow_private = true\n", down.URL))
	if out, _, code := run(t, env, "ingest"); code != 1 || !strings.Contains(out, "upstream: 1 source fetched") || !strings.Contains(out, "failed: upstream feeds:") {
		t.Errorf("ingest with a source down: exit %d:\n%s", code, out)
	}
}

// With content.watch = false (a network file system) the poll alone
// finds changes, and nothing is watched.
func TestServe_WatchOffPolls(t *testing.T) {
	cfg := lifeConfig(t)
	cfg.Content.Watch = false
	cfg.Content.Poll = Duration{100 * time.Millisecond}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg.Site.BaseURL = base
	startMain(t, cfg, ln, &syncBuffer{})
	writeFile(t, cfg.Content.Dirs[0], "harbour.md", "---\ntitle: Harbour reopens\n---\n\nShips are back.\n")
	within(t, 2*time.Second, "a file found by the poll", func() bool { return feedTitles(t, base)["Harbour reopens"] })
	_, body := get(t, base+"/metrics")
	if rescans(t, base) != 0 || !strings.Contains(body, `tidings_content_rescans_total{trigger="poll"}`) {
		t.Errorf("content.watch = false: rescans by the watcher, or none by the poll:\n%s", body)
	}
}
