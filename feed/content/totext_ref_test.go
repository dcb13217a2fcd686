package content

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// refHTMLToText is HTMLToText as it was before it got its own tree
// builder and its allocation-lean layout (commit db7f149), kept verbatim
// but for the names so that the differential tests have a reference to
// hold the new code to, byte for byte.
func refHTMLToText(s string, width int) string {
	if width < 0 {
		width = 0
	}
	// The tokenizer passes invalid UTF-8 through; the text must be valid to
	// go into a mail.
	s = strings.ToValidUTF8(s, "\uFFFD")
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(s), body)
	if err != nil {
		// Parsing fails only when reading fails, which a strings.Reader
		// never does.
		return ""
	}
	r := &refRenderer{linkNum: map[string]int{}}
	b := r.builder(width)
	for _, n := range nodes {
		b.node(n)
	}
	lines := b.finish()
	if len(r.links) > 0 {
		if len(lines) > 0 {
			lines = append(lines, "")
		}
		lines = append(lines, "Links:")
		for i, u := range r.links {
			lines = append(lines, "["+strconv.Itoa(i+1)+"] "+u)
		}
	}
	for i, l := range lines {
		lines[i] = refTrimRight(l)
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// refRenderer holds what is shared by the whole document: the link
// references, numbered in the order the links first appear.
type refRenderer struct {
	links   []string
	linkNum map[string]int
}

// ref returns the reference "[n]" for href, numbering it if it is new.
func (r *refRenderer) ref(href string) string {
	n, ok := r.linkNum[href]
	if !ok {
		r.links = append(r.links, href)
		n = len(r.links)
		r.linkNum[href] = n
	}
	return "[" + strconv.Itoa(n) + "]"
}

func (r *refRenderer) builder(width int) *refBuilder {
	return &refBuilder{r: r, width: width}
}

type refBlockKind int

const (
	refLines     refBlockKind = iota // lines already laid out: lists, quotes, tables, pre
	refParagraph                     // text wrapped when the container is done
	refHeading                       // text wrapped and underlined when the container is done
)

// refBlock is one block of output. Paragraphs and headings keep their
// text unwrapped until their container is finished, so that the reference
// of a link wrapping several blocks can still be appended to them.
type refBlock struct {
	kind  refBlockKind
	lines []string
	text  string // paragraphs and headings: collapsed text, "\n" where the HTML had <br>
	mark  string // headings: "=" or "-"
	tight bool   // no blank line before this block (a nested list under its item's text)
}

// refBuilder lays out the contents of one container (the document, a
// list item, a blockquote, a table cell) at one width.
type refBuilder struct {
	r       *refRenderer
	width   int // 0: no wrapping
	blocks  []refBlock
	in      refInline
	flushes int  // how many times inline text was closed into a paragraph
	inItem  bool // lists in a list item hang under the item's text without a blank line
}

// flush closes the inline text written so far into a paragraph.
func (b *refBuilder) flush() {
	text := b.in.buf.String()
	b.in = refInline{}
	b.flushes++
	if strings.TrimSpace(text) != "" {
		b.blocks = append(b.blocks, refBlock{kind: refParagraph, text: text})
	}
}

// finish lays out the blocks, one blank line between them.
func (b *refBuilder) finish() []string {
	b.flush()
	var out []string
	for _, bl := range b.blocks {
		lines := bl.lines
		switch bl.kind {
		case refParagraph:
			lines = refWrap(bl.text, b.width)
		case refHeading:
			lines = nil
			w := 1
			for _, l := range refWrap(bl.text, b.width) {
				// A blank line would split the heading from its underline.
				if l != "" {
					lines = append(lines, l)
					w = max(w, refWidth(l))
				}
			}
			if len(lines) > 0 {
				lines = append(lines, strings.Repeat(bl.mark, w))
			}
		}
		if len(lines) == 0 {
			continue
		}
		if len(out) > 0 && !bl.tight {
			out = append(out, "")
		}
		out = append(out, lines...)
	}
	return out
}

func (b *refBuilder) children(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.node(c)
	}
}

func (b *refBuilder) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		b.in.write(n.Data)
	case html.ElementNode:
		b.element(n)
	case html.DocumentNode:
		b.children(n)
	}
}

