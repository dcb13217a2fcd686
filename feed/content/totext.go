package content

import (
	"bytes"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTMLToText writes sanitized article HTML as readable plain text, as a
// person would write a plain-text email rather than the HTML with its tags
// stripped:
//
//   - headings on their own line, underlined with "=" (h1) or "-" (h2..h6)
//     as wide as the heading;
//   - paragraphs word-wrapped at width display cells (never breaking a word,
//     though Chinese and Japanese text breaks between characters as it has
//     no spaces) and separated by one blank line;
//   - list items as "- item" or "1. item", continuation lines indented;
//   - blockquote lines prefixed "> ", <pre> kept verbatim, <br> a line break;
//   - table rows as cells joined by " | ", a header row followed by a line of
//     dashes under each header cell;
//   - images as "[image: ALT]", left out when they have no alt text;
//   - links as their text followed by a reference "[1]", and a closing
//     "Links:" block with "[1] URL" for each distinct URL. A link whose text
//     is its URL is written once, without a reference.
//
// Whitespace is collapsed as a browser would, lines carry no trailing
// spaces and the result ends with exactly one "\n" ("" for no text).
// A width below 1 means no wrapping.
func HTMLToText(s string, width int) string {
	if width < 0 {
		width = 0
	}
	// The tokenizer passes invalid UTF-8 through; the text must be valid to
	// go into a mail.
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	st := plainStates.Get().(*plainState)
	defer st.release()
	r := &st.r
	r.text.Grow(len(s))
	b := r.builder(width)
	if root, ok := st.tree.build(s); ok {
		b.children(root)
	} else {
		nodes, err := html.ParseFragment(strings.NewReader(s), plainBody())
		if err != nil {
			// Parsing fails only when reading fails, which a strings.Reader
			// never does.
			return ""
		}
		for _, n := range nodes {
			b.node(n)
		}
	}
	return r.output(b.finish())
}

// output writes the lines, each trimmed at its end, and the list of link
// URLs, ending with one "\n"; "" for no text.
func (r *plainRenderer) output(lines []outLine) string {
	size := 0
	for i, l := range lines {
		l = l.trimmed()
		lines[i] = l
		size += len(l.pre) + len(l.s) + 1
	}
	if len(r.links) == 0 {
		for len(lines) > 0 && lines[len(lines)-1].empty() {
			size--
			lines = lines[:len(lines)-1]
		}
		if len(lines) == 0 {
			return ""
		}
	} else {
		size += len("\nLinks:\n")
		for _, u := range r.links {
			size += len("[] \n") + 4 + len(u)
		}
	}
	var sb strings.Builder
	sb.Grow(size)
	for _, l := range lines {
		sb.WriteString(l.pre)
		sb.WriteString(l.s)
		sb.WriteByte('\n')
	}
	if len(r.links) > 0 {
		if len(lines) > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString("Links:\n")
		var num [20]byte
		for i, u := range r.links {
			sb.WriteByte('[')
			sb.Write(strconv.AppendInt(num[:0], int64(i+1), 10))
			sb.WriteByte(']')
			if u = plainTrimRight(u); u != "" {
				sb.WriteByte(' ')
				sb.WriteString(u)
			}
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

// plainState is what one HTMLToText works with, kept from one call to
// the next: the node tree's room and the renderer's buffers.
type plainState struct {
	tree treeBuilder
	r    plainRenderer
}

// plainStates hold the states of finished HTMLToText calls, for the next
// ones: a scan lays out thousands of articles, each of which would
// otherwise allocate its node tree and grow its buffers afresh.
var plainStates = sync.Pool{New: func() any {
	return &plainState{r: plainRenderer{linkNum: map[string]int{}}}
}}

// plainKeep is how large a buffer the pool keeps, in bytes.
const plainKeep = 64 << 10

// release forgets the document (nothing it refers to is kept alive by the
// pool) and returns the state to the pool.
func (st *plainState) release() {
	st.tree.reset()
	clear(st.r.links)
	st.r.links = st.r.links[:0]
	clear(st.r.linkNum)
	for _, b := range st.r.free {
		if cap(b.in.buf) > plainKeep {
			b.in.buf = nil // an odd huge paragraph is not worth keeping room for
		}
	}
	// The paragraphs are strings, which a buffer used again would
	// overwrite: the next document gets a Builder of its own.
	st.r.text = strings.Builder{}
	plainStates.Put(st)
}

// plainBody is the context HTMLToText parses its HTML in.
func plainBody() *html.Node {
	return &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
}

// plainRenderer holds what is shared by the whole document: the link
// references, numbered in the order the links first appear, and buffers
// that the builders of finished containers hand on to the next ones.
type plainRenderer struct {
	links   []string
	linkNum map[string]int
	free    []*plainBuilder // builders done with, for the next containers
	scratch []byte          // a wrapped line that is not a slice of its paragraph
	// text holds the text of every paragraph of the document, one after
	// the other: a string taken from a Builder stays as it is while more
	// is written, so each paragraph is a slice of it instead of a string
	// of its own.
	text strings.Builder
}

// refNum returns the number of the reference for href, numbering it if it
// is new.
func (r *plainRenderer) refNum(href string) int {
	n, ok := r.linkNum[href]
	if !ok {
		r.links = append(r.links, href)
		n = len(r.links)
		r.linkNum[href] = n
	}
	return n
}

func (r *plainRenderer) builder(width int) *plainBuilder {
	n := len(r.free)
	if n == 0 {
		return &plainBuilder{r: r, width: width}
	}
	b := r.free[n-1]
	r.free = r.free[:n-1]
	*b = plainBuilder{r: r, width: width, blocks: b.blocks[:0], in: plainInline{buf: b.in.buf[:0]}}
	return b
}

type plainBlockKind int

const (
	plainLines     plainBlockKind = iota // lines already laid out: lists, quotes, tables, pre
	plainParagraph                       // text wrapped when the container is done
	plainHeading                         // text wrapped and underlined when the container is done
)

// plainBlock is one block of output. Paragraphs and headings keep their
// text unwrapped until their container is finished, so that the reference
// of a link wrapping several blocks can still be appended to them.
type plainBlock struct {
	kind  plainBlockKind
	lines []outLine
	text  string // paragraphs and headings: collapsed text, "\n" where the HTML had <br>
	mark  string // headings: "=" or "-"
	tight bool   // no blank line before this block (a nested list under its item's text)
}

// plainBuilder lays out the contents of one container (the document, a
// list item, a blockquote, a table cell) at one width.
type plainBuilder struct {
	r       *plainRenderer
	width   int // 0: no wrapping
	blocks  []plainBlock
	in      plainInline
	flushes int  // how many times inline text was closed into a paragraph
	inItem  bool // lists in a list item hang under the item's text without a blank line
}

// flush closes the inline text written so far into a paragraph.
func (b *plainBuilder) flush() {
	b.flushes++
	if len(bytes.TrimSpace(b.in.buf)) > 0 {
		from := b.r.text.Len()
		b.r.text.Write(b.in.buf)
		b.blocks = append(b.blocks, plainBlock{kind: plainParagraph, text: b.r.text.String()[from:]})
	}
	b.in = plainInline{buf: b.in.buf[:0]}
}

// finish lays out the blocks, one blank line between them. The builder
// is done with then.
func (b *plainBuilder) finish() []outLine {
	b.flush()
	// Room for the lines, so that they are rarely copied to grow it: a
	// wrapped line is at least half full, but for the odd long word, and
	// holds at least a word of a letter and its space.
	n := 0
	for _, bl := range b.blocks {
		n += 2 + len(bl.lines)
		if bl.kind != plainLines && b.width > 0 {
			n += min(2*len(bl.text)/b.width, len(bl.text)/2)
		}
	}
	out := make([]outLine, 0, n)
	for _, bl := range b.blocks {
		if bl.kind == plainLines {
			if len(bl.lines) == 0 {
				continue
			}
			if len(out) > 0 && !bl.tight {
				out = append(out, outLine{})
			}
			out = append(out, bl.lines...)
			continue
		}
		// Paragraphs and headings are wrapped straight into out, after
		// the blank line before them, which goes again if they turn out
		// to have no lines.
		before := len(out)
		if len(out) > 0 && !bl.tight {
			out = append(out, outLine{})
		}
		from := len(out)
		out = b.r.wrap(out, bl.text, b.width)
		if bl.kind == plainHeading {
			// A blank line would split the heading from its underline.
			k, w := from, 1
			for _, l := range out[from:] {
				if !l.empty() {
					out[k] = l
					k++
					w = max(w, plainWidth(l.s))
				}
			}
			out = out[:k]
			if k > from {
				out = append(out, outLine{s: plainRule(bl.mark, w)})
			}
		}
		if len(out) == from {
			out = out[:before]
		}
	}
	// Done: the builder goes back for the next container.
	clear(b.blocks)
	b.r.free = append(b.r.free, b)
	return out
}

func (b *plainBuilder) children(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.node(c)
	}
}

func (b *plainBuilder) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		b.in.write(n.Data)
	case html.ElementNode:
		b.element(n)
	case html.DocumentNode:
		b.children(n)
	}
}

func (b *plainBuilder) element(n *html.Node) {
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Template, atom.Head, atom.Title, atom.Noscript,
		atom.Noembed, atom.Noframes, atom.Iframe, atom.Object, atom.Embed, atom.Svg, atom.Math,
		atom.Canvas, atom.Audio, atom.Video, atom.Select, atom.Textarea, atom.Datalist, atom.Map:
		// Their text is code, options or fallback content, not part of the
		// article as a reader sees it.
	case atom.Br:
		b.in.lineBreak()
	case atom.Img:
		if alt := plainCollapse(plainAttr(n, "alt")); alt != "" {
			b.in.write("[image: " + alt + "]")
		}
	case atom.A:
		b.link(n)
	case atom.Q:
		b.in.write("“")
		b.children(n)
		b.in.write("”")
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		b.flush()
		sub := b.r.builder(b.width)
		sub.children(n)
		mark := "-"
		if n.DataAtom == atom.H1 {
			mark = "="
		}
		b.blocks = append(b.blocks, plainBlock{kind: plainHeading, text: joinLines(sub.finish(), "\n"), mark: mark})
	case atom.Blockquote:
		b.flush()
		sub := b.r.builder(plainInner(b.width, 2))
		sub.children(n)
		lines := sub.finish()
		for i, l := range lines {
			if l.empty() {
				lines[i] = outLine{s: ">"}
			} else {
				lines[i] = outLine{pre: "> " + l.pre, s: l.s}
			}
		}
		b.blocks = append(b.blocks, plainBlock{lines: lines})
	case atom.Ul, atom.Ol, atom.Menu, atom.Dir:
		b.list(n)
	case atom.Li:
		// An item outside any list still reads best as one.
		b.flush()
		b.blocks = append(b.blocks, plainBlock{lines: b.item(n, "-"), tight: b.inItem})
	case atom.Dd:
		b.flush()
		sub := b.r.builder(plainInner(b.width, 2))
		sub.children(n)
		b.blocks = append(b.blocks, plainBlock{lines: plainIndent(sub.finish(), "  ", "  "), tight: true})
	case atom.Pre, atom.Listing, atom.Xmp, atom.Plaintext:
		b.flush()
		b.blocks = append(b.blocks, plainBlock{lines: plainPre(n)})
	case atom.Table:
		b.flush()
		b.table(n)
	case atom.Hr:
		b.flush()
		b.blocks = append(b.blocks, plainBlock{lines: []outLine{{s: "---"}}})
	case atom.P, atom.Div, atom.Section, atom.Article, atom.Aside, atom.Header, atom.Footer,
		atom.Main, atom.Nav, atom.Address, atom.Figure, atom.Figcaption, atom.Details,
		atom.Summary, atom.Dialog, atom.Fieldset, atom.Legend, atom.Form, atom.Hgroup,
		atom.Center, atom.Dl, atom.Dt, atom.Caption, atom.Tr, atom.Td, atom.Th,
		atom.Thead, atom.Tbody, atom.Tfoot, atom.Body, atom.Html:
		b.flush()
		b.children(n)
		b.flush()
	default:
		b.children(n)
	}
}

