package feed

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/feed/content"
	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
)

// testClock is a settable Now.
type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time          { return c.t }
func (c *testClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

type ingestEnv struct {
	dir   string
	where string // the database, for a second pool on it
	store *Store
	in    *Ingester
	clock *testClock
}

func newIngestEnv(t testing.TB) *ingestEnv {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	where := databasetest.Where(t)
	db, err := database.Open(ctx, where)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	dir := filepath.Join(root, "content")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}
	store := NewStore(db)
	return &ingestEnv{dir: dir, where: where, store: store, clock: clock, in: &Ingester{
		Store: store, Dirs: []string{dir}, MaxBytes: 1 << 20, BaseURL: "https://news.example.org/",
		Location: time.UTC, Now: clock.Now,
	}}
}

func (e *ingestEnv) write(t testing.TB, rel, content string) string {
	t.Helper()
	p := filepath.Join(e.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	// Each write gets a distinct modification time, as an editor's would.
	mt := e.clock.Now().Add(time.Duration(len(content)) * time.Millisecond)
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *ingestEnv) scan(t testing.TB) ScanResult {
	t.Helper()
	res, err := e.in.Scan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (e *ingestEnv) get(t testing.TB, id string) *Article {
	t.Helper()
	a, err := e.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// scanClean scans and fails the test on any rejection: for a setup in
// which every file is meant to be read.
func (e *ingestEnv) scanClean(t testing.TB) ScanResult {
	t.Helper()
	res := e.scan(t)
	if len(res.Rejected) > 0 {
		t.Fatalf("scan rejected %v", res.Rejected)
	}
	return res
}

// list lists articles, failing the test if the store cannot.
func (e *ingestEnv) list(t testing.TB, o ListOptions) []*Article {
	t.Helper()
	as, err := e.store.List(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// remove deletes a content file.
func (e *ingestEnv) remove(t testing.TB, rel string) {
	t.Helper()
	if err := os.Remove(filepath.Join(e.dir, filepath.FromSlash(rel))); err != nil {
		t.Fatal(err)
	}
}

func counts(r ScanResult) [5]int {
	return [5]int{r.Added, r.Updated, r.Unchanged, r.Removed, len(r.Rejected)}
}

const goodMD = `---
title: Bridge opens
date: 2026-11-20 08:30
author: Jane Roe
tags: [city, transport]
---

The new bridge opened on Friday. [Read the plan](/plans/bridge.pdf).

![The bridge](img/bridge.jpg)
`

func TestScan_MarkdownFrontMatter(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "2026/bridge.md", goodMD)
	e.write(t, "toml.md", "+++\ntitle = \"TOML head\"\ndate = 2026-11-21\ntags = [\"x\"]\nsummary = \"Given summary.\"\n+++\nBody text.\n")
	res := e.scan(t)
	if counts(res) != [5]int{2, 0, 0, 0, 0} {
		t.Fatalf("counts = %v, rejected %v", counts(res), res.Rejected)
	}
	a := e.get(t, "2026/bridge")
	if a.Title != "Bridge opens" || a.Author != "Jane Roe" || strings.Join(a.Tags, ",") != "city,transport" {
		t.Errorf("metadata = %q %q %v", a.Title, a.Author, a.Tags)
	}
	if want := time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC); !a.Published.Equal(want) {
		t.Errorf("published = %v, want %v", a.Published, want)
	}
	if !strings.Contains(a.ContentHTML, `href="https://news.example.org/plans/bridge.pdf"`) ||
		!strings.Contains(a.ContentHTML, `src="https://news.example.org/img/bridge.jpg"`) {
		t.Errorf("relative links not made absolute: %s", a.ContentHTML)
	}
	if strings.Contains(a.ContentHTML, "title:") || strings.Contains(a.ContentText, "title:") {
		t.Error("front matter leaked into the body")
	}
	if a.Summary != "The new bridge opened on Friday. Read the plan." {
		t.Errorf("summary = %q", a.Summary)
	}
	if a.Slug != "bridge-opens" {
		t.Errorf("slug = %q", a.Slug)
	}
	b := e.get(t, "toml")
	if b.Title != "TOML head" || b.Summary != "Given summary." || !b.Published.Equal(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("toml article = %q %q %v", b.Title, b.Summary, b.Published)
	}
}

func TestScan_BadInput(t *testing.T) {
	tests := []struct {
		name, file, content string
		want                error  // for rejections
		reason              string // in the rejection or the stored article
		repaired            func(*Article) bool
	}{
		{name: "empty", file: "empty.md", content: "", want: content.ErrEmptyFile},
		{name: "only spaces", file: "blank.txt", content: " \n\t\n", want: content.ErrEmptyFile},
		{name: "front matter only", file: "head.md", content: "---\ntitle: x\n---\n", want: content.ErrEmptyFile},
		{name: "NUL bytes", file: "bin.md", content: "title\x00\x01\x02", want: content.ErrBinaryFile, reason: "NUL"},
		{name: "invalid UTF-8", file: "latin1.txt", content: "Caf\xe9 au lait\nA paragraph.\n", want: content.ErrBinaryFile, reason: "UTF-8"},
		{name: "unterminated front matter", file: "open.md", content: "---\ntitle: Never closed\n\nBody.\n", want: content.ErrBadFrontMatter, reason: "never closed"},
		{name: "malformed yaml", file: "yaml.md", content: "---\ntitle: [unclosed\n---\nBody.\n", want: content.ErrBadFrontMatter, reason: "line"},
		{name: "malformed toml", file: "toml.md", content: "+++\ntitle = \n+++\nBody.\n", want: content.ErrBadFrontMatter, reason: "line 2"},
		{name: "impossible date", file: "date.md", content: "---\ntitle: T\ndate: 2024-13-45\n---\nBody.\n", want: content.ErrBadFrontMatter, reason: `date: "2024-13-45"`},
		{name: "impossible toml date", file: "tdate.md", content: "+++\ntitle = \"T\"\ndate = \"2024-02-30\"\n+++\nBody.\n", want: content.ErrBadFrontMatter, reason: "2024-02-30"},
		{name: "draft not bool", file: "draft.md", content: "---\ntitle: T\ndraft: maybe\n---\nBody.\n", want: content.ErrBadFrontMatter, reason: "draft"},
		{name: "tags not list", file: "tags.md", content: "---\ntitle: T\ntags: {a: 1}\n---\nBody.\n", want: content.ErrBadFrontMatter, reason: "tags"},
		{name: "no title", file: "untitled.md", content: "Just a body without heading.\n", want: content.ErrNoTitle},
		{name: "title with CR LF", file: "crlf.md", content: "---\ntitle: \"Two\\r\\nlines\\u0007 here\"\n---\nBody.\n",
			repaired: func(a *Article) bool { return a.Title == "Two lines here" }},
		{name: "script and onerror", file: "xss.md", content: "---\ntitle: XSS\n---\nHello <script>alert(1)</script><img src=x onerror=alert(1)> <a href=\"javascript:alert(1)\">x</a> <iframe src=\"https://evil\"></iframe>\n",
			repaired: func(a *Article) bool {
				h := strings.ToLower(a.ContentHTML)
				return !strings.Contains(h, "<script") && !strings.Contains(h, "onerror") && !strings.Contains(h, "javascript:") &&
					!strings.Contains(h, "<iframe") && !strings.Contains(a.ContentText, "alert(1)") && strings.Contains(h, "hello")
			}},
		{name: "unknown front matter key", file: "extra.md", content: "---\ntitle: Extra\nweight: 3\n---\nBody.\n",
			repaired: func(a *Article) bool { return a.Title == "Extra" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newIngestEnv(t)
			e.write(t, "good.md", goodMD)
			p := e.write(t, tt.file, tt.content)
			var logs strings.Builder
			e.in.Logger = newTestLogger(&logs)
			res := e.scan(t)
			if tt.want != nil {
				if res.Added != 1 || len(res.Rejected) != 1 {
					t.Fatalf("counts = %v, want the good file added and the bad one rejected", counts(res))
				}
				fe := res.Rejected[0]
				if fe.Path != p || !errors.Is(fe, tt.want) || !strings.Contains(fe.Error(), tt.reason) {
					t.Errorf("rejection = %v (path %s), want %v mentioning %q", fe, fe.Path, tt.want, tt.reason)
				}
			} else {
				if res.Added != 2 || len(res.Rejected) != 0 {
					t.Fatalf("counts = %v, rejected %v", counts(res), res.Rejected)
				}
				id := strings.TrimSuffix(tt.file, filepath.Ext(tt.file))
				if a := e.get(t, id); !tt.repaired(a) {
					t.Errorf("not repaired: title %q html %q", a.Title, a.ContentHTML)
				}
			}
			if n := strings.Count(logs.String(), p); n != 1 {
				t.Errorf("%d log lines name %s, want 1:\n%s", n, p, logs.String())
			}
		})
	}
}

func TestScan_TooLargeIsNotRead(t *testing.T) {
	e := newIngestEnv(t)
	e.in.MaxBytes = 100
	p := e.write(t, "big.md", "# Big\n\n"+strings.Repeat("word ", 100))
	if err := os.Chmod(p, 0); err != nil { // a read would fail with permission denied
		t.Fatal(err)
	}
	res := e.scan(t)
	if len(res.Rejected) != 1 || !errors.Is(res.Rejected[0], ErrTooLarge) || !strings.Contains(res.Rejected[0].Error(), "max_bytes") {
		t.Fatalf("rejected = %v", res.Rejected)
	}
}

func TestScan_UnreadableFile(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "good.md", goodMD)
	e.in.FollowSymlinks = true
	// A link to nothing cannot be read, even by root.
	p := filepath.Join(e.dir, "dangling.md")
	if err := os.Symlink(filepath.Join(e.dir, "missing-target.md"), p); err != nil {
		t.Fatal(err)
	}
	res := e.scan(t)
	if res.Added != 1 || len(res.Rejected) != 1 || res.Rejected[0].Path != p || !errors.Is(res.Rejected[0], os.ErrNotExist) {
		t.Fatalf("counts %v, rejected %v", counts(res), res.Rejected)
	}
}

func TestScan_Incremental(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "a.md", goodMD)
	e.write(t, "b.md", "# Second\n\nText.\n")
	if got := counts(e.scan(t)); got != [5]int{2, 0, 0, 0, 0} {
		t.Fatalf("first scan %v", got)
	}
	first := e.get(t, "a")

	e.clock.Advance(time.Hour)
	if got := counts(e.scan(t)); got != [5]int{0, 0, 2, 0, 0} {
		t.Fatalf("rescan %v, want both unchanged", got)
	}

	// Touched but identical: unchanged, updated time kept.
	p := filepath.Join(e.dir, "a.md")
	mt := e.clock.Now()
	if err := os.Chtimes(p, mt, mt); err != nil {
		t.Fatal(err)
	}
	if got := counts(e.scan(t)); got != [5]int{0, 0, 2, 0, 0} {
		t.Fatalf("after touch %v", got)
	}

	// An edit keeps id, slug and published time, and moves updated.
	e.clock.Advance(time.Hour)
	e.write(t, "a.md", strings.Replace(goodMD, "Friday", "Saturday", 1))
	if got := counts(e.scan(t)); got != [5]int{0, 1, 1, 0, 0} {
		t.Fatalf("after edit %v", got)
	}
	edited := e.get(t, "a")
	if edited.Slug != first.Slug || !edited.Published.Equal(first.Published) || !edited.Updated.Equal(e.clock.Now()) ||
		edited.ContentHash == first.ContentHash || !edited.FirstSeen.Equal(first.FirstSeen) {
		t.Errorf("edit: slug %q→%q published %v→%v updated %v→%v", first.Slug, edited.Slug, first.Published, edited.Published, first.Updated, edited.Updated)
	}

	// A file without a date keeps the time it was first seen.
	b := e.get(t, "b")
	e.clock.Advance(time.Hour)
	e.write(t, "b.md", "# Second\n\nText, edited.\n")
	if got := counts(e.scan(t)); got != [5]int{0, 1, 1, 0, 0} {
		t.Fatalf("after editing b %v", got)
	}
	if b2 := e.get(t, "b"); !b2.Published.Equal(b.Published) || !b2.Published.Equal(b.FirstSeen) {
		t.Errorf("published moved on edit: %v → %v", b.Published, b2.Published)
	}

	// A deleted file unpublishes; the row stays.
	e.remove(t, "b.md")
	if got := counts(e.scan(t)); got != [5]int{0, 0, 1, 1, 0} {
		t.Fatalf("after delete %v", got)
	}
	gone := e.get(t, "b")
	if gone.Removed == nil {
		t.Fatal("deleted file's article not marked removed")
	}
	list := e.list(t, ListOptions{Now: e.clock.Now()})
	if len(list) != 1 || list[0].ID != "a" {
		t.Errorf("published list = %v", list)
	}

	// And it comes back when the file does.
	e.write(t, "b.md", "# Second\n\nText, edited.\n")
	if got := counts(e.scan(t)); got != [5]int{0, 1, 1, 0, 0} {
		t.Fatalf("after restore %v", got)
	}
	if e.get(t, "b").Removed != nil {
		t.Error("restored file still removed")
	}
}

func TestScan_RejectedFileFixedLater(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "a.md", goodMD)
	e.scanClean(t)
	good := e.get(t, "a")

	// Breaking a stored article keeps the stored version.
	e.write(t, "a.md", "---\ntitle: broken\n")
	res := e.scan(t)
	if len(res.Rejected) != 1 || res.Removed != 0 {
		t.Fatalf("broken edit: %v", counts(res))
	}
	if a := e.get(t, "a"); a.Removed != nil || a.ContentHash != good.ContentHash {
		t.Error("a broken edit damaged the stored article")
	}
	// Still reported on the next scan, until fixed.
	if res := e.scan(t); len(res.Rejected) != 1 {
		t.Fatalf("second scan of a broken file: %v", counts(res))
	}
	e.write(t, "a.md", strings.Replace(goodMD, "Bridge opens", "Bridge opens at last", 1))
	if res := e.scan(t); counts(res) != [5]int{0, 1, 0, 0, 0} {
		t.Fatalf("after fix %v %v", counts(res), res.Rejected)
	}
	if a := e.get(t, "a"); a.Title != "Bridge opens at last" {
		t.Errorf("title = %q", a.Title)
	}
}

