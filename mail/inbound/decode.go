package inbound

import (
	"encoding/base64"
	"html"
	"io"
	"mime"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// The decoders here never fail: a bounce whose notice is badly encoded
// still names its recipient in the parts that decode, so a broken
// sequence is kept as it is and decoding goes on. go-message's own
// decoders stop at the first bad byte, and its charset support is a
// package-level hook set by an init function, which this package does not
// want to flip for the whole binary.

// decodeTransfer undoes a Content-Transfer-Encoding. Unknown encodings
// are taken as they are.
func decodeTransfer(b []byte, cte string) []byte {
	switch cte {
	case "base64":
		return decodeBase64(b)
	case "quoted-printable":
		return decodeQP(b)
	}
	return b
}

// rawBudget is how many encoded bytes to read for want decoded bytes.
func rawBudget(want int, cte string) int64 {
	switch cte {
	case "base64":
		return int64(want)*4/3 + int64(want)/38 + 1024 // 4/3, plus a CRLF per 76 characters
	case "quoted-printable":
		return int64(want)*3 + 1024
	}
	return int64(want)
}

// decodeBase64 decodes the base64 alphabet in b, skipping every other
// byte (line ends, spaces, junk) and stopping at the first padding.
func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '=':
			goto done
		}
	}
done:
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1] // a lone sextet carries no whole byte
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean) // only the alphabet is left: cannot fail
	return out[:n]
}

// decodeQP decodes quoted-printable, keeping an "=" that starts no valid
// escape as it is.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		j := i + 1
		for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
			j++
		}
		switch {
		case j == len(b): // "=" at the very end
			i = j
		case b[j] == '\n': // soft line break
			i = j
		case b[j] == '\r' && j+1 < len(b) && b[j+1] == '\n':
			i = j + 1
		case i+2 < len(b) && isHex(b[i+1]) && isHex(b[i+2]):
			out = append(out, unhex(b[i+1])<<4|unhex(b[i+2]))
			i += 2
		default:
			out = append(out, '=')
		}
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' || c >= 'a' && c <= 'f'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// toUTF8 converts text in charset to valid UTF-8. A charset no one knows
// falls back to the bytes themselves: UTF-8 if they are, else Latin-1,
// which maps every byte, so ASCII (where the codes and addresses are)
// always survives.
func toUTF8(b []byte, charset string) string {
	cs := strings.ToLower(strings.Trim(strings.TrimSpace(charset), `"'`))
	switch cs {
	case "", "us-ascii", "ascii", "utf-8", "utf8":
	default:
		if enc, err := htmlindex.Get(cs); err == nil {
			if out, err := enc.NewDecoder().Bytes(b); err == nil {
				return strings.ToValidUTF8(string(out), "\uFFFD")
			}
		}
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return latin1(b)
}

func latin1(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) + len(b)/4)
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

// charsetReader lets mime.WordDecoder read encoded words in any charset
// x/text knows.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(strings.ToLower(charset))
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(input), nil
}

// decodeHeader decodes RFC 2047 encoded words. A word in a charset no
// one knows is decoded with its bytes taken as they are; a value that
// still does not decode is returned as it is. Either way, valid UTF-8.
func decodeHeader(v string) string {
	if strings.Contains(v, "=?") {
		d := mime.WordDecoder{CharsetReader: charsetReader}
		out, err := d.DecodeHeader(v)
		if err != nil {
			d.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) {
				if r, err := charsetReader(charset, input); err == nil {
					return r, nil
				}
				return input, nil
			}
			out, err = d.DecodeHeader(v)
		}
		if err == nil {
			v = out
		}
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

// htmlToText is a crude rendering of HTML to text, enough to find phrases
// and addresses in a notice that came only as HTML: tags become spaces or
// line breaks, style and script are dropped, entities are decoded.
func htmlToText(s string) string {
	var sb strings.Builder
	sb.Grow(len(s) / 2)
	for s != "" {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			sb.WriteString(s)
			break
		}
		sb.WriteString(s[:i])
		s = s[i:]
		j := strings.IndexByte(s, '>')
		if j < 0 {
			break
		}
		tag := strings.ToLower(s[1:j])
		s = s[j+1:]
		name, _, _ := strings.Cut(strings.TrimPrefix(tag, "/"), " ")
		switch name {
		case "style", "script":
			if !strings.HasPrefix(tag, "/") {
				if k := indexFold(s, "</"+name); k >= 0 {
					s = s[k:]
				} else {
					s = ""
				}
			}
		case "a", "b", "i", "u", "em", "strong", "span", "font", "small", "big", "code", "tt":
			sb.WriteByte(' ')
		default:
			sb.WriteByte('\n')
		}
	}
	return html.UnescapeString(sb.String())
}

// indexFold is strings.Index ignoring ASCII case, for an ASCII sub.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}
