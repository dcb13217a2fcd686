package content

import (
	"strings"
	"unicode"
)

// cleanLine makes s one line of printable text: control characters and line
// breaks become spaces, runs of space collapse. It reports whether it had to
// replace anything other than spaces at either end.
func cleanLine(s string) (string, bool) {
	repaired := false
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			repaired = true
			return ' '
		}
		return r
	}, s)
	return collapseSpace(s), repaired
}

// collapseSpace trims s and folds runs of white space into one space.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// cleanTags trims tags, drops empty ones and repeats (case-insensitively),
// keeping the author's order and spelling.
func cleanTags(tags []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, t := range tags {
		t, _ = cleanLine(t)
		k := strings.ToLower(t)
		if t == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	return out
}

// slugify lower-cases s and keeps letters and digits of any script, joined
// by single hyphens, so that non-Latin titles keep a readable slug.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		default:
			dash = true
		}
		if b.Len() > 80 {
			break
		}
	}
	return b.String()
}