func TestScan_MissingFolderRemovesNothing(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "a.md", goodMD)
	e.scanClean(t)
	moved := e.dir + ".away"
	if err := os.Rename(e.dir, moved); err != nil {
		t.Fatal(err)
	}
	res := e.scan(t)
	if res.Removed != 0 {
		t.Fatalf("a missing content folder unpublished %d articles", res.Removed)
	}
	if a := e.get(t, "a"); a.Removed != nil {
		t.Error("article marked removed")
	}
}

func TestScan_Identity(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "a.md", "---\ntitle: Same title\nid: shared\n---\nOne.\n")
	e.write(t, "b.md", "---\ntitle: Same title\nid: shared\n---\nTwo.\n")
	e.write(t, "c.md", "---\ntitle: Same title\n---\nThree.\n")
	e.write(t, "d.md", "---\ntitle: Same title\n---\nFour.\n")
	res := e.scan(t)
	if res.Added != 3 || len(res.Rejected) != 1 {
		t.Fatalf("counts %v", counts(res))
	}
	fe := res.Rejected[0]
	if !errors.Is(fe, ErrDuplicateID) || !strings.HasSuffix(fe.Path, "b.md") || !strings.Contains(fe.Error(), "a.md") {
		t.Errorf("rejection %v should be b.md naming a.md", fe)
	}
	slugs := map[string]bool{}
	for _, id := range []string{"shared", "c", "d"} {
		slugs[e.get(t, id).Slug] = true
	}
	if len(slugs) != 3 || !slugs["same-title"] || !slugs["same-title-2"] || !slugs["same-title-3"] {
		t.Errorf("slugs = %v, want three distinct", slugs)
	}

	// The first claimant keeps its id even when a newcomer sorts before it.
	e.write(t, "0-early.md", "---\ntitle: Early\nid: shared\n---\nZero.\n")
	res = e.scan(t)
	if len(res.Rejected) != 2 || e.get(t, "shared").Path != "a.md" {
		t.Errorf("newcomer took the id: rejected %v, owner %s", res.Rejected, e.get(t, "shared").Path)
	}
}

