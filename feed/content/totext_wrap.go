package content

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// plainInline collects the inline text of a paragraph with whitespace
// collapsed as a browser does: runs of spaces, tabs and newlines become one
// space, dropped at the start and end of a line.
type plainInline struct {
	buf       []byte
	space     bool // whitespace seen, written only if more text follows on the line
	lineStart bool // the last thing written was a line break
}

func (t *plainInline) write(s string) {
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
			// A run of printable ASCII goes in at once, with the single
			// spaces between its words, which stay as they are.
			j := i + 1
			for j < len(s) {
				if c := s[j]; c > ' ' && c < 0x7f {
					j++
				} else if c == ' ' && j+1 < len(s) && s[j+1] > ' ' && s[j+1] < 0x7f {
					j += 2
				} else {
					break
				}
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

// text appends s, which starts and ends with no white space and holds no
// more than single spaces, after the pending space if there is one.
func (t *plainInline) text(s string) {
	if t.space && len(t.buf) > 0 && !t.lineStart {
		t.buf = append(t.buf, ' ')
	}
	t.space = false
	t.lineStart = false
	t.buf = append(t.buf, s...)
}

// writeRef appends the reference "[n]" right after the last text, before
// any pending space, so that it sticks to the link text: "docs[1] and".
func (t *plainInline) writeRef(n int) {
	t.buf = append(t.buf, '[')
	t.buf = strconv.AppendInt(t.buf, int64(n), 10)
	t.buf = append(t.buf, ']')
	t.lineStart = false
}

func (t *plainInline) lineBreak() {
	t.buf = append(t.buf, '\n')
	t.space = false
	t.lineStart = true
}

// outLine is one line of output, pre followed by s: pre holds the
// markers and indentation of the lists and quotes the line is in, s its
// text, most often a slice of its paragraph. Kept apart, they spare a new
// string for every line at every level of nesting.
type outLine struct{ pre, s string }

func (l outLine) String() string {
	if l.pre == "" {
		return l.s
	}
	return l.pre + l.s
}

func (l outLine) empty() bool { return l.pre == "" && l.s == "" }

// trimmed is the line without trailing spaces.
func (l outLine) trimmed() outLine {
	if s := plainTrimRight(l.s); s != "" {
		return outLine{pre: l.pre, s: s}
	}
	return outLine{pre: plainTrimRight(l.pre)}
}

// joinLines is strings.Join for lines.
func joinLines(lines []outLine, sep string) string {
	switch len(lines) {
	case 0:
		return ""
	case 1:
		return lines[0].String()
	}
	n := len(sep) * (len(lines) - 1)
	for _, l := range lines {
		n += len(l.pre) + len(l.s)
	}
	var sb strings.Builder
	sb.Grow(n)
	for i, l := range lines {
		if i > 0 {
			sb.WriteString(sep)
		}
		sb.WriteString(l.pre)
		sb.WriteString(l.s)
	}
	return sb.String()
}

// plainIndent prefixes the first line with first and the others, unless
// blank, with rest.
func plainIndent(lines []outLine, first, rest string) []outLine {
	for i, l := range lines {
		switch {
		case i == 0:
			switch {
			case l.empty():
				lines[i] = outLine{pre: plainTrimRight(first)}
			case l.s != "" && plainTrimRight(l.s) == l.s:
				// Nothing to trim at the end.
				lines[i] = outLine{pre: first + l.pre, s: l.s}
			default:
				lines[i] = outLine{s: plainTrimRight(first + l.String())}
			}
		case !l.empty():
			lines[i] = outLine{pre: rest + l.pre, s: l.s}
		}
	}
	return lines
}

// plainRules are the underlines of headings as wide as most are.
const (
	plainRuleEq   = "========================================================================================"
	plainRuleDash = "----------------------------------------------------------------------------------------"
)

// plainRule is strings.Repeat(mark, w), for mark "=" or "-".
func plainRule(mark string, w int) string {
	switch {
	case mark == "=" && w <= len(plainRuleEq):
		return plainRuleEq[:w]
	case mark == "-" && w <= len(plainRuleDash):
		return plainRuleDash[:w]
	}
	return strings.Repeat(mark, w)
}

// wrap appends collapsed text wrapped at width cells to out; "\n" in text
// are kept as line breaks, with at most one blank line in a row and none
// at the ends.
func (r *plainRenderer) wrap(out []outLine, text string, width int) []outLine {
	start := len(out)
	for rest := text; ; {
		line, after, more := strings.Cut(rest, "\n")
		n := len(out)
		out = r.wrapLine(out, line, width)
		if len(out) == n && len(out) > start && !out[len(out)-1].empty() {
			out = append(out, outLine{})
		}
		if !more {
			break
		}
		rest = after
	}
	for len(out) > start && out[len(out)-1].empty() {
		out = out[:len(out)-1]
	}
	return out
}

// wrapLine fills lines greedily with words, breaking only between words
// (and between the characters of Chinese or Japanese text); a word wider
// than the line gets a line of its own. It appends the lines to out.
func (r *plainRenderer) wrapLine(out []outLine, line string, width int) []outLine {
	if plainSimpleLine(line) {
		return plainWrapSimple(out, line, width)
	}
	f := lineFiller{line: line, width: width, out: out, buf: r.scratch}
	for pos := 0; pos < len(line); {
		// Words are short: a loop finds their end sooner than
		// strings.IndexByte, and sees on the way whether they are
		// printable ASCII, one cell a byte, with nowhere to break.
		end, ascii := pos, true
		for ; end < len(line) && line[end] != ' '; end++ {
			if c := line[end]; c < 0x20 || c >= 0x7f {
				ascii = false
			}
		}
		word := line[pos:end]
		switch {
		case word == "":
		case ascii:
			f.add(pos, word, len(word), true)
		case !plainMayBreakInside(word):
			f.add(pos, word, plainWidth(word), true)
		default:
			at := pos
			for i, piece := range plainPieces(word) {
				f.add(at, piece, plainWidth(piece), i == 0)
				at += len(piece)
			}
		}
		pos = end + 1
	}
	f.emit()
	r.scratch = f.buf[:0]
	return f.out
}

// plainSimpleLine reports whether line is printable ASCII words apart by
// single spaces, as most lines are: one cell a byte, breaks only at the
// spaces, lines that are slices of it.
func plainSimpleLine(line string) bool {
	if line == "" || line[0] == ' ' || line[len(line)-1] == ' ' {
		return false
	}
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c > ' ' && c < 0x7f:
		case c == ' ' && line[i+1] != ' ':
		default:
			return false
		}
	}
	return true
}

