package content

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// build returns the tree html.ParseFragment builds for s in a <body>,
// as the children of a document node, when s is HTML of the plain kind
// the sanitizer writes: every tag closed in the order it was opened, only
// the elements an article holds, tables spelled out with their row
// groups. For that HTML the HTML5 tree-construction rules come down to
// "a start tag opens a child, an end tag closes it", which is all this
// builder does, without the cost of the full parser (its tokens, its
// attribute copies, its stack and formatting-list bookkeeping) and with
// text nodes that are slices of s wherever there is no entity to decode.
//
// It reports false as soon as s holds anything where those rules would do
// more (an implied end tag, a misnested or unclosed tag, a table missing
// its tbody, text where a table puts it elsewhere, a comment, a raw-text
// element, an element it does not know, a tag it does not read the way
// the tokenizer would), and the caller parses s with html.ParseFragment
// instead, so the tree is the same either way.
//
// Of the attributes it keeps only those plainAttr is asked for: href, alt
// and start. The tree lives in t until t.reset.
func (t *treeBuilder) build(s string) (*html.Node, bool) {
	// The tokenizer rewrites "\r" and NUL, the parser drops NUL: leave
	// both to them.
	if strings.IndexByte(s, '\r') >= 0 || strings.IndexByte(s, 0) >= 0 {
		return nil, false
	}
	root := t.newNode()
	root.Type = html.DocumentNode
	t.open = append(t.open[:0], root)
	for i := 0; i < len(s); {
		var ok bool
		switch {
		case s[i] != '<' || i+1 < len(s) && !treeTagStart(s[i+1]):
			var j int
			if j, ok = treeTextEnd(s, i); ok {
				ok = t.text(s[i:j])
				i = j
			}
		case i+1 == len(s):
			// What the tokenizer makes of a '<' at the end is its business.
		case s[i+1] == '/':
			i, ok = t.endTag(s, i)
		default:
			i, ok = t.startTag(s, i)
		}
		if !ok {
			return nil, false
		}
	}
	if len(t.open) != 1 {
		return nil, false
	}
	return root, true
}

// treeBuilder builds node trees; it keeps the room for them from one tree
// to the next.
type treeBuilder struct {
	open   []*html.Node  // the stack of open elements; open[0] is the document
	chunks [][]html.Node // room for the nodes, in blocks that never move
	chunk  int           // the block being filled
	used   int           // how much of it is
	attrs  []html.Attribute
}

// treeMaxDepth is how deep build nests elements; html.Parse refuses more
// than 512.
const treeMaxDepth = 256

// treeChunk is how many nodes a block holds: a few blocks for an article.
const treeChunk = 256

func (t *treeBuilder) newNode() *html.Node {
	for {
		if t.chunk == len(t.chunks) {
			t.chunks = append(t.chunks, make([]html.Node, treeChunk))
		}
		if t.used < treeChunk {
			t.used++
			return &t.chunks[t.chunk][t.used-1]
		}
		t.chunk, t.used = t.chunk+1, 0
	}
}

// reset forgets the tree: the nodes are zeroed, so that nothing they
// pointed to is kept alive, and their room is used again.
func (t *treeBuilder) reset() {
	for i := 0; i < t.chunk && i < len(t.chunks); i++ {
		clear(t.chunks[i])
	}
	if t.chunk < len(t.chunks) {
		clear(t.chunks[t.chunk][:t.used])
	}
	t.chunk, t.used = 0, 0
	// The room for an odd huge document is not worth keeping.
	if len(t.chunks) > 16 {
		t.chunks = t.chunks[:16]
	}
	clear(t.open)
	t.open = t.open[:0]
	clear(t.attrs)
	t.attrs = t.attrs[:0]
}

func (t *treeBuilder) top() *html.Node { return t.open[len(t.open)-1] }

func (t *treeBuilder) appendChild(n *html.Node) {
	p := t.top()
	n.Parent = p
	if last := p.LastChild; last != nil {
		last.NextSibling = n
		n.PrevSibling = last
	} else {
		p.FirstChild = n
	}
	p.LastChild = n
}

// treeTagStart reports whether c, after a '<', makes the tokenizer read a
// tag, a comment or a doctype rather than text.
func treeTagStart(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '/' || c == '!' || c == '?'
}

// treeTextEnd returns where the text starting at i ends: at the next '<'
// that starts a tag. A '<' at the very end is left to the parser.
func treeTextEnd(s string, i int) (int, bool) {
	for j := i; ; {
		k := strings.IndexByte(s[j:], '<')
		if k < 0 {
			return len(s), true
		}
		j += k
		if j+1 == len(s) {
			return 0, false
		}
		if treeTagStart(s[j+1]) {
			return j, true
		}
		j++
	}
}

