package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// A broadcast to a digest: each of its subscribers gets it once, with the
// digest's list headers and a working one-click unsubscribe; the archive
// shows it; the same file is not sent twice by accident.
func TestCLI_Broadcast(t *testing.T) {
	sink := newSMTPSink(t)
	dir := t.TempDir()
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
schedule = "0 7 * * *"
[[digests]]
name = "weekly"
schedule = "0 7 * * 1"
`, filepath.Join(dir, "t.db"), filepath.Join(dir, "content"), sink.Addr.Port))
	env := map[string]string{"TIDINGS_CONFIG": cfg}
	mustRun := func(want int, args ...string) string {
		t.Helper()
		out, errs, code := run(t, env, args...)
		if code != want {
			t.Fatalf("%v exited %d, want %d:\n%s%s", args, code, want, out, errs)
		}
		return out + errs
	}
	mustRun(0, "subscribers", "add", "ana@example.org", "--digests", "daily")
	mustRun(0, "subscribers", "add", "bo@example.org", "--digests", "daily,weekly")
	mustRun(0, "subscribers", "add", "cy@example.org", "--digests", "weekly")
	file := writeFile(t, dir, "moving.md", "---\nsubject: We are moving\npreheader: A new harbour office from May\n---\n\nOur office moves to **Pier 4**. [Map](/map).\n")

	out := mustRun(0, "broadcast", "preview", file)
	if !strings.Contains(out, "Subject: We are moving") || !strings.Contains(out, "Pier 4") {
		t.Errorf("preview:\n%s", out)
	}
	if out := mustRun(0, "broadcast", "send", file, "--digest", "daily", "--dry-run"); !strings.Contains(out, "2 subscribers") {
		t.Errorf("dry run:\n%s", out)
	}
	if sink.count() != 0 {
		t.Fatal("preview or dry run sent mail")
	}
	out = mustRun(0, "broadcast", "send", file, "--digest", "daily")
	if !strings.Contains(out, "edition 1") || !strings.Contains(out, "sent 2, failed 0") {
		t.Errorf("send:\n%s", out)
	}
	got := map[string]bool{}
	for i := 1; i <= 2; i++ {
		m := sink.wait(t, i)
		got[m.Header.Get("To")] = true
		text := textOf(t, m)
		if m.Header.Get("Subject") != "We are moving" || !strings.Contains(text, "Pier 4") ||
			!strings.Contains(text, "https://gazette.example.org/map") || !strings.Contains(text, "1 Quay Street") {
			t.Errorf("message %d: %q\n%s", i, m.Header.Get("Subject"), text)
		}
		if !strings.Contains(m.Header.Get("List-Unsubscribe"), "https://gazette.example.org/unsubscribe?token=") ||
			m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.Contains(m.Header.Get("List-Id"), "daily") {
			t.Errorf("message %d lacks the list headers: %v", i, m.Header)
		}
	}
	if !got["<ana@example.org>"] || !got["<bo@example.org>"] {
		t.Errorf("recipients %v, want ana and bo (daily), not cy (weekly only)", got)
	}
	// The same file to the same digest again: refused, nothing sent.
	if out := mustRun(1, "broadcast", "send", file, "--digest", "daily"); !strings.Contains(out, "sent to these subscribers already") || !strings.Contains(out, "--again") {
		t.Errorf("second send:\n%s", out)
	}
	// To everyone: each confirmed subscriber once.
	if out := mustRun(0, "broadcast", "send", file, "--all"); !strings.Contains(out, "sent 3, failed 0") {
		t.Errorf("--all:\n%s", out)
	}
	// Later: queued, not sent.
	later := writeFile(t, dir, "later.md", "---\nsubject: Christmas hours\n---\n\nClosed on the 25th.\n")
	if out := mustRun(0, "broadcast", "send", later, "--digest", "weekly", "--at", "2099-12-24 09:00"); !strings.Contains(out, "queued for 2099-12-24 09:00") {
		t.Errorf("--at:\n%s", out)
	}
	if n := sink.count(); n != 5 {
		t.Errorf("%d messages in all, want 5 (2 + 3; the later one waits)", n)
	}
	// Bad input: no subject, unknown key, neither target.
	for name, body := range map[string]string{
		"nosubject.md": "---\npreheader: x\n---\n\nBody.\n",
		"unknown.md":   "---\nsubject: x\ncolour: red\n---\n\nBody.\n",
		"nohead.md":    "Just text.\n",
	} {
		if out, errs, code := run(t, env, "broadcast", "send", writeFile(t, dir, name, body), "--all"); code == 0 || !strings.Contains(out+errs, name) {
			t.Errorf("%s: exit %d\n%s%s", name, code, out, errs)
		}
	}
	if _, _, code := run(t, env, "broadcast", "send", file); code != 2 {
		t.Errorf("no target: exit %d, want 2 (usage)", code)
	}
	out = mustRun(0, "editions", "list")
	if !strings.Contains(out, "We are moving") || !strings.Contains(out, "all") {
		t.Errorf("editions list:\n%s", out)
	}
	_ = http.StatusOK
}
