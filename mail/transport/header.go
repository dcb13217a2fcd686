package transport

import (
	"bytes"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
)

// ErrHeaderInjection is the reason a header value, address or display name
// with CR or LF is refused: it could start a header line of its own.
var ErrHeaderInjection = errors.New("contains CR or LF")

// HeaderError is a header field a Message cannot carry.
type HeaderError struct {
	Header string // the field name: "Subject", "To", "List-Unsubscribe"
	Err    error
}

func (e *HeaderError) Error() string { return fmt.Sprintf("mail: header %q: %v", e.Header, e.Err) }

func (e *HeaderError) Unwrap() error { return e.Err }

// reserved are the fields the Message's own fields produce (and the
// signature); Headers may not repeat or override them.
var reserved = map[string]bool{
	"From": true, "To": true, "Cc": true, "Bcc": true, "Reply-To": true, "Sender": true,
	"Subject": true, "Date": true, "Message-Id": true, "Mime-Version": true,
	"Content-Type": true, "Content-Transfer-Encoding": true, "Dkim-Signature": true,
}

// checkExtraHeader refuses a name that is not a field name and a value
// that is not printable ASCII on one line.
func checkExtraHeader(name, value string) error {
	if strings.ContainsAny(name, "\r\n") || strings.ContainsAny(value, "\r\n") {
		return &HeaderError{Header: name, Err: ErrHeaderInjection}
	}
	if name == "" {
		return &HeaderError{Header: name, Err: errors.New("empty field name")}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c > '~' || c == ':' {
			return &HeaderError{Header: name, Err: errors.New("field name must be printable ASCII without spaces or colons")}
		}
	}
	if reserved[textproto.CanonicalMIMEHeaderKey(name)] {
		return &HeaderError{Header: name, Err: errors.New("set by the message itself, not by Headers")}
	}
	for i := 0; i < len(value); i++ {
		if c := value[i]; (c < ' ' && c != '\t') || c > '~' {
			return &HeaderError{Header: name, Err: fmt.Errorf("value byte %#x is not printable ASCII (encode it per RFC 2047)", c)}
		}
	}
	return nil
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// header is an ordered list of fields, written folded.
type header [][2]string

func (h *header) add(name, value string) { *h = append(*h, [2]string{name, value}) }

// names lists the field names in order.
func (h header) names() []string {
	out := make([]string, len(h))
	for i, kv := range h {
		out[i] = kv[0]
	}
	return out
}

// maxLine is RFC 5322's hard limit on a line, without its CRLF.
const maxLine = 998

// foldWidth is where header fields are folded: RFC 5322's recommended
// 78 characters.
const foldWidth = 78

// writeTo writes every field, folded at spaces to keep lines near 78
// characters. A value with no space to fold at that exceeds 998 is an
// error rather than a line servers would cut.
func (h header) writeTo(b *bytes.Buffer) error {
	for _, kv := range h {
		line := kv[0] + ":"
		if kv[1] != "" {
			line += " " + kv[1]
		}
		if len(line) <= foldWidth { // most fields: nothing to fold
			b.WriteString(line)
			b.WriteString("\r\n")
			continue
		}
		for _, l := range fold(line, len(kv[0])+1, foldWidth) {
			if len(l) > maxLine {
				return &HeaderError{Header: kv[0], Err: fmt.Errorf("a line of %d characters is over the limit of %d", len(l), maxLine)}
			}
			b.WriteString(l)
			b.WriteString("\r\n")
		}
	}
	return nil
}

// fold splits line before single spaces (a non-space on each side) so
// that each piece fits in width where it can. The first possible fold is
// the space after the field's colon, at index start; it is taken only
// when the first word then fits on its own line. Unfolding (removing the
// CRLFs) gives back line exactly, and so does net/textproto, which
// collapses the leading whitespace of a continuation line into one space.
func fold(line string, start, width int) []string {
	var cands []int
	for i := max(start, 1); i < len(line)-1; i++ {
		if line[i] == ' ' && !isWSP(line[i-1]) && !isWSP(line[i+1]) {
			cands = append(cands, i)
		}
	}
	var out []string
	from := 0 // start of the current line
	for len(line)-from > width {
		cut := -1
		for j, c := range cands {
			if c <= from {
				continue
			}
			if c-from > width && cut >= 0 {
				break
			}
			next := len(line)
			if j+1 < len(cands) {
				next = cands[j+1]
			}
			if c == start && next-c > width && cut < 0 {
				continue // the first word would not fit on a line of its own
			}
			cut = c
			if c-from > width {
				break
			}
		}
		if cut < 0 {
			break
		}
		out = append(out, line[from:cut])
		from = cut
	}
	return append(out, line[from:])
}

func isWSP(c byte) bool { return c == ' ' || c == '\t' }
