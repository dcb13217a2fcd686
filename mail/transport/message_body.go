package transport

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"
	"unicode/utf8"
)

// transferEncoding picks 7bit for ASCII text whose lines fit SMTP's 998
// octets, so that the message stays readable as it is (a link in an .eml
// file of the outbox can be copied as it stands), and quoted-printable for
// everything else.
//
// The checks run over the whole text at once (IndexByte and a word at a
// time), not byte by byte: this runs for every part of every message.
//
// With eightBit (the outbox's files, which no SMTP server carries), UTF-8
// text with such lines is written as it stands, 8bit, for the same reason:
// quoted-printable would write the = of a link's ?token= as =3D and break
// its long lines.
func transferEncoding(s string, eightBit bool) string {
	if strings.IndexByte(s, '\r') >= 0 || strings.IndexByte(s, 0) >= 0 {
		return "quoted-printable"
	}
	enc := "7bit"
	if !isASCII(s) {
		if !eightBit || !utf8.ValidString(s) {
			return "quoted-printable"
		}
		enc = "8bit"
	}
	for s != "" {
		line, rest, _ := strings.Cut(s, "\n")
		if len(line) > maxLine {
			return "quoted-printable"
		}
		s = rest
	}
	return enc
}

// isASCII reports whether s has no byte of 0x80 or above.
func isASCII(s string) bool {
	for len(s) >= 8 {
		if binary.LittleEndian.Uint64([]byte(s[:8]))&0x8080808080808080 != 0 {
			return false
		}
		s = s[8:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// encodedSize guesses how many bytes s takes in enc, to size the buffer
// once.
func encodedSize(s, enc string) int {
	if enc == "quoted-printable" {
		return len(s) * 3 / 2
	}
	return len(s) + len(s)/32 // a CR per line of text
}

// writeBody writes s in the encoding transferEncoding chose, with CRLF
// line ends.
func writeBody(b *bytes.Buffer, enc, s string) error {
	if enc == "quoted-printable" {
		return writeQP(b, s)
	}
	for s != "" {
		line, rest, found := strings.Cut(s, "\n")
		b.WriteString(line)
		if found {
			b.WriteString("\r\n")
		}
		s = rest
	}
	return nil
}

// writeQP writes s quoted-printable; the encoder turns LF and CRLF alike
// into CRLF.
func writeQP(w io.Writer, s string) error {
	qp := quotedprintable.NewWriter(w)
	if _, err := io.WriteString(qp, s); err != nil {
		return fmt.Errorf("encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return fmt.Errorf("encode body: %w", err)
	}
	return nil
}

// newBoundary returns a random multipart boundary, made as
// mime/multipart makes its own.
func newBoundary() string {
	var b [30]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}
