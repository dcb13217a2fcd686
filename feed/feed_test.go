package feed

import (
	"bytes"
	"context"
	"flag"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

func testSite() *Site {
	return &Site{
		Title: "The Harbour Gazette", Description: "News from the harbour town", Language: "en",
		Author: "Newsroom", Email: "news@example.org", BaseURL: "https://news.example.org",
		FullContent: true, Items: 50,
	}
}

// fixedArticles is the article set of the golden files: one of each kind
// a feed must carry, and the awkward cases.
func fixedArticles() []*Article {
	t0 := time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)
	return []*Article{
		{
			ID: "2026/bridge", Slug: "bridge-opens", Title: "Bridge opens", Author: "Jane Roe",
			Tags: []string{"City", "Transport"}, Summary: "The new bridge opened on Friday.",
			ContentHTML: `<p>The new bridge opened on Friday. <a href="https://news.example.org/plans">Plans</a>.</p>`,
			ContentText: "The new bridge opened on Friday. Plans [1].\n\nLinks:\n[1] https://news.example.org/plans\n",
			Image:       "https://news.example.org/img/bridge.jpg",
			Published:   t0.Add(48 * time.Hour), Updated: t0.Add(50 * time.Hour),
		},
		{
			ID: "weird", Slug: "weird", Title: "Tricky ]]> title & <b>not bold</b> \u202eRTL\u202c 🇩🇪 👨‍👩‍👧",
			Tags:        []string{"Ελλάδα", "C++"},
			Summary:     "A bare & and an &amp;amp; entity; ]]> inside.",
			ContentHTML: "<p>CDATA end ]]> here &amp; there, and 日本語 text.</p>",
			ContentText: "CDATA end ]]> here & there, and 日本語 text.\n",
			Published:   t0.Add(24 * time.Hour), Updated: t0.Add(24 * time.Hour),
		},
		{
			ID: "bare", Slug: "bare", Title: "No author, no tags, no summary",
			ContentHTML: "<p>Body only.</p>", ContentText: "Body only.\n",
			Published: t0, Updated: t0,
		},
	}
}

func buildAll(t testing.TB, s *Site, ch *channel) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, f := range formats {
		var b bytes.Buffer
		if err := f.write(&b, s, ch, "tidings test"); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		out[f.name] = b.Bytes()
	}
	return out
}

func TestFeeds_Golden(t *testing.T) {
	got := buildAll(t, testSite(), &channel{Title: "The Harbour Gazette", Articles: fixedArticles()})
	for name, body := range got {
		golden := filepath.Join("testdata", "golden", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, body, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./feed -update to create it)", err)
		}
		if !bytes.Equal(body, want) {
			t.Errorf("%s differs from %s (go test ./feed -update refreshes it after a deliberate change)\n--- got ---\n%s", name, golden, body)
		}
	}
}

