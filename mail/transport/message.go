package transport

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
	"unicode/utf8"
)

// Message is one mail to one recipient.
type Message struct {
	From    mail.Address
	To      mail.Address
	ReplyTo *mail.Address
	Subject string
	Text    string // required, unless TextPart is set
	HTML    string // optional (or HTMLPart); with it the message is multipart/alternative (text first)
	// MessageID is "<...@domain>". When empty a random one is made from
	// From's domain; callers set it when it must be stable across retries.
	MessageID string
	Date      time.Time // zero: the time of rendering
	// Headers are extra header fields written in order, e.g. List-Id,
	// List-Unsubscribe, List-Unsubscribe-Post, Precedence. Values must be
	// ASCII (RFC 2047-encode words yourself); fields the other Message
	// fields produce are refused.
	Headers [][2]string
	// ReturnPath is the envelope sender (MAIL FROM) when it is not From:
	// a VERP address that names the delivery. It is not a header.
	ReturnPath string
	// TextPart and HTMLPart, when set, are the text and HTML already
	// encoded (BodyTemplate.Fill): sent as they are in a message with
	// both, and the content when Text or HTML is empty. The outbox
	// writes the text itself, 8bit (TextBody, HTMLBody).
	TextPart, HTMLPart *Part

	eightBit    bool          // parts may be 8bit: set by the Outbox only
	prepared    []byte        // rendered and signed by SMTP.Prepare
	preparedBuf *bytes.Buffer // holding prepared, from the SMTP's pool; nil when signed
	dotFree     bool          // no line of prepared starts with a dot
}

// Bytes renders the RFC 5322 message (CRLF line ends), with a DKIM
// signature when dkim is not nil. A header that would let a value break
// out of its field (CR or LF) is refused with a *HeaderError naming it.
func (m *Message) Bytes(dkim *DKIM) ([]byte, error) {
	raw, _, err := m.render(dkim, time.Now())
	return raw, err
}

// TextBody is the text part's content: Text, or TextPart's text.
func (m *Message) TextBody() string {
	if m.Text == "" && m.TextPart != nil {
		return m.TextPart.Text()
	}
	return m.Text
}

// HTMLBody is the HTML part's content: HTML, or HTMLPart's; "" for a
// message without one.
func (m *Message) HTMLBody() string {
	if m.HTML == "" && m.HTMLPart != nil {
		return m.HTMLPart.Text()
	}
	return m.HTML
}

// NewMessageID returns a random Message-ID, "<hex@domain>".
func NewMessageID(domain string) string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return "<" + hex.EncodeToString(b[:]) + "@" + domain + ">"
}

// render builds the message and returns it with its Message-ID. now is
// the Date used when m.Date is zero.
func (m *Message) render(dkim *DKIM, now time.Time) ([]byte, string, error) {
	raw, id, _, err := m.renderTo(new(bytes.Buffer), dkim, now)
	return raw, id, err
}

