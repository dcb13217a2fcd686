package content

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
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

// cleanTags makes tags plain text, drops empty ones, ones of markup alone
// and repeats (case-insensitively),
// keeping the author's order and spelling.
func cleanTags(tags []string) []string {
	seen := map[string]bool{}
	out := []string{}
	for _, t := range tags {
		t = PlainText(t)
		k := strings.ToLower(t)
		if !visible(t) || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	return out
}

// slugMax is how long a slug may be, in bytes.
const slugMax = 80

// slugify lower-cases s and keeps letters and digits of any script, joined
// by single hyphens, so that non-Latin titles keep a readable slug. Latin
// letters lose their accents ("café" is "cafe") and an apostrophe joins
// what it stands between ("Jerry's" is "jerrys"). A slug longer than
// slugMax is cut after its last whole word that fits; only a first word
// longer than that is cut inside.
func slugify(s string) string {
	var words []string
	var w strings.Builder
	flush := func() {
		if w.Len() > 0 {
			words = append(words, w.String())
			w.Reset()
		}
	}
	var prev rune // the base letter the marks that follow belong to
	s = strings.ToLower(s)
	ascii := isASCII(s)
	if !ascii {
		s = norm.NFD.String(s)
	}
	nfc := func(s string) string {
		if ascii {
			return s
		}
		return norm.NFC.String(s)
	}
	for _, r := range s {
		switch {
		case r == '\'' || r == '’' || r == 'ʼ':
			// joins, separates nothing
		case unicode.IsMark(r):
			if !unicode.Is(unicode.Latin, prev) || !unicode.Is(unicode.Mn, r) {
				w.WriteRune(r)
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			prev = r
			if f, ok := latinFold[r]; ok {
				w.WriteString(f)
				continue
			}
			w.WriteRune(r)
		default:
			prev = 0
			flush()
		}
	}
	flush()
	var b strings.Builder
	for _, word := range words {
		if b.Len() == 0 && len(word) > slugMax {
			return nfc(cutBytes(word, slugMax))
		}
		if b.Len() > 0 && b.Len()+1+len(word) > slugMax {
			break
		}
		if b.Len() > 0 {
			b.WriteByte('-')
		}
		b.WriteString(word)
	}
	return nfc(b.String())
}

// latinFold spells Latin letters that have no decomposition in ASCII.
var latinFold = map[rune]string{'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ł': "l", 'þ': "th", 'ð': "d", 'ı': "i"}

// cutBytes cuts s to at most n bytes, at a rune boundary and not between a
// letter and its marks.
func cutBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	end := 0
	for i, r := range s {
		if i > n {
			break
		}
		if !unicode.IsMark(r) {
			end = i
		}
	}
	return s[:end]
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