// link writes a link's text followed by its reference.
func (b *plainBuilder) link(n *html.Node) {
	href := plainURL(plainAttr(n, "href"))
	lower := strings.ToLower(href)
	if href == "" || strings.HasPrefix(href, "#") || strings.HasPrefix(lower, "javascript:") || strings.HasPrefix(lower, "data:") {
		// Nothing a mail reader could follow.
		b.children(n)
		return
	}
	start, blocks, flushes := len(b.in.buf), len(b.blocks), b.flushes
	b.children(n)
	if b.flushes == flushes {
		text := bytes.TrimSpace(b.in.buf[start:])
		if len(text) == 0 || string(text) == href || strings.HasPrefix(href, "mailto:") && string(text) == href[len("mailto:"):] {
			return
		}
		b.in.writeRef(b.r.refNum(href))
		return
	}
	// The link wrapped blocks (a card of heading and teaser): the reference
	// goes after the last text it covered.
	if len(bytes.TrimSpace(b.in.buf)) > 0 {
		b.in.writeRef(b.r.refNum(href))
		return
	}
	for i := len(b.blocks) - 1; i >= blocks; i-- {
		bl := &b.blocks[i]
		if bl.kind == plainParagraph || bl.kind == plainHeading {
			bl.text = strings.TrimRight(bl.text, " \n") + "[" + strconv.Itoa(b.r.refNum(href)) + "]"
			return
		}
	}
	// Only lists, quotes or tables: the reference stands on its own so the
	// URL is still listed.
	b.in.writeRef(b.r.refNum(href))
}