// plainWrapSimple is wrapLine for a plainSimpleLine: as many words on a
// line as fit, or one that does not.
func plainWrapSimple(out []outLine, line string, width int) []outLine {
	if width <= 0 {
		return append(out, outLine{s: line})
	}
	for len(line) > width {
		// The last space at most width bytes in ends the longest run of
		// words that fits.
		cut := strings.LastIndexByte(line[:width+1], ' ')
		if cut < 0 {
			// The first word is too long for any line: it gets one.
			if cut = strings.IndexByte(line, ' '); cut < 0 {
				break
			}
		}
		out = append(out, outLine{s: line[:cut]})
		line = line[cut+1:]
	}
	return append(out, outLine{s: line})
}

// lineFiller is the state of wrapLine. The line being filled is most
// often a slice of the paragraph's line, from and to, since words there
// are apart by one space as they are in the output; only when they are not
// is it built up in buf.
type lineFiller struct {
	line     string
	width    int
	out      []outLine
	from, to int  // the line being filled is line[from:to] ...
	split    bool // ... unless this is set: then it is buf
	buf      []byte
	cells    int // how wide the line being filled is
}

func (f *lineFiller) filled() bool { return f.to > f.from || f.split && len(f.buf) > 0 }

// add puts piece, found at line[at:] and w cells wide, on the line, after
// a space if it starts a word, or on a new line if it does not fit.
func (f *lineFiller) add(at int, piece string, w int, first bool) {
	space := first && f.filled()
	need := w
	if space {
		need++
	}
	if f.width > 0 && f.filled() && f.cells+need > f.width {
		f.emit()
		space, need = false, w
	}
	end := at + len(piece)
	switch {
	case f.split:
	case !f.filled():
		f.from, f.to = at, end
	case space && at == f.to+1 && f.line[f.to] == ' ', !space && at == f.to:
		f.to = end
	default:
		f.split = true
		f.buf = append(f.buf[:0], f.line[f.from:f.to]...)
	}
	if f.split {
		if space {
			f.buf = append(f.buf, ' ')
		}
		f.buf = append(f.buf, piece...)
	}
	f.cells += need
}

// emit ends the line being filled, if it has anything but spaces.
func (f *lineFiller) emit() {
	var l string
	if f.split {
		l = plainTrimRight(string(f.buf))
	} else {
		l = plainTrimRight(f.line[f.from:f.to])
	}
	if l != "" {
		f.out = append(f.out, outLine{s: l})
	}
	f.from, f.to, f.split, f.buf, f.cells = 0, 0, false, f.buf[:0], 0
}

// plainWidth is uniseg.StringWidth, without its cost for printable ASCII,
// where every byte is one cell.
func plainWidth(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return uniseg.StringWidth(s)
		}
	}
	return len(s)
}

// plainMayBreakInside reports whether plainPieces could split word, that is
// whether it holds Chinese or Japanese characters.
func plainMayBreakInside(word string) bool {
	for i := 0; i < len(word); i++ {
		if word[i] >= 0x80 {
			return strings.IndexFunc(word[i:], plainNoSpaceScript) >= 0
		}
	}
	return false
}

// plainPieces splits a word where a line may break inside it: only next to
// Chinese or Japanese characters, which are written without spaces, at the
// Unicode line-break opportunities (so "。" never starts a line), and never
// inside a grapheme cluster.
func plainPieces(word string) []string {
	if !plainMayBreakInside(word) {
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
		if gi < len(starts) && starts[gi] == pos && (plainNoSpaceScript(bases[gi-1]) || plainNoSpaceScript(bases[gi])) {
			pieces = append(pieces, word[from:pos])
			from = pos
		}
	}
	return append(pieces, word[from:])
}

// plainNoSpaceScript reports whether r belongs to writing that puts no
// spaces between words (Chinese, Japanese), so lines may break between its
// characters and joined lines need no space.
func plainNoSpaceScript(r rune) bool {
	switch {
	case r < 0x2e80:
		return false
	case r >= 0x3000 && r <= 0x303f, r >= 0xff00 && r <= 0xff9f:
		// CJK punctuation, fullwidth forms and halfwidth katakana.
		return true
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Bopomofo)
}

// plainCollapse collapses whitespace in an attribute value as in text.
func plainCollapse(s string) string {
	var t plainInline
	t.write(s)
	return string(t.buf)
}

// plainTrimRight drops trailing spaces, including no-break spaces, which
// show as spaces too.
func plainTrimRight(s string) string {
	// Most lines end in none of them; a no-break space ends in 0xa0.
	if s == "" || s[len(s)-1] != ' ' && s[len(s)-1] != '\t' && s[len(s)-1] != 0xa0 {
		return s
	}
	return strings.TrimRight(s, " \t\u00a0")
}