// Every format parsed back by a real feed parser keeps what a reader sees.
func TestFeeds_RoundTrip(t *testing.T) {
	s := testSite()
	as := fixedArticles()
	got := buildAll(t, s, &channel{Title: s.Title, Articles: as})
	for _, f := range formats {
		t.Run(f.name, func(t *testing.T) {
			pf, err := gofeed.NewParser().ParseString(string(got[f.name]))
			if err != nil {
				t.Fatalf("gofeed: %v\n%s", err, got[f.name])
			}
			if pf.Title != s.Title || pf.Link != s.URL("") {
				t.Errorf("feed title %q link %q", pf.Title, pf.Link)
			}
			if pf.FeedLink != s.URL(f.name) {
				t.Errorf("self link %q, want %q", pf.FeedLink, s.URL(f.name))
			}
			if !pf.UpdatedParsed.Equal(as[0].Updated) {
				t.Errorf("feed updated %v, want the newest article change %v", pf.UpdatedParsed, as[0].Updated)
			}
			if len(pf.Items) != len(as) {
				t.Fatalf("%d items, want %d", len(pf.Items), len(as))
			}
			for i, it := range pf.Items {
				a := as[i]
				// Atom titles are type="html" and RSS titles with markup in
				// them are HTML-escaped: a reader renders them as written.
				if it.Title != a.Title && html.UnescapeString(it.Title) != a.Title {
					t.Errorf("title %q, want %q", it.Title, a.Title)
				}
				if it.Link != s.ArticleURL(a) {
					t.Errorf("link %q, want %q", it.Link, s.ArticleURL(a))
				}
				if it.GUID != s.EntryID(a) {
					t.Errorf("id %q, want %q", it.GUID, s.EntryID(a))
				}
				if !it.PublishedParsed.Equal(a.Published) {
					t.Errorf("%s published %v, want %v", a.ID, it.PublishedParsed, a.Published)
				}
				if f.name != "feed.xml" && !it.UpdatedParsed.Equal(a.Updated) {
					t.Errorf("%s updated %v, want %v", a.ID, it.UpdatedParsed, a.Updated)
				}
				if a.Author != "" && (len(it.Authors) == 0 || it.Authors[0].Name != a.Author) {
					t.Errorf("%s authors %v, want %q", a.ID, it.Authors, a.Author)
				}
				if strings.Join(it.Categories, "|") != strings.Join(a.Tags, "|") {
					t.Errorf("%s categories %q, want %q", a.ID, it.Categories, a.Tags)
				}
				if it.Content != a.ContentHTML {
					t.Errorf("%s content %q, want %q", a.ID, it.Content, a.ContentHTML)
				}
				if a.Image != "" && (it.Image == nil || it.Image.URL != a.Image) && len(it.Enclosures) == 0 {
					t.Errorf("%s image lost", a.ID)
				}
			}
		})
	}
}

func TestFeeds_SummaryOnly(t *testing.T) {
	s := testSite()
	s.FullContent = false
	got := buildAll(t, s, &channel{Title: s.Title, Articles: fixedArticles()[:1]})
	for name, body := range got {
		if bytes.Contains(body, []byte("Plans")) {
			t.Errorf("%s carries the full content with full_content = false", name)
		}
		if !bytes.Contains(body, []byte("The new bridge opened on Friday.")) {
			t.Errorf("%s lacks the summary", name)
		}
	}
}

func TestFeeds_EmptyAndHubs(t *testing.T) {
	s := testSite()
	s.Hubs = []string{"https://hub.example.net/"}
	got := buildAll(t, s, &channel{Title: s.Title})
	for name, body := range got {
		if _, err := gofeed.NewParser().ParseString(string(body)); err != nil {
			t.Errorf("empty %s does not parse: %v", name, err)
		}
		if !bytes.Contains(body, []byte("https://hub.example.net/")) {
			t.Errorf("%s does not name the hub", name)
		}
	}
	if !bytes.Contains(got["feed.xml"], []byte(`<atom:link href="https://hub.example.net/" rel="hub">`)) {
		t.Errorf("RSS hub link: %s", got["feed.xml"])
	}
	if !bytes.Contains(got["feed.json"], []byte(`"hubs":[{"type":"WebSub","url":"https://hub.example.net/"}]`)) {
		t.Errorf("JSON hubs: %s", got["feed.json"])
	}
}

