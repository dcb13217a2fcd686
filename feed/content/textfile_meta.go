package content

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The date and byline lines under a plain-text article's title: "By Ana
// Lima, Politics Desk | Published 3 June 2023, 14:05", "Updated 9 Jan 2024
// 07:30 (first published 8 Jan 2024 22:10)", "Reporter: Ana Lima".

// textMeta reports whether s is a date or byline line, and records what it
// holds in doc; a date that cannot be used becomes a warning naming line
// (none when line is 0). A line may combine parts: "By Jane Doe | Published
// November 3, 2026 | 6 min read". Besides the byline and dates, such a line
// may hold only short labels ("Harbour Gazette"): page furniture, safe to
// drop, where a sentence would be text lost.
func textMeta(doc *textDoc, s string, line int, loc *time.Location) bool {
	if len(s) > textMetaMax {
		return false // a paragraph
	}
	var author, role string
	var stamps []textStamp
	understood := false
	parts := []string{s}
	if strings.ContainsAny(s, "|·•—–") {
		parts = textMetaSep.Split(s, -1)
	}
	prev, prevAt := "", 0 // the last date part, and where its stamps start
	for _, p := range parts {
		if a, r, ok := textByline(p); ok {
			if author == "" {
				author, role = a, r
			}
			understood = true
			continue
		}
		dp, ok := textDatePart(p, loc)
		if ok && dp.timeOnly {
			// "3 June 2023 · 14:05 CET": the time completes the date before
			// it; else it is a label.
			ok = false
			if prev != "" {
				if dp, ok = textDatePart(prev+" "+p, loc); ok && !dp.timeOnly {
					stamps, p = stamps[:prevAt], prev+" "+p
				} else {
					ok = false
				}
			}
		}
		if ok {
			prev, prevAt = p, len(stamps)
			stamps = append(stamps, dp.stamps...)
			if author == "" && dp.author != "" {
				author, role = dp.author, dp.role
			}
			understood = true
			continue
		}
		if len(strings.Fields(p)) > 5 || textEndsSentence(p) {
			return false
		}
	}
	if !understood {
		return false
	}
	if doc.Author == "" {
		doc.Author, doc.Role = author, role
	}
	for _, st := range stamps {
		switch {
		case st.bad != "":
			if line > 0 {
				doc.Warnings = append(doc.Warnings, fmt.Sprintf("line %d %q: date not used: %s", line, s, st.bad))
			}
		case st.updated && doc.Updated.IsZero():
			doc.Updated = st.t
		case !st.updated && doc.Published.IsZero():
			doc.Published = st.t
		}
	}
	return true
}

// textMetaMax is the longest line, in bytes, that may be a date or byline
// line: "By Jane Doe | Published November 3, 2026 | Updated November 4,
// 2026 | 6 min read" is 85.
const textMetaMax = 200

var textMetaSep = regexp.MustCompile(` +[|·•—–] +`)

// textStamp is one date of a date line.
type textStamp struct {
	updated bool      // an "Updated ..." date, else the publication date
	t       time.Time // zero when bad
	bad     string    // why the date is not used
}

// textDateParse is what one part of a date line holds.
type textDateParse struct {
	stamps       []textStamp
	author, role string // from "Posted by Ana Lima on ..."
	timeOnly     bool   // only a time, as "14:05 CET"
}

// textDateKey reports whether w is a word that introduces a date, and
// whether that is an update; "first", "last" and "originally" may stand
// before them.
func textDateKey(w string) (updated, ok bool) {
	for _, k := range [...]string{"published", "posted", "date", "dated", "updated", "modified"} {
		if textIsWord(w, k) {
			return k == "updated" || k == "modified", true
		}
	}
	return false, false
}

