package content

import (
	"html"
	"strings"
	"unicode"
)

// PlainText reads a line of a source's metadata (a title, a summary, an
// author, a tag) as HTML and returns its text: tags are removed, then
// entities are decoded, exactly once, so "Tom &amp; Jerry&#39;s" is
// "Tom & Jerry's" and "&amp;lt;" is "&lt;". A '<' that opens no tag (one
// not followed by a letter, '/', '!' or '?', or never closed by a '>')
// is text, as a browser reads it. The result is one line (see cleanLine);
// every output escapes it again for its own format. A source whose text
// is literal, not HTML, escapes it with html.EscapeString first.
func PlainText(s string) string {
	t, _ := plainLine(s)
	return t
}

// plainLine is PlainText that also reports whether line breaks or
// control characters had to be replaced.
func plainLine(s string) (string, bool) {
	if strings.IndexByte(s, '<') >= 0 {
		s = stripTags(s)
	}
	if strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(s)
	}
	return cleanLine(s)
}

// stripTags removes the tags of s, keeping the text between them. Each
// tag stands for a space where it may separate words ("a<br>b" is "a b");
// cleanLine folds the spaces left. Comments are removed whole.
func stripTags(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 || i+1 >= len(s) {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		rest := s[i:]
		if strings.HasPrefix(rest, "<!--") {
			end := strings.Index(rest[4:], "-->")
			if end < 0 {
				return b.String() // an unclosed comment runs to the end
			}
			s = rest[4+end+3:]
			continue
		}
		c := rest[1]
		opens := c == '/' || c == '!' || c == '?' || c < 0x80 && unicode.IsLetter(rune(c))
		end := strings.IndexByte(rest, '>')
		if !opens || end < 0 {
			b.WriteByte('<')
			s = rest[1:]
			continue
		}
		if !inlineTag(rest[1:end]) {
			b.WriteByte(' ')
		}
		s = rest[end+1:]
	}
}

// inlineTag reports whether a tag (its text between < and >) is one of
// the phrasing elements that sit inside a word ("<b>Caf</b>é"); any other
// tag separates what is on either side of it.
func inlineTag(tag string) bool {
	tag = strings.TrimPrefix(tag, "/")
	name := tag
	if i := strings.IndexFunc(tag, func(r rune) bool { return unicode.IsSpace(r) || r == '/' }); i >= 0 {
		name = tag[:i]
	}
	switch strings.ToLower(name) {
	case "a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "kbd", "mark",
		"q", "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr", "del", "ins":
		return true
	}
	return false
}

// visible reports whether s has anything a reader would see: a rune that
// is neither space nor an invisible format character.
func visible(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsGraphic(r) && !unicode.IsSpace(r)
	}) >= 0
}
