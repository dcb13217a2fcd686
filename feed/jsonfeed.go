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
// gorilla's struct; the items are streamed one by one, since gorilla
// marshals the whole document into memory twice (once indented), hundreds
// of megabytes for a large feed.
func writeJSONFeed(w io.Writer, s *Site, ch *channel) error {
	f := ch.gorilla(s)
	jf := (&feeds.JSON{Feed: f}).JSONFeed()
	items := jf.Items
	jf.Items = nil
	jf.Version = jsonFeedVersion
	jf.Language = s.Language
	jf.FeedUrl = s.URL(ch.Dir + "feed.json")
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
	head = head[:len(head)-1]
	if _, err := w.Write(head); err != nil {
		return err
	}
	if _, err := io.WriteString(w, `,"items":[`); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for i, it := range items {
		a := ch.Articles[i]
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
		if i > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		if err := enc.Encode(ji); err != nil {
			return err
		}
	}
	_, err = io.WriteString(w, "]}\n")
	return err
}

func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(v)
	return buf.Bytes(), err
}