// textDatePart reads p as a part of a date line: dates after their key
// words ("Published", "Updated", "first published"), or one bare date, and
// maybe a "by" name among them. ok is false when p is not such a part.
func textDatePart(p string, loc *time.Location) (textDateParse, bool) {
	type seg struct {
		keyed, updated bool
		from, to       int // its words, after the key word
	}
	// Every date holds a digit; without one, only "Posted by Ana Lima" is
	// a date part. Most lines asked about are text and stop here.
	if !strings.ContainsAny(p, "0123456789") && !strings.Contains(p, " by ") {
		return textDateParse{}, false
	}
	var buf [4]seg
	segs := buf[:1]
	words := strings.Fields(p)
	for i := 0; i < len(words); i++ {
		start := i
		if w := words[i]; (textIsWord(w, "first") || textIsWord(w, "last") || textIsWord(w, "originally")) && i+1 < len(words) {
			if _, ok := textDateKey(words[i+1]); ok {
				i++
			}
		}
		if upd, ok := textDateKey(words[i]); ok {
			segs[len(segs)-1].to = start
			segs = append(segs, seg{keyed: true, updated: upd, from: i + 1})
		}
	}
	segs[len(segs)-1].to = len(words)
	var out textDateParse
	for k, sg := range segs {
		if k == 0 && sg.to == 0 {
			continue
		}
		ws := words[sg.from:sg.to:sg.to]
		if b := slices.IndexFunc(ws, func(w string) bool { return textIsWord(w, "by") }); b >= 0 {
			e := b + 1
			for e < len(ws) && !textIsWord(ws[e], "on") && !textIsWord(ws[e], "at") {
				e++
			}
			name, role, ok := textName(strings.Join(ws[b+1:e], " "))
			if !ok {
				return textDateParse{}, false
			}
			if out.author == "" {
				out.author, out.role = name, role
			}
			ws = append(ws[:b:b], ws[e:]...)
		}
		if len(ws) == 0 {
			if !sg.keyed || out.author == "" {
				return textDateParse{}, false
			}
			continue // "Posted by Ana Lima"
		}
		named := len(ws) < sg.to-sg.from
		d := textReadDate(strings.Join(ws, " "), loc)
		switch {
		case sg.keyed && len(ws) <= 4 && textIsWord(ws[len(ws)-1], "ago"):
			out.stamps = append(out.stamps, textStamp{updated: sg.updated,
				bad: fmt.Sprintf("%q is relative to a day the file does not name", strings.Join(ws, " "))})
		case !d.t.IsZero():
			out.stamps = append(out.stamps, textStamp{updated: sg.updated, t: d.t})
		case d.bad != "":
			out.stamps = append(out.stamps, textStamp{updated: sg.updated, bad: d.bad})
		case d.timeOnly && !sg.keyed && len(segs) == 1:
			out.timeOnly = true
		case sg.keyed && d.shaped && !named: // "Published in 2023 by Penguin Books" is a credit, not a date line
			why := "it is not a whole date"
			if d.unknown != "" {
				why = fmt.Sprintf("%q is not part of a date this reader knows", d.unknown)
			}
			out.stamps = append(out.stamps, textStamp{updated: sg.updated, bad: why})
		default:
			return textDateParse{}, false
		}
	}
	return out, len(out.stamps) > 0 || out.timeOnly || out.author != ""
}

// textIsWord reports whether w is the lower-case word k in any case,
// without the punctuation around it: "(first" is "first", "Updated:" is
// "updated".
func textIsWord(w, k string) bool {
	if len(w) < len(k) || len(w) > len(k)+3 || w[0]|0x20 != k[0] && w[0] != '(' {
		return false // the common case, cheaply
	}
	return strings.EqualFold(strings.Trim(w, "():,;.[]"), k)
}

