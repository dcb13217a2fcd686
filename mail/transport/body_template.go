package transport

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"unicode/utf8"
)

// Part is a body part encoded as it goes on the wire: CRLF line ends, in
// Encoding (7bit or quoted-printable).
type Part struct {
	Encoding string
	Body     []byte

	buf *bytes.Buffer // holding Body, from partBufs: Fill's
}

// partBufs holds the buffers of the parts Fill made that SMTP.Send is
// done with (see releaseParts): a run of messages fills without
// allocating its bodies.
var partBufs sync.Pool // of *bytes.Buffer

// releaseParts gives the buffers of m's parts that Fill made back to the
// pool and forgets the parts: rendered again, m encodes its Text and
// HTML.
func releaseParts(m *Message) {
	for _, p := range []**Part{&m.TextPart, &m.HTMLPart} {
		if *p != nil && (*p).buf != nil {
			if (*p).buf.Cap() <= maxPooled {
				(*p).buf.Reset()
				partBufs.Put((*p).buf)
			}
			(*p).buf, (*p).Body = nil, nil
			*p = nil
		}
	}
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
	enc    string
	chunks []chunk
	size   int // encoded bytes of the shared chunks
}

// chunk is either shared lines already encoded, or a run of lines holding
// values: frags[0], value vals[0], frags[1], ...
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
	t := &BodyTemplate{enc: transferEncoding(whole, false)}
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
func (t *BodyTemplate) Fill(vals []string) (p *Part, ok bool, err error) {
	n := t.size
	for _, v := range vals {
		if !utf8.ValidString(v) {
			return nil, false, errors.New("mail: message body is not valid UTF-8")
		}
		n += 3 * len(v)
	}
	b, _ := partBufs.Get().(*bytes.Buffer)
	if b == nil {
		b = new(bytes.Buffer)
	}
	b.Grow(n + 256)
	var line strings.Builder
	for _, c := range t.chunks {
		if c.encoded != nil {
			b.Write(c.encoded)
			continue
		}
		line.Reset()
		for i, f := range c.frags {
			line.WriteString(f)
			if i < len(c.vals) {
				if c.vals[i] >= len(vals) {
					return nil, false, errors.New("mail: body template given too few values")
				}
				line.WriteString(vals[c.vals[i]])
			}
		}
		s := line.String()
		if t.enc != "quoted-printable" && transferEncoding(s, false) != t.enc {
			return nil, false, nil
		}
		if err := writeBody(b, t.enc, s); err != nil {
			return nil, false, err
		}
	}
	return &Part{Encoding: t.enc, Body: b.Bytes(), buf: b}, true, nil
}
