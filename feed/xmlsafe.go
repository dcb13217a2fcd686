package feed

import (
	"strings"
	"unicode/utf8"
)

// xmlSafe drops what XML 1.0 cannot carry: control characters other than
// tab, newline and carriage return, U+FFFE and U+FFFF, and bytes that are
// not UTF-8 (an unpaired surrogate arrives as one). encoding/xml escapes
// such characters in text but writes CDATA as it is, so every string bound
// for a feed passes through here first. Clean strings, the common case,
// are returned without copying.
func xmlSafe(s string) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !xmlChar(r, size) {
			return strings.Map(func(r rune) rune {
				if !xmlChar(r, 2) { // the size only matters for RuneError
					return -1
				}
				return r
			}, strings.ToValidUTF8(s, ""))
		}
		i += size
	}
	return s
}

func xmlChar(r rune, size int) bool {
	switch {
	case r == utf8.RuneError && size == 1:
		return false
	case r == '\t' || r == '\n' || r == '\r':
		return true
	case r < 0x20:
		return false
	case r >= 0xD800 && r <= 0xDFFF, r == 0xFFFE, r == 0xFFFF:
		return false
	}
	return true
}
