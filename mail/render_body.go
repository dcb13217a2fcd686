package mail

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/templates"
)

// bodyTemplates are the parsed digest templates and the placeholders the
// per-subscriber fields are rendered as.
type bodyTemplates struct {
	txt  *texttemplate.Template
	html *htmltemplate.Template
	// mark starts every placeholder. It holds a random nonce so that no
	// article can carry a placeholder and have a reader's links or
	// address filled into it.
	mark string
}

func newBodyTemplates(dir string) (*bodyTemplates, error) {
	txt, html, err := templates.Mail(dir, "digest", templateFuncs)
	if err != nil {
		return nil, err
	}
	var nonce [8]byte
	rand.Read(nonce[:]) // never fails (crypto/rand)
	// Letters, digits and hyphens only: html/template writes them as they
	// are in every context (text, attribute, URL), so they survive
	// escaping and can be found again.
	return &bodyTemplates{txt: txt, html: html, mark: "tidings-" + hex.EncodeToString(nonce[:]) + "-"}, nil
}

// templateFuncs are the functions the digest templates may call.
var templateFuncs = map[string]any{
	"date":    formatDate,
	"wrap":    wrapText,
	"heading": heading,
}

// formatDate writes a day as "2 January 2006"; the zero time as nothing.
func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2 January 2006")
}

// slot is a per-subscriber field of a rendered body.
type slot int

const (
	slotGreeting    slot = iota // "Hello Ana," or "Hello,"
	slotName                    // the subscriber's name, may be empty
	slotEmail                   // the subscriber's address
	slotUnsubscribe             // one-click unsubscribe URL
	slotPreferences             // preferences page URL
	numSlots
)

// editionData is what the digest templates see.
type editionData struct {
	Site struct {
		Title, URL, PostalAddress, Language string
	}
	Digest struct {
		Name, Title, Description string
	}
	Subject     string
	Date        time.Time // when the edition was scheduled
	Intro       string    // "This edition brings 3 new articles from Example News."
	Preheader   string    // the first article's summary, for the inbox preview
	WebURL      string    // the edition in the web archive; empty before it has an id
	FullContent bool
	Articles    []articleData
	// A broadcast's own content, in place of articles.
	Body     htmltemplate.HTML
	BodyText string
	// Reader holds the subscriber's fields. When the body is rendered for
	// the mail they are placeholders, filled in per message (HTML-escaped
	// in the HTML part): use them as they are, not sliced or transformed.
	// In the web archive they are empty.
	Reader readerData
}

type articleData struct {
	Title, URL, Author, Image string
	Byline                    string // "Author · 2 March 2025"
	// From names the upstream feed a syndicated article came from, and
	// Original is the item's own link there; both empty for the site's
	// own articles.
	From, Original string
	Published      time.Time
	Tags           []string
	Summary        string            // plain text
	ContentHTML    htmltemplate.HTML // sanitized when ingested
	ContentText    string            // written as text, wrapped at 72 columns
}

type readerData struct {
	Greeting, Name, Email, UnsubscribeURL, PreferencesURL string
}

// editionBody is an edition rendered once, with placeholders for the
// per-subscriber fields, plus the parts of its message every subscriber
// shares.
type editionBody struct {
	ready      chan struct{} // closed when the fields below are set
	text, html part
	subject    string
	from       mail.Address
	listID     string
	err        error
}

