package feed

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

// nastyArticle is one set of strings an article can carry. Articles
// normally arrive sanitized, but the feed writers must stay well-formed
// whatever they are given.
type nastyArticle struct {
	name                                        string
	title, summary, content, author, tag, image string
}

var nastyArticles = []nastyArticle{
	{"CDATA end", "a ]]> b", "]]>", "<p>]]></p>]]>]]]]>>", "]]>", "]]>", "https://img.example/]]>.png"},
	{"C0 controls", "t\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f", "s\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19",
		"<p>\x1a\x1b\x1c\x1d\x1e\x1f\x00</p>", "a\x00b", "t\x1fg", "https://img.example/\x00\x01.jpg"},
	{"DEL and noncharacters", "\x7f\ufffe\uffff", "\ufffe", "<p>\uffff\x7f</p>", "\uffff", "\ufffe", "https://img.example/\ufffe.gif"},
	{"invalid UTF-8", "\xed\xa0\x80 surrogate", "\xff\xfe half \xc3", "<p>\xed\xbf\xbf\xe2\x82</p>", "\x80", "\xed\xa0\x80", "https://img.example/\xed\xa0\x80.png"},
	{"script", "<script>alert(1)</script>", "<script>alert(1)</script>",
		"<script>alert(1)</script><img src=x onerror=alert(1)><a href=\"javascript:alert(1)\">x</a>",
		"<script>", "<script>", "javascript:alert(1)//.png"},
	{"entities", "&amp;amp; & &lt;b&gt; &#0; &bogus;", "a bare & and &amp;amp;", "<p>&amp;amp; & &#x0; &nbsp; &bogus;</p>",
		"AT&T", "R&D", "https://img.example/a.png?a=1&b=2&amp;c"},
	{"right-to-left marks", "\u202eRTL\u202c \u200f\u200e\u2066x\u2069", "\u200f", "<p dir=\"rtl\">\u202e</p>", "\u202e", "\u200f", ""},
	{"emoji ZWJ", "👨\u200d👩\u200d👧 🏳️\u200d🌈", "🇩🇪", "<p>👩🏽\u200d💻</p>", "👨\u200d👩\u200d👧", "🏳️\u200d🌈", "https://img.example/👨\u200d👩.webp"},
	{"line separators", "a\u2028b\u2029c\u0085d\r\ne", "\r", "<p>\r\n</p>", "\n", "\t", "https://img.example/\n.png"},
	{"empty", "", "", "", "", "", ""},
	{"markup everywhere", "<![CDATA[x]]><!-- c --><?pi?>", "<!DOCTYPE x [<!ENTITY e \"boom\">]>&e;", "<![CDATA[<script>]]>", "</author>", "</category><script>", "\"><script>.png"},
}

func FuzzFeeds(f *testing.F) {
	for i, c := range nastyArticles {
		f.Add(uint8(i), c.title, c.summary, c.content, c.author, c.tag, c.image)
	}
	f.Fuzz(func(t *testing.T, n uint8, title, summary, content, author, tag, image string) {
		checkFeeds(t, n, nastyArticle{"fuzz", title, summary, content, author, tag, image})
	})
}

// TestFeeds_NastyArticles runs the awkward cases on every go test, in each
// article count and with the full content on and off.
func TestFeeds_NastyArticles(t *testing.T) {
	for _, c := range nastyArticles {
		t.Run(c.name, func(t *testing.T) {
			for n := range uint8(8) {
				checkFeeds(t, n, c)
			}
		})
	}
}

// nastyChannel builds a channel of 1 to 3 articles from c: the first
// carries every string where it belongs, the second has them shuffled
// between fields and the third has no summary, author, tags or image. n
// picks the count and whether the feeds carry the full content.
func nastyChannel(n uint8, c nastyArticle) (*Site, *channel) {
	s := testSite()
	s.FullContent = n&4 == 0
	t0 := time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)
	as := []*Article{
		{ID: c.title, Slug: c.title, Title: c.title, Summary: c.summary, ContentHTML: c.content, ContentText: c.content,
			Author: c.author, Tags: []string{c.tag}, Image: c.image},
		{ID: "2", Slug: c.tag, Title: c.summary, Summary: c.content, ContentHTML: c.title, ContentText: c.author,
			Author: c.tag, Tags: []string{c.author, c.title, c.tag}, Image: c.title + ".jpg"},
		{ID: "3", Slug: "3", Title: c.title, ContentHTML: c.content, ContentText: c.summary},
	}[:1+int(n)%3]
	for i, a := range as {
		a.Published = t0.Add(time.Duration(i) * time.Hour)
		a.Updated = a.Published.Add(time.Minute)
	}
	// A tag's channel: its title carries the tag. The site's channel
	// differs only in title and folder, and would halve the fuzzing speed.
	return s, &channel{Title: s.Title + ": " + c.tag, Dir: TagPath(TagSlug(c.tag)), Articles: as}
}

func checkFeeds(t *testing.T, n uint8, c nastyArticle) {
	t.Helper()
	s, ch := nastyChannel(n, c)
	for name, body := range buildAll(t, s, ch) {
		if err := checkFeed(s, ch.Articles, name, body); err != nil {
			t.Fatalf("%d articles, full content %v: %s%s: %v\n%s", len(ch.Articles), s.FullContent, ch.Dir, name, err, body)
		}
	}
}

// checkFeed reads a feed back as a strict XML or JSON parser and a real
// feed reader would.
func checkFeed(s *Site, as []*Article, name string, body []byte) error {
	if strings.HasSuffix(name, ".json") {
		if err := checkJSONFeed(body, len(as)); err != nil {
			return err
		}
	} else if err := checkXMLFeed(body); err != nil {
		return err
	}
	pf, err := gofeed.NewParser().ParseString(string(body))
	if err != nil {
		return fmt.Errorf("gofeed: %w", err)
	}
	if len(pf.Items) != len(as) {
		return fmt.Errorf("gofeed reads %d items, want %d", len(pf.Items), len(as))
	}
	for i, it := range pf.Items {
		if want := s.EntryID(as[i]); it.GUID != want {
			return fmt.Errorf("gofeed reads item %d id %q, want %q", i, it.GUID, want)
		}
	}
	return nil
}

// checkXMLFeed decodes the whole document strictly. Markup in the content
// must stay text (escaped or CDATA): no element named script may appear.
func checkXMLFeed(body []byte) error {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.Strict = true
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %w", err)
		}
		if se, ok := tok.(xml.StartElement); ok && strings.EqualFold(se.Name.Local, "script") {
			return fmt.Errorf("a <%s> element escaped into the markup", se.Name.Local)
		}
	}
}

func checkJSONFeed(body []byte, items int) error {
	if !json.Valid(body) {
		return fmt.Errorf("not valid JSON")
	}
	var jf struct {
		Version string `json:"version"`
		Items   []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(body, &jf); err != nil {
		return err
	}
	if jf.Version != "https://jsonfeed.org/version/1.1" {
		return fmt.Errorf("version %q", jf.Version)
	}
	if len(jf.Items) != items {
		return fmt.Errorf("%d items, want %d", len(jf.Items), items)
	}
	for i, it := range jf.Items {
		if it.ID == "" {
			return fmt.Errorf("item %d has no id", i)
		}
	}
	return nil
}