func (b *plainBuilder) list(n *html.Node) {
	b.flush()
	ordered := n.DataAtom == atom.Ol
	num := 1
	if ordered {
		if v, err := strconv.Atoi(strings.TrimSpace(plainAttr(n, "start"))); err == nil {
			num = v
		}
	}
	var lines []outLine
	// Content outside any <li> (a nested list written straight into the
	// list, stray text) is indented under the item before it, as browsers do.
	var stray *plainBuilder
	endStray := func() {
		if stray != nil {
			lines = append(lines, plainIndent(stray.finish(), "  ", "  ")...)
			stray = nil
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == atom.Li {
			endStray()
			marker := "-"
			if ordered {
				marker = strconv.Itoa(num) + "."
				num++
			}
			lines = append(lines, b.item(c, marker)...)
			continue
		}
		if stray == nil {
			stray = b.r.builder(plainInner(b.width, 2))
			stray.inItem = true
		}
		stray.node(c)
	}
	endStray()
	b.blocks = append(b.blocks, plainBlock{lines: lines, tight: b.inItem})
}

// item lays out one list item: the marker, then its contents indented as
// far as the marker is wide.
func (b *plainBuilder) item(n *html.Node, marker string) []outLine {
	sub := b.r.builder(plainInner(b.width, len(marker)+1))
	sub.inItem = true
	sub.children(n)
	lines := sub.finish()
	if len(lines) == 0 {
		return []outLine{{s: marker}}
	}
	if marker == "-" {
		return plainIndent(lines, "- ", "  ")
	}
	return plainIndent(lines, marker+" ", strings.Repeat(" ", len(marker)+1))
}

// table writes each row as its cells joined by " | ". Cells are not padded
// into columns: wide or CJK cells would need the reader's font to line up,
// and short rows read fine unaligned.
func (b *plainBuilder) table(n *html.Node) {
	var caption []outLine
	var head, body [][]string
	var rows func(n *html.Node, inHead bool)
	rows = func(n *html.Node, inHead bool) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			switch c.DataAtom {
			case atom.Caption:
				sub := b.r.builder(b.width)
				sub.children(c)
				caption = append(caption, sub.finish()...)
			case atom.Thead:
				rows(c, true)
			case atom.Tbody, atom.Tfoot:
				rows(c, false)
			case atom.Tr:
				row, allTH := b.row(c)
				if row == nil {
					continue
				}
				// Without a <thead>, a first row of <th> cells is the header.
				if inHead || (allTH && len(head) == 0 && len(body) == 0) {
					head = append(head, row)
				} else {
					body = append(body, row)
				}
			}
		}
	}
	rows(n, false)
	var lines []outLine
	for _, row := range head {
		lines = append(lines, outLine{s: strings.TrimSpace(strings.Join(row, " | "))})
	}
	if len(head) > 0 {
		last := head[len(head)-1]
		rule := make([]string, len(last))
		for i, cell := range last {
			rule[i] = strings.Repeat("-", max(3, plainWidth(cell)))
		}
		lines = append(lines, outLine{s: strings.Join(rule, " | ")})
	}
	for _, row := range body {
		lines = append(lines, outLine{s: strings.TrimSpace(strings.Join(row, " | "))})
	}
	if len(lines) == 0 {
		caption = nil
	}
	if len(caption) > 0 {
		b.blocks = append(b.blocks, plainBlock{lines: caption})
	}
	if len(lines) > 0 {
		b.blocks = append(b.blocks, plainBlock{lines: lines, tight: len(caption) > 0})
	}
}