func TestScan_DraftsAndFutureDates(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "draft.md", "---\ntitle: Draft\ndraft: true\n---\nBody.\n")
	e.write(t, "future.md", "---\ntitle: Future\ndate: 2026-12-24\n---\nBody.\n")
	e.write(t, "now.md", "---\ntitle: Now\ndate: 2026-11-26T08:00:00+01:00\n---\nBody.\n")
	if res := e.scan(t); res.Added != 3 {
		t.Fatalf("counts %v", counts(res))
	}
	list := e.list(t, ListOptions{Now: e.clock.Now()})
	if len(list) != 1 || list[0].ID != "now" {
		t.Fatalf("published = %v, want only now", list)
	}
	if !list[0].Published.Equal(time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("zoned date = %v", list[0].Published)
	}
	list = e.list(t, ListOptions{Now: time.Date(2026, 12, 25, 0, 0, 0, 0, time.UTC)})
	if len(list) != 2 {
		t.Errorf("after the future date %d published, want 2", len(list))
	}
	all := e.list(t, ListOptions{All: true})
	if len(all) != 3 {
		t.Errorf("all = %d, want 3 (drafts are stored)", len(all))
	}
}

func TestScan_ZonelessDatesUseSiteTimezone(t *testing.T) {
	e := newIngestEnv(t)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	e.in.Location = berlin
	e.write(t, "a.md", "---\ntitle: A\ndate: 2026-07-01 09:00\n---\nBody.\n")
	e.scanClean(t)
	if got := e.get(t, "a").Published; !got.Equal(time.Date(2026, 7, 1, 7, 0, 0, 0, time.UTC)) {
		t.Errorf("published = %v, want 07:00 UTC", got)
	}
}

