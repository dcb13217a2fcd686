package content

import (
	"errors"
	"strings"
	"time"
	"unicode"
)

// textDoc is a plain-text article after parsing.
type textDoc struct {
	Title string // first non-empty line, whitespace collapsed, control chars removed
	// Published and Updated come from the date lines near the top
	// ("Published ...", a bare date, "Updated ..."); zero if none. With
	// only an updated date, Published is that date too: the article is
	// no newer than its last edit.
	Published, Updated time.Time
	Author             string   // from a byline near the top ("By Jane Doe"), else ""
	Role               string   // the desk or role the byline names beside the author ("Politics Desk")
	HTML               string   // body HTML (everything after the title), all text HTML-escaped
	Warnings           []string // date lines whose date is not used, and why
}

// parseText parses a plain-text article. data may have a UTF-8 BOM and CRLF
// or CR line ends. Zone-less dates are read in loc (UTC when nil).
//
// Plain-text articles come in two shapes and both must read like the page
// they were taken from: scraped pages, one paragraph per line with headings,
// lists and pipe tables between them and no blank lines at all; and classic
// text, paragraphs separated by blank lines and hard-wrapped at ~72 columns.
// The parser therefore decides line by line, from the shape of each line and
// its neighbours, what block it starts; see (*textBuilder).run for paragraphs.
func parseText(data string, loc *time.Location) (textDoc, error) {
	if loc == nil {
		loc = time.UTC
	}
	lines := textLines(data)
	i := 0
	for i < len(lines) && lines[i].text == "" {
		i++
	}
	if i == len(lines) {
		return textDoc{}, errors.New("plain-text article: no title line, the file is blank")
	}
	doc := textDoc{Title: lines[i].text}
	if t, ok := textMDHeadingText(doc.Title); ok {
		doc.Title = t // a Markdown-minded writer's "# Title"
	}
	body := lines[i+1:]

	// Date and byline sit just under the title; further down, a line
	// starting "By ..." is more likely a sentence ("By Friday, ...").
	for j, seen := 0, 0; j < len(body) && seen < textHeaderLines; j++ {
		if body[j].text == "" {
			continue
		}
		seen++
		if body[j].text == doc.Title {
			body[j].text = "" // scrapers often repeat the title as the page's <h1>
		} else if textMeta(&doc, body[j].text, i+2+j, loc) {
			body[j].text = ""
		}
	}
	if doc.Published.IsZero() {
		doc.Published = doc.Updated
	}
	textTrimShare(body)

	var b textBuilder
	for start := 0; start < len(body); {
		end := start
		for end < len(body) && body[end].text != "" {
			end++
		}
		if end > start {
			b.block(body[start:end])
		}
		start = end + 1
	}
	doc.HTML = b.render()
	return doc, nil
}

// textHeaderLines is how many non-blank lines under the title may hold the
// date and byline.
const textHeaderLines = 5

// textLine is one input line with white space collapsed and control
// characters removed; indent records leading space, which marks a list
// item's continuation.
type textLine struct {
	text   string
	indent bool
}

func textLines(data string) []textLine {
	data = strings.TrimPrefix(data, "\uFEFF")
	data = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\u2028", "\n", "\u2029", "\n").Replace(data)
	raw := strings.Split(data, "\n")
	lines := make([]textLine, len(raw))
	for i, s := range raw {
		lines[i].indent = s != "" && (s[0] == ' ' || s[0] == '\t')
		lines[i].text = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
			if r == '\t' {
				return ' '
			}
			if unicode.IsControl(r) || r == '\uFEFF' {
				return -1
			}
			return r
		}, s)), " ")
	}
	return lines
}

// textTrimShare blanks the closing "Share this article" line, and the row
// of network names that usually follows it, when it is among the last few
// lines: it is page furniture, not part of the story.
func textTrimShare(lines []textLine) {
	for i, n := len(lines)-1, 0; i >= 0 && n < 4; i-- {
		s := lines[i].text
		if s == "" || textSocial(s) {
			continue
		}
		n++
		if textShare(s) {
			lines[i].text = ""
			for j := i + 1; j < len(lines) && (lines[j].text == "" || textSocial(lines[j].text)); j++ {
				lines[j].text = ""
			}
		}
	}
}

func textShare(s string) bool {
	l := strings.ToLower(strings.TrimRight(s, ":.!… "))
	if len(strings.Fields(l)) > 12 {
		return false
	}
	return l == "share" || strings.HasPrefix(l, "share this") || strings.HasPrefix(l, "share on ") ||
		strings.HasPrefix(l, "share via ") || strings.HasPrefix(l, "share the ")
}

// textSocial reports whether s only names networks: "Facebook | X | Email".
func textSocial(s string) bool {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) })
	for _, w := range words {
		if !textNetworks[w] {
			return false
		}
	}
	return len(words) > 0
}

var textNetworks = map[string]bool{"facebook": true, "twitter": true, "x": true, "linkedin": true, "email": true,
	"e": true, "mail": true, "whatsapp": true, "reddit": true, "telegram": true, "copy": true, "link": true,
	"print": true, "pinterest": true, "bluesky": true, "threads": true, "mastodon": true, "messenger": true}
