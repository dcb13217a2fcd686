package feed

import (
	"bytes"
	"encoding/xml"
	"html"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

// A feed that is not one of the site's, the edition archive's, comes out
// of the same writer: the same elements, ids kept as given, and strings
// XML cannot carry dropped.
func TestWriteAtom(t *testing.T) {
	t0 := time.Date(2025, 3, 3, 7, 0, 0, 0, time.UTC)
	f := &AtomFeed{
		Title: "Daily \x01digest", Subtitle: "Every morning", ID: "urn:uuid:6ba7b811-9dad-11d1-80b4-00c04fd430c8", Lang: "en",
		Updated: t0, Alternate: "https://news.example.org/archive/daily", Self: "https://news.example.org/archive/daily/atom.xml",
		Author: "Newsroom", Email: "news@example.org",
		Entries: []AtomEntry{
			{ID: "urn:uuid:1", Title: `Ministers say "no deal" & <more>`, Link: "https://news.example.org/archive/daily/42",
				Published: t0, Categories: []string{"daily"}, Summary: "Two articles",
				HTML: `<ul><li><a href="https://news.example.org/articles/budget">Budget</a> ]]> end</li></ul>`},
			{ID: "urn:uuid:2", Title: "Older", Link: "https://news.example.org/archive/daily/41",
				Published: t0.Add(-24 * time.Hour), Updated: t0.Add(-time.Hour), Author: "Editor"},
		},
	}
	var b bytes.Buffer
	if err := WriteAtom(&b, f); err != nil {
		t.Fatal(err)
	}
	pf, err := gofeed.NewParser().ParseString(b.String())
	if err != nil {
		t.Fatalf("gofeed: %v\n%s", err, b.String())
	}
	if pf.FeedType != "atom" || pf.Title != "Daily digest" || pf.Description != "Every morning" || pf.Language != "en" ||
		pf.Link != f.Alternate || pf.FeedLink != f.Self || !pf.UpdatedParsed.Equal(t0) {
		t.Errorf("feed: %s %q %q %q link %q self %q updated %v", pf.FeedType, pf.Title, pf.Description, pf.Language, pf.Link, pf.FeedLink, pf.UpdatedParsed)
	}
	if len(pf.Authors) != 1 || pf.Authors[0].Name != "Newsroom" || pf.Authors[0].Email != "news@example.org" {
		t.Errorf("authors %+v", pf.Authors)
	}
	if len(pf.Items) != 2 {
		t.Fatalf("%d entries", len(pf.Items))
	}
	first, second := pf.Items[0], pf.Items[1]
	if first.GUID != "urn:uuid:1" || first.Link != f.Entries[0].Link || html.UnescapeString(first.Title) != f.Entries[0].Title ||
		!first.PublishedParsed.Equal(t0) || !first.UpdatedParsed.Equal(t0) ||
		strings.Join(first.Categories, ",") != "daily" || first.Content != f.Entries[0].HTML || first.Description != "Two articles" {
		t.Errorf("first entry: %+v", first)
	}
	if !second.UpdatedParsed.Equal(t0.Add(-time.Hour)) || len(second.Authors) != 1 || second.Authors[0].Name != "Editor" {
		t.Errorf("second entry: updated %v, authors %+v", second.UpdatedParsed, second.Authors)
	}
	if strings.Contains(b.String(), "\x01") || strings.Contains(b.String(), "<generator") {
		t.Errorf("a control character kept, or a generator made up:\n%s", b.String())
	}
	// encoding/xml reads it too, in the Atom namespace.
	var doc struct {
		XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
		ID      string   `xml:"id"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil || doc.ID != f.ID {
		t.Errorf("id %q (%v), want %q", doc.ID, err, f.ID)
	}
}

// Without an author, the feed's title stands in: Atom wants one.
func TestWriteAtom_AuthorFallback(t *testing.T) {
	var b bytes.Buffer
	if err := WriteAtom(&b, &AtomFeed{Title: "Weekly", ID: "urn:uuid:x", Alternate: "https://e.org/"}); err != nil {
		t.Fatal(err)
	}
	pf, err := gofeed.NewParser().ParseString(b.String())
	if err != nil || len(pf.Authors) != 1 || pf.Authors[0].Name != "Weekly" {
		t.Errorf("authors %+v (%v)\n%s", pf, err, b.String())
	}
	if !strings.Contains(b.String(), "<updated>1970-01-01T00:00:00Z</updated>") {
		t.Errorf("an empty feed claims a change:\n%s", b.String())
	}
}
