package mail

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// atomLimit is how many editions the feed carries: each costs a read of
// its articles.
const atomLimit = 20

// atomFeed is an Atom 1.0 feed of a digest's editions (RFC 4287).
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title     string   `xml:"title"`
	ID        string   `xml:"id"`
	Updated   string   `xml:"updated"`
	Published string   `xml:"published"`
	Link      atomLink `xml:"link"`
	Content   atomText `xml:"content"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

// archiveID is the Atom id of what the archive has at url: a name-based
// UUID of the URL, so it stays the same as long as the site's address,
// the digest's name and the edition's id do.
func archiveID(url string) string {
	return "urn:uuid:" + uuid.NewSHA1(uuid.NameSpaceURL, []byte(url)).String()
}

// serveAtom writes the Atom feed of a digest's editions.
func (a *Archive) serveAtom(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("digest")
	d, ok := a.r.opt.Digests[name]
	if !ok {
		a.notFound(w, r)
		return
	}
	es, err := a.editions(r.Context(), name)
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	self := a.digestURL(name) + "/atom.xml"
	f := atomFeed{
		Title: cmp.Or(d.Title, name),
		ID:    archiveID(self),
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: self},
			{Rel: "alternate", Type: "text/html", Href: a.digestURL(name)},
		},
		Author: atomPerson{Name: cmp.Or(a.site.Author, a.site.Title, "tidings")},
	}
	updated := a.r.opt.Now()
	if len(es) > 0 {
		updated = editionDate(es[0])
	}
	f.Updated = atomTime(updated)
	if len(es) > atomLimit {
		es = es[:atomLimit]
	}
	for _, e := range es {
		if e.Articles == nil && e.ArticleCount > 0 {
			// Lists come without articles; an entry shows them.
			full, err := a.ledger.Edition(r.Context(), e.ID)
			if errors.Is(err, ErrEditionNotFound) {
				continue // deleted since it was listed
			}
			if err != nil {
				a.serverError(w, r, fmt.Errorf("archive atom %s: %w", name, err))
				return
			}
			e = full
		}
		u := a.r.editionURL(name, e.ID)
		data := a.r.editionData(e, d)
		f.Entries = append(f.Entries, atomEntry{
			Title: data.Subject, ID: archiveID(u),
			Updated: atomTime(editionDate(e)), Published: atomTime(editionDate(e)),
			Link:    atomLink{Rel: "alternate", Type: "text/html", Href: u},
			Content: atomText{Type: "html", Body: entryHTML(data)},
		})
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		a.serverError(w, r, fmt.Errorf("archive atom %s: %w", name, err))
		return
	}
	b.WriteByte('\n')
	h := w.Header()
	h.Set("Content-Type", "application/atom+xml; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
}

func atomTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// entryHTML is an edition in a feed entry: its articles, each linked,
// with its summary.
func entryHTML(data *editionData) string {
	var b strings.Builder
	b.WriteString("<p>" + html.EscapeString(data.Intro) + "</p><ul>")
	for _, a := range data.Articles {
		b.WriteString(`<li><a href="` + html.EscapeString(a.URL) + `">` + html.EscapeString(a.Title) + "</a>")
		if a.Summary != "" {
			b.WriteString("<br>" + html.EscapeString(a.Summary))
		}
		b.WriteString("</li>")
	}
	b.WriteString("</ul>")
	return b.String()
}
