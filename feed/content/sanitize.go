package content

import (
	"bufio"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Renderer turns article bodies into safe HTML with absolute links. One
// is built per scan and shared by the parsing workers: goldmark and
// bluemonday are both safe for concurrent use once configured.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
	base   *url.URL
	assets AssetFunc // nil: relative references are only made absolute
}

// AssetFunc publishes the file that an article names by a relative path
// (slash-separated and unescaped, as in "img/harbor.jpg") and returns the
// URL it is published at, absolute. It returns ErrNotAsset for a path it
// does not publish, such as a link to a page, which is then made absolute
// against the base as any link is; any other error says why a file it
// should publish could not be (missing, outside the article's folder, too
// large), and becomes a warning: the reference is then kept, made
// absolute against the base.
type AssetFunc func(ref string) (string, error)

// ErrNotAsset is what an AssetFunc returns for a reference that names no
// kind of file it publishes.
var ErrNotAsset = errors.New("not an asset")

// NewRenderer returns a renderer that resolves relative links against
// baseURL, which must be absolute.
func NewRenderer(baseURL string) (*Renderer, error) {
	base, err := url.Parse(strings.TrimSuffix(baseURL, "/") + "/")
	if err != nil || !base.IsAbs() {
		return nil, fmt.Errorf("base url %q is not an absolute URL", baseURL)
	}
	md := goldmark.New(
		goldmark.WithExtensions(extension.GFM),
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		// Raw HTML passes through goldmark and is cleaned by bluemonday,
		// one sanitizer for Markdown, HTML files and plain text alike.
		goldmark.WithRendererOptions(gmhtml.WithUnsafe()),
	)
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(false)
	p.AllowAttrs("id").Matching(bluemonday.SpaceSeparatedTokens).OnElements("h1", "h2", "h3", "h4", "h5", "h6")
	return &Renderer{md: md, policy: p, base: base}, nil
}

// Markdown renders Markdown (GitHub's flavour) to HTML, not yet
// sanitised: Normalize does that.
func (r *Renderer) Markdown(src string) (string, error) {
	// The HTML is written once into room for it, through a writer of the
	// kind goldmark takes as it is, rather than a bytes.Buffer grown and
	// copied out, and a bufio.Writer of goldmark's own, on every call.
	var out strings.Builder
	out.Grow(len(src) + len(src)/2)
	bw := bufWriters.Get().(*bufio.Writer)
	bw.Reset(&out)
	defer func() {
		bw.Reset(nil)
		bufWriters.Put(bw)
	}()
	if err := r.md.Convert([]byte(src), bw); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	return out.String(), nil
}

// bufWriters are the writers Markdown renders through.
var bufWriters = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 4096) }}

// unsafeElements are dropped by the policy; finding one is worth a log line
// so that an author learns why part of a page disappeared.
var unsafeElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Iframe: true, atom.Object: true, atom.Embed: true,
	atom.Form: true, atom.Input: true, atom.Button: true, atom.Textarea: true, atom.Select: true,
	atom.Frame: true, atom.Frameset: true, atom.Applet: true, atom.Base: true, atom.Meta: true, atom.Link: true,
}

// urlAttrs hold URLs that must be made absolute: a feed reader or a mail
// client has no base to resolve them against.
var urlAttrs = map[string]bool{"href": true, "src": true, "cite": true, "poster": true}

// clean makes relative URLs absolute against the site's base URL, then
// sanitizes. It returns a warning naming what was removed, if anything was.
//
// Most articles are cleaned in one pass that writes what the policy would
// (cleanFast); an article holding anything that pass does not know takes
// the two passes, ours then bluemonday's, without asking the AssetFunc
// again for what the first attempt already asked it.
func (r *Renderer) clean(raw string) (string, []string) {
	var assets assetLog
	if out, warnings, ok := r.cleanFast(raw, &assets); ok {
		return out, warnings
	}
	return r.cleanSlow(raw, &assets)
}