// textByline reads a byline: "By Ana Lima", "Words by Ana Lima", "— Ana
// Lima", "Transport correspondent: Ana Lima". It returns the name and, kept
// apart from it, the role or desk the line names ("Politics Desk").
func textByline(s string) (name, role string, ok bool) {
	r, _ := utf8.DecodeRuneInString(s)
	if !unicode.IsUpper(r) && r != '—' && r != '–' && r != '-' {
		return "", "", false
	}
	rest, label, ok := "", "", false
	for _, lead := range textBylineLeads {
		if len(s) > len(lead) && strings.EqualFold(s[:len(lead)], lead) {
			rest, ok = s[len(lead):], true
			break
		}
	}
	if !ok {
		l, after, found := strings.Cut(s, ":")
		if !found || len(l) > 60 {
			return "", "", false
		}
		words := strings.Fields(l)
		if len(words) == 0 || len(words) > 4 {
			return "", "", false
		}
		last := strings.ToLower(words[len(words)-1])
		if !textCredits[last] && !textRoles[last] {
			return "", "", false
		}
		rest, ok = after, true
		if textRoles[last] {
			label = l
		}
	}
	name, role, ok = textName(strings.TrimPrefix(strings.TrimSpace(rest), ":"))
	if !ok {
		return "", "", false
	}
	if label != "" && role != "" {
		role = label + ", " + role
	} else if label != "" {
		role = label
	}
	return name, role, true
}

// textBylineLeads open a byline.
var textBylineLeads = []string{"By ", "By:", "Words by ", "Written by ", "Story by ", "Text by ",
	"Reporting by ", "Report by ", "— ", "– ", "-- "}

// textCredits are labels that only say who wrote it ("Words: Ana Lima");
// textRoles also say in what role ("Reporter: Ana Lima") and mark a desk
// after the name ("Ana Lima, Politics Desk").
var (
	textCredits = map[string]bool{"by": true, "author": true, "authors": true, "words": true, "text": true,
		"story": true, "byline": true}
	textRoles = map[string]bool{"reporter": true, "correspondent": true, "editor": true, "writer": true,
		"columnist": true, "contributor": true, "desk": true, "bureau": true, "staff": true, "critic": true,
		"analyst": true, "journalist": true, "producer": true}
)

// textName reads the names of a byline, and the role or desk after them:
// "Ana Lima and Tomás Ruiz", "Ana Lima, Politics Desk", "Ana Lima in
// Lisbon", "Ana Lima (Reuters)". Every word of a name must be capitalized
// (or a particle like "van" or "and"), which keeps sentences such as "By
// the end of the week ..." out. A name in capitals is title-cased.
func textName(s string) (name, role string, ok bool) {
	s = strings.TrimSpace(strings.TrimRight(s, ". "))
	paren := ""
	if i := strings.IndexByte(s, '('); i > 0 && strings.HasSuffix(s, ")") {
		s, paren = s[:i], s[i+1:len(s)-1]
	}
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	names, tail := parts[:1], parts[1:]
	cut := len(tail)
	for k, t := range tail {
		if textHasRole(t) {
			cut = k
			break
		}
	}
	// "Ana Lima, Tomás Ruiz and Joe Bloggs, Politics Desk" lists names
	// before the desk; "Ana Lima, Reuters" names an agency.
	roles := tail
	if cut > 0 && textNameList(tail[cut-1]) {
		names, roles = parts[:1+cut], tail[cut:]
	}
	name = strings.Join(names, ", ")
	if i := strings.Index(name, " in "); i > 0 {
		roles = append([]string{name[i+1:]}, roles...)
		name = name[:i]
	}
	roles = append(roles, strings.TrimSpace(paren))
	role = strings.Join(slices.DeleteFunc(roles, func(s string) bool { return s == "" }), ", ")
	if !textNameOK(name) || role != "" && !textRoleOK(role) {
		return "", "", false
	}
	if strings.ToUpper(name) == name && strings.ContainsRune(name, ' ') {
		name = textTitleCase(name)
	}
	return name, role, true
}

// textNameList reports whether s, after a comma, ends a list of names:
// "Tomás Ruiz and Joe Bloggs", "and Joe Bloggs".
func textNameList(s string) bool {
	return strings.HasPrefix(s, "and ") || strings.HasPrefix(s, "& ") || strings.Contains(s, " and ") || strings.Contains(s, " & ")
}

