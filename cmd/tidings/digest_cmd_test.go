package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// An operator's digest round: subscribers, an article, digest send through
// a real SMTP server, the edition's report, and no second copy.
func TestCLI_DigestSend(t *testing.T) {
	sink := newSMTPSink(t)
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	writeFile(t, content, "bridge.md", "---\ntitle: Bridge opens\ndate: 2026-11-20 08:30\nauthor: Jane Roe\n---\n\nThe new bridge opened on Friday.\n")
	writeFile(t, content, "ferry.md", "---\ntitle: \"Ferry \\\"Skarholm\\\" returns\"\ndate: 2026-11-21 08:30\n---\n\nThe ferry is back.\n")
	cfg := writeFile(t, dir, "tidings.toml", fmt.Sprintf(`
[site]
title = "The Harbour Gazette"
base_url = "https://gazette.example.org"
email = "news@gazette.example.org"
postal_address = "1 Quay Street, Harbourtown"
[database]
path = %q
[content]
dirs = [%q]
[smtp]
host = "127.0.0.1"
port = %d
tls = "none"
[[digests]]
name = "daily"
title = "The Harbour Gazette, daily"
schedule = "0 7 * * *"
max_articles = 20
`, filepath.Join(dir, "t.db"), content, sink.Addr.Port))
	env := map[string]string{"TIDINGS_CONFIG": cfg}
	mustRun := func(want int, args ...string) string {
		t.Helper()
		out, errs, code := run(t, env, args...)
		if code != want {
			t.Fatalf("%v exited %d, want %d:\n%s%s", args, code, want, out, errs)
		}
		return out + errs
	}
	mustRun(0, "ingest")
	mustRun(0, "subscribers", "add", "ana@example.org", "--name", `Ana "the reader" Sousa`)
	mustRun(0, "subscribers", "add", "bo@example.org")
	mustRun(0, "subscribers", "add", "cy@example.org", "--status", "pending")

	out := mustRun(0, "digest", "preview", "daily")
	if !strings.Contains(out, "Subject: The Harbour Gazette, daily: Ferry") || !strings.Contains(out, "Bridge opens") {
		t.Errorf("preview:\n%s", out)
	}
	if sink.count() != 0 {
		t.Fatal("preview sent mail")
	}
	out = mustRun(0, "digest", "send", "daily")
	if !strings.Contains(out, "edition 1") || !strings.Contains(out, "sent 2, failed 0") {
		t.Errorf("send:\n%s", out)
	}
	for i := 1; i <= 2; i++ {
		m := sink.wait(t, i)
		for _, h := range []string{"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Message-Id", "Date"} {
			if m.Header.Get(h) == "" {
				t.Errorf("message %d lacks %s", i, h)
			}
		}
		if !strings.Contains(m.Header.Get("List-Unsubscribe"), "https://gazette.example.org/unsubscribe?token=") {
			t.Errorf("List-Unsubscribe = %q", m.Header.Get("List-Unsubscribe"))
		}
		if !strings.HasPrefix(m.Header.Get("Content-Type"), "multipart/alternative") {
			t.Errorf("Content-Type = %q", m.Header.Get("Content-Type"))
		}
		if text := textOf(t, m); !strings.Contains(text, "1 Quay Street") || !strings.Contains(text, "Bridge opens") {
			t.Errorf("text part:\n%s", text)
		}
	}

	out = mustRun(0, "editions", "list")
	if !strings.Contains(out, "done") || !strings.Contains(out, "2 ") {
		t.Errorf("editions list:\n%s", out)
	}
	out = mustRun(0, "editions", "show", "1")
	if !strings.Contains(out, "Deliveries: sent 2, queued 0, sending 0, failed 0, skipped 0") || !strings.Contains(out, "Bridge opens") {
		t.Errorf("editions show:\n%s", out)
	}
	// Nothing new: preview shows an empty edition and says so.
	out = mustRun(0, "digest", "preview", "daily")
	if !strings.Contains(out, "no new articles") || !strings.Contains(out, "Subject: The Harbour Gazette, daily") {
		t.Errorf("preview with nothing new:\n%s", out)
	}
	// Nothing new: no edition, no mail.
	out = mustRun(0, "digest", "send", "daily")
	if !strings.Contains(out, "no new articles") || sink.count() != 2 {
		t.Errorf("second send (%d mails):\n%s", sink.count(), out)
	}
	out = mustRun(0, "digest", "test", "daily", "--to", "editor@example.org")
	if !strings.Contains(out, "sent a test copy") || sink.count() != 3 {
		t.Errorf("digest test (%d mails):\n%s", sink.count(), out)
	}
	if m := sink.wait(t, 3); !strings.HasPrefix(m.Header.Get("Subject"), "[test]") {
		t.Errorf("test subject %q", m.Header.Get("Subject"))
	}
	out = mustRun(0, "status")
	if !strings.Contains(out, "daily") || !strings.Contains(out, "#1 ") || !strings.Contains(out, "Queue: 0 deliveries waiting") {
		t.Errorf("status:\n%s", out)
	}
	if strings.Contains(out, "never") {
		t.Errorf("status says a digest that digest send ran never ran:\n%s", out)
	}
	if out := mustRun(1, "digest", "send", "weekly"); !strings.Contains(out, `no digest is named "weekly"`) {
		t.Errorf("unknown digest: %s", out)
	}
}

