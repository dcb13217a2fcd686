package main

import (
	"fmt"
	"net/mail"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// A digest in mode "each": two articles published a moment apart reach
// every subscriber once each, as their own mails with the article's title
// for subject, after the delay and not before; an edit after the mail
// went out sends nothing; the back catalogue is never mailed.
func TestCLI_EachArticleItsOwnMail(t *testing.T) {
	sink := newSMTPSink(t)
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	writeFile(t, content, "old.md", "# From the archive\n\nPublished before the digest existed.\n")
	env, _ := gazette(t, dir, sink.Addr.Port, `
[[digests]]
name = "posts"
mode = "each"
delay = "1s"
full_content = true
`)
	mustRun := mustRunner(t, env)

	mustRun("subscribers", "add", "ana@example.org", "--digests", "posts")
	mustRun("subscribers", "add", "bo@example.org", "--digests", "posts")

	mustRun("run") // the digest's first run: the archive is not mailed
	writeFile(t, content, "ferry.md", "# Ferry returns\n\nThe ferry is back on Monday.\n")
	mustRun("run") // ferry is new, its delay not over
	if n := sink.count(); n != 0 {
		t.Fatalf("%d mails before the delay was over", n)
	}
	time.Sleep(1100 * time.Millisecond)
	writeFile(t, content, "bridge.md", "# Bridge opens\n\nThe new bridge opens on Friday.\n")
	mustRun("run") // ferry goes, bridge waits
	if n := sink.count(); n != 2 {
		t.Fatalf("%d mails after ferry's delay, want 2", n)
	}
	time.Sleep(1100 * time.Millisecond)
	writeFile(t, content, "ferry.md", "# Ferry returns\n\nThe ferry is back on Monday, at nine.\n") // a fix after it went out
	mustRun("run")
	time.Sleep(1100 * time.Millisecond)
	mustRun("run")
	if n := sink.count(); n != 4 {
		t.Fatalf("%d mails, want 4: each article once to each subscriber", n)
	}

	var got []string
	for i := 1; i <= 4; i++ {
		m := sink.wait(t, i)
		body := new(strings.Builder)
		if _, err := fmt.Fprint(body, m.Body); err != nil {
			t.Fatal(err)
		}
		to, err := mail.ParseAddress(m.Header.Get("To"))
		if err != nil {
			t.Fatal(err)
		}
		subject := m.Header.Get("Subject")
		got = append(got, to.Address+" "+subject)
		if m.Header.Get("List-Unsubscribe") == "" {
			t.Errorf("%s to %s has no List-Unsubscribe", subject, to.Address)
		}
	}
	sort.Strings(got)
	want := []string{"ana@example.org Bridge opens", "ana@example.org Ferry returns", "bo@example.org Bridge opens", "bo@example.org Ferry returns"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("mails:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	out, errs, code := run(t, env, "digest", "send", "posts")
	if code == 0 || !strings.Contains(errs, `mode "each"`) {
		t.Errorf("digest send of an each digest (%d): %s%s", code, out, errs)
	}
	if out := mustRun("status"); !strings.Contains(out, "each article") || strings.Contains(out, "0001-01-01") {
		t.Errorf("status of an each digest:\n%s", out)
	}
	if out := mustRun("digest", "preview", "posts"); !strings.Contains(out, "Subject:") {
		t.Errorf("preview of an each digest:\n%s", out)
	}
}