// body returns e's rendered body, from the cache when another message of
// the edition rendered it already. Concurrent callers wait for one
// rendering.
func (r *Renderer) body(e *Edition) (*editionBody, error) {
	d, ok := r.opt.Digests[e.Digest]
	if !ok {
		return nil, fmt.Errorf("digest %q is not configured", e.Digest)
	}
	if e.ID == 0 { // an edition not stored yet (a preview): nothing to key on
		return r.renderBody(e, d)
	}
	key := editionKey{id: e.ID, digest: e.Digest, created: e.CreatedAt.UnixNano()}
	r.mu.Lock()
	b, ok := r.cache[key]
	if !ok {
		b = &editionBody{ready: make(chan struct{})}
		r.cache[key] = b
		r.order = append(r.order, key)
		if len(r.order) > cacheSize {
			delete(r.cache, r.order[0])
			r.order = r.order[1:]
		}
	}
	r.mu.Unlock()
	if ok {
		<-b.ready
		return b, b.err
	}
	nb, err := r.renderBody(e, d)
	if err == nil {
		b.text, b.html, b.subject, b.from, b.listID = nb.text, nb.html, nb.subject, nb.from, nb.listID
	} else {
		b.err = err
		r.mu.Lock()
		if r.cache[key] == b { // let a later call try again
			delete(r.cache, key)
		}
		r.mu.Unlock()
	}
	close(b.ready)
	return b, err
}

// renderBody runs both templates for e, with placeholders for the reader.
func (r *Renderer) renderBody(e *Edition, d Digest) (*editionBody, error) {
	if d.From.Address == "" {
		return nil, fmt.Errorf("digest %q has no From address", d.Name)
	}
	data := r.editionData(e, d)
	for s := slot(0); s < numSlots; s++ {
		ph := r.tpl.mark + strconv.Itoa(int(s))
		switch s {
		case slotGreeting:
			data.Reader.Greeting = ph
		case slotName:
			data.Reader.Name = ph
		case slotEmail:
			data.Reader.Email = ph
		case slotUnsubscribe:
			data.Reader.UnsubscribeURL = ph
		case slotPreferences:
			data.Reader.PreferencesURL = ph
		}
	}
	var txt, html strings.Builder
	if err := r.tpl.txt.Execute(&txt, data); err != nil {
		return nil, fmt.Errorf("render text part: %w", err)
	}
	if err := r.tpl.html.Execute(&html, data); err != nil {
		return nil, fmt.Errorf("render html part: %w", err)
	}
	b := &editionBody{subject: data.Subject, from: d.From, listID: r.listID(d)}
	var err error
	if b.text, err = r.split(txt.String()); err != nil {
		return nil, fmt.Errorf("render text part: %w", err)
	}
	if b.html, err = r.split(html.String()); err != nil {
		return nil, fmt.Errorf("render html part: %w", err)
	}
	return b, nil
}

// editionData gathers what the templates show of e, without a reader.
func (r *Renderer) editionData(e *Edition, d Digest) *editionData {
	data := &editionData{Subject: oneLine(e.Subject), Date: e.ScheduledAt, FullContent: r.opt.FullContent || d.FullContent}
	if data.Subject == "" {
		data.Subject = r.Subject(d, e.Articles)
	}
	if data.Date.IsZero() {
		data.Date = e.CreatedAt
	}
	data.Site.Title, data.Site.URL = r.opt.SiteTitle, r.site.URL("")
	data.Site.PostalAddress, data.Site.Language = r.opt.PostalAddress, r.opt.Language
	data.Digest.Name, data.Digest.Title, data.Digest.Description = d.Name, d.Title, d.Description
	if data.Digest.Title == "" {
		data.Digest.Title = r.opt.SiteTitle
	}
	if e.ID != 0 {
		data.WebURL = r.editionURL(e.Digest, e.ID)
	}
	for _, a := range e.Articles {
		if a == nil {
			continue
		}
		author, _ := r.site.AuthorOf(a)
		data.Articles = append(data.Articles, articleData{
			Title: a.Title, URL: r.site.ArticleURL(a), Author: author, Image: a.Image,
			Published: a.Published, Tags: a.Tags, Summary: a.Summary,
			ContentHTML: htmltemplate.HTML(a.ContentHTML), ContentText: strings.TrimRight(a.ContentText, "\n"),
			Byline: byline(author, a.Published),
		})
		if a.Syndicated() {
			ad := &data.Articles[len(data.Articles)-1]
			ad.From, ad.Original = a.Source, a.OriginalLink()
		}
	}
	if e.Kind == EditionBroadcast {
		data.Body, data.BodyText, data.Preheader = htmltemplate.HTML(e.BodyHTML), e.BodyText, e.Preheader
		return data
	}
	switch n := len(data.Articles); n {
	case 0:
		data.Intro = "No new articles this time."
	case 1:
		data.Intro = "This edition brings one new article from " + r.opt.SiteTitle + "."
	default:
		data.Intro = "This edition brings " + strconv.Itoa(n) + " new articles from " + r.opt.SiteTitle + "."
	}
	if len(data.Articles) > 0 {
		data.Preheader = data.Articles[0].Summary
	}
	return data
}

