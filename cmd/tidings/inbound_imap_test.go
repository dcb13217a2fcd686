package main

import (
	"io"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings/tidings/mail/inbound/mailbox"
	"github.com/tidings/tidings/mail/inbound/mailbox/dovecottest"
)

// Mail that comes back by way of a real IMAP mailbox (Dovecot, started
// here): an edition goes to a real SMTP server; a DSN for one reader, an
// ARF complaint about another, a mailto unsubscribe from a third, an
// auto-reply, a reader's human reply and an oversized message land in
// the mailbox; serve polls it. The three readers end bounced, complained
// and unsubscribed, the fourth untouched; what was handled is in the
// processed folder, the human reply and the big message stay in the
// inbox, unread; inbound list, editions show and /metrics say so.
func TestServe_InboundIMAP(t *testing.T) {
	imap := dovecottest.Start(t)
	sink := newSMTPSink(t)
	dir := t.TempDir()
	content := filepath.Join(dir, "content")
	writeFile(t, content, "a.md", "# Harbour reopens\n\nShips are back.\n")
	host, port, _ := net.SplitHostPort(imap.Addr)
	env, _ := gazette(t, dir, sink.Addr.Port, `
[inbound]
domain = "in.gazette.example.org"
max_bytes = 262144
[inbound.imap]
host = "`+host+`"
port = `+port+`
tls = "none"
username = "`+imap.User+`"
password_env = "GAZETTE_IMAP_PASSWORD"
processed_folder = "Processed"
every = "1s"
[[digests]]
name = "daily"
schedule = "0 7 * * *"
`)
	env["GAZETTE_IMAP_PASSWORD"] = imap.Password
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
	fixture := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "inbound", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	dsn := strings.NewReplacer("bounces+d4711.k3f9@example.org", got["ana@example.com"].From, "ada@example.com", "ana@example.com").
		Replace(fixture("postfix-dsn-user-unknown.eml"))
	arf := strings.NewReplacer("<e12.s49.5c6d7e8f90123456@example.org>", header("bo@example.com", "Message-ID"), "quinn@example.com", "bo@example.com",
		"bounces+d4727.w1q2@example.org", "someone@example.org").Replace(fixture("arf-rfc5965.eml"))
	m := regexp.MustCompile(`<mailto:(unsubscribe\+[a-z2-7]+@in\.gazette\.example\.org)\?subject=unsubscribe>`).FindStringSubmatch(header("cy@example.com", "List-Unsubscribe"))
	if m == nil {
		t.Fatal("no signed mailto address in List-Unsubscribe")
	}
	// A mailbox gives no envelope: the To header carries the address.
	unsub := strings.NewReplacer("unsubscribe+34@example.org", m[1], "ada@example.com", "cy@example.com", "unsubscribe p0Q3x", "unsubscribe").
		Replace(fixture("unsubscribe-mailto.eml"))
	huge := "From: someone@example.net\r\nTo: " + got["di@example.com"].From + "\r\nSubject: a big one\r\n\r\n" + strings.Repeat(strings.Repeat("y", 78)+"\r\n", 4000)
	for _, raw := range []string{dsn, arf, unsub, fixture("autoreply-rfc3834.eml"), fixture("reply-human.eml"), huge} {
		imap.Append(t, "INBOX", []byte(raw))
	}

	cfg, err := LoadConfig(env["TIDINGS_CONFIG"], func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	main := startRunning(t, &Main{Config: cfg, Listener: ln})
	waitFor(t, func() bool { return len(imap.Folder(t, "Processed")) == 4 })

	inbox := imap.Folder(t, "INBOX")
	if len(inbox) != 2 || !strings.Contains(inbox[0].Body, "Vera Holm") || !strings.Contains(inbox[1].Body, "a big one") {
		t.Fatalf("INBOX holds %d messages, want the human reply and the big one", len(inbox))
	}
	for _, msg := range inbox {
		if msg.Has(`\Seen`) || msg.Has(`\Deleted`) || !msg.Has(mailbox.Keyword) {
			t.Errorf("a kept message is flagged %v", msg.Flags)
		}
	}
	for who, want := range map[string]string{"ana@example.com": "bounced", "bo@example.com": "complained", "cy@example.com": "unsubscribed", "di@example.com": "confirmed"} {
		if out := mustRun("subscribers", "show", who); !regexp.MustCompile(`(?m)^status:?\s+` + want).MatchString(strings.ToLower(out)) {
			t.Errorf("%s: want status %s:\n%s", who, want, out)
		}
	}
	if out := mustRun("editions", "show", "1"); !strings.Contains(out, "Came back: hard bounces 1, soft bounces 0, complaints 1, unsubscribed by mail 1") {
		t.Errorf("editions show:\n%s", out)
	}
	list := mustRun("inbound", "list")
	for _, w := range []string{`imap +bounce +bounced +ana@example.com`, `imap +complaint +complained`, `imap +unsubscribe +unsubscribed`,
		`imap +auto_reply +ignored`, `imap +unmatched +ignored`} {
		if !regexp.MustCompile(w).MatchString(list) {
			t.Errorf("inbound list has no row %q:\n%s", w, list)
		}
	}
	if n := strings.Count(list, "\n"); n != 6 {
		t.Errorf("inbound list has %d lines, want a header and 5 (the big message was never read):\n%s", n, list)
	}
	resp, err := http.Get("http://" + main.Listener.Addr().String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, w := range []string{`tidings_inbound_total{source="imap",provider="dsn",kind="bounce",action="bounced"} 1`,
		`tidings_inbound_total{source="imap",provider="arf",kind="complaint",action="complained"} 1`,
		`action="unsubscribed"} 1`, `tidings_job_last_run_success{job="imap"} 1`} {
		if !strings.Contains(string(body), w) {
			t.Errorf("/metrics has no %s", w)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
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

// tidings run polls the mailbox once before its pass: without a processed
// folder the handled auto-reply is flagged \Seen where it is, the human
// reply kept unread. A mailbox it cannot read (a wrong password) is said
// in the log, the pass goes on, and the exit status is 1.
func TestCLI_RunPollsIMAPOnce(t *testing.T) {
	imap := dovecottest.Start(t)
	sink := newSMTPSink(t)
	dir := t.TempDir()
	host, port, _ := net.SplitHostPort(imap.Addr)
	env, _ := gazette(t, dir, sink.Addr.Port, `
[inbound.imap]
host = "`+host+`"
port = `+port+`
tls = "none"
username = "`+imap.User+`"
password_env = "GAZETTE_IMAP_PASSWORD"
`)
	env["GAZETTE_IMAP_PASSWORD"] = imap.Password
	for _, name := range []string{"autoreply-rfc3834.eml", "reply-human.eml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "inbound", name))
		if err != nil {
			t.Fatal(err)
		}
		imap.Append(t, "INBOX", b)
	}
	out, errs, code := run(t, env, "run")
	if code != 0 || !strings.Contains(out, "imap: handled 1, kept 1, too large 0\n") || !strings.Contains(out, "run: ") {
		t.Fatalf("run exited %d:\n%s%s", code, out, errs)
	}
	inbox := imap.Folder(t, "INBOX")
	if len(inbox) != 2 {
		t.Fatalf("INBOX holds %d messages, want both", len(inbox))
	}
	if a := inbox[0]; !a.Has(`\Seen`) || !a.Has(mailbox.Keyword) {
		t.Errorf("the auto-reply is flagged %v, want \\Seen and %s", a.Flags, mailbox.Keyword)
	}
	if h := inbox[1]; h.Has(`\Seen`) || !h.Has(mailbox.Keyword) {
		t.Errorf("the human reply is flagged %v, want %s alone", h.Flags, mailbox.Keyword)
	}
	if out, errs, code := run(t, env, "run"); code != 0 || !strings.Contains(out, "imap: handled 0, kept 0, too large 0\n") {
		t.Errorf("second run (%d) looked at the mail again:\n%s%s", code, out, errs)
	}

	env["GAZETTE_IMAP_PASSWORD"] = "wrong"
	out, errs, code = run(t, env, "run")
	if code != 1 || !strings.Contains(out, "run: ") || !strings.Contains(errs, "imap mailbox not read") ||
		!strings.Contains(errs, `as \"bounces\"`) || !strings.Contains(errs, "Authentication failed") {
		t.Errorf("run with a wrong imap password exited %d:\n%s%s", code, out, errs)
	}
}
