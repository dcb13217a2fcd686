package content

import (
	"html"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The block builder of plain-text articles: paragraphs, headings, lists and
// tables, and their HTML.

type textKind int

const (
	textPara textKind = iota
	textHeading
	textTOC // a "Table of Contents" line; a heading only if a list follows
	textList
	textTable
)

// textElem is one block of the output.
type textElem struct {
	kind    textKind
	text    string
	items   []string   // list items
	ordered bool       // numbered list
	start   int        // first number of a numbered list
	rows    [][]string // table rows, the header first
	// lower marks a heading taken for one only by its place, a line in
	// lower case alone between blank lines: with nothing under it, it is
	// the text's own last line, kept as a paragraph, not scraped chrome.
	lower bool
}

type textBuilder struct{ elems []textElem }

// block turns one run of non-blank lines into elements. Tables and lists are
// recognised wherever they start, since scraped text has no blank lines to
// set them apart.
func (b *textBuilder) block(lines []textLine) {
	var run []string
	flush := func() {
		b.run(run, len(lines) == 1)
		run = nil
	}
	for i := 0; i < len(lines); {
		s := lines[i].text
		switch {
		case strings.ContainsRune("-*_=", rune(s[0])) && textRule.MatchString(s):
			flush()
			i++
		case i+1 < len(lines) && textTableStart(s, lines[i+1].text):
			flush()
			i += b.table(lines[i:])
		case textListMarkerOK(s):
			flush()
			i += b.list(lines[i:])
		case textIsTOC(s):
			flush()
			b.elems = append(b.elems, textElem{kind: textTOC, text: s})
			i++
		case s[0] == '#' && textMDHeading.MatchString(s):
			flush()
			t, _ := textMDHeadingText(s)
			b.elems = append(b.elems, textElem{kind: textHeading, text: t})
			i++
		default:
			run = append(run, s)
			i++
		}
	}
	flush()
}

var (
	textRule       = regexp.MustCompile(`^([-*_=] ?){3,}$`)
	textMDHeading  = regexp.MustCompile(`^#{1,6} +[^#]`)
	textTableSep   = regexp.MustCompile(`^:?-+:?$`)
	textOrdered    = regexp.MustCompile(`^(\d{1,3})[.)] +(\S.*)$`)
	textBullet     = regexp.MustCompile(`^[-*•] +(\S.*)$`)
	textLeadIn     = regexp.MustCompile(`^(\p{Lu}[^\s:]*(?: [^\s:]+){0,2}):\s+(\S.*)$`)
	textSentenceIn = regexp.MustCompile(`\p{Ll}{3}[.!?] +\p{Lu}`)
	textTOCNames   = map[string]bool{"table of contents": true, "contents": true, "in this article": true,
		"in this story": true, "on this page": true, "jump to": true}
)

// textIsTOC reports whether s is a contents line ("Table of Contents:",
// "## In this article"), whose list scraping usually loses.
func textIsTOC(s string) bool {
	if t, ok := textMDHeadingText(s); ok {
		s = t
	}
	return textTOCNames[strings.ToLower(strings.TrimRight(s, ": "))]
}

// textMDHeadingText returns the text of a Markdown "## Heading ##" line.
func textMDHeadingText(s string) (string, bool) {
	if !strings.HasPrefix(s, "#") || !textMDHeading.MatchString(s) {
		return "", false
	}
	t := strings.TrimSpace(strings.TrimLeft(s, "#"))
	if i := strings.LastIndex(t, " #"); i >= 0 && strings.Trim(t[i:], " #") == "" {
		t = strings.TrimSpace(t[:i])
	}
	return t, t != ""
}

// run splits consecutive plain lines into paragraphs and headings.
//
// A line break inside a paragraph is a hard wrap when the next line starts
// in lower case after a line that does not end a sentence, or, in a run that
// looks hard-wrapped, when the next line's first word would not have fitted
// on the line (greedy wrapping: len(a)+1+len(next word) > the widest line).
// A run looks hard-wrapped when its lines are at most 100 characters and at
// least half its breaks look like wraps by that test and by the line not
// ending a sentence. Scraped text, one long line per paragraph, never does,
// so there every line is its own paragraph. A line standing alone, joined to
// neither neighbour, becomes a heading if it has a heading's shape; a line
// between paragraphs may be one even when it starts in lower case (lone:
// the run is a block of its own, blank lines around it).
func (b *textBuilder) run(run []string, lone bool) {
	if len(run) == 0 {
		return
	}
	width := 0
	for _, s := range run {
		width = max(width, utf8.RuneCountInString(s))
	}
	soft := 0
	for i := 0; i+1 < len(run); i++ {
		if textLowerAfter(run[i], run[i+1]) || textMustWrap(run[i], run[i+1], width) && !textEndsSentence(run[i]) {
			soft++
		}
	}
	wrapped := len(run) > 1 && width >= 40 && width <= 100 && 2*soft >= len(run)-1
	joins := make([]bool, len(run)) // joins[i]: line i continues line i-1
	for i := 1; i < len(run); i++ {
		a, s := run[i-1], run[i]
		joins[i] = textLowerAfter(a, s) ||
			wrapped && (textStartsLower(s) || textMustWrap(a, s, width) || !textEndsSentence(a) && !textIsHeading(a, false))
	}
	var para []string
	for i, s := range run {
		alone := !joins[i] && (i+1 == len(run) || !joins[i+1])
		if !joins[i] && len(para) > 0 {
			b.elems = append(b.elems, textElem{kind: textPara, text: textJoin(para)})
			para = nil
		}
		if alone && textIsHeading(s, false) {
			b.elems = append(b.elems, textElem{kind: textHeading, text: s})
			continue
		}
		// Between paragraphs: a block of its own, or, in text of one line
		// a paragraph, a line after one that ends a sentence, with more
		// to follow.
		between := lone && len(run) == 1 || !wrapped && i > 0 && i+1 < len(run) && textEndsSentence(run[i-1])
		if alone && between && textIsHeading(s, true) {
			b.elems = append(b.elems, textElem{kind: textHeading, text: s, lower: true})
			continue
		}
		para = append(para, s)
	}
	if len(para) > 0 {
		b.elems = append(b.elems, textElem{kind: textPara, text: textJoin(para)})
	}
}

// textJoin joins wrapped lines with spaces; a line ending in a hyphen after
// a letter keeps its hyphen and joins directly ("well-" "known").
func textJoin(lines []string) string {
	var sb strings.Builder
	for i, s := range lines {
		if i > 0 {
			prev := lines[i-1]
			r, _ := utf8.DecodeLastRuneInString(strings.TrimSuffix(prev, "-"))
			if !strings.HasSuffix(prev, "-") || !unicode.IsLetter(r) || !textStartsLower(s) {
				sb.WriteByte(' ')
			}
		}
		sb.WriteString(s)
	}
	return sb.String()
}

// textMustWrap reports whether b's first word would not have fitted after
// a on a line of the given width, so a greedy wrapper had to break there.
func textMustWrap(a, b string, width int) bool {
	first, _, _ := strings.Cut(b, " ")
	return utf8.RuneCountInString(a)+1+utf8.RuneCountInString(first) > width
}

func textLowerAfter(a, b string) bool { return textStartsLower(b) && !textEndsSentence(a) }

func textStartsLower(s string) bool {
	s = strings.TrimLeft(s, "\"'“‘(«")
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsLower(r)
}

// textLast is s's last rune after closing quotes and brackets.
func textLast(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(strings.TrimRight(s, "\"'”’»)]"))
	return r
}

func textEndsSentence(s string) bool {
	return strings.ContainsRune(".!?…:。！？", textLast(s))
}

// textIsHeading reports whether s has a heading's shape: short, starting
// with a capital or digit (or any letter, when lower is set: a line alone
// between blank lines), not ending like a sentence or a clause, holding
// no sentence break. A question is a heading only when short and title-cased
// ("Did You Know?"); "Will it hold?" stays a paragraph. "Label: words" is a
// lead-in, not a heading, unless three or more words follow the colon.
func textIsHeading(s string, lower bool) bool {
	words := strings.Fields(s)
	if len(words) == 0 || len(words) > 12 || utf8.RuneCountInString(s) > 90 {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	if !unicode.IsUpper(r) && !unicode.IsDigit(r) && (!unicode.IsLetter(r) || unicode.IsLower(r) && !lower) {
		return false
	}
	switch textLast(s) {
	case '.', ',', ';', ':', '!', '…', '。', '！', '、', '，':
		return false
	case '?', '？':
		if len(words) > 8 || !textTitleCased(words) {
			return false
		}
	}
	if strings.ContainsAny(s, ".!?") && textSentenceIn.MatchString(s) {
		return false
	}
	if _, rest, ok := textLeadInSplit(s); ok && len(strings.Fields(rest)) < 3 {
		return false
	}
	var doc textDoc // a dateline or byline further down is text, not a heading
	return !textMeta(&doc, s, 0, time.UTC)
}

// textTitleCased reports whether every word of four letters or more is
// capitalized; short words ("of", "and", "you") may be either.
func textTitleCased(words []string) bool {
	for _, w := range words {
		w = strings.TrimLeft(w, "\"'“‘(")
		r, _ := utf8.DecodeRuneInString(w)
		if utf8.RuneCountInString(strings.TrimRight(w, "?？\"'”’)")) >= 4 && unicode.IsLower(r) {
			return false
		}
	}
	return true
}

// textListMarker splits a list item line into its kind, number and text.
func textListMarker(s string) (ordered bool, num int, text string, ok bool) {
	if r, _ := utf8.DecodeRuneInString(s); !strings.ContainsRune("-*•", r) && (r < '0' || r > '9') {
		return false, 0, "", false
	}
	if m := textBullet.FindStringSubmatch(s); m != nil {
		return false, 0, m[1], true
	}
	if m := textOrdered.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return true, n, m[2], true
	}
	return false, 0, "", false
}

func textListMarkerOK(s string) bool {
	_, _, _, ok := textListMarker(s)
	return ok
}

// list reads consecutive items of one kind and returns how many lines it
// used. An indented line, or a lower-case one after an item that does not
// end a sentence, continues the item before it.
func (b *textBuilder) list(lines []textLine) int {
	ordered, start, first, _ := textListMarker(lines[0].text)
	parts := [][]string{{first}} // each item's lines
	i := 1
	for ; i < len(lines); i++ {
		s := lines[i].text
		if o, _, text, ok := textListMarker(s); ok {
			if o != ordered {
				break
			}
			parts = append(parts, []string{text})
			continue
		}
		last := &parts[len(parts)-1]
		if i+1 < len(lines) && textTableStart(s, lines[i+1].text) ||
			!lines[i].indent && !textLowerAfter((*last)[len(*last)-1], s) {
			break
		}
		*last = append(*last, s)
	}
	items := make([]string, len(parts))
	for j, p := range parts {
		items[j] = textJoin(p)
	}
	// Items split by blank lines ("loose" lists) are still one list.
	if n := len(b.elems); n > 0 {
		prev := &b.elems[n-1]
		if prev.kind == textList && prev.ordered == ordered && (!ordered || start == prev.start+len(prev.items)) {
			prev.items = append(prev.items, items...)
			return i
		}
	}
	b.elems = append(b.elems, textElem{kind: textList, items: items, ordered: ordered, start: start})
	return i
}

// textTableStart reports whether a and b open a pipe table: a header row
// and a separator row ("|---|:--:|") with the same number of cells.
func textTableStart(a, b string) bool {
	if !textHasPipe(a) || !textHasPipe(b) {
		return false
	}
	sep := textCells(b)
	for _, c := range sep {
		if !textTableSep.MatchString(c) {
			return false
		}
	}
	return len(sep) == len(textCells(a))
}

func textHasPipe(s string) bool { return strings.Contains(strings.ReplaceAll(s, `\|`, ""), "|") }

// textCells splits a table row; outer pipes are optional and "\|" is a
// pipe inside a cell.
func textCells(s string) []string {
	s = strings.TrimPrefix(s, "|")
	if strings.HasSuffix(s, "|") && !strings.HasSuffix(s, `\|`) {
		s = s[:len(s)-1]
	}
	var cells []string
	var cell strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && s[i+1] == '|':
			cell.WriteByte('|')
			i++
		case s[i] == '|':
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(s[i])
		}
	}
	return append(cells, strings.TrimSpace(cell.String()))
}

