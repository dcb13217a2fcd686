package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
)

// testClock is a settable Now.
type testClock struct{ t time.Time }

func (c *testClock) Now() time.Time { return c.t }

// upstreamEnv is a store, a fetcher and a test server whose answer the
// test sets.
type upstreamEnv struct {
	where string // the database, kept across reopens
	db    *database.DB
	store *feed.Store
	f     *Fetcher
	clock *testClock
	srv   *httptest.Server

	mu      sync.Mutex
	handler http.HandlerFunc
	reqs    []*http.Request
}

func newUpstreamEnv(t *testing.T) *upstreamEnv {
	t.Helper()
	e := &upstreamEnv{where: databasetest.Where(t),
		clock: &testClock{t: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)}}
	e.open(t)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		h := e.handler
		e.reqs = append(e.reqs, r)
		e.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// open (re)opens the database with a new Fetcher, as a restart would.
func (e *upstreamEnv) open(t *testing.T) {
	t.Helper()
	if e.db != nil {
		e.db.Close()
	}
	db, err := database.Open(context.Background(), e.where)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db, e.store = db, feed.NewStore(db)
	e.f = &Fetcher{Store: e.store, BaseURL: "https://news.example.org/", UserAgent: "tidings/test",
		MaxBytes: 1 << 20, Timeout: 2 * time.Second, Now: e.clock.Now}
}

func (e *upstreamEnv) serve(h http.HandlerFunc) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.handler = h
}

func (e *upstreamEnv) serveBody(contentType, body string) {
	e.serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		fmt.Fprint(w, body)
	})
}

func (e *upstreamEnv) requests() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.reqs)
}

func (e *upstreamEnv) source() Source {
	return Source{Name: "partner", URL: e.srv.URL + "/feed", AllowPrivate: true, Tags: []string{"Partner"}}
}

func (e *upstreamEnv) fetch(t *testing.T, src Source) FetchResult {
	t.Helper()
	res, err := e.f.Fetch(context.Background(), src)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return res
}

// fetchOK fetches src in a test's setup, where the fetch must succeed.
func (e *upstreamEnv) fetchOK(t *testing.T, src Source, added int) {
	t.Helper()
	if res := e.fetch(t, src); res.Err != nil || res.Added != added {
		t.Fatalf("setup fetch: %+v, want %d added", res, added)
	}
}

