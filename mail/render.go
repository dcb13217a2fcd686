package mail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// Links gives per-subscriber URLs; the subscribers package's Handler
// provides them.
type Links interface {
	UnsubscribeURL(s *subscribers.Subscriber) string
	PreferencesURL(s *subscribers.Subscriber) string
	// UnsubscribeAddress is the signed mailto address at domain.
	UnsubscribeAddress(s *subscribers.Subscriber, domain string) string
}

// RenderOptions configure a Renderer.
type RenderOptions struct {
	SiteTitle     string
	SiteAuthor    string // who an article that names no author is by
	SiteURL       string // absolute base URL of the site
	PostalAddress string // printed in every footer
	Language      string // the HTML part's lang; "en" when empty
	// ListDomain names the lists in List-Id: digest "daily" with
	// ListDomain "news.example.org" is <daily.news.example.org>. Empty:
	// the domain of the digest's From address.
	ListDomain  string
	FullContent bool   // the whole article in the mail rather than its summary
	TemplateDir string // overrides mail/digest.txt and mail/digest.html
	Links       Links  // nil: links to the site's pages without tokens
	// InboundDomain is where mail to tidings goes: the mailto
	// unsubscribe address. Empty: the domain of the digest's From.
	InboundDomain string
	Digests       map[string]Digest
	Now           func() time.Time // the Date of each message; time.Now when nil
}

// Renderer composes digest messages. The body of an edition is rendered
// through the templates once and cached by edition; each subscriber's
// message then only fills in its greeting, address and links, which costs
// a copy of the body rather than a template run.
type Renderer struct {
	opt  RenderOptions
	site feed.Site // for article URLs
	tpl  *bodyTemplates

	mu    sync.Mutex
	cache map[editionKey]*editionBody
	order []editionKey // oldest first, for eviction
}

var _ Composer = (*Renderer)(nil)

// cacheSize is how many editions' bodies are kept: deliveries work through
// one or two editions at a time.
const cacheSize = 16

// editionKey tells editions apart; the creation time guards against a
// reused id (a recreated database) serving a stale body.
type editionKey struct {
	id      int64
	digest  string
	created int64
}

// NewRenderer parses the digest templates (embedded, or overridden from
// o.TemplateDir) and tries them on a sample edition. A template that fails
// to parse or to run is an error naming its file and line.
func NewRenderer(o RenderOptions) (*Renderer, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Language == "" {
		o.Language = "en"
	}
	if o.SiteTitle == "" {
		o.SiteTitle = "tidings"
	}
	r := &Renderer{opt: o, site: feed.Site{Title: o.SiteTitle, BaseURL: o.SiteURL, Author: o.SiteAuthor}, cache: map[editionKey]*editionBody{}}
	tpl, err := newBodyTemplates(o.TemplateDir)
	if err != nil {
		return nil, err
	}
	r.tpl = tpl
	if _, err := r.renderBody(sampleEdition(o.Now()), Digest{Name: "sample", Title: "Sample digest", From: mail.Address{Address: "news@example.org"}}); err != nil {
		return nil, err
	}
	return r, nil
}

// Compose returns edition e's message for subscriber s, for the ledger to
// send. MessageID is left empty: the ledger sets a stable one. Its parts
// come encoded (TextPart, HTMLPart), Text and HTML mostly empty: read
// them with TextBody and HTMLBody, or use Preview.
func (r *Renderer) Compose(ctx context.Context, e *Edition, s *subscribers.Subscriber) (*transport.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	if s == nil {
		return nil, errors.New("compose: no subscriber")
	}
	return r.compose(e, s)
}

// Preview returns edition e's message as subscriber s would get it, with
// its Text and HTML; with s nil, as a sample reader would.
func (r *Renderer) Preview(e *Edition, s *subscribers.Subscriber) (*transport.Message, error) {
	if s == nil {
		s = &subscribers.Subscriber{Name: "Sample Reader", Email: "reader@example.org"}
	}
	m, err := r.compose(e, s)
	if err != nil {
		return nil, err
	}
	m.Text, m.HTML = m.TextBody(), m.HTMLBody()
	return m, nil
}