// text adds a text token as the parser's in-body and in-table modes do.
func (t *treeBuilder) text(raw string) bool {
	d := raw
	if strings.IndexByte(raw, '&') >= 0 {
		d = html.UnescapeString(raw)
	}
	top := t.top()
	switch top.DataAtom {
	case atom.Table, atom.Tbody, atom.Thead, atom.Tfoot, atom.Tr:
		// Only white space stays where it is; other text is moved out in
		// front of the table.
		if strings.Trim(d, " \t\r\n\f") != "" {
			return false
		}
	case atom.Pre:
		if top.FirstChild == nil {
			d = strings.TrimPrefix(d, "\r")
			d = strings.TrimPrefix(d, "\n")
		}
	}
	if d == "" {
		return true
	}
	if last := top.LastChild; last != nil && last.Type == html.TextNode {
		// The parser would join them; text never follows text here.
		return false
	}
	n := t.newNode()
	n.Type = html.TextNode
	n.Data = d
	t.appendChild(n)
	return true
}

// endTag reads "</name>" at i; it must close the current element.
func (t *treeBuilder) endTag(s string, i int) (int, bool) {
	k := i + 2
	for k < len(s) && treeNameByte(s[k]) {
		k++
	}
	if k == i+2 || k == len(s) || s[k] != '>' || s[i+2] < 'a' || s[i+2] > 'z' {
		return 0, false
	}
	a := atom.Lookup([]byte(s[i+2 : k]))
	if len(t.open) == 1 || a == 0 || t.top().DataAtom != a {
		return 0, false
	}
	t.open = t.open[:len(t.open)-1]
	return k + 1, true
}

func treeNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
}

func treeSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\t' || c == '\f'
}

// startTag reads "<name attr="value" ...>" at i and opens the element, if
// the parser would simply open it where it stands.
func (t *treeBuilder) startTag(s string, i int) (int, bool) {
	k := i + 1
	if s[k] < 'a' || s[k] > 'z' {
		return 0, false
	}
	for k < len(s) && treeNameByte(s[k]) {
		k++
	}
	a := atom.Lookup([]byte(s[i+1 : k]))
	// At most one each of href, alt and start is kept.
	var kept [3]html.Attribute
	nkept := 0
	selfClosing := false
	space := false
attrLoop:
	for {
		if k == len(s) {
			return 0, false
		}
		switch c := s[k]; {
		case c == '>':
			k++
			break attrLoop
		case c == '/':
			if k+1 == len(s) || s[k+1] != '>' {
				return 0, false
			}
			selfClosing = true
			k += 2
			break attrLoop
		case treeSpace(c):
			space = true
			k++
		case space && 'a' <= c && c <= 'z':
			var ok bool
			if k, ok = treeAttr(s, k, kept[:], &nkept); !ok {
				return 0, false
			}
			space = false
		default:
			return 0, false
		}
	}
	void, ok := t.opens(a)
	if !ok || selfClosing && !void {
		return 0, false
	}
	n := t.newNode()
	n.Type = html.ElementNode
	n.DataAtom = a
	n.Data = a.String()
	if nkept > 0 {
		if cap(t.attrs)-len(t.attrs) < nkept {
			// A new block; the attributes given out stay where they are.
			// (The next reset keeps only this one.)
			t.attrs = make([]html.Attribute, 0, max(32, 2*cap(t.attrs)))
		}
		from := len(t.attrs)
		t.attrs = append(t.attrs, kept[:nkept]...)
		n.Attr = t.attrs[from:len(t.attrs):len(t.attrs)]
	}
	if !void && len(t.open) >= treeMaxDepth {
		// The parser refuses HTML nested this deep (HTMLToText then has
		// no text for it); let it.
		return 0, false
	}
	t.appendChild(n)
	if !void {
		t.open = append(t.open, n)
	}
	return k, true
}

// treeAttr reads one attribute at k, keeping it in kept if it is one
// plainAttr reads and the first of its name in the tag (the tokenizer
// drops repeats).
func treeAttr(s string, k int, kept []html.Attribute, nkept *int) (int, bool) {
	start := k
	for k < len(s) && (treeNameByte(s[k]) || s[k] == '-' || s[k] == '_' || s[k] == ':') {
		k++
	}
	key := s[start:k]
	val := ""
	if k < len(s) && s[k] == '=' {
		k++
		if k == len(s) || s[k] != '"' && s[k] != '\'' {
			return 0, false
		}
		end := strings.IndexByte(s[k+1:], s[k])
		if end < 0 {
			return 0, false
		}
		val = s[k+1 : k+1+end]
		k += end + 2
	}
	switch key {
	case "href", "alt", "start":
	default:
		return k, true
	}
	for _, a := range kept[:*nkept] {
		if a.Key == key {
			return k, true
		}
	}
	if strings.IndexByte(val, '&') >= 0 {
		if !treeAttrEntities(val) {
			return 0, false
		}
		val = html.UnescapeString(val)
	}
	kept[*nkept] = html.Attribute{Key: key, Val: val}
	*nkept++
	return k, true
}