// renderTo is render writing into out. Unsigned, the message returned is
// out's bytes, so out may be reused only once they are done with.
// dotFree reports that no line of it starts with a dot, known without a
// look at its body when both parts came from templates: SMTP then need
// not look for dots to double either.
//
// The MIME structure is written here rather than with go-mail's Msg: Msg
// writes its generic headers sorted by name and its preformatted ones in
// map order (so the order of Headers is lost and the output is not
// stable), passes every value through RFC 2047, and adds a User-Agent of
// its own. DKIM signs exact bytes, so the bytes are made once, here, and
// the SMTP transport sends them as they are.
func (m *Message) renderTo(out *bytes.Buffer, dkim *DKIM, now time.Time) (raw []byte, id string, dotFree bool, err error) {
	if err := m.validate(); err != nil {
		return nil, "", false, err
	}
	id = m.MessageID
	if id == "" {
		id = NewMessageID(domainOf(m.From.Address))
	}
	date := m.Date
	if date.IsZero() {
		date = now
	}

	var h header
	h.add("From", formatAddress(m.From))
	h.add("To", formatAddress(m.To))
	if m.ReplyTo != nil {
		h.add("Reply-To", formatAddress(*m.ReplyTo))
	}
	h.add("Subject", encodeText(m.Subject))
	h.add("Date", date.Format(time.RFC1123Z))
	h.add("Message-ID", id)
	for _, kv := range m.Headers {
		h.add(kv[0], kv[1])
	}
	h.add("MIME-Version", "1.0")

	// The parts go straight after the header into one buffer: the
	// multipart layout is simple enough to write by hand, as
	// mime/multipart would (part fields sorted by name).
	// The text of a part is put together only when it is not sent
	// already encoded.
	textPart, htmlPart := m.TextPart, m.HTMLPart
	hasHTML := m.HTML != "" || htmlPart != nil
	if m.eightBit || !hasHTML {
		textPart, htmlPart = nil, nil
	}
	var text, html, textEnc, htmlEnc string
	if textPart != nil {
		textEnc = textPart.Encoding
	} else {
		text = m.TextBody()
		textEnc = transferEncoding(text, m.eightBit)
	}
	boundary := ""
	if !hasHTML {
		h.add("Content-Type", "text/plain; charset=utf-8")
		h.add("Content-Transfer-Encoding", textEnc)
	} else {
		if htmlPart != nil {
			htmlEnc = htmlPart.Encoding
		} else {
			html = m.HTMLBody()
			htmlEnc = transferEncoding(html, m.eightBit)
		}
		boundary = newBoundary()
		h.add("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": boundary}))
	}
	textSize, htmlSize := encodedSize(text, textEnc), encodedSize(html, htmlEnc)
	if textPart != nil {
		textSize = textPart.size
	}
	if htmlPart != nil {
		htmlSize = htmlPart.size
	}
	out.Grow(2048 + textSize + htmlSize)
	if err := h.writeTo(out); err != nil {
		return nil, "", false, err
	}
	out.WriteString("\r\n")
	if boundary == "" {
		if err := writeBody(out, textEnc, text); err != nil {
			return nil, "", false, err
		}
	} else {
		for i, p := range []struct {
			typ, enc, content string
			done              *Part
		}{{"text/plain", textEnc, text, textPart}, {"text/html", htmlEnc, html, htmlPart}} {
			if i > 0 {
				out.WriteString("\r\n")
			}
			out.WriteString("--" + boundary + "\r\nContent-Transfer-Encoding: " + p.enc +
				"\r\nContent-Type: " + p.typ + "; charset=utf-8\r\n\r\n")
			if p.done != nil {
				p.done.writeTo(out)
			} else if err := writeBody(out, p.enc, p.content); err != nil {
				return nil, "", false, err
			}
		}
		out.WriteString("\r\n--" + boundary + "--\r\n")
	}
	if !bytes.HasSuffix(out.Bytes(), []byte("\r\n")) {
		out.WriteString("\r\n")
	}
	raw = out.Bytes()
	if dkim != nil {
		// Both parts from templates: every line the body has ends in CRLF
		// (the templates' encoders and the lines written here make them).
		if raw, err = dkim.sign(raw, h.names(), textPart != nil && htmlPart != nil); err != nil {
			return nil, "", false, err
		}
	}
	// The lines between the parts are written above and start with none;
	// the header's (the signature's too) are looked at, a kilobyte.
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	dotFree = textPart != nil && textPart.dotFree && htmlPart != nil && htmlPart.dotFree && !startsLineWithDot(head)
	return raw, id, dotFree, nil
}

// validate refuses what would make a broken or forged message.
func (m *Message) validate() error {
	if err := checkAddress("From", m.From); err != nil {
		return err
	}
	if err := checkAddress("To", m.To); err != nil {
		return err
	}
	if m.ReturnPath != "" {
		if err := checkAddress("Return-Path", mail.Address{Address: m.ReturnPath}); err != nil {
			return err
		}
	}
	if m.ReplyTo != nil {
		if err := checkAddress("Reply-To", *m.ReplyTo); err != nil {
			return err
		}
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return &HeaderError{Header: "Subject", Err: ErrHeaderInjection}
	}
	if !utf8.ValidString(m.Subject) {
		return &HeaderError{Header: "Subject", Err: errors.New("not valid UTF-8")}
	}
	if m.MessageID != "" {
		if err := checkMessageID(m.MessageID); err != nil {
			return &HeaderError{Header: "Message-ID", Err: err}
		}
	}
	seen := map[string]bool{}
	for _, kv := range m.Headers {
		if err := checkExtraHeader(kv[0], kv[1]); err != nil {
			return err
		}
		key := textproto.CanonicalMIMEHeaderKey(kv[0])
		if seen[key] && isSigned(key) {
			return &HeaderError{Header: kv[0], Err: errors.New("given twice")}
		}
		seen[key] = true
	}
	if m.Text == "" && (m.TextPart == nil || m.TextPart.size == 0) {
		return errors.New("mail: message has no text body")
	}
	// A part's text is UTF-8 already: Fill made sure.
	if !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML) {
		return errors.New("mail: message body is not valid UTF-8")
	}
	return nil
}

