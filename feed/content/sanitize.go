package content

import (
	"bytes"
	"fmt"
	"net/url"
	"sort"
	"strings"

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
}

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
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(src), &buf); err != nil {
		return "", fmt.Errorf("render markdown: %w", err)
	}
	return buf.String(), nil
}

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
				tok.Attr[i].Val = r.absolute(v)
			}
		}
		out.WriteString(tok.String())
	}
	clean := r.policy.Sanitize(out.String())
	if len(removed) == 0 {
		return clean, nil
	}
	what := make([]string, 0, len(removed))
	for k := range removed {
		what = append(what, k)
	}
	sort.Strings(what)
	return clean, []string{"removed unsafe HTML: " + strings.Join(what, ", ")}
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

// absolute resolves ref against the base URL; fragments and unparseable
// references are left alone.
// ImageURL makes an image reference absolute against the site, and
// reports whether it is one a page may show: http or https with a host
// (a path on the site becomes one). "" is fine: no image.
func (r *Renderer) ImageURL(ref string) (string, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", true
	}
	abs := r.absolute(ref)
	u, err := url.Parse(abs)
	return abs, err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

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