// A send that leaves deliveries for a later try says so and exits 75;
// with --wait it stays until they are sent.
func TestCLI_DigestSendLeftoversAndWait(t *testing.T) {
	sink := newSMTPSink(t)
	sink.tempFail = map[string]int{"bo@example.org": 2}
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	writeFile(t, content, "bridge.md", "---\ntitle: Bridge opens\n---\n\nThe new bridge opened on Friday.\n")
	cfg := writeFile(t, dir, "tidings.toml", fmt.Sprintf(`
[database]
path = %q
[content]
dirs = [%q]
[smtp]
host = "127.0.0.1"
port = %d
tls = "none"
retry_backoff = "300ms"
`, filepath.Join(dir, "t.db"), content, sink.Addr.Port))
	env := map[string]string{"TIDINGS_CONFIG": cfg}
	for _, args := range [][]string{{"ingest"}, {"subscribers", "add", "ana@example.org"}, {"subscribers", "add", "bo@example.org"}} {
		if out, errs, code := run(t, env, args...); code != 0 {
			t.Fatalf("%v: %d %s%s", args, code, out, errs)
		}
	}
	out, errs, code := run(t, env, "digest", "send", "daily")
	if code != exitPending || !strings.Contains(out, "sent 1, failed 0, retrying later 1") || !strings.Contains(out, "1 delivery still to send") {
		t.Fatalf("digest send with a 451: exit %d, want %d:\n%s%s", code, exitPending, out, errs)
	}
	// Between the two: status and editions show say where it stands.
	if out, _, _ := run(t, env, "status"); !strings.Contains(out, "Sending:") || !strings.Contains(out, "1/2 (50%)") {
		t.Errorf("status while an edition is open:\n%s", out)
	}
	if out, _, _ := run(t, env, "editions", "show", "1"); !strings.Contains(out, "Progress:  1/2 (50%)") {
		t.Errorf("editions show while open:\n%s", out)
	}
	out, errs, code = run(t, env, "editions", "retry", "1", "--wait")
	if code != 0 || !strings.Contains(out, "sent 1, failed 0, retrying later 1") || strings.Contains(out, "still to send") {
		t.Fatalf("editions retry --wait: exit %d:\n%s%s", code, out, errs)
	}
	if n := sink.count(); n != 2 {
		t.Errorf("the sink got %d messages, want 2", n)
	}
}

// digest send --queue plans the edition and queues its deliveries for
// serve to send, sending nothing itself.
func TestCLI_DigestSendQueue(t *testing.T) {
	sink := newSMTPSink(t)
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	writeFile(t, content, "bridge.md", "---\ntitle: Bridge opens\ndate: 2026-11-20 08:30\n---\n\nThe new bridge opened on Friday.\n")
	cfg := writeFile(t, dir, "tidings.toml", fmt.Sprintf(`
[site]
postal_address = "1 Quay Street, Harbourtown"
[database]
path = %q
[content]
dirs = [%q]
[smtp]
host = "127.0.0.1"
port = %d
tls = "none"
`, filepath.Join(dir, "t.db"), content, sink.Addr.Port))
	env := map[string]string{"TIDINGS_CONFIG": cfg}
	for _, args := range [][]string{{"ingest"}, {"subscribers", "add", "ana@example.org"}, {"subscribers", "add", "bo@example.org"}} {
		if out, errs, code := run(t, env, args...); code != 0 {
			t.Fatalf("%v exited %d:\n%s%s", args, code, out, errs)
		}
	}
	out, errs, code := run(t, env, "digest", "send", "--queue", "daily")
	if code != 0 || !strings.Contains(out, "edition 1") {
		t.Fatalf("digest send --queue exited %d:\n%s%s", code, out, errs)
	}
	if sink.count() != 0 {
		t.Errorf("digest send --queue sent %d messages", sink.count())
	}
	if out, _, _ := run(t, env, "editions", "show", "1"); !strings.Contains(out, "Deliveries: sent 0, queued 2") {
		t.Errorf("editions show:\n%s", out)
	}
}
