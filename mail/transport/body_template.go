package transport

import (
	"bytes"
	"errors"
	"strings"
	"unicode/utf8"
)

// Part is a body part encoded as it goes on the wire (CRLF line ends, in
// Encoding, 7bit or quoted-printable), as BodyTemplate.Fill makes it: the
// template's shared lines, held by reference, and the few lines that hold
// a reader's values, encoded for this message. Writing it is the only
// copy its shared lines cost a message; its text, before encoding, is
// put together only when asked for (Text).
type Part struct {
	Encoding string

	t       *BodyTemplate
	vals    []string // the values, in the template's order
	runs    [][]byte // the encoded lines of t's chunks that hold values, in order
	size    int
	dotFree bool // no line starts with a dot: SMTP sends it without a look
}

// writeTo appends the part's encoded body to b.
func (p *Part) writeTo(b *bytes.Buffer) {
	r := 0
	for _, c := range p.t.chunks {
		if c.encoded != nil {
			b.Write(c.encoded)
			continue
		}
		b.Write(p.runs[r])
		r++
	}
}

// Text is the part's text before it was encoded: the template's text
// with the values in place.
func (p *Part) Text() string {
	n := 0
	for _, l := range p.t.lits {
		n += len(l)
	}
	for _, v := range p.vals {
		n += len(v)
	}
	var b strings.Builder
	b.Grow(n)
	for i, l := range p.t.lits {
		b.WriteString(l)
		if i < len(p.vals) { // one fewer than lits
			b.WriteString(p.vals[i])
		}
	}
	return b.String()
}

// startsLineWithDot reports whether a line of b, which begins at a line
// start, begins with a dot: what SMTP would have to double.
func startsLineWithDot(b []byte) bool {
	return len(b) > 0 && b[0] == '.' || bytes.Contains(b, []byte("\n."))
}

// BodyTemplate is a body that many messages share but for a few values
// (a reader's name, their links): lits[0], value 0, lits[1], ... Its
// lines are encoded once; per message only the lines that hold a value
// are, so that a 30 KB body costs each message the bytes of a few lines
// rather than a quoted-printable pass over all of it.
//
// The encoding is chosen once, from the shared text: what Message would
// choose for it. Quoted-printable lines end at hard line breaks, so the
// encoded lines put together are exactly the encoding of the whole.
type BodyTemplate struct {
	lits    []string // the text around the values, as given
	enc     string
	chunks  []chunk
	size    int  // encoded bytes of the shared chunks
	dotFree bool // no line of the shared chunks starts with a dot
}

// chunk is either shared lines already encoded, or a run of lines holding
// values: frags[0], value vals[0], frags[1], ... Every chunk begins at
// the start of a line.
type chunk struct {
	encoded []byte
	frags   []string
	vals    []int
}

// ErrTemplate is NewBodyTemplate's answer to a body that is not UTF-8.
var ErrTemplate = errors.New("mail: body template is not valid UTF-8")

// NewBodyTemplate encodes lits, the text around len(lits)-1 values.
func NewBodyTemplate(lits []string) (*BodyTemplate, error) {
	if len(lits) == 0 {
		lits = []string{""}
	}
	whole := strings.Join(lits, "")
	if !utf8.ValidString(whole) {
		return nil, ErrTemplate
	}
	t := &BodyTemplate{lits: lits, enc: transferEncoding(whole, false), dotFree: true}
	var shared strings.Builder // complete lines waiting to be encoded
	var run *chunk             // the lines holding values, being gathered
	flush := func() error {
		if shared.Len() == 0 {
			return nil
		}
		var b bytes.Buffer
		if err := writeBody(&b, t.enc, shared.String()); err != nil {
			return err
		}
		t.chunks = append(t.chunks, chunk{encoded: b.Bytes()})
		t.size += b.Len()
		t.dotFree = t.dotFree && !startsLineWithDot(b.Bytes())
		shared.Reset()
		return nil
	}
	for i, lit := range lits {
		if run != nil {
			// The run ends with the line end that follows its last value.
			head, tail, found := strings.Cut(lit, "\n")
			if !found {
				run.frags = append(run.frags, lit)
				if i < len(lits)-1 {
					run.vals = append(run.vals, i)
					continue
				}
				t.chunks = append(t.chunks, *run)
				run = nil
				break
			}
			run.frags = append(run.frags, head+"\n")
			t.chunks = append(t.chunks, *run)
			run, lit = nil, tail
		}
		if i == len(lits)-1 {
			shared.WriteString(lit)
			break
		}
		// A value follows: the lines before its own go out shared.
		cut := strings.LastIndexByte(lit, '\n') + 1
		shared.WriteString(lit[:cut])
		if err := flush(); err != nil {
			return nil, err
		}
		run = &chunk{frags: []string{lit[cut:]}, vals: []int{i}}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return t, nil
}

// Fill encodes the body with vals in place (vals[i] is value i). ok is
// false when a value does not fit the template's encoding (non-ASCII or
// a long line in a 7bit body): the caller then gives the text whole.
// The part keeps vals for its Text: they must not change after.
func (t *BodyTemplate) Fill(vals []string) (p *Part, ok bool, err error) {
	if len(vals) < len(t.lits)-1 {
		return nil, false, errors.New("mail: body template given too few values")
	}
	vals = vals[:len(t.lits)-1]
	n := 0
	for _, v := range vals {
		if !utf8.ValidString(v) {
			return nil, false, errors.New("mail: message body is not valid UTF-8")
		}
		n += 3 * len(v)
	}
	// The runs are encoded into one buffer, cut into one slice each once
	// it no longer moves.
	var b bytes.Buffer
	b.Grow(n + 256)
	var ends []int
	var line strings.Builder
	for _, c := range t.chunks {
		if c.encoded != nil {
			continue
		}
		line.Reset()
		for i, f := range c.frags {
			line.WriteString(f)
			if i < len(c.vals) {
				line.WriteString(vals[c.vals[i]])
			}
		}
		s := line.String()
		if t.enc != "quoted-printable" && transferEncoding(s, false) != t.enc {
			return nil, false, nil
		}
		if err := writeBody(&b, t.enc, s); err != nil {
			return nil, false, err
		}
		ends = append(ends, b.Len())
	}
	p = &Part{Encoding: t.enc, t: t, vals: vals, runs: make([][]byte, len(ends)), size: t.size + b.Len(), dotFree: t.dotFree}
	from := 0
	for i, end := range ends {
		p.runs[i] = b.Bytes()[from:end:end]
		p.dotFree = p.dotFree && !startsLineWithDot(p.runs[i])
		from = end
	}
	return p, true, nil
}
