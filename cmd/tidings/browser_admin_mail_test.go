package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-smtp"

	"github.com/tidings/tidings/internal/admin"
	"github.com/tidings/tidings/internal/browsertest"
	"github.com/tidings/tidings/subscribers"
)

// refusingSink is an SMTP server on 127.0.0.1 that answers RCPT for one
// domain 550 while refuse is set, and accepts everything else.
type refusingSink struct {
	refuse atomic.Bool
	domain string
	mu     sync.Mutex
	got    []string
}

func (s *refusingSink) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &refusingSession{s: s}, nil
}

type refusingSession struct {
	s  *refusingSink
	to []string
}

func (r *refusingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (r *refusingSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if r.s.refuse.Load() && strings.HasSuffix(to, "@"+r.s.domain) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "relaying to " + to + " denied"}
	}
	r.to = append(r.to, to)
	return nil
}
func (r *refusingSession) Data(rd io.Reader) error {
	if _, err := io.Copy(io.Discard, rd); err != nil {
		return err
	}
	r.s.mu.Lock()
	r.s.got = append(r.s.got, r.to...)
	r.s.mu.Unlock()
	r.to = nil
	return nil
}
func (r *refusingSession) Reset()        { r.to = nil }
func (r *refusingSession) Logout() error { return nil }

