package feed

import (
	"bytes"
	"encoding/json"
	"io"
	"time"

	"github.com/gorilla/feeds"
)

// jsonItem is gorilla's item with the plain-text content and RFC 3339
// dates in UTC; the deprecated author field is cleared, authors kept.
type jsonItem struct {
	*feeds.JSONItem
	ContentText string `json:"content_text,omitempty"`
	Published   string `json:"date_published,omitempty"`
	Modified    string `json:"date_modified,omitempty"`
}

const jsonFeedVersion = "https://jsonfeed.org/version/1.1"

// writeJSONFeed writes a channel as JSON Feed 1.1. The head comes from
// gorilla's struct; the items are written one by one, each rendered once
// for every feed of a build that carries it, since gorilla marshals the
// whole document into memory twice (once indented).
func writeJSONFeed(w io.Writer, s *Site, ch *channel) error {
	f := gorillaHead(s, ch)
	jf := (&feeds.JSON{Feed: f}).JSONFeed()
	jf.Items = nil
	jf.Version = jsonFeedVersion
	jf.Language = s.Language
	jf.FeedUrl = s.URL(ch.path("feed.json"))
	jf.Author = nil // deprecated in 1.1; authors carries it
	if f.Author != nil && f.Author.Name != "" {
		jf.Authors = []*feeds.JSONAuthor{{Name: f.Author.Name}}
	} else {
		jf.Authors = nil
	}
	for _, h := range s.Hubs {
		jf.Hubs = append(jf.Hubs, &feeds.JSONHub{Type: "WebSub", Url: h})
	}
	head, err := marshalJSON(jf)
	if err != nil {
		return err
	}
	// head ends in "}\n"; open the items array in its place.
	head = bytes.TrimRight(head, "\n")
	head = append(head[:len(head)-1], `,"items":[`...)
	return writeDoc(w, head, "]}\n", ",", false, ch, "feed.json", func(ib *itemBuf, a *Article) ([]byte, error) { return renderJSONItem(ib, s, a) })
}

// renderJSONItem writes one article as a JSON Feed item.
func renderJSONItem(ib *itemBuf, s *Site, a *Article) ([]byte, error) {
	it := (&feeds.JSON{Feed: oneItemFeed(gorillaItem(s, a))}).JSONFeed().Items[0]
	ji := &jsonItem{JSONItem: it, Published: a.Published.UTC().Format(time.RFC3339Nano), Modified: a.Updated.UTC().Format(time.RFC3339Nano)}
	it.Author = nil
	it.Tags = a.Tags
	if s.FullContent {
		ji.ContentText = a.ContentText
	} else {
		it.ContentHTML = ""
		ji.ContentText = a.Summary
	}
	if a.Image != "" {
		it.Image = a.Image
	}
	// A syndicated item points to where it was first published.
	it.ExternalUrl = a.OriginalLink()
	// The HTML and the text, each escaped a little.
	b := ib.buffer((len(it.ContentHTML)+len(ji.ContentText))*11/10 + len(it.Summary) + 1024)
	err := encodeJSON(b, ji)
	return b.Bytes(), err
}

func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	err := encodeJSON(&buf, v)
	return buf.Bytes(), err
}

func encodeJSON(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
