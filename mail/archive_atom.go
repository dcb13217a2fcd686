package mail

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/tidings/tidings/feed"
)

// atomLimit is how many editions the feed carries: each costs a read of
// its articles.
const atomLimit = 20

// archiveID is the Atom id of what the archive has at url: a name-based
// UUID of the URL, so it stays the same as long as the site's address,
// the digest's name and the edition's id do.
func archiveID(url string) string {
	return "urn:uuid:" + uuid.NewSHA1(uuid.NameSpaceURL, []byte(url)).String()
}

// serveAtom writes the Atom feed of a digest's editions, with the writer
// of the site's own Atom feeds (feed.WriteAtom).
func (a *Archive) serveAtom(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("digest")
	d, ok := a.r.opt.Digests[name]
	if !ok {
		a.notFound(w, r, nil)
		return
	}
	es, err := a.editions(r.Context(), name)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	self := a.digestURL(name) + "/atom.xml"
	f := &feed.AtomFeed{
		Title:     cmp.Or(d.Title, name),
		Subtitle:  d.Description,
		ID:        archiveID(self),
		Lang:      a.site.Language,
		Updated:   a.r.opt.Now(),
		Alternate: a.digestURL(name),
		Self:      self,
		Author:    cmp.Or(a.site.Author, a.site.Title, "tidings"),
		Email:     a.site.Email,
	}
	if len(es) > 0 {
		f.Updated = editionDate(es[0])
	}
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
				a.fail(w, r, fmt.Errorf("archive atom %s: %w", name, err))
				return
			}
			e = full
		}
		u := a.r.editionURL(name, e.ID)
		data := a.r.editionData(e, d)
		f.Entries = append(f.Entries, feed.AtomEntry{
			ID: archiveID(u), Title: data.Subject, Link: u,
			Published: editionDate(e), HTML: entryHTML(data),
		})
	}
	var b bytes.Buffer
	if err := feed.WriteAtom(&b, f); err != nil {
		a.fail(w, r, fmt.Errorf("archive atom %s: %w", name, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/atom+xml; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
}

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