func TestScan_HTMLFile(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "page.html", `<!doctype html><html><head><title>Harbour reopens</title></head>
<body><nav>menu</nav><article><h1>Harbour reopens</h1><p>Ships are back <a href="../more.html">more</a>.</p></article><footer>f</footer></body></html>`)
	e.write(t, "h1only.html", `<html><body><main><h1>Only a heading</h1><p>Text.</p></main></body></html>`)
	if res := e.scan(t); res.Added != 2 {
		t.Fatalf("counts %v %v", counts(res), res.Rejected)
	}
	a := e.get(t, "page")
	if a.Title != "Harbour reopens" || strings.Contains(a.ContentHTML, "menu") || strings.Contains(a.ContentHTML, "<h1>") ||
		!strings.Contains(a.ContentHTML, `href="https://news.example.org/more.html"`) {
		t.Errorf("html article: %q %s", a.Title, a.ContentHTML)
	}
	if b := e.get(t, "h1only"); b.Title != "Only a heading" {
		t.Errorf("title from h1 = %q", b.Title)
	}
}

func TestScan_RenamedFileKeepsItsArticle(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "draft-name.md", "---\ntitle: Kept\nid: kept\n---\nBody.\n")
	e.scanClean(t)
	first := e.get(t, "kept")
	if err := os.Rename(filepath.Join(e.dir, "draft-name.md"), filepath.Join(e.dir, "final-name.md")); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	res := e.scan(t)
	if counts(res) != [5]int{0, 1, 0, 0, 0} {
		t.Fatalf("after the rename: counts %v, rejected %v; want one update and nothing removed", counts(res), res.Rejected)
	}
	a := e.get(t, "kept")
	if a.Removed != nil || a.Path != "final-name.md" || a.Slug != first.Slug || !a.Updated.Equal(first.Updated) {
		t.Errorf("after the rename: removed %v path %q slug %q updated %v; want it published from final-name.md, slug and updated kept",
			a.Removed, a.Path, a.Slug, a.Updated)
	}
}

