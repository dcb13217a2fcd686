package content

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
)

// This file is the fast pass's copy of the renderer's policy: what
// bluemonday v1.0.27's UGCPolicy, with id allowed on headings, allows, as
// its policies.go, helpers.go and sanitize.go (sanitizeAttrs, validURL)
// say. sanitize_policy_test.go holds it to the policy's own tables.

// Patterns the policy uses that bluemonday does not export, as UGCPolicy
// and AllowStandardAttributes write them.
var (
	ugcLang   = regexp.MustCompile(`[a-zA-Z]{2,20}`)
	ugcID     = regexp.MustCompile(`[a-zA-Z0-9\:\-_\.]+`)
	ugcUsemap = regexp.MustCompile(`(?i)^#[\p{L}\p{N}_-]+$`)
	ugcScope  = regexp.MustCompile(`(?i)(?:row|col)(?:group)?`)
)

// ugcKind sorts elements by what the policy allows on them.
type ugcKind uint8

const (
	kindUnknown  ugcKind = iota // the fast pass gives up
	kindDropped                 // not allowed: the tag goes, its content stays
	kindPlain                   // allowed, with the global attributes only
	kindHeading                 // h1-h6: id as space-separated tokens too
	kindQuote                   // blockquote, q: cite, a URL
	kindChange                  // del, ins: cite (a paragraph and a URL), datetime
	kindA                       // a: href, a URL; dropped without attributes
	kindImg                     // img: align, alt, height, width, src, usemap; dropped without attributes
	kindList                    // ol, ul: type
	kindLi                      // li: type, value
	kindTable                   // table: height, width, summary
	kindRowGroup                // thead, tbody, tfoot, tr: align, valign
	kindCell                    // td, th
	kindCol                     // col, colgroup
)

// ugcElement says how the policy treats an element by its lower-case
// name. An element the policy allows and the fast pass does not handle
// (details, map, area, time, bdi, bdo, meter, progress), one whose content
// it skips, one the tokenizer reads raw text in, and a name of anything
// but letters, digits and hyphens are kindUnknown.
func ugcElement(name []byte) ugcKind {
	switch string(name) {
	case "article", "aside", "figure", "section", "summary", "hgroup",
		"br", "div", "hr", "p", "span", "wbr",
		"abbr", "acronym", "cite", "code", "dfn", "em", "figcaption", "mark",
		"s", "samp", "strong", "sub", "sup", "var",
		"b", "i", "pre", "small", "strike", "tt", "u",
		"rp", "rt", "ruby", "dl", "dt", "dd", "caption":
		return kindPlain
	case "h1", "h2", "h3", "h4", "h5", "h6":
		return kindHeading
	case "blockquote", "q":
		return kindQuote
	case "del", "ins":
		return kindChange
	case "a":
		return kindA
	case "img":
		return kindImg
	case "ol", "ul":
		return kindList
	case "li":
		return kindLi
	case "table":
		return kindTable
	case "thead", "tbody", "tfoot", "tr":
		return kindRowGroup
	case "td", "th":
		return kindCell
	case "col", "colgroup":
		return kindCol
	case "details", "map", "area", "time", "bdi", "bdo", "meter", "progress",
		// skipped content
		"frame", "frameset", "iframe", "noembed", "noframes", "noscript", "nostyle", "object", "script", "style", "title",
		// raw text to the tokenizer
		"plaintext", "textarea", "xmp":
		return kindUnknown
	}
	if len(name) == 0 || name[0] < 'a' || name[0] > 'z' {
		return kindUnknown
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return kindUnknown
		}
	}
	return kindDropped
}

// needsAttrs reports whether the policy drops the element when it is left
// with no attribute.
func (k ugcKind) needsAttrs() bool { return k == kindA || k == kindImg }

// checksURL reports whether the policy allows attribute key on an
// element of kind k as a URL it checks: a href, img src, and cite on
// blockquote, q, del and ins (where it must be a paragraph as well).
func (k ugcKind) checksURL(key string) bool {
	switch k {
	case kindA:
		return key == "href"
	case kindImg:
		return key == "src"
	case kindQuote, kindChange:
		return key == "cite"
	}
	return false
}

// allows reports whether the policy keeps attribute key, not one it
// checks as a URL, with value val on an element of kind k.
func (k ugcKind) allows(key string, val []byte) bool {
	ok := false
	switch k {
	case kindHeading:
		ok = key == "id" && bluemonday.SpaceSeparatedTokens.Match(val)
	case kindChange:
		ok = key == "datetime" && bluemonday.ISO8601.Match(val)
	case kindImg:
		switch key {
		case "align":
			ok = bluemonday.ImageAlign.Match(val)
		case "alt":
			ok = bluemonday.Paragraph.Match(val)
		case "height", "width":
			ok = bluemonday.NumberOrPercent.Match(val)
		case "usemap":
			ok = ugcUsemap.Match(val)
		}
	case kindList:
		ok = key == "type" && bluemonday.ListType.Match(val)
	case kindLi:
		switch key {
		case "type":
			ok = bluemonday.ListType.Match(val)
		case "value":
			ok = bluemonday.Integer.Match(val)
		}
	case kindTable:
		switch key {
		case "height", "width":
			ok = bluemonday.NumberOrPercent.Match(val)
		case "summary":
			ok = bluemonday.Paragraph.Match(val)
		}
	case kindRowGroup:
		ok = rowAttr(key, val)
	case kindCell:
		switch key {
		case "abbr":
			ok = bluemonday.Paragraph.Match(val)
		case "colspan", "rowspan":
			ok = bluemonday.Integer.Match(val)
		case "headers":
			ok = bluemonday.SpaceSeparatedTokens.Match(val)
		case "height", "width":
			ok = bluemonday.NumberOrPercent.Match(val)
		case "scope":
			ok = ugcScope.Match(val)
		case "nowrap": // the policy's pattern, (?i)|nowrap, matches anything
			ok = true
		default:
			ok = rowAttr(key, val)
		}
	case kindCol:
		switch key {
		case "height", "width":
			ok = bluemonday.NumberOrPercent.Match(val)
		case "span":
			ok = bluemonday.Integer.Match(val)
		default:
			ok = rowAttr(key, val)
		}
	}
	if ok {
		return true
	}
	switch key { // on any element
	case "dir":
		ok = bluemonday.Direction.Match(val)
	case "lang":
		ok = ugcLang.Match(val)
	case "id":
		ok = ugcID.Match(val)
	case "title":
		ok = bluemonday.Paragraph.Match(val)
	}
	return ok
}

func rowAttr(key string, val []byte) bool {
	switch key {
	case "align":
		return bluemonday.CellAlign.Match(val)
	case "valign":
		return bluemonday.CellVerticalAlign.Match(val)
	}
	return false
}

// ugcURL is the policy's validURL: the URL as it writes it, and whether it
// keeps it. sure is false for a data: URL with white space in it, which the
// policy treats in a way the fast pass does not follow.
func ugcURL(raw string) (u string, ok, sure bool) {
	raw = strings.TrimSpace(raw)
	if strings.ContainsAny(raw, " \t\n") {
		if strings.HasPrefix(raw, "data:") {
			return "", false, false
		}
		return "", false, true
	}
	p, err := url.Parse(raw)
	if err != nil {
		return "", false, true
	}
	switch p.Scheme {
	case "":
		u = p.String()
		return u, u != "", true
	case "mailto", "http", "https":
		return p.String(), true, true
	}
	return "", false, true
}
