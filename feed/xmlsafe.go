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
//
// Feeds pass megabytes of HTML through it, nearly all printable ASCII:
// that is checked eight bytes at a time, and only the rest decoded as runes.
func xmlSafe(s string) string {
	for i := 0; i < len(s); {
		if i+8 <= len(s) && printableASCII8(s[i:i+8]) {
			i += 8
			continue
		}
		if c := s[i]; c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return xmlClean(s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !xmlChar(r, size) {
			return xmlClean(s)
		}
		i += size
	}
	return s
}

// printableASCII8 reports whether the 8 bytes of s are all in 0x20-0x7F,
// testing them together as one word.
func printableASCII8(s string) bool {
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	// A byte below 0x20 borrows into its high bit when 0x20 is taken from
	// it; one at 0x80 or above has that bit already.
	return (x-0x20*lo|x)&hi == 0
}

// xmlClean is xmlSafe for a string known to need it.
func xmlClean(s string) string {
	return strings.Map(func(r rune) rune {
		if !xmlChar(r, 2) { // the size only matters for RuneError
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
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