func TestScan_UpperCaseExtensions(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "POST.MD", "---\ntitle: Shouting\n---\nBody.\n")
	e.write(t, "Note.TXT", "A note\n\nIts text.\n")
	e.write(t, "Page.Html", "<title>A page</title><p>Text.</p>")
	e.write(t, "photo.JPG", "not an article")
	res := e.scan(t)
	if counts(res) != [5]int{3, 0, 0, 0, 0} {
		t.Fatalf("counts %v, rejected %v; want the three articles read and the photo passed over", counts(res), res.Rejected)
	}
	for id, title := range map[string]string{"POST": "Shouting", "Note": "A note", "Page": "A page"} {
		if a := e.get(t, id); a.Title != title {
			t.Errorf("%s: title %q, want %q", id, a.Title, title)
		}
	}
}

func TestScan_RejectedFileLoggedOncePerChange(t *testing.T) {
	e := newIngestEnv(t)
	var logs strings.Builder
	e.in.Logger = newTestLogger(&logs)
	p := e.write(t, "broken.md", "---\ntitle: never closed\n")
	rejectedLines := func() int { return strings.Count(logs.String(), "content file rejected") }
	steps := []struct {
		name  string
		edit  func()
		lines int // rejection lines logged so far
	}{
		{"first scan", func() {}, 1},
		{"next poll, file unchanged", func() {}, 1},
		{"another poll", func() {}, 1},
		{"edited, still broken", func() { e.write(t, "broken.md", "---\ntitle: still never closed\n") }, 2},
		{"fixed", func() { e.write(t, "broken.md", "---\ntitle: Fixed\n---\nBody.\n") }, 2},
		{"broken again as before", func() { e.write(t, "broken.md", "---\ntitle: never closed\n") }, 3},
	}
	for _, st := range steps {
		st.edit()
		res := e.scan(t)
		if rejectedLines() != st.lines {
			t.Errorf("%s: %d rejection lines logged, want %d:\n%s", st.name, rejectedLines(), st.lines, logs.String())
		}
		if broken := len(res.Rejected) == 1 && res.Rejected[0].Path == p; broken == (st.name == "fixed") {
			t.Errorf("%s: rejected %v; every scan lists a broken file, whether logged or not", st.name, res.Rejected)
		}
	}
}
