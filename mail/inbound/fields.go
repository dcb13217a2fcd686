package inbound

import (
	"strings"

	"github.com/emersion/go-message/textproto"
)

// field is one "Name: value" line, its name lower-cased and its folded
// continuation lines joined by single spaces.
type field struct {
	name, value string
}

// fieldGroup is a block of header-like fields: a message header, or one
// per-message or per-recipient block of a delivery-status part.
type fieldGroup []field

// get returns the value of the first field named name (lower case), or "".
func (g fieldGroup) get(name string) string {
	for _, f := range g {
		if f.name == name {
			return f.value
		}
	}
	return ""
}

// has reports whether a field named name (lower case) is present.
func (g fieldGroup) has(name string) bool {
	for _, f := range g {
		if f.name == name {
			return true
		}
	}
	return false
}

// values returns the values of every field named name (lower case).
func (g fieldGroup) values(name string) []string {
	var vs []string
	for _, f := range g {
		if f.name == name {
			vs = append(vs, f.value)
		}
	}
	return vs
}

// fromTextproto turns a header read by go-message into a fieldGroup, in
// the order the fields were written.
func fromTextproto(h textproto.Header) fieldGroup {
	g := make(fieldGroup, 0, h.Len())
	for fs := h.Fields(); fs.Next(); {
		g = append(g, field{name: strings.ToLower(fs.Key()), value: strings.TrimSpace(fs.Value())})
	}
	return g
}

const (
	maxGroups      = 64  // per delivery-status part: one per recipient, and then some
	maxGroupFields = 200 // per group
)

// parseFieldGroups reads blocks of fields separated by blank lines, the
// shape of a message/delivery-status or message/feedback-report body. It
// is lenient where go-message's header reader is strict, because these
// come from every MTA ever written: a line that is neither a field nor a
// continuation is skipped, not fatal.
func parseFieldGroups(b []byte) []fieldGroup {
	var groups []fieldGroup
	var cur fieldGroup
	last := -1 // index in cur of the field a continuation line extends
	flush := func() {
		if len(cur) > 0 && len(groups) < maxGroups {
			groups = append(groups, cur)
		}
		cur, last = nil, -1
	}
	for line := range lines(b) {
		switch {
		case isBlank(line):
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if last >= 0 {
				cur[last].value = joinFolded(cur[last].value, line)
			}
		default:
			name, value, ok := splitField(line)
			if !ok || len(cur) >= maxGroupFields {
				last = -1
				continue
			}
			cur = append(cur, field{name: name, value: value})
			last = len(cur) - 1
		}
	}
	flush()
	return groups
}

// parseHeaderBlock reads one header section from b: leading blank lines
// skipped, up to the first blank line after a field. Used for returned
// originals and for headers quoted in a bounce's text, which are often
// truncated or mangled.
func parseHeaderBlock(b []byte) fieldGroup {
	var g fieldGroup
	last := -1
	for line := range lines(b) {
		switch {
		case isBlank(line):
			if len(g) > 0 {
				return g
			}
		case line[0] == ' ' || line[0] == '\t':
			if last >= 0 {
				g[last].value = joinFolded(g[last].value, line)
			}
		default:
			name, value, ok := splitField(line)
			if !ok {
				if len(g) > 0 {
					return g // the body began without its blank line
				}
				continue
			}
			if len(g) >= maxGroupFields {
				return g
			}
			g = append(g, field{name: name, value: value})
			last = len(g) - 1
		}
	}
	return g
}

// lines yields the lines of b without their line ends (LF or CRLF).
func lines(b []byte) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		s := string(b)
		for s != "" {
			line, rest, _ := strings.Cut(s, "\n")
			s = rest
			if !yield(strings.TrimSuffix(line, "\r")) {
				return
			}
		}
	}
}

func isBlank(line string) bool {
	return strings.TrimLeft(line, " \t") == ""
}

// splitField splits "Name: value"; the name must be a field name (RFC
// 5322 printable ASCII without colon or space).
func splitField(line string) (name, value string, ok bool) {
	i := strings.IndexByte(line, ':')
	if i <= 0 {
		return "", "", false
	}
	n := strings.TrimRight(line[:i], " \t") // "Subject :" is seen in the wild
	if n == "" {
		return "", "", false
	}
	for j := 0; j < len(n); j++ {
		if c := n[j]; c <= ' ' || c > '~' {
			return "", "", false
		}
	}
	return strings.ToLower(n), strings.TrimSpace(line[i+1:]), true
}

const maxFieldValue = 8 << 10

func joinFolded(v, line string) string {
	if len(v) >= maxFieldValue {
		return v
	}
	line = strings.TrimSpace(line)
	if v == "" {
		return line
	}
	if line == "" {
		return v
	}
	return v + " " + line
}