func (r *Renderer) compose(e *Edition, s *subscribers.Subscriber) (*transport.Message, error) {
	if e == nil {
		return nil, errors.New("compose: no edition")
	}
	b, err := r.body(e)
	if err != nil {
		return nil, fmt.Errorf("compose edition %d: %w", e.ID, err)
	}
	unsub, prefs := r.links(s)
	name := oneLine(s.Name)
	greeting := "Hello,"
	if name != "" {
		greeting = "Hello " + name + ","
	}
	vals := [numSlots]string{
		slotGreeting: greeting, slotName: name, slotEmail: s.Email,
		slotUnsubscribe: unsub, slotPreferences: prefs,
	}
	text, textPart, err := b.text.fill(&vals, false)
	if err != nil {
		return nil, fmt.Errorf("compose edition %d: %w", e.ID, err)
	}
	html, htmlPart, err := b.html.fill(&vals, true)
	if err != nil {
		return nil, fmt.Errorf("compose edition %d: %w", e.ID, err)
	}
	return &transport.Message{
		From:     b.from,
		To:       mail.Address{Name: name, Address: s.Email},
		Subject:  b.subject,
		Date:     r.opt.Now(),
		Text:     text,
		HTML:     html,
		TextPart: textPart,
		HTMLPart: htmlPart,
		Headers: [][2]string{
			{"List-Id", b.listID},
			{"List-Unsubscribe", "<" + unsub + ">, <" + r.mailtoUnsubscribe(b.from.Address, s) + ">"},
			{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
			{"Precedence", "bulk"},
		},
	}, nil
}

// links returns a subscriber's unsubscribe and preferences URLs.
func (r *Renderer) links(s *subscribers.Subscriber) (unsub, prefs string) {
	if r.opt.Links == nil {
		return r.site.URL("unsubscribe"), r.site.URL("preferences")
	}
	return r.opt.Links.UnsubscribeURL(s), r.opt.Links.PreferencesURL(s)
}

// mailtoUnsubscribe is the List-Unsubscribe mailto URI: the
// subscriber's signed unsubscribe+TOKEN@ address at the inbound domain,
// which tidings inbound process acts on.
func (r *Renderer) mailtoUnsubscribe(from string, s *subscribers.Subscriber) string {
	domain := r.opt.InboundDomain
	if domain == "" {
		domain = domainOf(from)
	}
	addr := "unsubscribe@" + domain
	if r.opt.Links != nil {
		addr = r.opt.Links.UnsubscribeAddress(s, domain)
	}
	return "mailto:" + addr + "?subject=unsubscribe"
}

// queryValue returns the first value of key in u's query. It is
// url.Parse's answer for the links tidings makes, at a fraction of its
// cost: it runs for every message.
func queryValue(u, key string) string {
	_, q, ok := strings.Cut(u, "?")
	if !ok {
		return ""
	}
	q, _, _ = strings.Cut(q, "#")
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k == key {
			v, err := url.QueryUnescape(v)
			if err != nil {
				return ""
			}
			return v
		}
	}
	return ""
}

// Subject is the subject line of an edition of d carrying articles, for
// an edition that has none stored (a preview): d's subject template
// rendered as the ledger renders it when it plans an edition (see
// Digest.RenderSubject and DefaultSubject), so that one config key means
// one thing. A template that fails falls back to the digest's title. The
// result is one line without control characters.
func (r *Renderer) Subject(d Digest, articles []*feed.Article) string {
	s, err := d.RenderSubject(articles, r.opt.Now())
	if err != nil {
		s = d.Title
	}
	if s = oneLine(s); s == "" {
		s = oneLine(cmp.Or(d.Title, d.Name, r.opt.SiteTitle))
	}
	return s
}

// listID is the List-Id value (RFC 2919): the digest's title as the
// phrase and its name, made a valid label, under the list domain.
func (r *Renderer) listID(d Digest) string {
	domain := r.opt.ListDomain
	if domain == "" {
		domain = domainOf(d.From.Address)
	}
	title := oneLine(d.Title)
	if title == "" {
		title = oneLine(r.opt.SiteTitle)
	}
	return phrase(title) + " <" + listLabel(d.Name) + "." + domain + ">"
}

// phrase writes s as an RFC 5322 phrase: a quoted string when it is
// ASCII, else RFC 2047 encoded words (Q, or B when s holds characters a
// Q-encoded phrase may not carry, as formatAddress does).
func phrase(s string) string {
	if isPrintableASCII(s) {
		return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
	}
	if strings.ContainsAny(s, "\"#$%&'(),.:;<>@[]^`{|}~\\") {
		return mime.BEncoding.Encode("utf-8", s)
	}
	return mime.QEncoding.Encode("utf-8", s)
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// listLabel makes a digest name a dot-atom label: lower-case letters,
// digits and hyphens.
func listLabel(name string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "digest"
	}
	return b.String()
}
