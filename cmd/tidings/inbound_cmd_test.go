package main

import (
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Mail that comes back, end to end: an edition goes to a real SMTP
// server with a VERP envelope sender per delivery; a Postfix DSN to one
// reader's bounces+TOKEN@, an ARF complaint naming another's Message-ID
// and a mail to the third's unsubscribe+TOKEN@ (taken from the
// List-Unsubscribe header it got) go through tidings inbound process;
// each changes its reader once, forged and unrelated mail changes no one,
// and the next edition goes to nobody.
func TestCLI_InboundProcess(t *testing.T) {
	sink := newSMTPSink(t)
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	writeFile(t, content, "a.md", "# Harbour reopens\n\nShips are back.\n")
	env, _ := gazette(t, dir, sink.Addr.Port, `
[inbound]
domain = "in.gazette.example.org"
[[digests]]
name = "daily"
schedule = "0 7 * * *"
`)
	mustRun := mustRunner(t, env)

	readers := []string{"ana@example.com", "bo@example.com", "cy@example.com", "di@example.com"}
	for _, r := range readers {
		mustRun("subscribers", "add", r, "--digests", "daily")
	}
	mustRun("ingest")
	mustRun("digest", "send", "daily")
	sink.wait(t, len(readers))
	sink.mu.Lock()
	got := map[string]received{}
	for _, m := range sink.msgs {
		got[m.To[0]] = m
	}
	sink.mu.Unlock()
	header := func(who, name string) string {
		msg, err := mail.ReadMessage(strings.NewReader(string(got[who].Data)))
		if err != nil {
			t.Fatal(err)
		}
		return msg.Header.Get(name)
	}
	verp := regexp.MustCompile(`^bounces\+[a-z2-7]+@in\.gazette\.example\.org$`)
	for _, r := range readers {
		if !verp.MatchString(got[r].From) {
			t.Fatalf("envelope sender of %s is %q, want bounces+TOKEN@in.gazette.example.org", r, got[r].From)
		}
	}
	if got["ana@example.com"].From == got["bo@example.com"].From {
		t.Fatal("two deliveries share one envelope sender")
	}

	process := func(name, raw string, args ...string) string {
		t.Helper()
		p := writeFile(t, dir, name, raw)
		return mustRun(append(append([]string{"inbound", "process"}, args...), p)...)
	}
	fixture := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "inbound", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	// A hard bounce for ana, to her delivery's VERP address.
	dsn := strings.NewReplacer("bounces+d4711.k3f9@example.org", got["ana@example.com"].From, "ada@example.com", "ana@example.com").
		Replace(fixture("postfix-dsn-user-unknown.eml"))
	if out := process("dsn.eml", dsn); !strings.Contains(out, "bounce: bounced") {
		t.Errorf("DSN: %s", out)
	}
	if out := process("dsn.eml", dsn); !strings.Contains(out, "already recorded") {
		t.Errorf("the same DSN again: %s", out)
	}
	// A complaint about bo's mail, matched by its Message-ID.
	arf := strings.NewReplacer("<e12.s49.5c6d7e8f90123456@example.org>", header("bo@example.com", "Message-ID"), "quinn@example.com", "bo@example.com",
		"bounces+d4727.w1q2@example.org", "someone@example.org").Replace(fixture("arf-rfc5965.eml"))
	if out := process("arf.eml", arf); !strings.Contains(out, "complaint: complained") {
		t.Errorf("ARF: %s", out)
	}
	// cy writes to the mailto address of her List-Unsubscribe header.
	lu := header("cy@example.com", "List-Unsubscribe")
	m := regexp.MustCompile(`<mailto:(unsubscribe\+[a-z2-7]+@in\.gazette\.example\.org)\?subject=unsubscribe>`).FindStringSubmatch(lu)
	if m == nil {
		t.Fatalf("List-Unsubscribe %q has no signed mailto address", lu)
	}
	unsub := strings.NewReplacer("unsubscribe+34@example.org", m[1], "ada@example.com", "cy@example.com", "unsubscribe p0Q3x", "unsubscribe").
		Replace(fixture("unsubscribe-mailto.eml"))
	if out := process("unsub.eml", unsub, "--to", m[1]); !strings.Contains(out, "unsubscribe: unsubscribed") {
		t.Errorf("mailto unsubscribe: %s", out)
	}
	// di is untouched by a forged token, by a bounce about mail tidings
	// never sent, and by an auto-reply.
	forged := strings.ReplaceAll(unsub, m[1], "unsubscribe+"+strings.Repeat("a", 34)+"@in.gazette.example.org")
	forged = strings.ReplaceAll(forged, "cy@example.com", "di@example.com")
	if out := process("forged.eml", forged); !strings.Contains(out, "unmatched") {
		t.Errorf("forged unsubscribe: %s", out)
	}
	stranger := strings.ReplaceAll(fixture("postfix-dsn-user-unknown.eml"), "ada@example.com", "di@example.com")
	if out := process("stranger.eml", stranger); !strings.Contains(out, "unmatched") {
		t.Errorf("bounce for mail never sent: %s", out)
	}
	if out := process("away.eml", fixture("autoreply-rfc3834.eml")); !strings.Contains(out, "ignored") {
		t.Errorf("auto-reply: %s", out)
	}

	for who, want := range map[string]string{"ana@example.com": "bounced", "bo@example.com": "complained", "cy@example.com": "unsubscribed", "di@example.com": "confirmed"} {
		if out := mustRun("subscribers", "show", who); !regexp.MustCompile(`(?m)^status:?\s+` + want).MatchString(strings.ToLower(out)) {
			t.Errorf("%s: want status %s:\n%s", who, want, out)
		}
	}
	if out := mustRun("editions", "show", "1"); !strings.Contains(out, "Came back: hard bounces 1, soft bounces 0, complaints 1, unsubscribed by mail 1") {
		t.Errorf("editions show does not count what came back:\n%s", out)
	}
	// inbound list shows each of them, newest first; --unmatched the two
	// that named nobody.
	list := strings.Split(strings.TrimSpace(mustRun("inbound", "list")), "\n")
	wantRows := []string{"pipe +auto_reply +ignored", "pipe +bounce +unmatched", "pipe +unsubscribe +unmatched", "pipe +unsubscribe +unsubscribed +cy@example.com",
		"pipe +complaint +complained", "pipe +bounce +already recorded", "pipe +bounce +bounced +ana@example.com +\\d+ +\\d+ +5\\.1\\.1 +dsn"}
	if len(list) != 1+len(wantRows) || !strings.HasPrefix(list[0], "RECEIVED") {
		t.Fatalf("inbound list:\n%s", strings.Join(list, "\n"))
	}
	for i, w := range wantRows {
		if !regexp.MustCompile(w).MatchString(list[1+i]) {
			t.Errorf("inbound list row %d = %q, want %q", i+1, list[1+i], w)
		}
	}
	if un := strings.Split(strings.TrimSpace(mustRun("inbound", "list", "--unmatched", "--limit", "1")), "\n"); len(un) != 2 || !strings.Contains(un[1], "bounce") {
		t.Errorf("inbound list --unmatched --limit 1:\n%s", strings.Join(un, "\n"))
	}
	// The next edition reaches di alone.
	writeFile(t, content, "b.md", "# Ferry returns\n\nOn Monday.\n")
	mustRun("ingest")
	before := sink.count()
	mustRun("digest", "send", "daily")
	sink.wait(t, before+1)
	if n := sink.count(); n != before+1 {
		t.Errorf("the next edition sent %d messages, want 1 (di)", n-before)
	}
}
