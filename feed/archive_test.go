package feed

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/rss"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/web"
)

// archiveEnv is a store of n articles, all tagged "Harbour", published an
// hour apart, built with feeds of items articles and served.
type archiveEnv struct {
	*ingestEnv
	pub *Publisher
	h   http.Handler
}

func newArchiveEnv(t *testing.T, n, items int) *archiveEnv {
	t.Helper()
	e := &archiveEnv{ingestEnv: newIngestEnv(t)}
	e.add(t, 0, n)
	site := *testSite()
	site.Items = items
	e.pub = &Publisher{Store: e.store, Site: site, OutputDir: t.TempDir(), Now: e.clock.Now}
	e.build(t)
	hd, err := NewHandler(e.pub, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	hd.Routes(mux)
	e.h = web.Secure(mux, site.BaseURL)
	return e
}

// add writes and scans articles from, from+1, ... to-1.
func (e *archiveEnv) add(t *testing.T, from, to int) {
	t.Helper()
	day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := from; i < to; i++ {
		e.write(t, fmt.Sprintf("a%03d.md", i), fmt.Sprintf("---\ntitle: Article %d\ndate: %s\ntags: [Harbour]\n---\n\nBody of article %d.\n",
			i, day.Add(time.Duration(i)*time.Hour).Format("2006-01-02 15:04"), i))
	}
	e.scanClean(t)
}

func (e *archiveEnv) build(t *testing.T) BuildResult {
	t.Helper()
	res, err := e.pub.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// doc is one fetched feed document: its entry titles and history links.
type doc struct {
	titles                    []string
	current, prev, next, self string
	archive                   bool
}

func (e *archiveEnv) fetch(t *testing.T, url string) doc {
	t.Helper()
	path := strings.TrimPrefix(url, e.pub.Site.BaseURL)
	w := serveGet(e.h, path)
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: %d", path, w.Code)
	}
	body := w.Body.Bytes()
	var d doc
	d.archive = bytes.Contains(body, []byte("<fh:archive>"))
	link := func(rel, href string) {
		switch rel {
		case "current":
			d.current = href
		case "prev-archive":
			d.prev = href
		case "next-archive":
			d.next = href
		case "self":
			d.self = href
		}
	}
	if strings.HasSuffix(path, "atom.xml") {
		f, err := (&atom.Parser{}).Parse(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, l := range f.Links {
			link(l.Rel, l.Href)
		}
		for _, en := range f.Entries {
			d.titles = append(d.titles, en.Title)
		}
		return d
	}
	f, err := (&rss.Parser{}).Parse(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, l := range f.Extensions["atom"]["link"] {
		link(l.Attrs["rel"], l.Attrs["href"])
	}
	for _, it := range f.Items {
		d.titles = append(d.titles, it.Title)
	}
	return d
}

// walk follows prev-archive from the current feed at path to the oldest
// page, and returns the current document and the archive pages, newest
// first.
func (e *archiveEnv) walk(t *testing.T, path string) (doc, []doc) {
	t.Helper()
	cur := e.fetch(t, e.pub.Site.URL(path))
	if cur.archive {
		t.Errorf("%s is marked as an archive", path)
	}
	var pages []doc
	for next := cur.prev; next != ""; {
		if len(pages) > 100 {
			t.Fatal("prev-archive links go round")
		}
		d := e.fetch(t, next)
		if !d.archive {
			t.Errorf("%s lacks <fh:archive>", next)
		}
		if d.current != e.pub.Site.URL(path) {
			t.Errorf("%s: current %q, want %s", next, d.current, e.pub.Site.URL(path))
		}
		if d.self != next {
			t.Errorf("%s: self %q", next, d.self)
		}
		pages = append(pages, d)
		next = d.prev
	}
	return cur, pages
}

// A reader that follows prev-archive from the current feed to the oldest
// page sees every article, each in one archive page, or, for the newest
// ones, only in the current feed: the feed's whole history.
func TestArchive_WalkSeesEveryArticleOnce(t *testing.T) {
	const n, items = 23, 5
	e := newArchiveEnv(t, n, items)
	for _, path := range []string{"feed.xml", "atom.xml", "tags/harbour/feed.xml", "tags/harbour/atom.xml"} {
		t.Run(path, func(t *testing.T) {
			cur, pages := e.walk(t, path)
			if len(cur.titles) != items {
				t.Errorf("current feed has %d items, want %d", len(cur.titles), items)
			}
			if len(pages) != n/items {
				t.Errorf("%d archive pages, want %d", len(pages), n/items)
			}
			inArchive := map[string]int{}
			for _, p := range pages {
				if len(p.titles) != items {
					t.Errorf("an archive page has %d items, want %d (only full pages)", len(p.titles), items)
				}
				for _, title := range p.titles {
					inArchive[title]++
				}
			}
			inCurrent := map[string]bool{}
			for _, title := range cur.titles {
				inCurrent[title] = true
			}
			for i := range n {
				title := fmt.Sprintf("Article %d", i)
				switch c := inArchive[title]; {
				case c > 1:
					t.Errorf("%s is in %d archive pages", title, c)
				case c == 0 && !inCurrent[title]:
					t.Errorf("%s is in no document of the walk", title)
				}
			}
			// The oldest page holds the oldest articles.
			if last := pages[len(pages)-1]; last.titles[len(last.titles)-1] != "Article 0" || last.prev != "" {
				t.Errorf("oldest page ends with %q, prev %q", last.titles[len(last.titles)-1], last.prev)
			}
		})
	}
	validate(t, &e.pub.Site, map[string][]byte{
		"feed.xml":           mustBytes(t, e.pub.Lookup("feed.xml")),
		"history/2/atom.xml": mustBytes(t, e.pub.Lookup("history/2/atom.xml")),
		"history/2/feed.xml": mustBytes(t, e.pub.Lookup("history/2/feed.xml")),
		"atom.xml":           mustBytes(t, e.pub.Lookup("atom.xml")),
	})
}

func mustBytes(t *testing.T, o *Output) []byte {
	t.Helper()
	if o == nil {
		t.Fatal("feed not built")
	}
	b, err := o.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A full archive page never changes as articles are added: same bytes,
// same ETag, not rewritten; the page after the newest is linked already
// and leads to the current feed until it is full.
func TestArchive_FullPagesAreStable(t *testing.T) {
	e := newArchiveEnv(t, 10, 5)
	before := map[string]string{}
	for _, p := range []string{"history/1/feed.xml", "history/2/atom.xml", "tags/harbour/history/2/feed.xml"} {
		before[p] = e.pub.Lookup(p).ETag
	}
	if e.pub.Lookup("history/3/feed.xml") != nil {
		t.Fatal("a page that is not full is published")
	}
	w := serveGet(e.h, "/history/3/atom.xml")
	if w.Code != http.StatusFound || w.Header().Get("Location") != e.pub.Site.URL("atom.xml") {
		t.Errorf("the page after the newest: %d to %q, want 302 to the current feed", w.Code, w.Header().Get("Location"))
	}
	if w := serveGet(e.h, "/history/9/atom.xml"); w.Code != http.StatusNotFound {
		t.Errorf("a page far past the newest: %d, want 404", w.Code)
	}
	if w := serveGet(e.h, "/tags/harbour/history/3/feed.xml"); w.Code != http.StatusFound || w.Header().Get("Location") != e.pub.Site.URL("tags/harbour/feed.xml") {
		t.Errorf("tag page after the newest: %d to %q", w.Code, w.Header().Get("Location"))
	}

	e.clock.t = e.clock.t.Add(time.Minute)
	e.add(t, 10, 16) // page 3 fills, page 4 has one
	res := e.build(t)
	for p, etag := range before {
		if got := e.pub.Lookup(p); got == nil || got.ETag != etag {
			t.Errorf("%s changed when articles were added", p)
		}
	}
	if e.pub.Lookup("history/3/feed.xml") == nil || e.pub.Lookup("history/4/feed.xml") != nil {
		t.Error("page 3 should be published now, page 4 not yet")
	}
	if w := serveGet(e.h, "/history/2/atom.xml", "If-None-Match", before["history/2/atom.xml"]); w.Code != http.StatusNotModified {
		t.Errorf("a stable page answers %d to its ETag", w.Code)
	}
	if cc := serveGet(e.h, "/history/1/feed.xml").Header().Get("Cache-Control"); !strings.Contains(cc, "max-age=86400") {
		t.Errorf("archive Cache-Control %q", cc)
	}
	// Site and tag: current feeds in three formats, page 3 in two, and the
	// current feeds' prev-archive link: nothing else is rewritten.
	if res.Written != 2*(3+2) {
		t.Errorf("rebuild wrote %d feeds, want %d", res.Written, 2*(3+2))
	}
}

// A feed too large to hold in memory is served from its file: the same
// bytes, plain and gzipped, with its length and ETag.
func TestServeFeed_LargeFeedFromFile(t *testing.T) {
	e := newArchiveEnv(t, 0, 50)
	for i := range 12 {
		e.write(t, fmt.Sprintf("big%02d.md", i), fmt.Sprintf("---\ntitle: Big %d\n---\n\n%s\n", i, strings.Repeat("A long paragraph goes on. ", 12000)))
	}
	e.scanClean(t)
	e.build(t)
	out := e.pub.Lookup("feed.json")
	if out == nil || out.Body != nil || out.Size <= inMemory {
		t.Fatalf("feed.json: %+v, want a feed over %d bytes served from its file", out, inMemory)
	}
	want, err := out.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	w := serveGet(e.h, "/feed.json")
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), want) || w.Header().Get("Content-Length") != fmt.Sprint(len(want)) || w.Header().Get("ETag") != out.ETag {
		t.Errorf("GET: %d, %d bytes, Content-Length %s, ETag %s", w.Code, w.Body.Len(), w.Header().Get("Content-Length"), w.Header().Get("ETag"))
	}
	gz := serveGet(e.h, "/feed.json", "Accept-Encoding", "gzip")
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("gzip answer differs from the file (%v)", err)
	}
	if w := serveGet(e.h, "/feed.json", "If-None-Match", out.ETag); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", w.Code)
	}
}