func (b *refBuilder) element(n *html.Node) {
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Template, atom.Head, atom.Title, atom.Noscript,
		atom.Noembed, atom.Noframes, atom.Iframe, atom.Object, atom.Embed, atom.Svg, atom.Math,
		atom.Canvas, atom.Audio, atom.Video, atom.Select, atom.Textarea, atom.Datalist, atom.Map:
		// Their text is code, options or fallback content, not part of the
		// article as a reader sees it.
	case atom.Br:
		b.in.lineBreak()
	case atom.Img:
		if alt := refCollapse(refAttr(n, "alt")); alt != "" {
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
		b.blocks = append(b.blocks, refBlock{kind: refHeading, text: strings.Join(sub.finish(), "\n"), mark: mark})
	case atom.Blockquote:
		b.flush()
		sub := b.r.builder(refInner(b.width, 2))
		sub.children(n)
		lines := sub.finish()
		for i, l := range lines {
			if l == "" {
				lines[i] = ">"
			} else {
				lines[i] = "> " + l
			}
		}
		b.blocks = append(b.blocks, refBlock{lines: lines})
	case atom.Ul, atom.Ol, atom.Menu, atom.Dir:
		b.list(n)
	case atom.Li:
		// An item outside any list still reads best as one.
		b.flush()
		b.blocks = append(b.blocks, refBlock{lines: b.item(n, "-"), tight: b.inItem})
	case atom.Dd:
		b.flush()
		sub := b.r.builder(refInner(b.width, 2))
		sub.children(n)
		b.blocks = append(b.blocks, refBlock{lines: refIndent(sub.finish(), "  ", "  "), tight: true})
	case atom.Pre, atom.Listing, atom.Xmp, atom.Plaintext:
		b.flush()
		b.blocks = append(b.blocks, refBlock{lines: refPre(n)})
	case atom.Table:
		b.flush()
		b.table(n)
	case atom.Hr:
		b.flush()
		b.blocks = append(b.blocks, refBlock{lines: []string{"---"}})
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
func (b *refBuilder) link(n *html.Node) {
	href := refURL(refAttr(n, "href"))
	lower := strings.ToLower(href)
	if href == "" || strings.HasPrefix(href, "#") || strings.HasPrefix(lower, "javascript:") || strings.HasPrefix(lower, "data:") {
		// Nothing a mail reader could follow.
		b.children(n)
		return
	}
	start, blocks, flushes := b.in.buf.Len(), len(b.blocks), b.flushes
	b.children(n)
	if b.flushes == flushes {
		text := strings.TrimSpace(b.in.buf.String()[start:])
		if text == "" || text == href || "mailto:"+text == href {
			return
		}
		b.in.writeRaw(b.r.ref(href))
		return
	}
	// The link wrapped blocks (a card of heading and teaser): the reference
	// goes after the last text it covered.
	if strings.TrimSpace(b.in.buf.String()) != "" {
		b.in.writeRaw(b.r.ref(href))
		return
	}
	for i := len(b.blocks) - 1; i >= blocks; i-- {
		bl := &b.blocks[i]
		if bl.kind == refParagraph || bl.kind == refHeading {
			bl.text = strings.TrimRight(bl.text, " \n") + b.r.ref(href)
			return
		}
	}
	// Only lists, quotes or tables: the reference stands on its own so the
	// URL is still listed.
	b.in.writeRaw(b.r.ref(href))
}

func (b *refBuilder) list(n *html.Node) {
	b.flush()
	ordered := n.DataAtom == atom.Ol
	num := 1
	if ordered {
		if v, err := strconv.Atoi(strings.TrimSpace(refAttr(n, "start"))); err == nil {
			num = v
		}
	}
	var lines []string
	// Content outside any <li> (a nested list written straight into the
	// list, stray text) is indented under the item before it, as browsers do.
	var stray *refBuilder
	endStray := func() {
		if stray != nil {
			lines = append(lines, refIndent(stray.finish(), "  ", "  ")...)
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
			stray = b.r.builder(refInner(b.width, 2))
			stray.inItem = true
		}
		stray.node(c)
	}
	endStray()
	b.blocks = append(b.blocks, refBlock{lines: lines, tight: b.inItem})
}

// item lays out one list item: the marker, then its contents indented as
// far as the marker is wide.
func (b *refBuilder) item(n *html.Node, marker string) []string {
	sub := b.r.builder(refInner(b.width, len(marker)+1))
	sub.inItem = true
	sub.children(n)
	lines := sub.finish()
	if len(lines) == 0 {
		return []string{marker}
	}
	return refIndent(lines, marker+" ", strings.Repeat(" ", len(marker)+1))
}

// table writes each row as its cells joined by " | ". Cells are not padded
// into columns: wide or CJK cells would need the reader's font to line up,
// and short rows read fine unaligned.
func (b *refBuilder) table(n *html.Node) {
	var caption []string
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
	var lines []string
	for _, row := range head {
		lines = append(lines, strings.TrimSpace(strings.Join(row, " | ")))
	}
	if len(head) > 0 {
		last := head[len(head)-1]
		rule := make([]string, len(last))
		for i, cell := range last {
			rule[i] = strings.Repeat("-", max(3, refWidth(cell)))
		}
		lines = append(lines, strings.Join(rule, " | "))
	}
	for _, row := range body {
		lines = append(lines, strings.TrimSpace(strings.Join(row, " | ")))
	}
	if len(lines) == 0 {
		caption = nil
	}
	if len(caption) > 0 {
		b.blocks = append(b.blocks, refBlock{lines: caption})
	}
	if len(lines) > 0 {
		b.blocks = append(b.blocks, refBlock{lines: lines, tight: len(caption) > 0})
	}
}

// row returns the text of each cell of a table row, nil for a row with no
// text, and whether all its cells are header cells.
func (b *refBuilder) row(tr *html.Node) (cells []string, allTH bool) {
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
			if l = strings.TrimSpace(l); l != "" {
				parts = append(parts, l)
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

// refPre returns the lines of preformatted text as written, without the
// blank lines around them.
func refPre(n *html.Node) []string {
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
		lines[i] = refTrimRight(l)
	}
	for len(lines) > 0 && lines[0] == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// refInline collects the inline text of a paragraph with whitespace
// collapsed as a browser does: runs of spaces, tabs and newlines become one
// space, dropped at the start and end of a line.
type refInline struct {
	buf       strings.Builder
	space     bool // whitespace seen, written only if more text follows on the line
	lineStart bool // the last thing written was a line break
}

func (t *refInline) write(s string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
				t.space = true
				i++
				continue
			case c < 0x20 || c == 0x7f:
				// Control characters would act on the reader's terminal.
				i++
				continue
			}
			// A run of printable ASCII goes in at once.
			j := i + 1
			for j < len(s) && s[j] > ' ' && s[j] < 0x7f {
				j++
			}
			t.text(s[i:j])
			i = j
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case unicode.IsControl(r), r == '\u00ad':
			// A soft hyphen only shows where a browser breaks the word, and
			// this wrapping never breaks words.
		case r == utf8.RuneError && n == 1:
			t.text("\uFFFD")
		default:
			t.text(s[i : i+n])
		}
		i += n
	}
}

// text appends s, which holds no white space, after the pending space if
// there is one.
func (t *refInline) text(s string) {
	if t.space && t.buf.Len() > 0 && !t.lineStart {
		t.buf.WriteByte(' ')
	}
	t.space = false
	t.lineStart = false
	t.buf.WriteString(s)
}

// writeRaw appends s right after the last text, before any pending space,
// so a reference sticks to the link text: "docs[1] and".
func (t *refInline) writeRaw(s string) {
	t.buf.WriteString(s)
	t.lineStart = false
}

func (t *refInline) lineBreak() {
	t.buf.WriteByte('\n')
	t.space = false
	t.lineStart = true
}

// refWrap wraps collapsed text at width cells; "\n" in text are kept as
// line breaks, with at most one blank line in a row and none at the ends.
func refWrap(text string, width int) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		wrapped := refWrapLine(line, width)
		if len(wrapped) == 0 {
			if len(out) > 0 && out[len(out)-1] != "" {
				out = append(out, "")
			}
			continue
		}
		out = append(out, wrapped...)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// refWrapLine fills lines greedily with words, breaking only between
// words (and between the characters of Chinese or Japanese text); a word
// wider than the line gets a line of its own.
func refWrapLine(line string, width int) []string {
	var out []string
	// The line being filled; reused, as a strings.Builder would not be.
	cur := make([]byte, 0, min(len(line), max(width, 16)*2))
	curWidth := 0
	add := func(piece string, first bool) {
		w := refWidth(piece)
		space := first && len(cur) > 0
		need := w
		if space {
			need++
		}
		if width > 0 && len(cur) > 0 && curWidth+need > width {
			if l := refTrimRight(string(cur)); l != "" {
				out = append(out, l)
			}
			cur = cur[:0]
			curWidth, space, need = 0, false, w
		}
		if space {
			cur = append(cur, ' ')
		}
		cur = append(cur, piece...)
		curWidth += need
	}
	for rest := line; rest != ""; {
		var word string
		word, rest, _ = strings.Cut(rest, " ")
		if word == "" {
			continue
		}
		if !refMayBreakInside(word) {
			add(word, true)
			continue
		}
		for i, piece := range refPieces(word) {
			add(piece, i == 0)
		}
	}
	if l := refTrimRight(string(cur)); l != "" {
		out = append(out, l)
	}
	return out
}

// refWidth is uniseg.StringWidth, without its cost for printable ASCII,
// where every byte is one cell.
func refWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return uniseg.StringWidth(s)
		}
	}
	return len(s)
}