// table reads a pipe table and returns how many lines it used. Rows end at
// the first line without a pipe; each is cut or padded to the header's width.
func (b *textBuilder) table(lines []textLine) int {
	rows := [][]string{textCells(lines[0].text)}
	i := 2
	for ; i < len(lines) && textHasPipe(lines[i].text); i++ {
		row := textCells(lines[i].text)
		for len(row) < len(rows[0]) {
			row = append(row, "")
		}
		rows = append(rows, row[:len(rows[0])])
	}
	b.elems = append(b.elems, textElem{kind: textTable, rows: rows})
	return i
}

// render writes the elements one per line. Walking backwards, it drops
// headings with nothing under them (followed by another heading or the end:
// their section was lost in scraping) and contents lines with no list.
func (b *textBuilder) render() string {
	keep := make([]bool, len(b.elems))
	next := textKind(-1)
	for i := len(b.elems) - 1; i >= 0; i-- {
		e := &b.elems[i]
		switch e.kind {
		case textTOC:
			if next != textList {
				continue
			}
			e.kind = textHeading
		case textHeading:
			if (next == -1 || next == textHeading) && !e.lower {
				continue
			}
			if next == -1 || next == textHeading {
				e.kind = textPara
			}
		}
		keep[i], next = true, e.kind
	}
	esc := html.EscapeString
	var out []string
	for i, e := range b.elems {
		if !keep[i] {
			continue
		}
		var sb strings.Builder
		switch e.kind {
		case textHeading:
			sb.WriteString("<h2>" + esc(e.text) + "</h2>")
		case textPara:
			sb.WriteString("<p>" + textInline(e.text, false) + "</p>")
		case textList:
			tag := "ul"
			if e.ordered {
				tag = "ol"
			}
			if e.ordered && e.start != 1 {
				sb.WriteString(`<ol start="` + strconv.Itoa(e.start) + `">`)
			} else {
				sb.WriteString("<" + tag + ">")
			}
			for _, it := range e.items {
				sb.WriteString("<li>" + textInline(it, true) + "</li>")
			}
			sb.WriteString("</" + tag + ">")
		case textTable:
			sb.WriteString("<table><thead><tr>")
			for _, c := range e.rows[0] {
				sb.WriteString("<th>" + esc(c) + "</th>")
			}
			sb.WriteString("</tr></thead>")
			if len(e.rows) > 1 {
				sb.WriteString("<tbody>")
				for _, row := range e.rows[1:] {
					sb.WriteString("<tr>")
					for _, c := range row {
						sb.WriteString("<td>" + esc(c) + "</td>")
					}
					sb.WriteString("</tr>")
				}
				sb.WriteString("</tbody>")
			}
			sb.WriteString("</table>")
		}
		out = append(out, sb.String())
	}
	return strings.Join(out, "\n")
}

// textInline escapes s, setting a lead-in label ("Pro Tip:") in bold, and
// in a list item the question of a "Question? Answer." FAQ entry.
func textInline(s string, item bool) string {
	if q, a, ok := strings.Cut(s, "? "); item && ok && q != "" && strings.TrimSpace(a) != "" {
		return "<strong>" + html.EscapeString(q+"?") + "</strong> " + html.EscapeString(strings.TrimSpace(a))
	}
	if label, rest, ok := textLeadInSplit(s); ok {
		return "<strong>" + html.EscapeString(label+":") + "</strong> " + html.EscapeString(rest)
	}
	return html.EscapeString(s)
}

// textLeadInSplit splits "Pro Tip: Book early." into its label, of one to
// three words, and the text after the colon. A lower-case rest is more
// likely a sentence that quotes ("Officials said: the deal is done.").
func textLeadInSplit(s string) (label, rest string, ok bool) {
	if !strings.Contains(s, ": ") {
		return "", "", false
	}
	m := textLeadIn.FindStringSubmatch(s)
	if m == nil || utf8.RuneCountInString(m[1]) > 30 || textStartsLower(m[2]) {
		return "", "", false
	}
	return m[1], m[2], true
}
