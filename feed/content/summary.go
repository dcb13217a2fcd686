package content

import (
	"iter"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

var (
	summaryLinkRef  = regexp.MustCompile(`\[[0-9]+\]`)
	summaryImage    = regexp.MustCompile(`\[image: [^\]\n]*\]`)
	summaryTableSep = regexp.MustCompile(`^-+( \| -+)*$`)
	summarySpaces   = regexp.MustCompile(`  +`)
)

// firstParagraph returns the text of the first paragraph of article text as
// written by HTMLToText: the first block that is not a heading, a table, an
// image or the "Links:" block, with its "[n]" link references removed and
// its lines joined by spaces. A quoted paragraph is returned without its
// "> " markers, which are layout, not text. It returns "" when there is no
// such block.
func firstParagraph(text string) string {
	for block := range summaryBlocks(text) {
		if summaryQuoted(block) {
			for i, l := range block {
				block[i] = strings.TrimLeft(l, "> ")
			}
			if p := firstParagraph(strings.Join(block, "\n")); p != "" {
				return p
			}
			continue
		}
		if summarySkip(block) {
			continue
		}
		p := summaryJoin(block)
		p = summaryLinkRef.ReplaceAllString(p, "")
		p = strings.TrimSpace(summarySpaces.ReplaceAllString(p, " "))
		if p != "" {
			return p
		}
	}
	return ""
}

// summaryBlocks splits text at blank lines, a block at a time: the first
// paragraph is most often the first block, and an article's text need
// not be split whole to find it.
func summaryBlocks(text string) iter.Seq[[]string] {
	return func(yield func([]string) bool) {
		var cur []string
		for l := range strings.SplitSeq(text, "\n") {
			if strings.TrimSpace(l) == "" {
				if cur != nil {
					if !yield(cur) {
						return
					}
					cur = nil
				}
				continue
			}
			cur = append(cur, l)
		}
		if cur != nil {
			yield(cur)
		}
	}
}

func summaryQuoted(block []string) bool {
	for _, l := range block {
		if !strings.HasPrefix(l, ">") {
			return false
		}
	}
	return true
}

// summarySkip reports whether a block is not a paragraph: a heading (or a
// rule) underlined with "=" or "-", a table, only images, or the links.
func summarySkip(block []string) bool {
	if block[0] == "Links:" {
		return true
	}
	last := block[len(block)-1]
	if strings.Trim(last, "=") == "" || strings.Trim(last, "-") == "" {
		return true
	}
	rows := 0
	for _, l := range block {
		if summaryTableSep.MatchString(l) {
			return true
		}
		if strings.Contains(l, " | ") {
			rows++
		}
	}
	// A caption may stand above the rows.
	if rows > 0 && rows >= len(block)-1 {
		return true
	}
	p := summaryJoin(block)
	p = summaryLinkRef.ReplaceAllString(p, "")
	return strings.TrimSpace(summaryImage.ReplaceAllString(p, "")) == ""
}

// summaryJoin joins wrapped lines with a space, except between Chinese or
// Japanese characters, which HTMLToText wraps without a space to remove.
func summaryJoin(block []string) string {
	var sb strings.Builder
	for i, l := range block {
		l = strings.TrimSpace(l)
		if i > 0 && sb.Len() > 0 {
			prev, _ := utf8.DecodeLastRuneInString(sb.String())
			next, _ := utf8.DecodeRuneInString(l)
			if !plainNoSpaceScript(prev) && !plainNoSpaceScript(next) {
				sb.WriteByte(' ')
			}
		}
		sb.WriteString(l)
	}
	return sb.String()
}

// cutText shortens s to at most limit runes, the "…" it adds included,
// cutting at a word boundary near the limit. Where there is no space in the
// last 40% of the room (CJK text, a long URL) it cuts between grapheme
// clusters instead, so an emoji sequence, a flag or a letter with its
// accents is kept whole or left out whole. Punctuation such as "," ";" ":"
// left before the "…" is dropped. An s that fits is returned trimmed and
// otherwise unchanged.
func cutText(s string, limit int) string {
	s = strings.TrimSpace(s)
	if limit <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	room := limit - 1 // runes left for text next to the "…"
	// Where the clusters that fit start (their text is s up to end), and
	// the last space among or right after them.
	var startsBuf [64]int
	starts := startsBuf[:0]
	end, runes, space, spaceAt := 0, 0, -1, 0
	state := -1
	for rest := s; rest != ""; {
		var c string
		c, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		if cutSpace(c) {
			space, spaceAt = len(starts), runes
		}
		n := utf8.RuneCountInString(c)
		if runes+n > room {
			break
		}
		starts = append(starts, end)
		end += len(c)
		runes += n
	}
	// endOf is where the first k clusters end.
	endOf := func(k int) int {
		if k == len(starts) {
			return end
		}
		return starts[k]
	}
	k := len(starts)
	if space >= 0 && spaceAt*10 >= room*6 {
		k = space
	}
	for k > 0 && cutDroppable(s[starts[k-1]:endOf(k)]) {
		k--
	}
	return s[:endOf(k)] + "…"
}

func cutSpace(cluster string) bool {
	for _, r := range cluster {
		if !unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// cutDroppable reports whether a cluster left at the end of cut text would
// read badly before "…": spaces, and punctuation that announces more.
func cutDroppable(cluster string) bool {
	return cutSpace(cluster) || (utf8.RuneCountInString(cluster) == 1 && strings.Contains(",;:-–—([{/、，；：", cluster))
}