// refMayBreakInside reports whether refPieces could split word, that is
// whether it holds Chinese or Japanese characters.
func refMayBreakInside(word string) bool {
	for i := 0; i < len(word); i++ {
		if word[i] >= 0x80 {
			return strings.IndexFunc(word[i:], refNoSpaceScript) >= 0
		}
	}
	return false
}

// refPieces splits a word where a line may break inside it: only next to
// Chinese or Japanese characters, which are written without spaces, at the
// Unicode line-break opportunities (so "。" never starts a line), and never
// inside a grapheme cluster.
func refPieces(word string) []string {
	if !refMayBreakInside(word) {
		return []string{word}
	}
	// Starts and first runes of the grapheme clusters.
	var starts []int
	var bases []rune
	pos, state := 0, -1
	for rest := word; rest != ""; {
		var c string
		c, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		starts = append(starts, pos)
		bases = append(bases, []rune(c)[0])
		pos += len(c)
	}
	var pieces []string
	from, gi := 0, 0
	pos, state = 0, -1
	for rest := word; rest != ""; {
		var seg string
		seg, rest, _, state = uniseg.FirstLineSegmentInString(rest, state)
		pos += len(seg)
		if rest == "" {
			break
		}
		for gi < len(starts) && starts[gi] < pos {
			gi++
		}
		if gi < len(starts) && starts[gi] == pos && (refNoSpaceScript(bases[gi-1]) || refNoSpaceScript(bases[gi])) {
			pieces = append(pieces, word[from:pos])
			from = pos
		}
	}
	return append(pieces, word[from:])
}

