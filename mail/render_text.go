package mail

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// textWidth is the column the text part is wrapped at.
const textWidth = 72

// oneLine makes s fit a header or a heading: control characters and line
// or paragraph separators become spaces, runs of spaces one space, and
// invalid UTF-8 the replacement character.
func oneLine(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// wrapText fills plain text into lines of at most width display cells
// (a CJK character is two). Lines break at spaces, and between wide (CJK)
// characters where Unicode line breaking allows, since those scripts have
// no spaces; never inside a link or a hyphenated word. A word wider than
// width gets a line of its own. Paragraphs (separated by a blank line)
// stay apart by one blank line; other line breaks and runs of spaces
// become one space.
func wrapText(width int, s string) string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		lines := wrapParagraph(oneLine(para), width)
		if len(lines) == 0 {
			continue
		}
		if len(out) > 0 {
			out = append(out, "")
		}
		out = append(out, lines...)
	}
	return strings.Join(out, "\n")
}

func wrapParagraph(p string, width int) []string {
	var lines []string
	var line strings.Builder
	lineWidth := 0
	for _, unit := range breakUnits(p) {
		w := uniseg.StringWidth(strings.TrimRight(unit, " "))
		if lineWidth > 0 && lineWidth+w > width {
			lines = append(lines, strings.TrimRight(line.String(), " "))
			line.Reset()
			lineWidth = 0
		}
		line.WriteString(unit)
		lineWidth += uniseg.StringWidth(unit)
	}
	if line.Len() > 0 {
		lines = append(lines, strings.TrimRight(line.String(), " "))
	}
	return lines
}

// breakUnits cuts p where a line may break: after a space, or where
// Unicode line breaking allows it next to a wide character.
func breakUnits(p string) []string {
	var units []string
	start, state := 0, -1
	for rest := p; rest != ""; {
		var seg string
		seg, rest, _, state = uniseg.FirstLineSegmentInString(rest, state)
		if rest == "" || strings.HasSuffix(seg, " ") || isWide(lastRune(seg)) || isWide(firstRune(rest)) {
			end := len(p) - len(rest)
			units = append(units, p[start:end])
			start = end
		}
	}
	return units
}

func isWide(r rune) bool { return r != utf8.RuneError && uniseg.StringWidth(string(r)) > 1 }

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// heading writes a title for the text part: wrapped at the text width
// and underlined with ch as wide as its widest line.
func heading(ch, title string) string {
	lines := wrapText(textWidth, title)
	w := 0
	for _, l := range strings.Split(lines, "\n") {
		w = max(w, uniseg.StringWidth(l))
	}
	return lines + "\n" + strings.Repeat(ch, w)
}
