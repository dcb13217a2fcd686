package content

import (
	"errors"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// textDoc is a plain-text article after parsing.
type textDoc struct {
	Title     string    // first non-empty line, whitespace collapsed, control chars removed
	Published time.Time // from a "Published ..." or "Posted on ..." line near the top; zero if none
	Author    string    // from a "By Jane Doe" line near the top, else ""
	HTML      string    // body HTML (everything after the title), all text HTML-escaped
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
		} else if textMeta(&doc, body[j].text, loc) {
			body[j].text = ""
		}
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

// textDateLayouts are the forms dates take on news pages.
var textDateLayouts = []string{
	time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02",
	"January 2, 2006", "Jan 2, 2006", "Jan. 2, 2006", "2 January 2006", "2 Jan 2006",
	"January 2, 2006 3:04 PM", "January 2, 2006 at 3:04 PM", "January 2, 2006, 3:04 PM",
	"Jan 2, 2006 3:04 PM", "Monday, January 2, 2006", "Monday, January 2, 2006 3:04 PM",
	"January 2, 2006 15:04", "January 2, 2006, 15:04", "January 2, 2006 at 15:04", "2 January 2006 15:04",
	"Jan 2, 2006 15:04", "Monday, January 2, 2006 15:04",
}

// textMeta reports whether s is a date or byline line, and records what it
// holds in doc. A line may combine parts: "By Jane Doe | Published November
// 3, 2026 | 6 min read". Besides the byline and dates, such a line may hold
// only short labels ("Harbour Gazette"): page furniture, safe to drop, where
// a sentence would be text lost.
func textMeta(doc *textDoc, s string, loc *time.Location) bool {
	var author string
	var published time.Time
	understood := false
	parts := []string{s}
	if strings.ContainsAny(s, "|·•—") {
		parts = textMetaSep.Split(s, -1)
	}
	for _, p := range parts {
		if a, ok := textByline(p); ok && author == "" {
			author, understood = a, true
		} else if t, ok := textDated(p, loc, "published", "posted"); ok && published.IsZero() {
			published, understood = t, true
		} else if _, ok := textDated(p, loc, "last updated", "updated"); ok {
			understood = true // the feed tracks edits itself; the page's claim is dropped
		} else if len(strings.Fields(p)) > 5 || textEndsSentence(p) {
			return false
		}
	}
	if !understood {
		return false
	}
	if doc.Author == "" {
		doc.Author = author
	}
	if doc.Published.IsZero() {
		doc.Published = published
	}
	return true
}

var textMetaSep = regexp.MustCompile(` +[|·•—] +`)

// textDated parses "Published: November 3, 2026" and the like, after one of
// the given lower-case prefixes, an optional colon and an optional "on".
func textDated(s string, loc *time.Location, prefixes ...string) (time.Time, bool) {
	for _, p := range prefixes {
		if len(s) <= len(p) || !strings.EqualFold(s[:len(p)], p) {
			continue
		}
		rest := strings.TrimSpace(strings.TrimPrefix(s[len(p):], ":"))
		if len(rest) > 3 && strings.EqualFold(rest[:3], "on ") {
			rest = rest[3:]
		}
		rest = strings.TrimRight(rest, ". ")
		for _, layout := range textDateLayouts {
			if t, err := time.ParseInLocation(layout, rest, loc); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// textByline reads "By Jane Doe". Every word of the name must be
// capitalized (or a particle like "van" or "and"), which keeps sentences
// such as "By the end of the week ..." out.
func textByline(s string) (string, bool) {
	if len(s) < 4 || (s[:2] != "By" && s[:2] != "BY") || (s[2] != ' ' && s[2] != ':') {
		return "", false
	}
	name := strings.TrimRight(strings.TrimSpace(strings.TrimPrefix(s[2:], ":")), ".")
	words := strings.Fields(name)
	if len(words) == 0 || len(words) > 8 || utf8.RuneCountInString(name) > 80 {
		return "", false
	}
	for _, w := range words {
		w = strings.Trim(w, ",&()")
		if w == "" || textParticles[strings.ToLower(w)] {
			continue
		}
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsLetter(r) || unicode.IsLower(r) {
			return "", false
		}
	}
	return name, true
}

var textParticles = map[string]bool{"and": true, "de": true, "da": true, "del": true, "di": true, "du": true,
	"van": true, "von": true, "der": true, "den": true, "la": true, "le": true, "bin": true, "al": true, "y": true}

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