func textHasRole(s string) bool {
	for w := range strings.FieldsSeq(s) {
		if w = strings.ToLower(w); textRoles[w] || textRoles[strings.TrimSuffix(w, "s")] {
			return true
		}
	}
	return false
}

// textNameOK reports whether s reads as one or more people's names.
func textNameOK(s string) bool {
	words := strings.Fields(s)
	if len(words) == 0 || len(words) > 8 || utf8.RuneCountInString(s) > 80 {
		return false
	}
	for i, w := range words {
		w = strings.Trim(w, ",&()")
		l := strings.ToLower(w)
		if w == "" || textParticles[l] {
			continue
		}
		r, _ := utf8.DecodeRuneInString(w)
		if !unicode.IsLetter(r) || unicode.IsLower(r) || strings.ContainsAny(w, "0123456789") ||
			textNotNames[l] && (i > 0 || l != "the") {
			return false
		}
		if _, month := textMonths[l]; len(words) == 1 && month {
			return false
		}
		// "Sun" and "Mon" are names too; "Friday" is not.
		if _, day := textWeekdays[l]; day && (len(words) == 1 || len(l) > 4) {
			return false
		}
	}
	return true
}

// textRoleOK reports whether s reads as a desk, an agency or a place, not
// as the rest of a sentence: short, every long word capitalized.
func textRoleOK(s string) bool {
	words := strings.Fields(s)
	if len(words) > 6 || textEndsSentence(s) {
		return false
	}
	for _, w := range words {
		w = strings.Trim(w, ",&()")
		r, _ := utf8.DecodeRuneInString(w)
		if unicode.IsLower(r) && utf8.RuneCountInString(w) > 3 && !textRoles[strings.ToLower(w)] {
			return false
		}
	}
	return true
}

// textTitleCase writes "ANA LIMA-RUIZ" as "Ana Lima-Ruiz".
func textTitleCase(s string) string {
	var b strings.Builder
	for i, w := range strings.Fields(s) {
		if i > 0 {
			b.WriteByte(' ')
		}
		if l := strings.ToLower(w); textParticles[l] {
			b.WriteString(l)
			continue
		}
		up := true
		for _, r := range w {
			if up {
				b.WriteRune(unicode.ToUpper(r))
			} else {
				b.WriteRune(unicode.ToLower(r))
			}
			up = !unicode.IsLetter(r) // "O'NEIL" is "O'Neil", "&AA" is "&Aa"
		}
	}
	return b.String()
}

var textParticles = map[string]bool{"and": true, "&": true, "de": true, "da": true, "das": true, "do": true,
	"dos": true, "del": true, "della": true, "di": true, "du": true, "van": true, "von": true, "der": true,
	"den": true, "ter": true, "ten": true, "la": true, "le": true, "bin": true, "bint": true, "ibn": true,
	"al": true, "y": true, "e": true, "zu": true}

// textNotNames are capitalized words that start a sentence or a heading
// after "By" ("By Then", "By Train To Lisbon"), never a name.
var textNotNames = map[string]bool{"the": true, "a": true, "an": true, "to": true, "of": true, "for": true,
	"with": true, "from": true, "into": true, "over": true, "under": true, "after": true, "before": true,
	"this": true, "that": true, "these": true, "those": true, "its": true, "our": true, "my": true,
	"your": true, "their": true, "his": true, "her": true, "we": true, "i": true, "you": true, "he": true,
	"she": true, "it": true, "they": true, "there": true, "then": true, "now": true, "when": true,
	"while": true, "far": true, "contrast": true, "comparison": true, "default": true, "design": true,
	"morning": true, "evening": true, "afternoon": true, "noon": true, "midnight": true, "tonight": true,
	"today": true, "tomorrow": true, "yesterday": true, "christmas": true, "easter": true, "all": true,
	"means": true, "way": true, "chance": true, "accident": true, "train": true, "bus": true, "rail": true,
	"road": true, "sea": true, "air": true, "foot": true, "car": true, "is": true, "was": true, "are": true}