// cleanSlow is clean by two passes: ours over the article, making URLs
// absolute and noting what is unsafe, then the policy's over what ours
// wrote.
func (r *Renderer) cleanSlow(raw string, assets *assetLog) (string, []string) {
	assets.replay()
	z := html.NewTokenizer(strings.NewReader(raw))
	var out strings.Builder
	out.Grow(len(raw))
	var notes cleanNotes
	for {
		tt := z.Next()
		if tt == html.ErrorToken { // io.EOF: a strings.Reader fails no other way
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			out.Write(z.Raw())
			continue
		}
		if raw := z.Raw(); tt == html.StartTagToken && bareTag(raw) {
			// <p>, <em>: no attribute to look at, and written as the token
			// would write itself, without the cost of making the token.
			if unsafeElements[atom.Lookup(raw[1:len(raw)-1])] {
				notes.remove(string(raw))
			}
			out.Write(raw)
			continue
		}
		tok := z.Token()
		if unsafeElements[tok.DataAtom] {
			notes.remove("<" + tok.Data + ">")
		}
		for i, a := range tok.Attr {
			tok.Attr[i].Val = r.attr(strings.ToLower(a.Key), a.Val, &notes, assets)
		}
		out.WriteString(tok.String())
	}
	return r.sanitize(out.String()), notes.warnings()
}

// attr is what our pass makes of one attribute's value: a URL made
// absolute, or published as an asset. An event handler or a script URL is
// noted as removed and left for the policy to drop.
func (r *Renderer) attr(key, val string, notes *cleanNotes, assets *assetLog) string {
	if strings.HasPrefix(key, "on") {
		notes.remove(key + "=")
		return val
	}
	if !urlAttrs[key] && key != "srcset" {
		return val
	}
	v := strings.TrimSpace(val)
	if scheme, _, ok := strings.Cut(strings.ToLower(v), ":"); ok && (scheme == "javascript" || scheme == "vbscript" || scheme == "data") {
		notes.remove(scheme + ": URL")
		return val
	}
	if !urlAttrs[key] {
		return val
	}
	u, warning, ok := assets.asset(r, v)
	if warning != "" {
		notes.warn(warning)
	}
	if !ok {
		u = r.absolute(v)
	}
	return u
}

// cleanNotes gathers what clean says about an article: what was removed,
// and the warnings of assets that could not be published, each once.
type cleanNotes struct {
	removed  map[string]bool
	warned   map[string]bool
	messages []string
}

func (n *cleanNotes) remove(what string) {
	if n.removed == nil {
		n.removed = map[string]bool{}
	}
	n.removed[what] = true
}

func (n *cleanNotes) warn(warning string) {
	if n.warned[warning] {
		return
	}
	if n.warned == nil {
		n.warned = map[string]bool{}
	}
	n.warned[warning] = true
	n.messages = append(n.messages, warning)
}

// warnings are the notes as clean returns them: what was removed, in one
// warning, first.
func (n *cleanNotes) warnings() []string {
	if len(n.removed) == 0 {
		return n.messages
	}
	what := make([]string, 0, len(n.removed))
	for k := range n.removed {
		what = append(what, k)
	}
	sort.Strings(what)
	return append([]string{"removed unsafe HTML: " + strings.Join(what, ", ")}, n.messages...)
}

// assetLog remembers what the AssetFunc answered during clean's fast pass,
// so that the slow pass, started over when the fast one gives up, asks it
// nothing twice: publishing a file is work, and an AssetFunc may count.
type assetLog struct {
	answers []assetAnswer
	next    int  // the answer the slow pass takes next
	replays bool // the log is being read back, not written
}

type assetAnswer struct {
	ref, abs, warning string
	ok                bool
}

// replay turns the log from recording to reading back.
func (l *assetLog) replay() { l.replays, l.next = true, 0 }

// asset is r.asset(ref), or the answer it gave before for the same ref at
// the same point of the article.
func (l *assetLog) asset(r *Renderer, ref string) (abs, warning string, ok bool) {
	if r.assets == nil { // nothing to ask: asset is then a pure function
		return r.asset(ref)
	}
	if l.replays {
		if l.next < len(l.answers) && l.answers[l.next].ref == ref {
			a := l.answers[l.next]
			l.next++
			return a.abs, a.warning, a.ok
		}
		l.next = len(l.answers) // past what was asked: ask from here on
		return r.asset(ref)
	}
	abs, warning, ok = r.asset(ref)
	l.answers = append(l.answers, assetAnswer{ref, abs, warning, ok})
	return abs, warning, ok
}