// treeAttrEntities reports whether every character reference in an
// attribute value decodes there as it does in text, so that
// html.UnescapeString reads it as the tokenizer does: numeric ones, and
// the few named ones sanitizers write, with their semicolon.
func treeAttrEntities(v string) bool {
	for {
		i := strings.IndexByte(v, '&')
		if i < 0 {
			return true
		}
		v = v[i+1:]
		if v == "" {
			return true
		}
		c := v[0]
		switch {
		case c == '#':
			continue
		case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9':
			name, _, ok := strings.Cut(v, ";")
			if !ok {
				return false
			}
			switch name {
			case "amp", "lt", "gt", "quot", "apos", "nbsp":
			default:
				return false
			}
		}
	}
}

// opens reports whether the parser, in the mode the current element puts
// it in, would open an element a (or add it, if void) as a child of the
// current element and do nothing else.
func (t *treeBuilder) opens(a atom.Atom) (void, ok bool) {
	top := t.top().DataAtom
	switch top {
	case atom.Table:
		return false, a == atom.Caption || a == atom.Thead || a == atom.Tbody || a == atom.Tfoot
	case atom.Thead, atom.Tbody, atom.Tfoot:
		return false, a == atom.Tr
	case atom.Tr:
		return false, a == atom.Td || a == atom.Th
	}
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Center, atom.Details,
		atom.Dir, atom.Div, atom.Dl, atom.Fieldset, atom.Figcaption, atom.Figure, atom.Footer,
		atom.Header, atom.Hgroup, atom.Main, atom.Menu, atom.Nav, atom.Ol, atom.P, atom.Section,
		atom.Summary, atom.Ul, atom.Pre, atom.Table:
		// Each of these closes an open <p>.
		return false, !t.pInButtonScope()
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		// A heading also closes a heading it is written straight into.
		switch top {
		case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
			return false, false
		}
		return false, !t.pInButtonScope()
	case atom.Li:
		return false, !t.closesItem(atom.Li, atom.Li) && !t.pInButtonScope()
	case atom.Dd, atom.Dt:
		return false, !t.closesItem(atom.Dd, atom.Dt) && !t.pInButtonScope()
	case atom.A:
		// A link inside a link closes the outer one.
		for _, n := range t.open[1:] {
			if n.DataAtom == atom.A {
				return false, false
			}
		}
		return false, true
	case atom.B, atom.Big, atom.Code, atom.Em, atom.I, atom.S, atom.Small, atom.Strike,
		atom.Strong, atom.Tt, atom.U,
		atom.Abbr, atom.Acronym, atom.Bdi, atom.Bdo, atom.Cite, atom.Del, atom.Dfn, atom.Ins,
		atom.Kbd, atom.Mark, atom.Q, atom.Samp, atom.Span, atom.Sub, atom.Sup, atom.Time, atom.Var:
		// Formatting elements, nested as written, are opened and closed
		// as any other; what the parser does with its list of them only
		// matters once tags are misnested.
		return false, true
	case atom.Br, atom.Img, atom.Wbr:
		return true, true
	case atom.Hr:
		return true, !t.pInButtonScope()
	}
	return false, false
}

// pInButtonScope is the parser's "has a p element in button scope", for
// the elements build opens.
func (t *treeBuilder) pInButtonScope() bool {
	for i := len(t.open) - 1; i > 0; i-- {
		switch t.open[i].DataAtom {
		case atom.P:
			return true
		case atom.Table, atom.Caption, atom.Td, atom.Th:
			return false
		}
	}
	return false
}

// closesItem reports whether a new <li> (or <dd>, <dt>: x and y) would
// close an open one, as the parser's walk down the stack finds.
func (t *treeBuilder) closesItem(x, y atom.Atom) bool {
	for i := len(t.open) - 1; i > 0; i-- {
		switch a := t.open[i].DataAtom; a {
		case x, y:
			return true
		case atom.Address, atom.Div, atom.P:
		default:
			if treeSpecial(a) {
				return false
			}
		}
	}
	return false
}

// treeSpecial is the parser's isSpecialElement, for the elements plainTree
// opens.
func treeSpecial(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Br, atom.Caption,
		atom.Center, atom.Dd, atom.Details, atom.Dir, atom.Div, atom.Dl, atom.Dt, atom.Fieldset,
		atom.Figcaption, atom.Figure, atom.Footer, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5,
		atom.H6, atom.Header, atom.Hgroup, atom.Hr, atom.Img, atom.Li, atom.Main, atom.Menu,
		atom.Nav, atom.Ol, atom.P, atom.Pre, atom.Section, atom.Summary, atom.Table, atom.Tbody,
		atom.Td, atom.Tfoot, atom.Th, atom.Thead, atom.Tr, atom.Ul, atom.Wbr:
		return true
	}
	return false
}