// A build reads its index of articles from the articles_feed index alone,
// in feed order: the rows, content first, are never touched for it.
func TestStore_FeedIndexIsCovered(t *testing.T) {
	e := newIngestEnv(t)
	if e.store.db.Dialect == database.Postgres {
		feedIndexPlanPostgres(t, e.store.db)
		return
	}
	for _, max := range []int{0, 512 << 10} {
		rows, err := e.store.db.Read.Query(`EXPLAIN QUERY PLAN `+feedIndexQuery(max), 0)
		if err != nil {
			t.Fatal(err)
		}
		var plans []string
		for rows.Next() {
			var id, parent, unused int
			var plan string
			if err := rows.Scan(&id, &parent, &unused, &plan); err != nil {
				t.Fatal(err)
			}
			plans = append(plans, plan)
		}
		rows.Close()
		if len(plans) != 1 || !strings.Contains(plans[0], "COVERING INDEX articles_feed") {
			t.Errorf("max %d: plan %q, want one covering scan of articles_feed and no sort", max, plans)
		}
	}
}

// feedIndexPlanPostgres is TestStore_FeedIndexIsCovered on PostgreSQL,
// with sequential scans off: an empty table is cheaper to read whole, and
// the test asks what the index can do. The index answers the query in
// feed order; with a content limit the rows are read as well, since
// PostgreSQL scans an expression's columns (content_html, content_text)
// from the index only when they are in it themselves.
func feedIndexPlanPostgres(t *testing.T, db *database.DB) {
	for _, tt := range []struct {
		max  int
		want string
	}{
		{0, "Index Only Scan using articles_feed"},
		{512 << 10, "Index Scan using articles_feed"},
	} {
		tx, err := db.Read.Begin()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`SET LOCAL enable_seqscan = off`); err != nil {
			t.Fatal(err)
		}
		rows, err := tx.Query(`EXPLAIN `+feedIndexQuery(tt.max), 0)
		if err != nil {
			t.Fatal(err)
		}
		var plans []string
		for rows.Next() {
			var plan string
			if err := rows.Scan(&plan); err != nil {
				t.Fatal(err)
			}
			plans = append(plans, plan)
		}
		rows.Close()
		tx.Rollback()
		if len(plans) == 0 || !strings.HasPrefix(plans[0], tt.want) || strings.Contains(strings.Join(plans, "\n"), "Sort") {
			t.Errorf("max %d: plan %q, want %s and no sort", tt.max, plans, tt.want)
		}
	}
}
