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
func (r *Renderer) clean(raw string) (string, []string) {
	z := html.NewTokenizer(strings.NewReader(raw))
	var out strings.Builder
	out.Grow(len(raw))
	removed := map[string]bool{}
	var warnings []string
	warned := map[string]bool{}
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
				removed[string(raw)] = true
			}
			out.Write(raw)
			continue
		}
		tok := z.Token()
		if unsafeElements[tok.DataAtom] {
			removed["<"+tok.Data+">"] = true
		}
		for i, a := range tok.Attr {
			key := strings.ToLower(a.Key)
			if strings.HasPrefix(key, "on") {
				removed[key+"="] = true
				continue
			}
			if !urlAttrs[key] && key != "srcset" {
				continue
			}
			v := strings.TrimSpace(a.Val)
			if scheme, _, ok := strings.Cut(strings.ToLower(v), ":"); ok && (scheme == "javascript" || scheme == "vbscript" || scheme == "data") {
				removed[scheme+": URL"] = true
				continue
			}
			if urlAttrs[key] {
				u, warning, ok := r.asset(v)
				if warning != "" && !warned[warning] {
					warned[warning] = true
					warnings = append(warnings, warning)
				}
				if !ok {
					u = r.absolute(v)
				}
				tok.Attr[i].Val = u
			}
		}
		out.WriteString(tok.String())
	}
	clean := r.sanitize(out.String())
	if len(removed) == 0 {
		return clean, warnings
	}
	what := make([]string, 0, len(removed))
	for k := range removed {
		what = append(what, k)
	}
	sort.Strings(what)
	return clean, append([]string{"removed unsafe HTML: " + strings.Join(what, ", ")}, warnings...)
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