// byline is the line under an article's title: its author and date.
func byline(author string, published time.Time) string {
	parts := make([]string, 0, 2)
	if au := oneLine(author); au != "" {
		parts = append(parts, au)
	}
	if d := formatDate(published); d != "" {
		parts = append(parts, d)
	}
	return strings.Join(parts, " · ")
}

// editionURL is where the archive shows an edition.
func (r *Renderer) editionURL(digest string, id int64) string {
	return r.site.URL("archive/" + url.PathEscape(digest) + "/" + strconv.FormatInt(id, 10))
}

// part is a rendered body cut at its placeholders: lits[0], slot
// slots[0], lits[1], ... lits[len(slots)]; tpl is the same encoded once
// for the wire.
type part struct {
	lits  []string
	slots []slot
	size  int // bytes of lits
	tpl   *transport.BodyTemplate
}

// split cuts a rendered body at the placeholders.
func (r *Renderer) split(s string) (part, error) {
	var p part
	p.size = len(s)
	for {
		i := strings.Index(s, r.tpl.mark)
		if i < 0 {
			p.lits = append(p.lits, s)
			break
		}
		rest := s[i+len(r.tpl.mark):]
		if rest == "" || rest[0] < '0' || rest[0] >= '0'+byte(numSlots) {
			return part{}, errors.New("a reader field was cut or changed by the template")
		}
		p.lits = append(p.lits, s[:i])
		p.slots = append(p.slots, slot(rest[0]-'0'))
		p.size -= len(r.tpl.mark) + 1
		s = rest[1:]
	}
	var err error
	p.tpl, err = transport.NewBodyTemplate(p.lits)
	return p, err
}

// fill returns the body with the reader's values in place, escaped for
// HTML when html is set: encoded for the wire, its text put together only
// when asked for (transport.Part.Text); or, when the values do not fit
// the encoding the body was encoded in, as text, for the transport to
// encode.
func (p *part) fill(vals *[numSlots]string, html bool) (string, *transport.Part, error) {
	v := *vals
	if html {
		for i := range v {
			if strings.ContainsAny(v[i], "<>&'\"\x00") { // rare: most are plain URLs
				v[i] = htmltemplate.HTMLEscapeString(v[i])
			}
		}
	}
	in := make([]string, len(p.slots))
	for i, s := range p.slots {
		in[i] = v[s]
	}
	enc, ok, err := p.tpl.Fill(in)
	if err != nil || ok {
		return "", enc, err
	}
	n := p.size
	for _, s := range in {
		n += len(s)
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(p.lits[0])
	for i, s := range in {
		b.WriteString(s)
		b.WriteString(p.lits[i+1])
	}
	return b.String(), nil, nil
}

// sampleEdition is what NewRenderer tries the templates on.
func sampleEdition(now time.Time) *Edition {
	return &Edition{ID: 1, Digest: "sample", ScheduledAt: now, CreatedAt: now, Articles: []*feed.Article{{
		ID: "sample", Slug: "sample", Title: "Sample article", Author: "Author", Tags: []string{"tag"},
		Summary: "A sample summary.", ContentHTML: "<p>Sample content.</p>", ContentText: "Sample content.\n",
		Image: "https://example.org/image.png", Published: now,
	}}}
}
