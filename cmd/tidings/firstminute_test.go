package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

// The README's first minute, step by step, on the embedded defaults: no
// config file, mail into ./data/outbox.
func TestFirstMinute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := Default() // what "go run ./cmd/tidings serve" runs on, but on a free port
	cfg.Site.BaseURL = base
	cfg.Content.Poll = Duration{50 * time.Millisecond}
	startMain(t, cfg, ln, io.Discard)

	// Front page, empty feeds and the sign-up page, before any content.
	for _, p := range []string{"/", "/feed.xml", "/atom.xml", "/feed.json", "/subscribe"} {
		if resp, _ := get(t, base+p); resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}

	// Add an article; it is in the feed within a poll.
	os.MkdirAll("content", 0o755)
	os.WriteFile(filepath.Join("content", "harbour.md"), []byte("---\ntitle: Harbour reopens\n---\n\nShips are back.\n"), 0o644)
	waitFor(t, func() bool {
		_, body := get(t, base+"/feed.xml")
		f, err := gofeed.NewParser().ParseString(body)
		return err == nil && len(f.Items) == 1 && f.Items[0].Title == "Harbour reopens"
	})

	// Sign up; the confirmation is the newest .eml in data/outbox, written
	// by the sender a moment after the page answered.
	resp, _ := postForm(t, base+"/subscribe", url.Values{"email": {"me@example.org"}, "digests": {"daily"}})
	if resp.StatusCode != 200 {
		t.Fatalf("sign-up %d", resp.StatusCode)
	}
	waitFor(t, func() bool {
		files, _ := filepath.Glob(filepath.Join("data", "outbox", "*.eml"))
		return len(files) > 0
	})
	confirm := regexp.MustCompile(`http://\S+/confirm\?token=[A-Za-z0-9_-]+`).FindString(newestEML(t))
	if confirm == "" {
		t.Fatal("no confirmation link readable in the .eml file")
	}
	_, page := get(t, confirm)
	if resp, page := postForm(t, formAction(t, page), nil); resp.StatusCode != 200 || !strings.Contains(page, "You are subscribed") {
		t.Fatalf("confirm %d", resp.StatusCode)
	}
	// The link works once.
	if resp, page := postForm(t, formAction(t, page), nil); resp.StatusCode != 400 || strings.Contains(page, "/preferences?token=") {
		t.Errorf("confirm link used again: %d", resp.StatusCode)
	}

	// The welcome mail is serve's to send; until it is written, digest
	// send would see it queued and say a delivery is left (exit 75).
	waitFor(t, func() bool {
		files, _ := filepath.Glob(filepath.Join("data", "outbox", "*.eml"))
		return len(files) == 2
	})

	// tidings digest send daily, beside the running serve.
	out, errs, code := run(t, nil, "digest", "send", "daily")
	if code != 0 || !strings.Contains(out, "sent 1") {
		t.Fatalf("digest send (%d): %s %s", code, out, errs)
	}
	digest := newestEML(t)
	m, err := mail.ReadMessage(strings.NewReader(digest))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Header.Get("Subject"), "Harbour reopens") || !strings.Contains(digest, "Ships are back.") ||
		m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("digest mail:\n%s", digest)
	}
	// Its one-click link is the subscriber's: it unsubscribes. (The digest
	// command ran without this test's base URL, so only its path counts.)
	unsub := regexp.MustCompile(`<http://[^/>]+(/unsubscribe\?token=[^>]+)>`).FindStringSubmatch(m.Header.Get("List-Unsubscribe"))
	if unsub == nil {
		t.Fatalf("List-Unsubscribe = %q", m.Header.Get("List-Unsubscribe"))
	}
	resp, err = http.Post(base+unsub[1], "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("one-click unsubscribe from the digest: %d", resp.StatusCode)
	}
}

// newestEML returns the newest file of ./data/outbox.
func newestEML(t *testing.T) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("data", "outbox", "*.eml"))
	if len(files) == 0 {
		t.Fatal("no .eml file in data/outbox")
	}
	sort.Strings(files) // names start with the time they were written
	b, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		t.Fatal(err)
	}
	return string(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")))
}
