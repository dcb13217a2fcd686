package transport

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The signer is tidings' own (RFC 6376, relaxed/relaxed, SHA-256) rather
// than go-msgauth's Sign, which the tests still verify every signature
// with: go-msgauth canonicalises the body a byte at a time through two
// copies, which cost a 45 KB digest about half a millisecond, as much as
// all the rest of its sending. Here the body is hashed once for every
// key, line by line, and a line that relaxed canonicalisation leaves as
// it is (most of them: quoted-printable has no trailing spaces) goes to
// the hash as it stands.

// sign returns msg with a DKIM-Signature field prepended for each key
// (the last key's on top), covering the signedHeaders among present.
// msg is CRLF text: a header, an empty line, the body; crlf says that
// every line of the body ends in CRLF and it holds no other CR or LF, as
// renderTo knows of a body whose parts came from templates.
func (d *DKIM) sign(msg []byte, present []string, crlf bool) ([]byte, error) {
	head, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok {
		return nil, fmt.Errorf("dkim: message has no end of header")
	}
	fields := headerFields(head)
	// The signed fields, canonicalised: the same bytes for every key.
	var names []string
	var signed bytes.Buffer
	for _, k := range signedHeaders {
		for _, p := range present {
			if !strings.EqualFold(p, k) {
				continue
			}
			// The last field of that name, as a verifier picks it.
			for i := len(fields) - 1; i >= 0; i-- {
				name, _, _ := strings.Cut(fields[i], ":")
				if strings.EqualFold(strings.TrimSpace(name), k) {
					names = append(names, p) // as written, for a readable h=
					signed.WriteString(relaxedHeader(fields[i]))
					break
				}
			}
			break
		}
	}
	hasFrom := false
	for _, n := range names {
		hasFrom = hasFrom || strings.EqualFold(n, "From")
	}
	if !hasFrom {
		return nil, fmt.Errorf("dkim: the message has no From field to sign")
	}
	bh := relaxedBodyHash(body, crlf)
	bhText := base64.StdEncoding.EncodeToString(bh[:])
	t := strconv.FormatInt(time.Now().Unix(), 10)

	var out bytes.Buffer
	out.Grow(len(msg) + 512*len(d.keys))
	sigs := make([]string, len(d.keys))
	for i, k := range d.keys {
		algo := "rsa-sha256"
		if _, ok := k.key.(ed25519.PrivateKey); ok {
			algo = "ed25519-sha256"
		}
		field := signatureField(algo, d.domain, k.selector, t, names, bhText)
		h := sha256.New()
		h.Write(signed.Bytes())
		h.Write([]byte(strings.TrimSuffix(relaxedHeader(field), "\r\n")))
		sum := h.Sum(nil)
		var opts crypto.SignerOpts = crypto.SHA256
		if algo == "ed25519-sha256" {
			opts = crypto.Hash(0) // RFC 8463: Ed25519 signs the SHA-256 sum itself
		}
		sig, err := k.key.Sign(rand.Reader, sum, opts)
		if err != nil {
			return nil, fmt.Errorf("dkim: sign with %s: %w", k.selector, err)
		}
		sigs[i] = field + foldBase64(base64.StdEncoding.EncodeToString(sig)) + "\r\n"
	}
	for i := len(sigs) - 1; i >= 0; i-- {
		out.WriteString(sigs[i])
	}
	out.Write(msg)
	return out.Bytes(), nil
}

// signatureField is a DKIM-Signature field up to its empty b= tag,
// folded between tags and after the colons of h=.
func signatureField(algo, domain, selector, t string, names []string, bh string) string {
	var f strings.Builder
	f.WriteString("DKIM-Signature: v=1; a=" + algo + "; c=relaxed/relaxed; d=" + domain + ";\r\n s=" + selector +
		"; t=" + t + ";\r\n h=")
	line := 3
	for i, n := range names {
		if i > 0 {
			f.WriteByte(':')
			line++
			if line+len(n) > 76 {
				f.WriteString("\r\n ")
				line = 1
			}
		}
		f.WriteString(n)
		line += len(n)
	}
	f.WriteString(";\r\n bh=" + bh + ";\r\n b=")
	return f.String()
}

// foldBase64 folds a b= value into lines of at most 76 characters; a
// verifier removes the whole value, folds and all, before it hashes the
// field.
func foldBase64(s string) string {
	var f strings.Builder
	for first := true; s != ""; first = false {
		n := min(len(s), 72)
		if first {
			n = min(len(s), 70)
		} else {
			f.WriteString("\r\n ")
		}
		f.WriteString(s[:n])
		s = s[n:]
	}
	return f.String()
}

// headerFields splits a header (CRLF lines, no final CRLF) into its
// fields, each with its continuation lines.
func headerFields(head []byte) []string {
	var out []string
	for _, line := range strings.Split(string(head), "\r\n") {
		if len(out) > 0 && line != "" && (line[0] == ' ' || line[0] == '\t') {
			out[len(out)-1] += "\r\n" + line
			continue
		}
		out = append(out, line)
	}
	return out
}

// relaxedHeader is a field in the relaxed header canonicalisation of
// RFC 6376 section 3.4.2: the name in lower case, the value unfolded with
// each run of white space made one space and none at its ends, CRLF.
func relaxedHeader(field string) string {
	k, v, ok := strings.Cut(field, ":")
	if !ok {
		return strings.TrimSpace(strings.ToLower(field)) + ":\r\n"
	}
	v = strings.Join(strings.FieldsFunc(v, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '\n' || r == '\r'
	}), " ")
	return strings.TrimSpace(strings.ToLower(k)) + ":" + v + "\r\n"
}