// sanitize is the policy's Sanitize, written into room for the HTML
// instead of a buffer grown as it goes and then copied.
func (r *Renderer) sanitize(s string) string {
	if strings.TrimSpace(s) == "" {
		return s
	}
	var out strings.Builder
	out.Grow(len(s))
	if err := r.policy.SanitizeReaderToWriter(strings.NewReader(s), &out); err != nil {
		return "" // as Sanitize fails
	}
	return out.String()
}

// WithAssets returns a renderer that hands relative references to fn,
// for one article: its images and files are published where fn says. It
// shares r's base, Markdown engine and sanitising policy.
func (r *Renderer) WithAssets(fn AssetFunc) *Renderer {
	rb := *r
	rb.assets = fn
	return &rb
}

// asset asks the renderer's AssetFunc for the URL of a relative
// reference: a path with neither scheme, host nor leading slash. ok is
// false when the reference is no asset, or one that could not be
// published; warning then says why, if it should have been.
func (r *Renderer) asset(ref string) (abs, warning string, ok bool) {
	if r.assets == nil || ref == "" || strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, "\\") {
		return "", "", false
	}
	u, err := url.Parse(ref)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil || u.Path == "" {
		return "", "", false
	}
	abs, err = r.assets(u.Path)
	if errors.Is(err, ErrNotAsset) {
		return "", "", false
	}
	if err != nil {
		return "", fmt.Sprintf("asset %q not published: %v", ref, err), false
	}
	if u.Fragment != "" {
		abs += "#" + u.EscapedFragment()
	}
	return abs, "", true
}

// bareTag reports whether a start tag is written as "<name>" with a lower
// case name of letters and digits.
func bareTag(raw []byte) bool {
	if len(raw) < 3 || raw[0] != '<' || raw[len(raw)-1] != '>' || raw[1] < 'a' || raw[1] > 'z' {
		return false
	}
	for _, c := range raw[2 : len(raw)-1] {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// WithBase returns a renderer that resolves relative links against the
// first of refs that is an absolute http or https URL, or r itself when
// none is. It shares r's Markdown engine and sanitising policy.
func (r *Renderer) WithBase(refs ...string) *Renderer {
	for _, ref := range refs {
		if u, err := url.Parse(strings.TrimSpace(ref)); err == nil && u.IsAbs() && (u.Scheme == "http" || u.Scheme == "https") {
			rb := *r
			rb.base = u
			return &rb
		}
	}
	return r
}

// ImageURL makes an image reference absolute against the site, and
// reports whether it is one a page may show: http or https with a host
// (a path on the site becomes one; so does a file next to the article,
// published as an asset, when the renderer has an AssetFunc). "" is
// fine: no image.
func (r *Renderer) ImageURL(ref string) (string, bool) {
	abs, ok, _ := r.imageURL(ref)
	return abs, ok
}

// imageURL is ImageURL, with a warning when the reference names a file
// that should be an asset and could not be published.
func (r *Renderer) imageURL(ref string) (abs string, ok bool, warning string) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", true, ""
	}
	if abs, warning, ok := r.asset(ref); ok || warning != "" {
		if ok {
			return abs, true, ""
		}
		// Made absolute as any other path is, so that it shows once the
		// file is there and the site serves it.
		abs = r.absolute(ref)
		return abs, true, warning
	}
	abs = r.absolute(ref)
	u, err := url.Parse(abs)
	return abs, err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "", ""
}

// absolute resolves ref against the base URL; fragments and unparseable
// references are left alone.

func (r *Renderer) absolute(ref string) string {
	if ref == "" || strings.HasPrefix(ref, "#") {
		return ref
	}
	u, err := url.Parse(ref)
	if err != nil || u.IsAbs() {
		return ref
	}
	return r.base.ResolveReference(u).String()
}
