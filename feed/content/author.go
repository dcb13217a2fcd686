package content

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// SplitAuthor splits an author line of plain text into the name a reader
// sees and the address the feed formats want: "Ana Lima <ana@example.org>"
// and "ana@example.org (Ana Lima)" are both ("Ana Lima",
// "ana@example.org"). An address alone is its own name; a line without an
// address is a name. JoinAuthor is its inverse.
func SplitAuthor(s string) (name, email string) {
	s = strings.TrimSpace(s)
	if strings.HasSuffix(s, ">") {
		if i := strings.LastIndexByte(s, '<'); i >= 0 && isAddress(s[i+1:len(s)-1]) {
			name, email = strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:len(s)-1])
		}
	} else if strings.HasSuffix(s, ")") {
		if i := strings.IndexByte(s, '('); i >= 0 && isAddress(strings.TrimSpace(s[:i])) {
			name, email = strings.TrimSpace(s[i+1:len(s)-1]), strings.TrimSpace(s[:i])
		}
	} else if isAddress(s) {
		return s, s
	}
	if email == "" {
		return s, ""
	}
	if name == "" {
		name = email
	}
	return name, email
}

// JoinAuthor writes a name and an address as one line that SplitAuthor
// reads back: "Name <address>", the address alone when it is the name,
// the name alone without an address.
func JoinAuthor(name, email string) string {
	switch {
	case email == "":
		return name
	case name == "" || name == email:
		return email
	}
	return name + " <" + email + ">"
}

// normAuthor reads a source's author line: split first, since an address
// in angle brackets would otherwise be taken for a tag, then the name
// made plain text. A line that holds its brackets as entities
// ("Ana &lt;ana@example.org&gt;") is split once decoded.
func normAuthor(raw string) (name, email string) {
	if n, e := SplitAuthor(raw); e != "" {
		name, _ = plainLine(unquote(n))
		if name == "" || name == e {
			name = e
		}
		return name, e
	}
	return SplitAuthor(PlainText(raw))
}

// isAddress reports whether s looks like one mail address: a local part,
// one @, a domain with a dot or a single label, nothing that would need
// quoting in a header and nothing invisible, so that every format can
// write it as it is.
func isAddress(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 || strings.IndexByte(s, '@') != at || len(s) > 254 || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) || r == '\uFFFD' || strings.ContainsRune("<>()[]\\,;:\"", r) {
			return false
		}
	}
	d := s[at+1:]
	return !strings.HasPrefix(d, ".") && !strings.HasSuffix(d, ".") && !strings.Contains(d, "..")
}

// unquote takes the quotes off a quoted display name.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}