// relaxedBodyHash is the SHA-256 of body in the relaxed body
// canonicalisation of RFC 6376 section 3.4.4, byte for byte what
// go-msgauth hashes (a test compares them on any input): white space
// runs within a line become one space, white space at a line's end goes,
// as do the empty lines at the end; a lone LF counts as CRLF. A line
// ending in CRLF with no tab, no two spaces together, no space before
// its end and no other CR is the same canonicalised, and is hashed as it
// stands; only the others are rewritten byte by byte. crlf says that
// body is known to end every line in CRLF and hold no other CR or LF
// (else it is looked at: three scans of the body).
func relaxedBodyHash(body []byte, crlf bool) [sha256.Size]byte {
	c := relaxedBody{h: sha256.New()}
	if !crlf && !crlfOnly(body) {
		c.lines(body)
	} else {
		// The lines before the next tab, run of spaces or space at a line
		// end are canonical as they stand (a quoted-printable body is
		// nearly all such lines) and go to the hash in one Write: a scan
		// over the whole body for each, rather than some over each line,
		// which cost more than the hash.
		var next [3]int // where each pattern is next found, from pos
		pats := [3][]byte{[]byte("\t"), []byte("  "), []byte(" \r\n")}
		for i := range next {
			next[i] = -1
		}
		for pos := 0; pos < len(body); {
			p := len(body)
			for i, pat := range pats {
				if next[i] < pos && next[i] != len(body) {
					next[i] = len(body)
					if j := bytes.Index(body[pos:], pat); j >= 0 {
						next[i] = pos + j
					}
				}
				p = min(p, next[i])
			}
			if clean := bytes.LastIndexByte(body[pos:p], '\n') + 1; clean > 0 {
				c.canonical(body[pos : pos+clean])
				pos += clean
			}
			// The line holding p (or the last one, with no line end).
			end := len(body)
			if i := bytes.IndexByte(body[pos:], '\n'); i >= 0 {
				end = pos + i + 1
			}
			c.lines(body[pos:end])
			pos = end
		}
	}
	if c.written {
		c.h.Write([]byte("\r\n"))
	}
	var sum [sha256.Size]byte
	c.h.Sum(sum[:0])
	return sum
}

// crlfOnly reports whether every line end of body is CRLF and it holds
// no other CR or LF.
func crlfOnly(body []byte) bool {
	n := bytes.Count(body, []byte("\n"))
	return bytes.Count(body, []byte("\r")) == n && bytes.Count(body, []byte("\r\n")) == n
}

// canonical writes block, whole lines ending in CRLF that relaxed
// canonicalisation leaves as they are; its last line ends wait, as empty
// lines at the end of the body are dropped.
func (c *relaxedBody) canonical(block []byte) {
	text := bytes.TrimRight(block, "\r\n")
	if len(text) > 0 {
		c.flush()
		c.h.Write(text)
		c.written = true
	}
	c.crlf = append(c.crlf, block[len(text):]...)
}

// lines canonicalises body a line at a time.
func (c *relaxedBody) lines(body []byte) {
	for len(body) > 0 {
		line := body
		if i := bytes.IndexByte(body, '\n'); i >= 0 {
			line = body[:i+1]
		}
		body = body[len(line):]
		if text, ok := bytes.CutSuffix(line, []byte("\r\n")); ok && len(text) > 0 && text[len(text)-1] != ' ' &&
			bytes.IndexByte(text, '\t') < 0 && bytes.IndexByte(text, '\r') < 0 && !bytes.Contains(text, []byte("  ")) {
			c.flush()
			c.h.Write(text)
			c.written = true
			c.crlf = append(c.crlf, '\r', '\n')
			continue
		}
		c.slow(line)
	}
}

// relaxedBody is the state of relaxedBodyHash between lines.
type relaxedBody struct {
	h interface {
		Write([]byte) (int, error)
		Sum([]byte) []byte
	}
	crlf    []byte // line ends not yet written: dropped if nothing follows
	wsp     bool   // white space seen and not yet written
	cr      bool   // the last byte was CR
	written bool   // some text was written
	buf     []byte
}

// flush writes the line ends held back, text follows them.
func (c *relaxedBody) flush() {
	if len(c.crlf) > 0 {
		c.h.Write(c.crlf)
		c.crlf = c.crlf[:0]
	}
}

// slow canonicalises line a byte at a time, as go-msgauth does.
func (c *relaxedBody) slow(line []byte) {
	c.buf = c.buf[:0]
	put := func(ch byte) {
		switch {
		case ch == ' ' || ch == '\t':
			c.wsp = true
		case ch == '\r' || ch == '\n':
			c.wsp = false
			c.crlf = append(c.crlf, ch)
		default:
			if len(c.crlf) > 0 {
				c.buf = append(c.buf, c.crlf...)
				c.crlf = c.crlf[:0]
			}
			if c.wsp {
				c.buf = append(c.buf, ' ')
				c.wsp = false
			}
			c.buf = append(c.buf, ch)
			c.written = true
		}
	}
	for _, ch := range line {
		prevCR := c.cr
		c.cr = ch == '\r'
		if ch == '\n' && !prevCR {
			put('\r')
		}
		put(ch)
	}
	c.h.Write(c.buf)
}