// The operator's mail pages in a real Chromium: log in, the digest page
// with its preview (the HTML in its sandboxed frame, the text), send now
// after the confirmation to a go-smtp sink that refuses one domain with
// 550, the edition's page reloading itself up to 100 %, the failure with
// its SMTP reply, the retry once the sink accepts, the editions list, the
// articles and sources page with a rejected file and a check now, and
// the logout, after which the edition's page sends to the login. Each
// page: no console error (a refused script, style or frame would be
// one), axe, and screenshots at 390 and 1280 px as admin-NAME-WIDTH.png.
func TestBrowser_AdminMail(t *testing.T) {
	b := browsertest.New(t)
	axe := browsertest.AxePath() != ""
	if !axe {
		t.Log(browsertest.AxeMissing)
	}
	sink := &refusingSink{domain: "refused.example"}
	sink.refuse.Store(true)
	smtpAddr := serveSMTP(t, sink)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprint(w, `<?xml version="1.0"?><rss version="2.0"><channel><title>Partner</title><link>http://partner.example/</link>
<item><title>Partner story</title><link>http://partner.example/story</link><guid>p1</guid><pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate><description>From the partner.</description></item>
</channel></rss>`)
	}))
	t.Cleanup(upstream.Close)
	dir := t.TempDir()
	env, content := gazette(t, dir, smtpAddr.Port, fmt.Sprintf(`
[subscribers]
bounce_limit = 3
[[digests]]
name = "daily"
title = "The Harbour Gazette, daily"
schedule = "0 7 * * *"
[[sources]]
name = "partner"
url = %q
interval = "1h"
allow_private = true
`, upstream.URL+"/feed.xml"))
	for i, a := range []struct{ slug, front string }{
		{"ferry", "title: Ferry timetable changes for winter\ndate: 2026-11-20 08:30"},
		{"market", "title: Fish market moves to the north quay\ndate: 2026-11-21 08:30"},
		{"plans", "title: Plans for the new pier\ndate: 2026-11-22 08:30\ndraft: true"},
		{"future", "title: Regatta results\ndate: 2099-06-01 08:30"},
	} {
		writeFile(t, content, a.slug+".md", fmt.Sprintf("---\n%s\n---\n\nBody %d.\n", a.front, i))
	}
	writeFile(t, content, "broken.md", "---\ntitle: [never closed\n---\nBody.\n")
	m, base := serveForBrowser(t, env, nil)
	ctx := context.Background()
	if _, err := admin.NewStore(m.App.DB, time.Now).AddAccount(ctx, "owner@gazette.example.org", "a long harbour password"); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"ann@example.org", "bob@example.org", "cy@example.org", "dee@refused.example"} {
		if _, err := m.App.Subscribers.Add(ctx, addr, "", []string{"daily"}, subscribers.StatusConfirmed, subscribers.Meta{Route: "cli"}); err != nil {
			t.Fatal(err)
		}
	}

	check := func(name string) {
		t.Helper()
		if msgs := b.Messages(); len(msgs) > 0 {
			t.Errorf("%s: console: %q", name, msgs)
		}
		if axe {
			b.CheckAccessibility("admin " + name)
		}
		b.Screenshot("admin-" + name)
	}
	see := func(selector, want string) {
		t.Helper()
		if got := oneLine(b.Text(selector)); !strings.Contains(got, want) {
			t.Errorf("at %s, %s shows %q, want %q", b.URL(), selector, got, want)
		}
	}

	// Asked for without a session: the login, and back.
	b.Navigate(base + "/admin/digests/daily")
	see("h1", "Log in")
	b.Fill("#email", "owner@gazette.example.org")
	b.Fill("#password", "a long harbour password")
	b.ClickAndWait("main form button")
	if u := b.URL(); u != base+"/admin/digests/daily" {
		t.Fatalf("after the login at %s, want the digest page", u)
	}

	// The digests and the digest page with its preview.
	see("h1", "Digest daily")
	see(".facts", "0 7 * * *")
	see(".facts", "Fish market moves to the north quay")
	see("pre.text-part", "Ferry timetable changes for winter")
	if sb, ok := b.Attr("iframe.preview", "sandbox"); !ok || sb != "" {
		t.Errorf("the preview frame's sandbox is %q (present %v), want present and empty", sb, ok)
	}
	if got := frameText(t, b, "/preview.html"); !strings.Contains(got, "Fish market moves to the north quay") {
		t.Errorf("the preview frame shows %q, want the edition", got)
	}
	check("digest")
	// At a phone's width too. (Chromium's screenshot under mobile
	// emulation leaves the sandboxed frame, a process of its own, blank:
	// the 390 px picture shows an empty frame that a phone does not.)
	b.Resize(390)
	if got := frameText(t, b, "/preview.html"); !strings.Contains(got, "Fish market moves to the north quay") {
		t.Errorf("at 390 px the preview frame shows %q, want the edition", got)
	}
	b.Resize(1280)
	b.Fill("#preview-email", "bob@example.org")
	b.ClickAndWait(`form[method="get"] button`)
	see("main", "to bob@example.org")
	b.Fill("#preview-email", "nobody@example.org")
	b.ClickAndWait(`form[method="get"] button`)
	see("#preview-problem", `No subscriber has the address "nobody@example.org"`)
	check("digest-unknown-subscriber")
	// A test copy, outside the ledger.
	b.Fill("#test-to", "editor@example.org")
	b.ClickAndWait(`form[action$="/test"] button`)
	see("[role=status]", "A test copy of the next edition was sent to editor@example.org.")
	sink.mu.Lock()
	tested := strings.Join(sink.got, " ")
	sink.mu.Unlock()
	if tested != "editor@example.org" {
		t.Errorf("after the test send the sink got %q", tested)
	}
	b.Navigate(base + "/admin/digests")
	see("main table", "daily")
	check("digests")

	// Send now, after the confirmation; watch it go out.
	b.Navigate(base + "/admin/digests/daily")
	b.ClickAndWait(`a[href="/admin/digests/daily/send"]`)
	see("h1", "Send daily now?")
	see("main", "Fish market moves to the north quay")
	check("digest-send")
	b.ClickAndWait(`main form button[type="submit"]`)
	edURL := b.URL()
	if !strings.HasPrefix(edURL, base+"/admin/editions/") {
		t.Fatalf("after sending at %s, want the edition's page", edURL)
	}
	// The page reloads itself while the edition sends (no script): wait
	// for it to say 100 % without navigating.
	waitText(t, b, `label[for="progress"]`, "4 of 4 deliveries done (100 %)")
	see(".cards", "3 sent")
	see(".cards", "1 failed")
	see("#failures-h + .scroll", "550 5.7.1 relaying to dee@refused.example denied")
	check("edition")

	// The failure, then the retry once the sink takes the mail.
	b.ClickAndWait(`#failures-h + .scroll a`)
	see("h1", "Delivery to dee@refused.example")
	see(".facts", "550")
	see("pre.reply", "relaying to dee@refused.example denied")
	check("delivery")
	b.Navigate(edURL)
	sink.refuse.Store(false)
	b.ClickAndWait(`form[action$="/retry"] button`)
	see("[role=status]", "1 failed delivery queued again")
	waitText(t, b, ".cards", "4 sent")
	see("#failures-h + p", "None.")
	sink.mu.Lock()
	got := strings.Join(sink.got, " ")
	sink.mu.Unlock()
	if !strings.Contains(got, "dee@refused.example") {
		t.Errorf("the sink got %s, without the retried address", got)
	}

	b.Navigate(base + "/admin/editions")
	see("main table", "The Harbour Gazette")
	check("editions")

	// Articles with their states, the rejected file, the source.
	b.Navigate(base + "/admin/articles")
	see("#articles-h + .scroll", "draft")
	see("#articles-h + .scroll", "scheduled")
	see("#articles-h + .scroll", "published")
	see("#rejected-h + .scroll", "broken.md")
	see("#sources-h + .scroll", "partner")
	check("articles")
	b.ClickAndWait(`form[action="/admin/articles/sources/check"] button`)
	see("[role=status]", "Fetched partner.")
	see("#sources-h + .scroll", "200")
	see("#articles-h + .scroll", "Partner story")

	// Logged out, the edition's page sends to the login.
	b.ClickAndWait(".logout button")
	see("h1", "Log in")
	b.Navigate(edURL)
	see("h1", "Log in")
	if u := b.URL(); !strings.HasPrefix(u, base+"/admin/login?next=") {
		t.Errorf("the edition's page after logout is at %s, want the login", u)
	}
}

