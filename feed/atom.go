package feed

import (
	"encoding/xml"
	"html"
	"io"
	"time"

	"github.com/gorilla/feeds"
)

// atomFeed is gorilla's <feed> with a stable id, self and hub links, and
// entries that have published dates and categories.
type atomFeed struct {
	*feeds.AtomFeed
	XMLName xml.Name     `xml:"feed"`
	Lang    string       `xml:"xml:lang,attr,omitempty"`
	ID      string       `xml:"id"`
	Updated string       `xml:"updated"`
	Link    []atomLink   `xml:"link"`
	Gen     *atomGen     `xml:"generator"`
	Entries []*atomEntry `xml:"entry"`
}

type atomGen struct {
	Name string `xml:",chardata"`
}

type atomEntry struct {
	*feeds.AtomEntry
	XMLName    xml.Name         `xml:"entry"`
	Title      *atomPlain       `xml:"title"`
	Published  string           `xml:"published,omitempty"`
	Categories []atomCategory   `xml:"category"`
	Content    *atomText        `xml:"content"`
	Summary    *atomPlain       `xml:"summary"`
	Links      []feeds.AtomLink `xml:"link"`
}

type atomCategory struct {
	Term string `xml:"term,attr"`
}

// atomText is HTML in CDATA: the same document as escaped text, written
// without escaping every < and & of the content. Body is a view of a
// string, as in cdata.
type atomText struct {
	Type string `xml:"type,attr"`
	Body []byte `xml:",cdata"`
}

// atomPlain is text escaped as XML; with type="html" it holds HTML, so
// text that merely looks like markup ("a <b> tag", "&amp;") is escaped
// once more and no reader or validator takes it for markup.
type atomPlain struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// writeAtom writes a channel as Atom 1.0.
func writeAtom(w io.Writer, s *Site, ch *channel, generator string) error {
	f := ch.gorilla(s)
	af := (&feeds.Atom{Feed: f}).AtomFeed()
	entries := af.Entries
	af.Entries, af.Link = nil, nil
	updated := f.Updated
	if updated.IsZero() {
		updated = time.Unix(0, 0) // an empty feed: the one date that claims no change
	}
	out := &atomFeed{
		AtomFeed: af,
		Lang:     s.Language,
		ID:       s.FeedID(ch.Dir + "atom.xml"),
		Updated:  updated.UTC().Format(time.RFC3339Nano),
		Link: append([]atomLink{{Href: s.URL(ch.Dir), Rel: "alternate", Type: "text/html"}},
			selfAndHubs(s, ch.Dir+"atom.xml", "application/atom+xml")...),
		Gen: &atomGen{Name: generator},
	}
	if af.Author == nil {
		// Atom wants an author on the feed or on every entry.
		af.Author = &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: xmlSafe(s.Title)}}
	}
	out.Entries = make([]*atomEntry, 0, len(entries))
	for i, e := range entries {
		a := ch.Articles[i]
		ae := &atomEntry{
			AtomEntry: e,
			Published: a.Published.UTC().Format(time.RFC3339Nano),
			Links:     []feeds.AtomLink{{Href: s.ArticleURL(a), Rel: "alternate", Type: "text/html"}},
		}
		e.Updated = a.Updated.UTC().Format(time.RFC3339Nano)
		// Clear what tidings writes itself: encoding/xml would write both.
		e.Links, e.Content, e.Summary = nil, nil, nil
		for _, t := range a.Tags {
			ae.Categories = append(ae.Categories, atomCategory{Term: xmlSafe(t)})
		}
		ae.Title = &atomPlain{Type: "html", Body: html.EscapeString(e.Title)}
		if it := f.Items[i]; it.Description != "" {
			ae.Summary = &atomPlain{Type: "html", Body: html.EscapeString(it.Description)}
		}
		if it := f.Items[i]; it.Content != "" {
			ae.Content = &atomText{Type: "html", Body: bytesOf(it.Content)}
		} else if it.Description != "" {
			// With full_content off, the content is the summary.
			ae.Content = &atomText{Type: "html", Body: bytesOf(html.EscapeString(it.Description))}
		}
		if img := f.Items[i].Enclosure; img != nil {
			ae.Links = append(ae.Links, feeds.AtomLink{Href: img.Url, Rel: "enclosure", Type: img.Type})
		}
		out.Entries = append(out.Entries, ae)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
