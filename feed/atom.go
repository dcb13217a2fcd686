package feed

import (
	"bytes"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"time"

	"github.com/gorilla/feeds"
)

// atomRoot is gorilla's <feed> with a stable id, self and hub links, and
// entries that have published dates and categories.
type atomRoot struct {
	*feeds.AtomFeed
	XMLName   xml.Name     `xml:"feed"`
	NSHistory string       `xml:"xmlns:fh,attr,omitempty"`
	Lang      string       `xml:"xml:lang,attr,omitempty"`
	ID        string       `xml:"id"`
	Updated   string       `xml:"updated"`
	Link      []atomLink   `xml:"link"`
	Gen       *atomGen     `xml:"generator"`
	Archive   *struct{}    `xml:"fh:archive"`
	Entries   []*atomEntry `xml:"entry"`
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
	}
	if f.Author != "" || f.Email != "" {
		gf.Author = &feeds.Author{Name: xmlSafe(f.Author), Email: f.Email}
	}
	links := []atomLink{{Href: f.Alternate, Rel: "alternate", Type: "text/html"}}
	if f.Self != "" {
		links = append(links, atomLink{Href: f.Self, Rel: "self", Type: "application/atom+xml"})
	}
	head, tail, err := atomHeadTail(gf, atomHead{id: f.ID, lang: f.Lang, links: links, generator: f.Generator, author: f.Title})
	if err != nil {
		return err
	}
	if _, err := w.Write(head); err != nil {
		return err
	}
	var ib itemBuf
	for _, e := range f.Entries {
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
		b, err := renderAtomEntry(&ib, it, func(ae *atomEntry) { ae.Categories = atomCategories(e.Categories) })
		if err != nil {
			return err
		}
		if _, err := w.Write([]byte("\n")); err != nil {
			return err
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	_, err = io.WriteString(w, tail)
	return err
}

// writeAtom writes a channel as Atom 1.0.
func writeAtom(w io.Writer, s *Site, ch *channel, generator string) error {
	const file, mediaType = "atom.xml", "application/atom+xml"
	links := append([]atomLink{{Href: s.URL(ch.Dir), Rel: "alternate", Type: "text/html"}},
		selfAndHubs(s, ch.path(file), mediaType)...)
	head, tail, err := atomHeadTail(gorillaHead(s, ch), atomHead{
		// An archive page is a document of the same feed: the same id.
		id:        s.FeedID(ch.Dir + file),
		lang:      s.Language,
		links:     append(links, historyLinks(s, ch, file, mediaType)...),
		generator: generator,
		author:    s.Title,
		archive:   ch.Page != "",
	})
	if err != nil {
		return err
	}
	return writeDoc(w, head, tail, "\n", true, ch, file, func(ib *itemBuf, a *Article) ([]byte, error) { return renderAtom(ib, s, ch, a) })
}

// renderAtom writes one article as an Atom entry: its categories and,
// for a syndicated one, its source and the link to the original.
func renderAtom(ib *itemBuf, s *Site, ch *channel, a *Article) ([]byte, error) {
	return renderAtomEntry(ib, gorillaItem(s, a), func(ae *atomEntry) {
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
	links     []atomLink // alternate, self, hubs, history
	generator string
	author    string // the feed's author when the model names none: Atom wants one
	archive   bool   // an RFC 5005 archive document: <fh:archive/>
}

// atomHeadTail writes the feed element of f, without entries, as gorilla's
// structs embedded in tidings' own, which add the stable id and the links;
// the entries go between head and tail. Every string of f has been
// through xmlSafe.
func atomHeadTail(f *feeds.Feed, head atomHead) ([]byte, string, error) {
	af := (&feeds.Atom{Feed: f}).AtomFeed()
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
	if head.archive {
		out.NSHistory, out.Archive = nsHistory, &struct{}{}
	}
	if head.generator != "" {
		out.Gen = &atomGen{Name: head.generator}
	}
	if af.Author == nil {
		// Atom wants an author on the feed or on every entry.
		af.Author = &feeds.AtomAuthor{AtomPerson: feeds.AtomPerson{Name: xmlSafe(head.author)}}
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return nil, "", err
	}
	const tail = "\n</feed>"
	hb, ok := bytes.CutSuffix(b.Bytes(), []byte(tail))
	if !ok {
		return nil, "", errors.New("atom: unexpected end of the feed")
	}
	return hb, tail + "\n", nil
}

// renderAtomEntry writes one item as an Atom <entry>, indented for its
// place in the feed: published date, categories and any other element
// entry adds, and HTML content as CDATA.
func renderAtomEntry(ib *itemBuf, it *feeds.Item, entry func(ae *atomEntry)) ([]byte, error) {
	e := (&feeds.Atom{Feed: oneItemFeed(it)}).AtomFeed().Entries[0]
	ae := &atomEntry{AtomEntry: e, Links: []feeds.AtomLink{{Href: it.Link.Href, Rel: "alternate", Type: "text/html"}}}
	if !it.Created.IsZero() {
		ae.Published = it.Created.UTC().Format(time.RFC3339Nano)
	}
	e.Updated = it.Updated.UTC().Format(time.RFC3339Nano)
	// Clear what tidings writes itself: encoding/xml would write both.
	e.Links, e.Content, e.Summary = nil, nil, nil
	entry(ae)
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
	b := ib.buffer(len(it.Content) + len(it.Description)*2 + 1024)
	enc := ib.xmlEncoder()
	enc.Indent("  ", "  ")
	if err := enc.Encode(ae); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
