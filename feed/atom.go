package feed

import (
	"encoding/xml"
	"html"
	"io"
	"time"

	"github.com/gorilla/feeds"
)

// atomRoot is gorilla's <feed> with a stable id, self and hub links, and
// entries that have published dates and categories.
type atomRoot struct {
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
	Source     *atomSource      `xml:"source"`
}

// atomSource is the upstream feed a syndicated entry came from.
type atomSource struct {
	ID    string `xml:"id,omitempty"`
	Title string `xml:"title"`
	// Updated is the entry's own: the upstream feed carried the item as
	// it is by then, and its own date is not kept.
	Updated string     `xml:"updated"`
	Link    []atomLink `xml:"link"`
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

// AtomFeed is an Atom feed of things other than the site's articles: the
// edition archive's. WriteAtom writes it with the code that writes the
// site's own Atom feeds, so both carry the same elements the same way.
type AtomFeed struct {
	Title    string
	Subtitle string
	ID       string // stable for ever: a urn:uuid
	Lang     string
	// Updated is the newest change; zero for an empty feed.
	Updated   time.Time
	Alternate string // the page the feed follows
	Self      string // the feed's own URL
	// Author and Email name who writes the feed; with neither, Title does.
	Author, Email string
	Generator     string // may be empty
	Entries       []AtomEntry
}

// AtomEntry is one entry of an AtomFeed. Text is plain text; HTML is
// written as HTML.
type AtomEntry struct {
	ID         string // stable for ever: a urn:uuid
	Title      string
	Link       string // the entry's page
	Author     string // empty: the feed's
	Published  time.Time
	Updated    time.Time // zero: Published
	Categories []string
	Summary    string
	HTML       string
}

// WriteAtom writes f as Atom 1.0.
func WriteAtom(w io.Writer, f *AtomFeed) error {
	gf := &feeds.Feed{
		Title:       xmlSafe(f.Title),
		Link:        &feeds.Link{Href: f.Alternate},
		Description: xmlSafe(f.Subtitle),
		Updated:     f.Updated,
		Items:       make([]*feeds.Item, len(f.Entries)),
	}
	if f.Author != "" || f.Email != "" {
		gf.Author = &feeds.Author{Name: xmlSafe(f.Author), Email: f.Email}
	}
	for i, e := range f.Entries {
		it := &feeds.Item{
			Title:       xmlSafe(e.Title),
			Link:        &feeds.Link{Href: e.Link},
			Description: xmlSafe(e.Summary),
			Id:          e.ID,
			Created:     e.Published,
			Updated:     e.Updated,
			Content:     xmlSafe(e.HTML),
		}
		if it.Updated.IsZero() {
			it.Updated = e.Published
		}
		if e.Author != "" {
			it.Author = &feeds.Author{Name: xmlSafe(e.Author)}
		}
		gf.Items[i] = it
	}
	links := []atomLink{{Href: f.Alternate, Rel: "alternate", Type: "text/html"}}
	if f.Self != "" {
		links = append(links, atomLink{Href: f.Self, Rel: "self", Type: "application/atom+xml"})
	}
	return encodeAtom(w, gf, atomHead{id: f.ID, lang: f.Lang, links: links, generator: f.Generator, author: f.Title},
		func(i int, ae *atomEntry) { ae.Categories = atomCategories(f.Entries[i].Categories) })
}

// writeAtom writes a channel as Atom 1.0.
func writeAtom(w io.Writer, s *Site, ch *channel, generator string) error {
	return encodeAtom(w, ch.gorilla(s), atomHead{
		id:   s.FeedID(ch.Dir + "atom.xml"),
		lang: s.Language,
		links: append([]atomLink{{Href: s.URL(ch.Dir), Rel: "alternate", Type: "text/html"}},
			selfAndHubs(s, ch.Dir+"atom.xml", "application/atom+xml")...),
		generator: generator,
		author:    s.Title,
	}, func(i int, ae *atomEntry) {
		a := ch.Articles[i]
		ae.Categories = atomCategories(a.Tags)
		name, feedURL, link, ok := ch.origin(a)
		if !ok {
			return
		}
		src := &atomSource{ID: feedURL, Title: name, Updated: a.Updated.UTC().Format(time.RFC3339Nano)}
		if feedURL != "" {
			src.Link = []atomLink{{Href: feedURL, Rel: "self"}}
		}
		ae.Source = src
		if link != "" {
			ae.Links = append(ae.Links, feeds.AtomLink{Href: link, Rel: "via", Type: "text/html"})
		}
	})
}

func atomCategories(tags []string) []atomCategory {
	var cs []atomCategory
	for _, t := range tags {
		cs = append(cs, atomCategory{Term: xmlSafe(t)})
	}
	return cs
}

// atomHead is what an Atom feed says beyond gorilla's model of it.
type atomHead struct {
	id, lang  string
	links     []atomLink // alternate, self, hubs
	generator string
	author    string // the feed's author when the model names none: Atom wants one
}

// encodeAtom is the one Atom writer: gorilla's structs for f, embedded in
// tidings' own, which add the stable id, the links, published dates,
// and HTML content as CDATA; entry(i, ae) adds item i's categories and
// whatever else the caller has of it.
// Every string of f has been through xmlSafe.
func encodeAtom(w io.Writer, f *feeds.Feed, head atomHead, entry func(i int, ae *atomEntry)) error {
	af := (&feeds.Atom{Feed: f}).AtomFeed()
	entries := af.Entries
	af.Entries, af.Link = nil, nil
	updated := f.Updated
	if updated.IsZero() {
		updated = time.Unix(0, 0) // an empty feed: the one date that claims no change
	}
	out := &atomRoot{
		AtomFeed: af,
		Lang:     head.lang,
		ID:       head.id,
		Updated:  updated.UTC().Format(time.RFC3339Nano),
		Link:     head.links,
	}
	if head.generator != "" {
		out.Gen = &atomGen{Name: head.generator}
	}
	if af.Author == nil {
		// Atom wants an author on the feed or on every entry.
		af.Author = &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: xmlSafe(head.author)}}
	}
	out.Entries = make([]*atomEntry, 0, len(entries))
	for i, e := range entries {
		it := f.Items[i]
		ae := &atomEntry{AtomEntry: e, Links: []feeds.AtomLink{{Href: it.Link.Href, Rel: "alternate", Type: "text/html"}}}
		if !it.Created.IsZero() {
			ae.Published = it.Created.UTC().Format(time.RFC3339Nano)
		}
		e.Updated = it.Updated.UTC().Format(time.RFC3339Nano)
		// Clear what tidings writes itself: encoding/xml would write both.
		e.Links, e.Content, e.Summary = nil, nil, nil
		entry(i, ae)
		ae.Title = &atomPlain{Type: "html", Body: html.EscapeString(e.Title)}
		if it.Description != "" {
			ae.Summary = &atomPlain{Type: "html", Body: html.EscapeString(it.Description)}
		}
		if it.Content != "" {
			ae.Content = &atomText{Type: "html", Body: bytesOf(it.Content)}
		} else if it.Description != "" {
			// With full_content off, the content is the summary.
			ae.Content = &atomText{Type: "html", Body: bytesOf(html.EscapeString(it.Description))}
		}
		if img := it.Enclosure; img != nil {
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
