package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"

	"github.com/tidings/tidings/internal/browsertest"
	"github.com/tidings/tidings/subscribers"
)

// The public site in a real Chromium, as a reader goes through it: the
// front page and its pages, an article, the sign-up form under it, the
// confirmation mail, the confirm button, the preferences, an edition in
// the archive, unsubscribing; the tags pages, the full sign-up form and
// the error pages on the way. Each page is checked for what it shows,
// for console errors (a stylesheet or script the security policy
// refused, a missing file), with axe-core for serious and critical
// accessibility violations (light and dark), and photographed at 390 and
// 1280 px into browsertest.ScreenshotDir() as public-NAME-WIDTH.png.
func TestBrowser_PublicSite(t *testing.T) {
	b := browsertest.New(t)
	axe := browsertest.AxePath() != ""
	if !axe {
		t.Log(browsertest.AxeMissing)
	}
	sink := newSMTPSink(t)
	dir := t.TempDir()
	env, content := gazette(t, dir, sink.Addr.Port, `
[[digests]]
name = "daily"
title = "The Harbour Gazette, daily"
description = "The day's articles, every morning at seven."
schedule = "0 7 * * *"
full_content = true
`)
	for i, a := range []struct{ slug, title, tags, body string }{
		{"ferry", "Ferry timetable changes for winter", "[Transport]", "The winter timetable starts on Monday. Boats leave every forty minutes."},
		{"market", "Fish market moves to the north quay", "[City, Market]", "Stalls open at six, as before."},
		{"lighthouse", "Lighthouse open to visitors again", "[City]", "Tours every Saturday."},
		{"bridge", "Harbour bridge opens after three years of work", "[City, Transport]",
			"The new bridge opened on Friday, a year late and on budget.\n\n## What changes\n\n- Buses cross in four minutes\n- Bicycles have their own lane\n\n> It is the biggest change to the harbour in fifty years.\n\nThe old ferry keeps running until spring."},
	} {
		writeFile(t, content, a.slug+".md", fmt.Sprintf("---\ntitle: %s\ndate: 2026-11-%02d 08:30\nauthor: Jane Roe\ntags: %s\n---\n\n%s\n", a.title, 20+i, a.tags, a.body))
	}
	m, base := serveForBrowser(t, env, func(cfg *Config) {
		cfg.Site.Description = "News from the quay, every morning."
		cfg.Feeds.Items = 3 // four articles: the front page has a second page
	})
	ctx := context.Background()

	// check runs what every page gets: no console error, axe in light
	// and dark, the screenshots.
	check := func(name string) {
		t.Helper()
		if msgs := b.Messages(); len(msgs) > 0 {
			t.Errorf("%s: console: %q", name, msgs)
		}
		if got := browsertest.Eval[string](b, `["header.site", "nav", "main#main", "footer.site", "a.skip[href='#main']", "h1"]
			.filter(s => !document.querySelector(s)).join(" ") + (document.querySelector("[style], style") ? " inline style" : "")`); got != "" {
			t.Errorf("%s: lacks %s", name, got)
		}
		if axe {
			b.CheckAccessibility(name)
			b.ColorScheme("dark")
			b.CheckAccessibility(name + " (dark)")
			b.ColorScheme("")
		}
		b.Screenshot("public-" + name)
	}
	see := func(selector, want string) {
		t.Helper()
		if got := b.Text(selector); !strings.Contains(got, want) {
			t.Errorf("at %s, %s shows %q, want %q", b.URL(), selector, got, want)
		}
	}

	// The front page: the newest three, a link to older ones, the
	// navigation, the sign-up form; its stylesheet applied.
	b.Navigate(base + "/")
	see("h1", "Latest articles")
	see("main article h2", "Harbour bridge opens")
	see("header nav", "Tags")
	see("header nav", "Archive")
	see(".signup h2", "Get new articles by mail")
	if n := browsertest.Eval[int](b, `document.querySelectorAll("main article.entry").length`); n != 3 {
		t.Errorf("front page shows %d articles, want 3", n)
	}
	if bg := browsertest.Eval[string](b, `getComputedStyle(document.querySelector("header.site nav a.button")).backgroundColor`); bg == "rgba(0, 0, 0, 0)" {
		t.Error("the stylesheet is not applied: the Subscribe button has no background")
	}
	// The keyboard's first stop is the skip link, shown and outlined.
	b.Press(kb.Tab)
	if got := browsertest.Eval[string](b, `(e => e.className + " " + (e.getBoundingClientRect().top >= 0) + " " + getComputedStyle(e).outlineStyle)(document.activeElement)`); got != "skip true solid" {
		t.Errorf("after Tab, the focus is on %q, want the skip link, visible, outlined", got)
	}
	browsertest.Eval[bool](b, `document.activeElement.blur(), true`)
	check("front")
	b.ColorScheme("dark")
	b.Screenshot("public-front-dark")
	b.ColorScheme("")

	b.ClickAndWait(`a[rel="next"]`)
	see("main article h2", "Ferry timetable changes")
	see("main", "Page 2")
	check("front-page-2")

	// A tag's page, from the tags page.
	b.Navigate(base + "/tags/")
	see("h1", "Tags")
	see(".tags", "City (3)")
	check("tags")
	b.ClickAndWait(`.tags a[href$="/tags/transport/"]`)
	see("h1", "Tagged “Transport”")
	check("tag")

	// An article, and the form under it.
	b.Navigate(base + "/")
	b.ClickAndWait(`main article h2 a`) // the newest
	see("article h1", "Harbour bridge opens after three years of work")
	see("article .prose", "Bicycles have their own lane")
	see("article .meta", "Jane Roe")
	if v, _ := b.Attr(`meta[property="og:type"]`, "content"); v != "article" {
		t.Errorf("og:type %q", v)
	}
	check("article")
	b.Fill("#signup-email", "Reader@Example.org")
	b.ClickAndWait(".signup button")
	see("h1", "Check your inbox")
	check("subscribe-sent")
	s, err := m.App.Subscribers.GetByEmail(ctx, "reader@example.org")
	if err != nil || s.Status != subscribers.StatusPending {
		t.Fatalf("after the form: %+v %v", s, err)
	}
	if s.TimeZone == "" {
		t.Error("the form's script did not send the browser's time zone")
	}

	// The mail, its link, the button.
	link := confirmLink.FindString(textOf(t, sink.wait(t, 1)))
	if link == "" || !strings.HasPrefix(link, base) {
		t.Fatalf("confirmation link %q, want one to %s", link, base)
	}
	b.Navigate(link)
	see("h1", "Confirm your subscription")
	see("main", "Reader@example.org")
	check("confirm")
	b.ClickAndWait("main form button")
	see("h1", "You are subscribed")
	check("confirmed")
	if s, _ := m.App.Subscribers.Get(ctx, s.ID); s.Status != subscribers.StatusConfirmed {
		t.Fatalf("status after the button: %s", s.Status)
	}

	// Preferences, from the link on that page.
	b.ClickAndWait("main a[href*='/preferences?token=']")
	see("h1", "Your subscription")
	if checked := browsertest.Eval[bool](b, `document.querySelector('input[name="digests"][value="daily"]').checked`); !checked {
		t.Error("preferences: the daily digest is not ticked")
	}
	check("preferences")
	b.Fill("#name", "Rita Reader")
	b.ClickAndWait(`button[value="save"]`)
	see("[role=status]", "Saved.")
	if s, _ := m.App.Subscribers.Get(ctx, s.ID); s.Name != "Rita Reader" {
		t.Errorf("name after saving: %q", s.Name)
	}

	// An edition in the archive.
	mustRunner(t, env)("digest", "send", "daily")
	b.Navigate(base + "/archive")
	see("h1", "Archive")
	see("main", "The Harbour Gazette, daily")
	check("archive")
	b.ClickAndWait("main .list h3 a")
	see("main", "Harbour bridge opens after three years of work")
	check("edition")

	// Unsubscribe, from the link the edition's mail carries.
	var unsub string
	for i := sink.count(); i > 0 && unsub == ""; i-- {
		if h := sink.wait(t, i).Header.Get("List-Unsubscribe"); h != "" {
			unsub = unsubscribeURL(t, h)
		}
	}
	if unsub == "" {
		t.Fatalf("none of %d mails has a List-Unsubscribe header", sink.count())
	}
	b.Navigate(strings.Replace(unsub, "https://gazette.example.org", base, 1))
	see("h1", "Unsubscribe")
	check("unsubscribe")
	b.ClickAndWait("main form button")
	see("h1", "You are unsubscribed")
	check("unsubscribed")
	if s, _ := m.App.Subscribers.Get(ctx, s.ID); s.Status != subscribers.StatusUnsubscribed {
		t.Errorf("status after unsubscribing: %s", s.Status)
	}

	// The full form, and what it says to an address it cannot take.
	b.Navigate(base + "/subscribe")
	see("h1", "Subscribe to The Harbour Gazette")
	check("subscribe")
	b.Fill("#email", "not an address")
	b.ClickAndWait("main form button")
	see("#email-error", "")
	if inv, _ := b.Attr("#email", "aria-invalid"); inv != "true" {
		t.Error("a refused address is not marked aria-invalid")
	}
	check("subscribe-error")

	// One 404 and one error page for all.
	b.Navigate(base + "/no/such/page")
	see("h1", "Not found")
	check("not-found")
	b.Navigate(base + "/preferences?token=cut-short")
	see("h1", "Link not valid")
	check("error")
}

// unsubscribeURL is the https address of a List-Unsubscribe header.
func unsubscribeURL(t *testing.T, header string) string {
	t.Helper()
	m := regexp.MustCompile(`<(https?://[^>]+)>`).FindStringSubmatch(header)
	if m == nil {
		t.Fatalf("List-Unsubscribe %q has no web address", header)
	}
	return m[1]
}