func (e *upstreamEnv) list(t *testing.T, o feed.ListOptions) []*feed.Article {
	t.Helper()
	as, err := e.store.List(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return as
}

func (e *upstreamEnv) get(t *testing.T, id string) *feed.Article {
	t.Helper()
	a, err := e.store.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func (e *upstreamEnv) digestIDs(t *testing.T) []string {
	t.Helper()
	as, err := e.store.List(context.Background(), feed.ListOptions{Now: e.clock.Now(), ExcludeBackfill: true})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range as {
		ids = append(ids, a.ID)
	}
	return ids
}

func upItem(guid, link, title, date, body string) string {
	var b strings.Builder
	b.WriteString("<item>")
	if guid != "" {
		fmt.Fprintf(&b, "<guid>%s</guid>", guid)
	}
	if link != "" {
		fmt.Fprintf(&b, "<link>%s</link>", link)
	}
	if title != "" {
		fmt.Fprintf(&b, "<title>%s</title>", title)
	}
	if date != "" {
		fmt.Fprintf(&b, "<pubDate>%s</pubDate>", date)
	}
	fmt.Fprintf(&b, "<description><![CDATA[%s]]></description></item>", body)
	return b.String()
}

func upRSS(items ...string) string {
	return `<?xml version="1.0"?><rss version="2.0"><channel><title>Partner</title><link>https://partner.example/</link>` +
		strings.Join(items, "") + `</channel></rss>`
}

const (
	recent = "Wed, 25 Nov 2026 10:00:00 +0000"
	old    = "Mon, 02 Mar 2026 10:00:00 +0000"
)

func TestFetch_RSSWithAndWithoutGUIDs(t *testing.T) {
	e := newUpstreamEnv(t)
	e.serveBody("application/rss+xml", upRSS(
		upItem("g-1", "https://partner.example/a", "First &amp; best", recent, `<p>Hello <a href="b">rel</a><script>x()</script></p>`),
		upItem("", "https://partner.example/c", "Linked only", recent, "plain text & more"),
		upItem("", "", "", recent, "Nothing but a body that goes on"),
	))
	src := e.source()
	res := e.fetch(t, src)
	if res.Err != nil || res.Added != 3 || res.Status != 200 {
		t.Fatalf("result = %+v", res)
	}
	a := e.get(t, "partner:g-1")
	if a.Title != "First & best" || a.Source != "partner" || a.Path != "https://partner.example/a" {
		t.Errorf("article = %q %q %q", a.Title, a.Source, a.Path)
	}
	if strings.Contains(a.ContentHTML, "<script") || !strings.Contains(a.ContentHTML, `href="https://partner.example/b"`) {
		t.Errorf("content = %s", a.ContentHTML)
	}
	if strings.Join(a.Tags, ",") != "Partner" {
		t.Errorf("tags = %v", a.Tags)
	}
	if !a.Published.Equal(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)) {
		t.Errorf("published = %v", a.Published)
	}
	if a := e.get(t, "partner:https://partner.example/c"); !strings.Contains(a.ContentHTML, "plain text &amp; more") {
		t.Errorf("plain description = %s", a.ContentHTML)
	}
	as := e.list(t, feed.ListOptions{All: true})
	var untitled *feed.Article
	for _, a := range as {
		if strings.HasPrefix(a.ID, "partner:") && len(a.ID) == len("partner:")+64 {
			untitled = a
		}
	}
	if untitled == nil || untitled.Title != "Nothing but a body that goes on" {
		t.Errorf("hash-id article = %+v", untitled)
	}

	// The same feed again changes nothing; an edited body is an update
	// that keeps slug and published time.
	if res := e.fetch(t, src); res.Added != 0 || res.Updated != 0 || res.Unchanged != 3 {
		t.Fatalf("refetch = %+v", res)
	}
	e.clock.t = e.clock.t.Add(time.Hour)
	e.serveBody("application/rss+xml", upRSS(upItem("g-1", "https://partner.example/a", "First, edited", recent, "<p>New</p>")))
	if res := e.fetch(t, src); res.Updated != 1 || res.Added != 0 {
		t.Fatalf("edit = %+v", res)
	}
	b := e.get(t, "partner:g-1")
	if b.Title != "First, edited" || b.Slug != a.Slug || !b.Published.Equal(a.Published) || b.Removed != nil {
		t.Errorf("after edit %+v", b)
	}
	// Items that dropped out of the feed stay published.
	if a := e.get(t, "partner:https://partner.example/c"); a.Removed != nil {
		t.Error("an item gone from the feed was unpublished")
	}
}

func TestFetch_RepeatedGUIDsAndLinks(t *testing.T) {
	e := newUpstreamEnv(t)
	e.serveBody("application/rss+xml", upRSS(
		upItem("dup", "https://partner.example/x", "One", recent, "one"),
		upItem("dup", "https://partner.example/y", "Two", recent, "two"),
		upItem("", "https://partner.example/same", "Three", recent, "three"),
		upItem("g-4", "https://partner.example/same", "Four", recent, "four"),
	))
	res := e.fetch(t, e.source())
	if res.Added != 3 || res.Skipped != 1 {
		t.Fatalf("result = %+v", res)
	}
	if a := e.get(t, "partner:dup"); a.Title != "One" {
		t.Errorf("kept %q, want the first", a.Title)
	}
	if a := e.get(t, "partner:g-4"); a.Title != "Four" {
		t.Error("an item sharing a link with another was dropped")
	}
}

func TestFetch_AtomXMLBaseAndJSONFeed(t *testing.T) {
	e := newUpstreamEnv(t)
	e.serveBody("application/atom+xml", `<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://blog.example/root/">
<title>Blog</title><id>urn:blog</id><updated>2026-11-25T10:00:00Z</updated>
<entry><id>urn:e1</id><title type="html">&lt;b&gt;Bold&lt;/b&gt; entry</title><updated>2026-11-25T10:00:00Z</updated>
<link href="posts/e1.html"/><category term="go"/>
<content type="html">&lt;img src="img/a.png"&gt;&lt;a href="other.html"&gt;x&lt;/a&gt;</content></entry>
</feed>`)
	if res := e.fetch(t, e.source()); res.Added != 1 || res.Err != nil {
		t.Fatalf("atom = %+v", res)
	}
	a := e.get(t, "partner:urn:e1")
	if a.Title != "Bold entry" || !strings.Contains(a.ContentHTML, `src="https://blog.example/root/img/a.png"`) {
		t.Errorf("atom article %q %s", a.Title, a.ContentHTML)
	}
	if strings.Join(a.Tags, ",") != "go,Partner" {
		t.Errorf("tags = %v", a.Tags)
	}

	e.serveBody("application/feed+json", `{"version":"https://jsonfeed.org/version/1.1","title":"J",
"items":[{"id":"j1","url":"https://j.example/p/1","title":"Jason","content_html":"<p><a href=\"../x\">x</a></p>",
"date_published":"2026-11-25T09:00:00Z","tags":["t"]}]}`)
	src := e.source()
	src.Name = "json"
	if res := e.fetch(t, src); res.Added != 1 || res.Err != nil {
		t.Fatalf("json = %+v", res)
	}
	if a := e.get(t, "json:j1"); !strings.Contains(a.ContentHTML, `href="https://j.example/x"`) || a.Title != "Jason" {
		t.Errorf("json article %q %s", a.Title, a.ContentHTML)
	}
}

func TestFetch_ETagCycleAcrossRestart(t *testing.T) {
	e := newUpstreamEnv(t)
	body := upRSS(upItem("g", "", "T", recent, "b"))
	e.serve(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` && r.Header.Get("If-Modified-Since") == "Wed, 25 Nov 2026 10:00:00 GMT" {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if ua := r.Header.Get("User-Agent"); ua != "tidings/test" {
			t.Errorf("User-Agent = %q", ua)
		}
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Wed, 25 Nov 2026 10:00:00 GMT")
		fmt.Fprint(w, body)
	})
	if res := e.fetch(t, e.source()); res.Added != 1 || res.NotModified {
		t.Fatalf("first = %+v", res)
	}
	e.open(t) // a restart: new Fetcher, same database
	res := e.fetch(t, e.source())
	if !res.NotModified || res.Status != 304 || res.Err != nil {
		t.Fatalf("after restart = %+v", res)
	}
	st, err := e.store.Sources(context.Background())
	if err != nil || len(st) != 1 || st[0].ETag != `"v1"` || st[0].LastStatus != 304 || st[0].ItemCount != 1 {
		t.Fatalf("sources = %+v, %v", st, err)
	}
}

func TestFetch_RetryAfter(t *testing.T) {
	e := newUpstreamEnv(t)
	e.serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	res := e.fetch(t, e.source())
	if !errors.Is(res.Err, ErrHTTPStatus) || res.Status != 429 {
		t.Fatalf("429 = %+v", res)
	}
	e.clock.t = e.clock.t.Add(time.Minute)
	if res := e.fetch(t, e.source()); !errors.Is(res.Err, ErrRetryLater) || e.requests() != 1 {
		t.Fatalf("within Retry-After = %+v, %d requests", res, e.requests())
	}
	e.clock.t = e.clock.t.Add(2 * time.Minute)
	e.serveBody("application/rss+xml", upRSS(upItem("g", "", "T", recent, "b")))
	if res := e.fetch(t, e.source()); res.Err != nil || e.requests() != 2 {
		t.Fatalf("after Retry-After = %+v", res)
	}
}

func TestFetch_FirstFetchFloodGuard(t *testing.T) {
	e := newUpstreamEnv(t)
	e.serveBody("application/rss+xml", upRSS(
		upItem("new", "", "New", recent, "n"),
		upItem("old", "", "Old", old, "o"),
		upItem("undated", "", "Undated", "", "u"),
	))
	if res := e.fetch(t, e.source()); res.Added != 3 {
		t.Fatalf("first = %+v", res)
	}
	if got := strings.Join(e.digestIDs(t), ","); got != "partner:new" {
		t.Errorf("digest candidates after first fetch = %s", got)
	}
	feedItems := e.list(t, feed.ListOptions{Now: e.clock.Now()})
	if len(feedItems) != 3 {
		t.Errorf("feeds carry %d articles, want 3", len(feedItems))
	}
	// Later fetches: a new item, even undated or old-dated, is new.
	e.serveBody("application/rss+xml", upRSS(upItem("later", "", "Later", old, "l"), upItem("old", "", "Old", old, "o")))
	if res := e.fetch(t, e.source()); res.Added != 1 || res.Unchanged != 1 {
		t.Fatalf("second = %+v", res)
	}
	if got := strings.Join(e.digestIDs(t), ","); got != "partner:new,partner:later" {
		t.Errorf("digest candidates = %s", got)
	}
}

// An empty or failed first fetch is not the first fetch: the guard still
// applies to the fetch that brings the items.
func TestFetch_FailedFetchDoesNotResend(t *testing.T) {
	e := newUpstreamEnv(t)
	e.serveBody("application/rss+xml", upRSS())
	e.fetchOK(t, e.source(), 0)
	e.serveBody("text/html", "<html><body>maintenance</body></html>")
	if res := e.fetch(t, e.source()); !errors.Is(res.Err, ErrNotAFeed) {
		t.Fatalf("html = %+v", res)
	}
	feedBody := upRSS(upItem("a", "", "A", old, "a"), upItem("b", "", "B", recent, "b"))
	e.serveBody("application/rss+xml", feedBody)
	e.fetchOK(t, e.source(), 2)
	if got := strings.Join(e.digestIDs(t), ","); got != "partner:b" {
		t.Fatalf("after first items = %s", got)
	}
	seen := e.get(t, "partner:a")
	// A failed fetch (truncated body), then the full feed again.
	e.serve(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100000")
		fmt.Fprint(w, feedBody[:len(feedBody)/2])
	})
	if res := e.fetch(t, e.source()); res.Err == nil {
		t.Fatal("truncated body accepted")
	}
	e.clock.t = e.clock.t.Add(time.Hour)
	e.serveBody("application/rss+xml", feedBody)
	if res := e.fetch(t, e.source()); res.Added != 0 || res.Unchanged != 2 {
		t.Fatalf("after failure = %+v", res)
	}
	if got := strings.Join(e.digestIDs(t), ","); got != "partner:b" {
		t.Errorf("old item became a digest candidate: %s", got)
	}
	if a := e.get(t, "partner:a"); !a.FirstSeen.Equal(seen.FirstSeen) {
		t.Errorf("first seen moved from %v to %v", seen.FirstSeen, a.FirstSeen)
	}
}

func TestFetch_RepairedItems(t *testing.T) {
	e := newUpstreamEnv(t)
	e.serveBody("application/rss+xml", upRSS(
		upItem("future", "", "From the future", "Sat, 01 Jan 2099 00:00:00 +0000", "f"),
		upItem("nodate", "", "No date", "", "n"),
		upItem("notitle", "", "", recent, "<p>The first words of the text make the title here</p>"),
		upItem("lines", "", "Two\r\nlines", recent, "l"),
		upItem("ex", "", "Sponsored post", recent, "s"),
	))
	src := e.source()
	src.Exclude = regexp.MustCompile(`(?i)sponsored`)
	if res := e.fetch(t, src); res.Added != 4 || res.Skipped != 1 {
		t.Fatalf("result = %+v", res)
	}
	now := e.clock.Now()
	if a := e.get(t, "partner:future"); a.Published.After(now) {
		t.Errorf("future date kept: %v", a.Published)
	}
	if a := e.get(t, "partner:nodate"); a.Published.After(now) || a.Published.Before(now.Add(-time.Second)) {
		t.Errorf("undated item published %v, want first seen", a.Published)
	}
	if a := e.get(t, "partner:notitle"); !strings.HasPrefix(a.Title, "The first words") {
		t.Errorf("title = %q", a.Title)
	}
	if a := e.get(t, "partner:lines"); a.Title != "Two lines" {
		t.Errorf("title = %q", a.Title)
	}
	// The clamp does not make the item look changed on the next fetch.
	e.clock.t = e.clock.t.Add(time.Hour)
	if res := e.fetch(t, src); res.Updated != 0 || res.Unchanged != 4 {
		t.Errorf("refetch = %+v", res)
	}
}