// waitText waits until the element selector names shows want, without
// navigating: the page may reload itself meanwhile.
func waitText(t *testing.T, b *browsertest.Browser, selector, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(b.Context(), time.Second)
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(selector)))
		cancel()
		if err == nil {
			if last = oneLine(s); strings.Contains(last, want) {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s never showed %q; last %q", selector, want, last)
}

// frameText is the text of the frame whose URL contains urlPart: a
// sandboxed frame may run as a target of its own, so it is found among
// the targets when the page's DOM does not reach into it (and left open,
// detached from, afterwards: closing it would take the page along).
func frameText(t *testing.T, b *browsertest.Browser, urlPart string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), 5*time.Second)
	defer cancel()
	if nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS("iframe.preview"))); err == nil && len(nodes) == 1 && nodes[0].ContentDocument != nil {
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body"), chromedp.FromNode(nodes[0])))
		if err == nil {
			return s
		}
	}
	targets, err := chromedp.Targets(ctx)
	if err != nil {
		t.Fatalf("targets: %v", err)
	}
	for _, ti := range targets {
		if ti.Type == "iframe" && strings.Contains(ti.URL, urlPart) {
			fctx, fcancel := chromedp.NewContext(b.Context(), chromedp.WithTargetID(ti.TargetID), chromedp.WithDetachOnCancel())
			defer fcancel()
			tctx, tcancel := context.WithTimeout(fctx, 5*time.Second)
			defer tcancel()
			s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS("body")))
			if err != nil {
				t.Fatalf("text of the frame %s: %v", ti.URL, err)
			}
			return s
		}
	}
	t.Fatalf("no frame at %s among %d targets", urlPart, len(targets))
	return ""
}

// oneLine is s with each run of white space one space, as a person reads
// a block's text.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
