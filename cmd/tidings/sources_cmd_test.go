package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// An upstream feed through the command line: run fetches it, sources list
// reports it, its back catalogue stays out of the first digest, and a new
// item goes into the next.
func TestCLI_Sources(t *testing.T) {
	var items atomic.Value
	old := time.Now().Add(-30 * 24 * time.Hour).UTC().Format(time.RFC1123Z)
	items.Store(`<item><title>Old story</title><link>https://partner.example/old</link><guid>old-1</guid><pubDate>` + old + `</pubDate><description>From last month.</description></item>`)
	var hits atomic.Int32
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Partner</title><link>https://partner.example/</link><description>p</description>%s</channel></rss>`, items.Load())
	}))
	defer up.Close()
	sink := newSMTPSink(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "tidings.toml", fmt.Sprintf(`
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
[[sources]]
name = "partner"
url = %q
interval = "1h"
tags = ["partner"]
allow_private = true
`, filepath.Join(dir, "t.db"), filepath.Join(dir, "content"), filepath.Join(dir, "public"), sink.Addr.Port, up.URL))
	env := map[string]string{"TIDINGS_CONFIG": cfg}
	mustRun := func(want int, args ...string) string {
		t.Helper()
		out, errs, code := run(t, env, args...)
		if code != want {
			t.Fatalf("%v exited %d, want %d:\n%s%s", args, code, want, out, errs)
		}
		return out + errs
	}
	// check shows what would come in and stores nothing.
	out := mustRun(0, "sources", "check", up.URL)
	if !strings.Contains(out, "partner:old-1") || !strings.Contains(out, "1 items would be ingested (HTTP 200") {
		t.Errorf("sources check:\n%s", out)
	}
	if out := mustRun(1, "articles", "show", "partner:old-1"); !strings.Contains(out, "not found") {
		t.Errorf("check stored the item: %s", out)
	}
	if out := mustRun(1, "sources", "check", "http://127.0.0.1:1/feed.xml"); !strings.Contains(out, "private") && !strings.Contains(out, "loopback") {
		t.Errorf("check of a loopback URL without --allow-private: %s", out)
	}
	if out := mustRun(0, "run"); !strings.Contains(out, "upstream 1;") {
		t.Errorf("first run: %s", out)
	}
	if out := mustRun(0, "articles", "show", "partner:old-1"); !strings.Contains(out, "Old story") || !strings.Contains(out, "Tags:       partner") {
		t.Errorf("stored item:\n%s", out)
	}
	if out := mustRun(0, "sources", "list"); !strings.Contains(out, "partner") || !strings.Contains(out, " 200 ") {
		t.Errorf("sources list:\n%s", out)
	}
	// Within its interval a source is not fetched again.
	mustRun(0, "run")
	if n := hits.Load(); n != 2 { // one check, one fetch
		t.Errorf("upstream fetched %d times, want 2", n)
	}
	mustRun(0, "subscribers", "add", "ana@example.org")
	// The back catalogue of the first fetch stays out of digests.
	if out := mustRun(0, "digest", "send", "daily"); !strings.Contains(out, "no new articles") {
		t.Errorf("digest of the back catalogue: %s", out)
	}
	if sink.count() != 0 {
		t.Fatalf("%d mails for old upstream items", sink.count())
	}
}
