package content

import (
	"strings"
	"time"
	"unicode/utf8"
)

// flatYAML reads a YAML head of the shape nearly every article has, one
// "key: value" a line, whose values are plain or simply quoted strings,
// timestamps, empty, or a flow list of strings ("tags: [a, b]"), into
// what yaml.v3 decodes it to. It reports false for anything else, and
// the head then goes to yaml.v3: the YAML decoder is about a tenth of a
// first scan's parsing, for five lines an article. It never takes a head
// that yaml.v3 would read otherwise or refuse (FuzzFlatYAML holds it to
// that).
func flatYAML(head string) (map[string]any, bool) {
	if !flatYAMLText(head) {
		return nil, false
	}
	m := make(map[string]any, 8)
	for line := range strings.SplitSeq(head, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimLeft(line, " ") == "" || line[0] == '#' {
			continue
		}
		key, rest, ok := strings.Cut(line, ":")
		if !ok || !flatYAMLKey(key) {
			return nil, false
		}
		if _, dup := m[key]; dup {
			return nil, false // yaml.v3 refuses it, with the line
		}
		if rest != "" && rest[0] != ' ' {
			return nil, false
		}
		v, ok := flatYAMLValue(strings.Trim(rest, " "))
		if !ok {
			return nil, false
		}
		m[key] = v
	}
	return m, true
}

// flatYAMLText reports whether head is free of what makes YAML text more
// than lines of keys: invalid UTF-8, a byte order mark, tabs, control
// characters and the line breaks other than LF and CRLF that YAML also
// breaks lines at.
func flatYAMLText(head string) bool {
	if !utf8.ValidString(head) {
		return false
	}
	for i, r := range head {
		switch {
		case r == '\n':
		case r == '\r':
			if i+1 >= len(head) || head[i+1] != '\n' {
				return false
			}
		case r < 0x20, r >= 0x7f && r <= 0x9f, r == '\u2028', r == '\u2029', r == '\ufeff', r >= 0xfffe && r <= 0xffff, r >= 0xd800 && r <= 0xdfff:
			return false
		}
	}
	return true
}

// flatYAMLKey reports whether key is a word that YAML reads as a string:
// letters, digits and underscores, a letter first, and none of the
// words it reads as true, false or null.
func flatYAMLKey(key string) bool {
	// YAML lets an implicit key run to 1,024 characters; none is that long.
	if key == "" || len(key) > 128 || !isASCIILetter(key[0]) {
		return false
	}
	for i := 1; i < len(key); i++ {
		if c := key[i]; !isASCIILetter(c) && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return !yamlKeyword(key)
}

// flatYAMLValue reads one value: "" is null, a quoted string without
// escapes or quotes inside is its text, "[...]" a list of such strings or
// plain words, and a plain scalar a string or, when yaml.v3 would make it
// one, a timestamp. Numbers, booleans, nulls spelled out, comments and
// anything with an indicator YAML gives a meaning are not read here.
func flatYAMLValue(v string) (any, bool) {
	switch {
	case v == "":
		return nil, true
	case v[0] == '[':
		if v[len(v)-1] != ']' {
			return nil, false
		}
		inner := strings.Trim(v[1:len(v)-1], " ")
		items := []any{}
		if inner == "" {
			return items, true
		}
		for item := range strings.SplitSeq(inner, ",") {
			s, ok := flatYAMLString(strings.Trim(item, " "), true)
			if !ok {
				return nil, false
			}
			items = append(items, s)
		}
		return items, true
	case v[0] >= '0' && v[0] <= '9':
		if !flatYAMLPlain(v, false) {
			return nil, false
		}
		if t, ok := yamlTimestamp(v); ok {
			return t, true
		}
		if strings.IndexByte(v, ' ') >= 0 {
			return v, true // "2024-01-05 10:00": no form of number holds a space
		}
		return nil, false // a number, or what yaml.v3 tries as one
	}
	return flatYAMLString(v, false)
}

// flatYAMLString reads a quoted string without escapes or quotes inside,
// or a plain scalar that YAML reads as a string (see flatYAMLPlain); in a
// flow list (inFlow) commas and brackets end a plain scalar.
func flatYAMLString(v string, inFlow bool) (string, bool) {
	if v == "" {
		return "", false
	}
	switch q := v[0]; q {
	case '"', '\'':
		if len(v) < 2 || v[len(v)-1] != q {
			return "", false
		}
		inner := v[1 : len(v)-1]
		if strings.IndexByte(inner, q) >= 0 || (q == '"' && strings.IndexByte(inner, '\\') >= 0) {
			return "", false
		}
		if inFlow && strings.ContainsAny(inner, "[]{},") {
			return "", false
		}
		return inner, true
	}
	if !flatYAMLPlain(v, inFlow) {
		return "", false
	}
	c := v[0]
	if (c >= '0' && c <= '9') || c == '+' || c == '.' || yamlKeyword(v) {
		return "", false // a number, a float, a bool or a null
	}
	return v, true
}

// flatYAMLPlain reports whether v is a plain scalar on one line that
// starts with no YAML indicator and holds no comment, no ": " or final
// ":" (a mapping), and, in a flow list, no comma or bracket.
func flatYAMLPlain(v string, inFlow bool) bool {
	if v == "" || strings.ContainsRune("-?:,[]{}#&*!|>'\"%@`~<=", rune(v[0])) {
		return false
	}
	if strings.Contains(v, " #") || strings.Contains(v, ": ") || v[len(v)-1] == ':' || v[len(v)-1] == ' ' {
		return false
	}
	if inFlow && strings.ContainsAny(v, "[]{},:") {
		return false
	}
	return true
}

// yamlKeyword reports whether YAML reads s as a boolean or a null.
func yamlKeyword(s string) bool {
	switch s {
	case "true", "True", "TRUE", "false", "False", "FALSE", "null", "Null", "NULL":
		return true
	}
	return false
}

// yamlTimestamps are the layouts yaml.v3 reads an unquoted timestamp in.
var yamlTimestamps = []string{"2006-1-2T15:4:5.999999999Z07:00", "2006-1-2t15:4:5.999999999Z07:00", "2006-1-2 15:4:5.999999999", "2006-1-2"}

// yamlTimestamp reads s as yaml.v3 reads an unquoted timestamp: four
// digits and a hyphen first, then one of its layouts.
func yamlTimestamp(s string) (time.Time, bool) {
	if len(s) < 5 || s[4] != '-' {
		return time.Time{}, false
	}
	for i := range 4 {
		if s[i] < '0' || s[i] > '9' {
			return time.Time{}, false
		}
	}
	for _, layout := range yamlTimestamps {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }
