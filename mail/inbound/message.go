package inbound

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// message is what the classifier keeps of one inbound message: its
// header, bounded prefixes of its text parts, and the parsed report
// parts. Everything else is read past and dropped.
type message struct {
	header    fieldGroup
	envelope  []string // Options.Envelope
	subject   string
	mediaType string
	params    map[string]string

	texts     []string // text/plain and other text/* parts, in order
	htmlTexts []string // text/html parts rendered to text; used when there is no plain text
	textLen   int

	dsn      []fieldGroup // the groups of the first delivery-status part
	dsnParts int
	feedback fieldGroup // the first feedback-report part, non-nil when there is one
	original fieldGroup // the header of the returned original (message/rfc822, text/rfc822-headers)

	broken bool // the MIME structure ended early or was malformed
	stats  walkStats

	// Worked out once, on first use.
	splitDone bool
	human     string     // text() up to a quoted original
	quoted    fieldGroup // the quoted original's header
	mtaDone   bool
	mtaOK     bool
	mta       textBounce
}

// walkStats is what reading one message cost, for tests of the limits.
type walkStats struct {
	Parts int   // MIME parts seen, the top level included
	Depth int   // deepest multipart nesting
	Bytes int64 // bytes read from the input
}

const (
	maxHeaderBytes   = 1 << 20   // the top-level header section
	maxReportBytes   = 64 << 10  // a delivery-status or feedback-report part
	maxOriginalBytes = 64 << 10  // the part of a returned original read for its header
	maxTextPart      = 64 << 10  // decoded text kept per text part
	maxTextTotal     = 256 << 10 // decoded text kept per message
	maxDiagnostic    = 400
	maxSubject       = 200
	maxRecipients    = 16
)

var errHeaderTooLarge = errors.New("header section too large")

// readMessage reads one message within the limits of opts.
func readMessage(r io.Reader, opts Options) (*message, error) {
	in := &sizeReader{r: r, max: opts.MaxBytes}
	hl := &headerLimit{r: in, n: maxHeaderBytes}
	br := bufio.NewReader(hl)
	m := &message{envelope: opts.Envelope, stats: walkStats{Parts: 1}}
	defer func() { m.stats.Bytes = in.n }()

	skipMboxFrom(br)
	h, err := textproto.ReadHeader(br)
	if e := in.failure(); e != nil {
		return m, e
	}
	if hl.hit {
		return m, fmt.Errorf("%w: header section over %d bytes", ErrTooLarge, maxHeaderBytes)
	}
	hl.off = true
	m.header = fromTextproto(h)
	if len(m.header) == 0 {
		if err != nil {
			return m, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		return m, fmt.Errorf("%w: no header fields", ErrMalformed)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		m.broken = true // a bad line ended the header early; what came before it is kept
	}
	m.subject = decodeHeader(m.header.get("subject"))
	m.mediaType, m.params = contentType(m.header.get("content-type"), "")

	w := &walker{opts: opts, in: in, m: m}
	if err := w.entity(m.header, br, 0, ""); err != nil {
		return m, err
	}
	// What is left (an epilogue, the rest of a body read only in part)
	// still counts against MaxBytes.
	if _, err := io.Copy(io.Discard, br); err != nil {
		if e := in.failure(); e != nil {
			return m, e
		}
	}
	return m, nil
}

// skipMboxFrom drops the "From sender date" line that mbox files and
// some delivery agents put before the header.
func skipMboxFrom(br *bufio.Reader) {
	if p, err := br.Peek(5); err != nil || string(p) != "From " {
		return
	}
	for {
		_, err := br.ReadSlice('\n')
		if err != bufio.ErrBufferFull {
			return
		}
	}
}

type walker struct {
	opts Options
	in   *sizeReader
	m    *message
}

// entity reads one MIME entity with header h and body r at multipart
// nesting depth. parent is the media type of the enclosing multipart.
func (w *walker) entity(h fieldGroup, r io.Reader, depth int, parent string) error {
	def := "text/plain"
	if parent == "multipart/digest" {
		def = "message/rfc822"
	}
	mt, params := contentType(h.get("content-type"), def)
	cte := strings.ToLower(strings.TrimSpace(h.get("content-transfer-encoding")))
	if !strings.HasPrefix(mt, "multipart/") {
		return w.leaf(mt, params, cte, r)
	}
	boundary := params["boundary"]
	if boundary == "" {
		w.m.broken = true
		return w.leaf("text/plain", params, cte, r)
	}
	if depth+1 > w.opts.MaxDepth {
		return fmt.Errorf("%w: multiparts nested deeper than %d", ErrTooComplex, w.opts.MaxDepth)
	}
	w.m.stats.Depth = max(w.m.stats.Depth, depth+1)
	mr := textproto.NewMultipartReader(r, boundary)
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if e := w.in.failure(); e != nil {
				return e
			}
			w.m.broken = true // a missing boundary, a truncated report: keep what was read
			return nil
		}
		w.m.stats.Parts++
		if w.m.stats.Parts > w.opts.MaxParts {
			return fmt.Errorf("%w: more than %d MIME parts", ErrTooComplex, w.opts.MaxParts)
		}
		if err := w.entity(fromTextproto(p.Header), p, depth+1, mt); err != nil {
			return err
		}
	}
}

// leaf reads what the classifier needs of a non-multipart entity. Parts it
// has no use for (images, attachments, a second returned original) are
// not read; the multipart reader skips them.
func (w *walker) leaf(mt string, params map[string]string, cte string, r io.Reader) error {
	m := w.m
	switch mt {
	case "message/delivery-status", "message/global-delivery-status":
		m.dsnParts++
		b, err := w.read(r, cte, maxReportBytes)
		if m.dsn == nil {
			m.dsn = parseFieldGroups(b)
		}
		return err
	case "message/feedback-report":
		b, err := w.read(r, cte, maxReportBytes)
		if m.feedback == nil {
			m.feedback = fieldGroup{}
			for _, g := range parseFieldGroups(b) {
				m.feedback = append(m.feedback, g...)
			}
		}
		return err
	case "message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers", "message/global-headers":
		if m.original != nil {
			return nil
		}
		b, err := w.read(r, cte, maxOriginalBytes)
		m.original = parseHeaderBlock(b)
		if m.original == nil {
			m.original = fieldGroup{}
		}
		return err
	}
	if !strings.HasPrefix(mt, "text/") || m.textLen >= maxTextTotal {
		return nil
	}
	b, err := w.read(r, cte, min(maxTextPart, maxTextTotal-m.textLen))
	s := toUTF8(b, params["charset"])
	if mt == "text/html" {
		s = htmlToText(s)
		m.htmlTexts = append(m.htmlTexts, s)
	} else {
		m.texts = append(m.texts, s)
	}
	m.textLen += len(s)
	return err
}

// read returns up to want decoded bytes of r. A read error that is not
// the input's own (a part cut short) only marks the message broken; the
// bytes read so far are returned and used.
func (w *walker) read(r io.Reader, cte string, want int) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(io.LimitReader(r, rawBudget(want, cte)))
	if err != nil {
		if e := w.in.failure(); e != nil {
			return nil, e
		}
		w.m.broken = true
	}
	b := decodeTransfer(buf.Bytes(), cte)
	if len(b) > want {
		b = b[:want]
	}
	return b, nil
}

// contentType parses a Content-Type value leniently: mime.ParseMediaType
// first, and when it refuses the parameters (duplicates, stray
// semicolons, bad quoting: all common in bounces), a plain split that
// keeps the first of each.
func contentType(v, def string) (string, map[string]string) {
	if strings.TrimSpace(v) == "" {
		return def, nil
	}
	mt, params, err := mime.ParseMediaType(v)
	if err == nil {
		return mt, params
	}
	head, rest, _ := strings.Cut(v, ";")
	mt = strings.ToLower(strings.TrimSpace(head))
	if !strings.Contains(mt, "/") {
		mt = def
	}
	params = map[string]string{}
	for _, kv := range strings.Split(rest, ";") {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' {
			if end := strings.IndexByte(val[1:], '"'); end >= 0 {
				val = val[1 : end+1]
			}
		}
		if _, dup := params[k]; !dup && k != "" {
			params[k] = val
		}
	}
	return mt, params
}

// text is the message's readable text: its plain-text parts, or the HTML
// parts rendered to text when it has no plain text.
func (m *message) text() string {
	if len(m.texts) > 0 {
		return strings.Join(m.texts, "\n")
	}
	return strings.Join(m.htmlTexts, "\n")
}

// sizeReader counts the bytes read and fails once there are more than
// max, remembering why, so that a failure deep in the MIME readers (which
// do not all wrap their errors) is reported as what it was.
type sizeReader struct {
	r    io.Reader
	max  int64
	n    int64
	over bool
	err  error // the input's own error, io.EOF aside
}

func (s *sizeReader) Read(p []byte) (int, error) {
	if s.over {
		return 0, ErrTooLarge
	}
	if room := s.max + 1 - s.n; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	if s.n > s.max {
		s.over = true
		return n, ErrTooLarge
	}
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// failure is the error that stops classification, or nil.
func (s *sizeReader) failure() error {
	if s.over {
		return fmt.Errorf("%w: over the limit of %d bytes", ErrTooLarge, s.max)
	}
	if s.err != nil {
		return fmt.Errorf("read message: %w", s.err)
	}
	return nil
}

// headerLimit bounds the bytes read while the top-level header is parsed
// (go-message's own guard works the same way), then steps aside.
type headerLimit struct {
	r   io.Reader
	n   int64
	off bool
	hit bool
}

func (h *headerLimit) Read(p []byte) (int, error) {
	if h.off {
		return h.r.Read(p)
	}
	if h.n <= 0 {
		h.hit = true
		return 0, errHeaderTooLarge
	}
	if int64(len(p)) > h.n {
		p = p[:h.n]
	}
	n, err := h.r.Read(p)
	h.n -= int64(n)
	return n, err
}
