package upstream

import (
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/tidings/tidings/feed/content"
)

// An upstream item's title, author and categories are read as a file's
// front matter is, by Normalize: entities decoded once, markup removed,
// the author's address apart. The items are parsed from real feed XML,
// so that the XML decoding gofeed does is counted too.
func TestMapItem_PlainMetadata(t *testing.T) {
	const rss = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Up</title><link>https://up.example/</link>
<item><title>Tom &amp;amp; Jerry&amp;#39;s Caf&amp;eacute; &lt;b&gt;reopens&lt;/b&gt;</title>
<link>https://up.example/a</link><guid>a</guid>
<author>ana@example.org (Ana Lima)</author>
<category>&lt;b&gt;Food&lt;/b&gt;</category><category>&lt;img src="x.png"&gt;</category><category>Caf&amp;eacute;s</category>
<description>Body.</description></item>
<item><title><![CDATA[AT&T <em>deal</em>]]></title><link>https://up.example/b</link><guid>b</guid>
<description>Body.</description></item>
</channel></rss>`
	const atom = `<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Up</title><id>urn:x</id><updated>2026-11-20T00:00:00Z</updated>
<entry><title type="html">Ferry &amp;ndash; winter</title><id>urn:c</id><link href="https://up.example/c"/>
<updated>2026-11-20T00:00:00Z</updated><author><name>Tom&#225;s Ruiz</name><email>ruiz@example.org</email></author>
<content type="html">&lt;p&gt;Body.&lt;/p&gt;</content></entry>
</feed>`
	r, err := content.NewRenderer("https://news.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	var items []*gofeed.Item
	for _, src := range []string{rss, atom} {
		fd, err := gofeed.NewParser().ParseString(src)
		if err != nil {
			t.Fatal(err)
		}
		items = append(items, fd.Items...)
	}
	want := []struct{ title, slug, author, email, tags string }{
		{"Tom & Jerry's Café reopens", "tom-jerrys-cafe-reopens", "Ana Lima", "ana@example.org", "Food|Cafés"},
		{"AT&T deal", "at-t-deal", "", "", ""},
		{"Ferry – winter", "ferry-winter", "Tomás Ruiz", "ruiz@example.org", ""},
	}
	if len(items) != len(want) {
		t.Fatalf("%d items", len(items))
	}
	for i, it := range items {
		d := mapItem(Source{Name: "up"}, it, "https://up.example/", r, now, (&Fetcher{}).log())
		w := want[i]
		got := []string{d.Title, d.SlugBase, d.Author, d.AuthorEmail, strings.Join(d.Tags, "|")}
		exp := []string{w.title, w.slug, w.author, w.email, w.tags}
		if strings.Join(got, "\n") != strings.Join(exp, "\n") {
			t.Errorf("item %d: got %q, want %q", i, got, exp)
		}
	}
}
