package content

import (
	"bytes"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The fast pass writes what bluemonday v1.0.27 writes for the renderer's
// policy (UGCPolicy, no rel="nofollow", id on headings) when it reads what
// our own pass writes, for the elements and attributes Markdown and
// ordinary article HTML use, in the same pass that makes URLs absolute. It
// saves the policy's second tokenizer pass and the HTML written between
// the two. On anything else it gives up, and clean takes the two passes.
// sanitize_diff_test.go holds the two to the same bytes.
//
// What it reproduces of bluemonday's sanitize and sanitizeAttrs:
//   - text is written unescaped then escaped again (html.EscapeString);
//   - comments and doctypes are dropped;
//   - an element the policy does not allow is dropped, its content kept,
//     unless it is one whose content the policy skips or whose content the
//     tokenizer reads as raw text: those make the pass give up;
//   - an allowed element keeps, in their order, the attributes the policy
//     allows on it or on any element, each value matching the policy's
//     pattern; href, src and cite, where checked, must parse as a URL that
//     is relative or mailto, http or https, and are written as url.URL
//     writes them;
//   - a or img left with no attribute is dropped, and for a start tag so is
//     the next end tag of the same name, as the policy's stack of closing
//     tags to skip does.

// plainKey reports whether an attribute name is one the fast pass writes
// and reads back as it is: a letter, then letters, digits, hyphens,
// underscores, colons or dots.
func plainKey(key []byte) bool {
	if len(key) == 0 || key[0] < 'a' || key[0] > 'z' {
		return false
	}
	for _, c := range key {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' && c != ':' && c != '.' {
			return false
		}
	}
	return true
}