// checkAddress refuses an address or display name that could inject
// header lines, and one that would not read back as written.
func checkAddress(field string, a mail.Address) error {
	if strings.ContainsAny(a.Name, "\r\n") || strings.ContainsAny(a.Address, "\r\n") {
		return &HeaderError{Header: field, Err: ErrHeaderInjection}
	}
	if a.Address == "" {
		return &HeaderError{Header: field, Err: errors.New("no address")}
	}
	if !isPrintableASCII(a.Address) {
		return &HeaderError{Header: field, Err: fmt.Errorf("address %q: want printable ASCII (punycode for the domain)", a.Address)}
	}
	if plainAddress(a) {
		return nil
	}
	return readsBack(field, a)
}

// readsBack writes a as a header value and parses it again, as a reader
// would: what does not come back as written is refused.
func readsBack(field string, a mail.Address) error {
	s := formatAddress(a)
	p, err := mail.ParseAddress(s)
	if err != nil {
		return &HeaderError{Header: field, Err: fmt.Errorf("address %q: %w", a.Address, err)}
	}
	if p.Address != a.Address || p.Name != a.Name {
		return &HeaderError{Header: field, Err: fmt.Errorf("%q does not read back as written", s)}
	}
	return nil
}

// plainAddress reports whether a is of the kind that reads back as
// written without a parse to show it (FuzzPlainAddress holds it to
// readsBack): an address of dot-atoms, local@domain, with letters, digits
// and hyphens in the domain, and a name, if any, of letters, digits and
// single spaces between words. Nearly every address of a list is; it
// saves each message the parse of its From, To and return path.
func plainAddress(a mail.Address) bool {
	local, domain, ok := strings.Cut(a.Address, "@")
	if !ok || !dotAtom(local, isAtext) || !dotAtom(domain, isDomainChar) {
		return false
	}
	prev := byte(' ') // no leading space
	for i := 0; i < len(a.Name); i++ {
		c := a.Name[i]
		switch {
		case c == ' ' && prev != ' ':
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		default:
			return false
		}
		prev = c
	}
	return prev != ' ' || a.Name == ""
}

// dotAtom reports whether s is atoms of chars accepted by ok, joined by
// single dots.
func dotAtom(s string, ok func(byte) bool) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] != '.' && !ok(s[i]) {
			return false
		}
	}
	return true
}

// isAtext is RFC 5322's atext, in ASCII.
func isAtext(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func isDomainChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-'
}

// formatAddress writes a as a header value. net/mail's Address.String
// Q-encodes a non-ASCII name with a backslash in it, which nothing can
// parse back; such names get B encoding here instead.
func formatAddress(a mail.Address) string {
	addr := (&mail.Address{Address: a.Address}).String()
	switch {
	case strings.Contains(a.Name, "=?"):
		return encodeWords(a.Name) + " " + addr
	case a.Name == "" || isPrintableASCII(a.Name):
		return a.String() // quoted and escaped as needed
	case strings.ContainsAny(a.Name, "\"#$%&'(),.:;<>@[]^`{|}~\\"):
		// RFC 2047 section 5 (3): not allowed in a Q-encoded phrase.
		return mime.BEncoding.Encode("utf-8", a.Name) + " " + addr
	default:
		return mime.QEncoding.Encode("utf-8", a.Name) + " " + addr
	}
}

// encodeText encodes an unstructured value (the subject) per RFC 2047
// when it is not plain ASCII, or when it holds "=?", which readers would
// otherwise take for the start of an encoded word.
func encodeText(s string) string {
	if strings.Contains(s, "=?") {
		return encodeWords(s)
	}
	return mime.QEncoding.Encode("utf-8", s)
}

// encodeWords B-encodes s whatever it holds (the mime package encodes
// only what needs it), in words of at most 75 characters.
func encodeWords(s string) string {
	var words []string
	for s != "" {
		n := min(len(s), 45) // 45 bytes make 60 base64 characters
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n--
		}
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
}

// checkMessageID accepts "<left@right>" without spaces or controls.
func checkMessageID(id string) error {
	if strings.ContainsAny(id, "\r\n") {
		return ErrHeaderInjection
	}
	inner, ok := strings.CutPrefix(id, "<")
	inner, ok2 := strings.CutSuffix(inner, ">")
	left, right, ok3 := strings.Cut(inner, "@")
	if !ok || !ok2 || !ok3 || left == "" || right == "" || !isPrintableASCII(inner) ||
		strings.ContainsAny(inner, " <>") {
		return fmt.Errorf("%q: want <left@right>", id)
	}
	return nil
}

// domainOf returns what follows the last @ of an address.
func domainOf(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}