// refNoSpaceScript reports whether r belongs to writing that puts no
// spaces between words (Chinese, Japanese), so lines may break between its
// characters and joined lines need no space.
func refNoSpaceScript(r rune) bool {
	switch {
	case r < 0x2e80:
		return false
	case r >= 0x3000 && r <= 0x303f, r >= 0xff00 && r <= 0xff9f:
		// CJK punctuation, fullwidth forms and halfwidth katakana.
		return true
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Bopomofo)
}

// refIndent prefixes the first line with first and the others, unless
// blank, with rest.
func refIndent(lines []string, first, rest string) []string {
	for i, l := range lines {
		switch {
		case i == 0:
			lines[i] = refTrimRight(first + l)
		case l != "":
			lines[i] = rest + l
		}
	}
	return lines
}

// refInner is the width left inside a prefix of n cells; at least one
// cell, so deep nesting still lays out one word per line.
func refInner(width, n int) int {
	if width == 0 {
		return 0
	}
	return max(width-n, 1)
}

func refAttr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

// refURL cleans an href as a browser does (tabs and newlines removed,
// control characters and spaces trimmed) and escapes inner spaces, which
// would end the link where a mail client makes URLs clickable.
func refURL(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, s)
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' })
	return strings.ReplaceAll(s, " ", "%20")
}

// refCollapse collapses whitespace in an attribute value as in text.
func refCollapse(s string) string {
	var t refInline
	t.write(s)
	return t.buf.String()
}

// refTrimRight drops trailing spaces, including no-break spaces, which
// show as spaces too.
func refTrimRight(s string) string {
	return strings.TrimRight(s, " \t\u00a0")
}