// cleanFast is clean in one pass, for an article of the elements and
// attributes the pass knows; ok is false when it met something else, and
// clean must take the slow path. What it asked the AssetFunc is in assets.
func (r *Renderer) cleanFast(raw string, assets *assetLog) (out string, warnings []string, ok bool) {
	f := fastPass{r: r, z: html.NewTokenizer(strings.NewReader(raw)), assets: assets}
	f.b.Grow(len(raw))
	// printed is whether our pass would have written anything but white
	// space: the policy returns white space as it is, unescaped.
	printed := false
	for {
		switch tt := f.z.Next(); tt {
		case html.ErrorToken: // io.EOF: a strings.Reader fails no other way
			if !printed {
				return "", nil, false
			}
			return f.b.String(), f.notes.warnings(), true
		case html.TextToken:
			t := f.z.Raw()
			if !printed && len(bytes.TrimSpace(t)) > 0 {
				printed = true
			}
			if !bytes.ContainsAny(t, "&'<>\"\r") {
				f.b.Write(t)
			} else {
				escapeHTML(&f.b, f.z.Text())
			}
		case html.CommentToken, html.DoctypeToken:
			printed = true
		case html.EndTagToken:
			printed = true
			if !f.endTag() {
				return "", nil, false
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			printed = true
			if !f.startTag(tt == html.SelfClosingTagToken) {
				return "", nil, false
			}
		}
	}
}

// fastPass is the state of cleanFast.
type fastPass struct {
	r      *Renderer
	z      *html.Tokenizer
	b      strings.Builder
	notes  cleanNotes
	assets *assetLog
	// skip are the end tags the policy will drop: of an a or img start
	// tag it dropped for having no attribute left, innermost last.
	skip []ugcKind
	kept []keptAttr // the current tag's, reused
}

// keptAttr is an attribute the policy keeps: its value as the tokenizer
// gave it, or as a string when our pass or the policy rewrote it.
type keptAttr struct {
	key string
	val []byte
	s   string
}

// endTag writes what the policy makes of the end tag z is at, and reports
// false when the fast pass must give up.
func (f *fastPass) endTag() bool {
	name, _ := tagName(f.z, true)
	k := ugcElement(name)
	if k == kindUnknown {
		return false
	}
	if n := len(f.skip); n > 0 && f.skip[n-1] == k {
		f.skip = f.skip[:n-1]
		return true
	}
	if k != kindDropped {
		f.b.WriteString("</")
		f.b.Write(name)
		f.b.WriteByte('>')
	}
	return true
}

// startTag writes what the policy makes of the start or self-closing tag
// z is at, having made its URLs absolute and noted what is unsafe as our
// pass does, and reports false when the fast pass must give up.
func (f *fastPass) startTag(selfClosing bool) bool {
	name, more := tagName(f.z, false)
	k := ugcElement(name)
	if k == kindUnknown {
		return false
	}
	if unsafeElements[atom.Lookup(name)] {
		f.notes.remove("<" + string(name) + ">")
	}
	f.kept = f.kept[:0]
	for more {
		var key, val []byte
		key, val, more = f.z.TagAttr()
		if !plainKey(key) {
			return false
		}
		ks := attrName(key)
		if !bytes.HasPrefix(key, []byte("on")) && !urlAttrs[ks] && ks != "srcset" {
			if k != kindDropped && k.allows(ks, val) {
				f.kept = append(f.kept, keptAttr{key: ks, val: val})
			}
			continue
		}
		v := f.r.attr(ks, string(val), &f.notes, f.assets)
		// Of the attributes our pass looks at, the policy keeps only these
		// URLs: no element may have an event handler, a srcset or a
		// poster, nor a URL attribute but these, not even on every element.
		if !k.checksURL(ks) || (k == kindChange && !bluemonday.Paragraph.MatchString(v)) {
			continue
		}
		u, ok, sure := ugcURL(v)
		if !sure {
			return false
		}
		if ok {
			f.kept = append(f.kept, keptAttr{key: ks, s: u})
		}
	}
	if k == kindDropped {
		return true
	}
	if len(f.kept) == 0 && k.needsAttrs() {
		if !selfClosing {
			f.skip = append(f.skip, k)
		}
		return true
	}
	f.b.WriteByte('<')
	f.b.Write(name)
	for _, a := range f.kept {
		f.b.WriteByte(' ')
		f.b.WriteString(a.key)
		f.b.WriteString(`="`)
		if a.val != nil {
			escapeHTML(&f.b, a.val)
		} else {
			escapeHTMLString(&f.b, a.s)
		}
		f.b.WriteByte('"')
	}
	if selfClosing {
		f.b.WriteString("/>")
	} else {
		f.b.WriteByte('>')
	}
	return true
}

// tagName is z.TagName, without the copy of the name TagName makes, for
// a tag written <name> or </name>, in lower case letters and digits.
func tagName(z *html.Tokenizer, end bool) (name []byte, hasAttr bool) {
	raw := z.Raw()
	from := 1
	if end {
		from = 2
	}
	if len(raw) > from+1 && raw[len(raw)-1] == '>' && lowerName(raw[from:len(raw)-1]) {
		return raw[from : len(raw)-1], false
	}
	return z.TagName()
}

// lowerName reports whether a name is a lower case letter, then lower
// case letters and digits.
func lowerName(name []byte) bool {
	if len(name) == 0 || name[0] < 'a' || name[0] > 'z' {
		return false
	}
	for _, c := range name[1:] {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// attrName is key as a string, without allocating one for the names
// articles mostly use.
func attrName(key []byte) string {
	switch string(key) {
	case "href":
		return "href"
	case "src":
		return "src"
	case "alt":
		return "alt"
	case "title":
		return "title"
	case "id":
		return "id"
	case "class":
		return "class"
	case "style":
		return "style"
	}
	return string(key)
}

// escapeHTMLString is escapeHTML for a string.
func escapeHTMLString(b *strings.Builder, s string) {
	for {
		i := strings.IndexAny(s, "&'<>\"\r")
		if i < 0 {
			b.WriteString(s)
			return
		}
		b.WriteString(s[:i])
		b.WriteString(escapeOf(s[i]))
		s = s[i+1:]
	}
}

// escapeHTML writes s as html.EscapeString would.
func escapeHTML(b *strings.Builder, s []byte) {
	for {
		i := bytes.IndexAny(s, "&'<>\"\r")
		if i < 0 {
			b.Write(s)
			return
		}
		b.Write(s[:i])
		b.WriteString(escapeOf(s[i]))
		s = s[i+1:]
	}
}

// escapeOf is what html.EscapeString writes for a character it escapes.
func escapeOf(c byte) string {
	switch c {
	case '&':
		return "&amp;"
	case '\'':
		return "&#39;" // shorter than &apos;, which HTML 4 lacks
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	case '"':
		return "&#34;"
	}
	return "&#13;" // '\r'
}