func TestPublisher_EditKeepsIDAndMovesUpdated(t *testing.T) {
	e := newIngestEnv(t)
	ctx := context.Background()
	pub := &Publisher{Store: e.store, Site: *testSite(), OutputDir: t.TempDir(), Now: e.clock.Now}
	e.write(t, "a.md", goodMD)
	e.scanClean(t)
	if _, err := pub.Build(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := gofeed.NewParser().ParseString(string(pub.Lookup("atom.xml").Body))
	if err != nil {
		t.Fatal(err)
	}

	e.clock.Advance(time.Hour)
	e.write(t, "a.md", strings.Replace(goodMD, "Friday", "Saturday", 1))
	e.scanClean(t)
	res, err := pub.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Written == 0 {
		t.Fatal("an edit rewrote no feed")
	}
	after, err := gofeed.NewParser().ParseString(string(pub.Lookup("atom.xml").Body))
	if err != nil {
		t.Fatal(err)
	}
	if before.Items[0].GUID != after.Items[0].GUID {
		t.Errorf("id changed on edit: %s → %s", before.Items[0].GUID, after.Items[0].GUID)
	}
	if !after.Items[0].UpdatedParsed.Equal(e.clock.Now()) || !after.Items[0].PublishedParsed.Equal(*before.Items[0].PublishedParsed) {
		t.Errorf("updated %v published %v", after.Items[0].UpdatedParsed, after.Items[0].PublishedParsed)
	}
	if !after.UpdatedParsed.Equal(e.clock.Now()) {
		t.Errorf("feed updated %v, want the edit's time", after.UpdatedParsed)
	}
}

func TestPublisher_Files(t *testing.T) {
	e := newIngestEnv(t)
	ctx := context.Background()
	outDir := t.TempDir()
	pub := &Publisher{Store: e.store, Site: *testSite(), OutputDir: outDir, Now: e.clock.Now}
	var announced []string
	pub.Changed = func(urls []string) { announced = append(announced, urls...) }
	e.write(t, "a.md", goodMD) // tags city, transport
	e.write(t, "b.md", "---\ntitle: Greek\ntags: [Ελλάδα]\n---\nΚαλημέρα.\n")
	e.scanClean(t)
	res, err := pub.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Written != 12 {
		t.Errorf("written %d, want 12 (site + 3 tags, 3 formats)", res.Written)
	}
	for _, p := range []string{"feed.xml", "atom.xml", "feed.json", "tags/city/feed.xml", "tags/transport/atom.xml", "tags/ελλάδα/feed.json"} {
		b, err := os.ReadFile(filepath.Join(outDir, filepath.FromSlash(p)))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if !bytes.Equal(b, pub.Lookup(p).Body) {
			t.Errorf("%s on disk differs from what is served", p)
		}
	}
	if len(announced) != 12 || !strings.Contains(strings.Join(announced, " "), "https://news.example.org/tags/ελλάδα/feed.json") {
		t.Errorf("announced %v", announced)
	}
	if tmp, _ := filepath.Glob(filepath.Join(outDir, ".*tmp*")); len(tmp) > 0 {
		t.Errorf("temp files left: %v", tmp)
	}

	// Nothing changed: nothing written, nothing announced.
	announced = nil
	fi, err := os.Stat(filepath.Join(outDir, "feed.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if res, err := pub.Build(ctx); err != nil || res.Written != 0 || res.Unchanged != 12 || len(announced) != 0 {
		t.Errorf("rebuild: %+v, %v, announced %v", res, err, announced)
	}
	// A fresh publisher (a restart) finds the files equal and keeps their time.
	pub2 := &Publisher{Store: e.store, Site: *testSite(), OutputDir: outDir, Now: e.clock.Now}
	if res, err := pub2.Build(ctx); err != nil || res.Written != 0 {
		t.Errorf("restart rewrote %d feeds (%v)", res.Written, err)
	}
	if !pub2.Lookup("feed.xml").Modified.Equal(fi.ModTime().UTC().Truncate(time.Second)) {
		t.Errorf("restart moved Last-Modified")
	}

	// A tag that is gone loses its feeds; the others stay.
	e.remove(t, "b.md")
	e.scanClean(t)
	res, err = pub.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res.Removed != 3 {
		t.Errorf("removed %d, want 3", res.Removed)
	}
	if _, err := os.Stat(filepath.Join(outDir, "tags", "ελλάδα")); !os.IsNotExist(err) {
		t.Errorf("old tag folder still there: %v", err)
	}
	if pub.Lookup("tags/ελλάδα/feed.xml") != nil {
		t.Error("old tag feed still served")
	}
	if _, err := os.Stat(filepath.Join(outDir, "tags", "city", "feed.xml")); err != nil {
		t.Error(err)
	}
}
