package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tidings/tidings/internal/browsertest"
	"github.com/tidings/tidings/subscribers"
)

// The admin's Subscribers pages in a real Chromium, as an operator uses
// them: log in, import a CSV whose header needs a hand mapping (an
// unknown column) and that has invalid rows, watch it run, read the
// summary, search the list, open a subscriber, forget one through the
// confirmation page, add one. Each page is checked for console errors
// (a refused stylesheet, a script that ran), with axe-core in light and
// dark, and photographed at 390 and 1280 px into
// browsertest.ScreenshotDir() as admin-subscribers-NAME-WIDTH.png.
func TestBrowser_AdminSubscribers(t *testing.T) {
	b := browsertest.New(t)
	axe := browsertest.AxePath() != ""
	if !axe {
		t.Log(browsertest.AxeMissing)
	}
	dir := t.TempDir()
	env, _ := gazette(t, dir, 1, `
[[digests]]
name = "daily"
title = "The Harbour Gazette, daily"
schedule = "0 7 * * *"

[[digests]]
name = "weekly"
title = "The week on the quay"
schedule = "0 8 * * 5"
`)
	m, base := serveForBrowser(t, env, nil)
	ctx := context.Background()
	const email, pw = "harbourmaster@gazette.example.org", "a long harbour password"
	if _, err := m.App.admin.Store.AddAccount(ctx, email, pw); err != nil {
		t.Fatal(err)
	}

	check := func(name string) {
		t.Helper()
		for _, msg := range b.Messages() {
			// The admin's layout names no icon, so Chromium asks for
			// /favicon.ico, which is not there: not this page's fault.
			if !strings.HasSuffix(msg, "/favicon.ico") {
				t.Errorf("%s: console: %q", name, msg)
			}
		}
		if axe {
			b.CheckAccessibility(name)
			b.ColorScheme("dark")
			b.CheckAccessibility(name + " (dark)")
			b.ColorScheme("")
		}
		b.Screenshot("admin-subscribers-" + name)
	}
	see := func(selector, want string) {
		t.Helper()
		// Compared with the spaces and line breaks of the layout as one space.
		if got := strings.Join(strings.Fields(b.Text(selector)), " "); !strings.Contains(got, want) {
			t.Errorf("at %s, %s shows %q, want %q", b.URL(), selector, got, want)
		}
	}

	// Log in, from the page the list sends to.
	b.Navigate(base + "/admin/subscribers")
	see("h1", "Log in")
	b.Fill("#email", email)
	b.Fill("#password", pw)
	b.ClickAndWait("form.login button")
	see("h1", "Subscribers")
	see("main", "No subscribers yet")
	check("empty")

	// A member list from some other system: an unknown column to map by
	// hand, one in ten rows without a valid address, a name with markup.
	var csv strings.Builder
	csv.WriteString("email,name,Membership Level\n")
	const rows = 30_000
	for i := range rows {
		if i%10 == 9 {
			fmt.Fprintf(&csv, "member%05d-at-example.org,Broken %d,gold\n", i, i)
			continue
		}
		fmt.Fprintf(&csv, "member%05d@example.org,Member %d,gold\n", i, i)
	}
	csv.WriteString(`mallory@example.org,"<img src=x onerror=alert(1)><script>alert(2)</script>Mallory",gold` + "\n")
	file := filepath.Join(dir, "members.csv")
	if err := os.WriteFile(file, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	b.ClickAndWait(`a[href="/admin/subscribers/import"]`)
	see("h1", "Import subscribers")
	check("import")
	upload, cancel := context.WithTimeout(b.Context(), browsertest.Timeout)
	if err := chromedp.Do(upload, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file})); err != nil {
		t.Fatalf("choose the file: %v", err)
	}
	cancel()
	b.ClickAndWait("main form button")
	see("h1", "Import members.csv")
	see(".problem", `unknown column "Membership Level"`)
	check("import-unknown-column")

	// Leave the unknown column out, see the rows, tick the consent.
	if got := browsertest.Eval[string](b, `document.querySelector("#col0").value + " " + document.querySelector("#col1").value`); got != "email name" {
		t.Errorf("the guessed mapping preselects %q, want email name", got)
	}
	browsertest.Eval[bool](b, `(s => { s.value = ""; return s.value === "" })(document.querySelector("#col2"))`)
	b.ClickAndWait(`button[value="preview"]`)
	see("table.preview", "member00000@example.org")
	see("table.preview tr.bad", "Skipped:")
	check("import-preview")
	b.Click("#confirmed")
	b.ClickAndWait(`button[value="import"]`)

	// Progress, then the summary, by the page's own refresh.
	if strings.Contains(b.Text("h1"), "Importing") {
		see("main", "Read ")
		check("import-progress")
	} else {
		t.Log("the import was done before its progress page loaded: no progress screenshot")
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(b.Text("h1"), "Import of members.csv") {
		if time.Now().After(deadline) {
			t.Fatalf("the import does not end: %s", b.Text("main"))
		}
		time.Sleep(250 * time.Millisecond)
	}
	wantAdded := rows - rows/10 + 1
	see("main .cards", fmt.Sprintf("%d added", wantAdded))
	see("main .cards", fmt.Sprintf("%d skipped", rows/10))
	see("table.row-errors", "member00009-at-example.org")
	see("main", "Membership Level")
	check("import-summary")

	// The list, a search, a subscriber.
	b.ClickAndWait(`main a[href="/admin/subscribers"]`)
	see("main h2", fmt.Sprintf("%d subscribers", wantAdded))
	check("list")
	b.ClickAndWait(`a[rel="next"]`)
	see("table.subscribers", "member00055@example.org")
	check("list-page-2")
	b.Fill("#q", "Mallory")
	b.ClickAndWait("form.filters button")
	see("table.subscribers", "<img src=x onerror=alert(1)><script>alert(2)</script>Mallory")
	check("search")
	b.ClickAndWait(`table.subscribers a[href^="/admin/subscribers/"]`)
	see("h1", "mallory@example.org")
	if n := browsertest.Eval[int](b, `document.querySelectorAll("main img, main script").length`); n != 0 {
		t.Errorf("the name's markup became %d elements", n)
	}
	see("table.events", "consent recorded by operator")
	check("subscriber")

	// Forget, through the confirmation page.
	b.ClickAndWait(`a[href$="/forget"]`)
	see("h1", "Forget mallory@example.org?")
	check("forget")
	b.ClickAndWait("button.danger")
	see("[role=status]", "Forgotten")
	if _, err := m.App.Subscribers.GetByEmail(ctx, "mallory@example.org"); err == nil {
		t.Error("mallory is still on the list")
	}
	check("forgotten")

	// Add one by hand, with a name the list escapes.
	b.ClickAndWait(`a[href="/admin/subscribers/new"]`)
	see("h1", "Add a subscriber")
	check("new")
	b.Fill("#email", "rita@example.org")
	b.Fill("#name", "Rita <Reader>")
	b.Click(`input[value="weekly"]`) // untick weekly: daily only
	b.ClickAndWait("main form button")
	see("h1", "rita@example.org")
	see("dl.facts", "Rita <Reader>")
	if s, err := m.App.Subscribers.GetByEmail(ctx, "rita@example.org"); err != nil || s.Status != subscribers.StatusConfirmed ||
		strings.Join(s.Digests, ",") != "daily" {
		t.Errorf("added %+v %v", s, err)
	}
}
