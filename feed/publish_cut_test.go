package feed

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"
)

// longMD is an article of about n bytes of text, tagged so that it is in
// three tag feeds as well as the site's.
func longMD(n int) string {
	return "---\ntitle: The long read\ntags: [harbour, history, ships]\n---\n\nThe first paragraph sums it up.\n\n" +
		strings.Repeat("A paragraph of the long read goes on and on. ", n/46) + "\n"
}

func TestPublisher_LongArticleIsCarriedAsItsSummary(t *testing.T) {
	e := newIngestEnv(t)
	e.in.MaxBytes = 8 << 20
	e.write(t, "long.md", longMD(2<<20))
	e.write(t, "short.md", "---\ntitle: Short\ntags: [harbour]\n---\n\nA short one, carried whole.\n")
	e.scanClean(t)
	site := *testSite()
	site.MaxItemBytes = 1 << 20
	pub := &Publisher{Store: e.store, Site: site, OutputDir: t.TempDir(), Now: e.clock.Now}
	if _, err := pub.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	page := site.URL("articles/the-long-read")
	for _, path := range []string{"feed.xml", "atom.xml", "feed.json", "tags/harbour/feed.xml", "tags/ships/atom.xml", "tags/history/feed.json"} {
		out := pub.Lookup(path)
		if out == nil {
			t.Fatalf("%s not built", path)
		}
		if len(out.Body) > 64<<10 {
			t.Errorf("%s is %d bytes: the long article was carried whole", path, len(out.Body))
		}
		f, err := gofeed.NewParser().ParseString(string(out.Body))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		byTitle := map[string]*gofeed.Item{}
		for _, it := range f.Items {
			byTitle[it.Title] = it
		}
		long, short := byTitle["The long read"], byTitle["Short"]
		if long == nil {
			t.Fatalf("%s lacks the long article", path)
		}
		text := long.Content + long.Description
		if !strings.Contains(text, "The first paragraph sums it up.") || !strings.Contains(text, "Read the whole article") || !strings.Contains(text, page) {
			t.Errorf("%s: the long article is %q, want its summary and a link to %s", path, cut(text), page)
		}
		if short != nil && !strings.Contains(short.Content, "carried whole") {
			t.Errorf("%s: the short article lost its content: %q", path, short.Content)
		}
	}
	// The page itself keeps all of it.
	a, err := e.store.GetBySlug(context.Background(), "the-long-read", e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(a.ContentHTML) < 1<<20 || a.ContentCut {
		t.Errorf("the stored article is %d bytes, cut %v", len(a.ContentHTML), a.ContentCut)
	}
}

func cut(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// BenchmarkPublisherBuild_LongArticle is the fault injection's case: one
// article of 50 MB among a few small ones, in the site feed and three tag
// feeds. With the cap its memory is that of the small ones; uncapped it
// is many times the article.
func BenchmarkPublisherBuild_LongArticle(b *testing.B) {
	e := newIngestEnv(b)
	e.in.MaxBytes = 64 << 20
	e.write(b, "long.md", longMD(50<<20))
	for i := range 20 {
		e.write(b, fmt.Sprintf("s%d.md", i), fmt.Sprintf("---\ntitle: Short %d\ntags: [harbour]\n---\n\nA short one.\n", i))
	}
	e.scanClean(b)
	for _, cap := range []int{512 << 10, 0} {
		site := *testSite()
		site.MaxItemBytes = cap
		b.Run(fmt.Sprintf("max_item_bytes=%d", cap), func(b *testing.B) {
			build := func() {
				pub := &Publisher{Store: e.store, Site: site, OutputDir: b.TempDir(), Now: e.clock.Now}
				if _, err := pub.Build(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			peak := measurePeak(b, build)
			for b.Loop() {
				build()
			}
			peak.report(b)
		})
	}
}
