package upstream

import (
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/tidings/tidings/feed/content"
)

// FuzzUpstreamItem feeds arbitrary item fields through the item-to-article
// mapping: it must not panic, the title must be one non-empty line, the
// HTML must hold no script, and the id must stay in the source's namespace.
func FuzzUpstreamItem(f *testing.F) {
	f.Add("Title", "<p>body <script>alert(1)</script></p>", "", "guid", "https://x.example/a", "go")
	f.Add("", "", "desc with <a href=rel>link</a>", "", "", "")
	f.Add("Two\r\nlines\u2028", "<img src=x onerror=alert(1)>", "", "", "not a url", "a\nb")
	f.Add("<b>x</b>", "<svg><script>x</script></svg>", "<<>>", " ", "javascript:alert(1)", "")
	r, err := content.NewRenderer("https://news.example.org/")
	if err != nil {
		f.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	src := Source{Name: "fz", Tags: []string{"t"}}
	f.Fuzz(func(t *testing.T, title, content, desc, guid, link, category string) {
		it := &gofeed.Item{Title: title, Content: content, Description: desc, GUID: guid, Link: link,
			Categories: []string{category}}
		ui := mapItem(src, it, "https://feed.example/", r, now, (&Fetcher{}).log())
		if ui.Title == "" || strings.ContainsAny(ui.Title, "\r\n") {
			t.Errorf("title %q", ui.Title)
		}
		if strings.Contains(strings.ToLower(ui.HTML), "<script") {
			t.Errorf("script in %q", ui.HTML)
		}
		if !strings.HasPrefix(ui.ID, "fz:") || len(ui.ID) == len("fz:") {
			t.Errorf("id %q", ui.ID)
		}
		if ui.Hash == "" || ui.SlugBase == "" {
			t.Errorf("hash %q slug %q", ui.Hash, ui.SlugBase)
		}
	})
}