// row returns the text of each cell of a table row, nil for a row with no
// text, and whether all its cells are header cells.
func (b *plainBuilder) row(tr *html.Node) (cells []string, allTH bool) {
	allTH = true
	empty := true
	for c := tr.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode || (c.DataAtom != atom.Td && c.DataAtom != atom.Th) {
			continue
		}
		allTH = allTH && c.DataAtom == atom.Th
		sub := b.r.builder(0)
		sub.children(c)
		var parts []string
		for _, l := range sub.finish() {
			if s := strings.TrimSpace(l.String()); s != "" {
				parts = append(parts, s)
			}
		}
		cell := strings.Join(parts, " ")
		empty = empty && cell == ""
		cells = append(cells, cell)
	}
	if empty {
		return nil, false
	}
	return cells, allTH
}

// plainPre returns the lines of preformatted text as written, without the
// blank lines around them.
func plainPre(n *html.Node) []outLine {
	var sb strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.TextNode:
				for _, r := range c.Data {
					// Control characters other than tab and newline would
					// act on the reader's terminal instead of showing.
					if r == '\n' || r == '\t' || !unicode.IsControl(r) {
						sb.WriteRune(r)
					}
				}
			case c.Type != html.ElementNode:
			case c.DataAtom == atom.Br:
				sb.WriteByte('\n')
			case c.DataAtom == atom.Script || c.DataAtom == atom.Style || c.DataAtom == atom.Template:
			default:
				walk(c)
			}
		}
	}
	walk(n)
	lines := strings.Split(sb.String(), "\n")
	for i, l := range lines {
		lines[i] = plainTrimRight(l)
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	out := make([]outLine, len(lines))
	for i, l := range lines {
		out[i] = outLine{s: l}
	}
	return out
}

// plainInner is the width left inside a prefix of n cells; at least one
// cell, so deep nesting still lays out one word per line.
func plainInner(width, n int) int {
	if width == 0 {
		return 0
	}
	return max(width-n, 1)
}

func plainAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

// plainURL cleans an href as a browser does (tabs and newlines removed,
// control characters and spaces trimmed) and escapes inner spaces, which
// would end the link where a mail client makes URLs clickable.
func plainURL(s string) string {
	clean := true
	for i := 0; i < len(s) && clean; i++ {
		clean = s[i] > ' '
	}
	if clean {
		return s
	}
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	return strings.ReplaceAll(s, " ", "%20")
}
