package transport

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"
	"time"
)

// whole is what Message writes for the filled text without a template.
func whole(t testing.TB, lits, vals []string) (text, enc string, encoded []byte) {
	var s strings.Builder
	for i, l := range lits {
		s.WriteString(l)
		if i < len(lits)-1 {
			s.WriteString(vals[i])
		}
	}
	enc = transferEncoding(s.String(), false)
	var b bytes.Buffer
	if err := writeBody(&b, enc, s.String()); err != nil {
		t.Fatal(err)
	}
	return s.String(), enc, b.Bytes()
}

// checkTemplate: filled, the template is byte for byte what encoding the
// whole text gives, or says it cannot be (a 7bit body given a value that
// needs quoted-printable).
func checkTemplate(t testing.TB, lits, vals []string) {
	t.Helper()
	tpl, err := NewBodyTemplate(lits)
	if err != nil {
		return // not UTF-8: refused, nothing to compare
	}
	p, ok, err := tpl.Fill(vals)
	if err != nil {
		return
	}
	text, enc, want := whole(t, lits, vals)
	if !ok {
		if tpl.enc == "quoted-printable" || enc == tpl.enc {
			t.Fatalf("Fill refused %q with %q though the whole is %s like the template", lits, vals, enc)
		}
		return
	}
	var got bytes.Buffer
	p.writeTo(&got)
	if p.Encoding != enc || !bytes.Equal(got.Bytes(), want) || p.size != got.Len() {
		t.Fatalf("lits %q vals %q:\n got %s %q (size %d)\nwant %s %q", lits, vals, p.Encoding, got.Bytes(), p.size, enc, want)
	}
	// What the outbox and previews read.
	if got := p.Text(); got != text {
		t.Fatalf("lits %q vals %q: Text() = %q, want %q", lits, vals, got, text)
	}
	// What the DKIM signer trusts to hash without a look for bare CR or LF.
	if !crlfOnly(got.Bytes()) {
		t.Fatalf("lits %q vals %q: a line does not end in CRLF:\n%q", lits, vals, got.Bytes())
	}
	// What SMTP trusts to send without a look for dots to double.
	if dotted := bytes.HasPrefix(want, []byte(".")) || bytes.Contains(want, []byte("\n.")); p.dotFree == dotted {
		t.Fatalf("lits %q vals %q: dotFree is %v for\n%q", lits, vals, p.dotFree, want)
	}
}

func TestBodyTemplate_SameAsTheWhole(t *testing.T) {
	long := strings.Repeat("word ", 40) // past quoted-printable's 76 columns
	tests := []struct {
		name string
		lits []string
		vals []string
	}{
		{"no values", []string{"Hello.\nBye.\n"}, nil},
		{"value mid-line", []string{"Dear ", ",\nThe news.\n"}, []string{"Ana"}},
		{"two values on one line", []string{"Hi ", " and ", ".\nRest\n"}, []string{"Ana", "Bo"}},
		{"value at the end, no newline", []string{"Link: "}, []string{"https://x.example/u?t=abc"}},
		{"values on separate lines", []string{"A ", "\nB\nC ", "\nD\n"}, []string{"1", "2"}},
		{"quoted-printable body", []string{"Caf\u00e9 " + long + "\nHello ", ",\n\u00fcber " + long + "\n"}, []string{"Ana"}},
		{"non-ASCII value in a QP body", []string{"Caf\u00e9\nHello ", ",\n"}, []string{"Zo\u00eb"}},
		{"non-ASCII value in a 7bit body", []string{"Cafe\nHello ", ",\n"}, []string{"Zo\u00eb"}},
		{"trailing space before a line end", []string{"Caf\u00e9 \nHi ", " \n= sign =3D\n"}, []string{"Ana "}},
		{"CRLF in the text", []string{"Caf\u00e9\r\nHi ", "\r\nEnd\r\n"}, []string{"x"}},
		{"a lone CR and LF, in the text and a value", []string{"Caf\u00e9 a\rb\nHi ", "\n\rEnd\n"}, []string{"x\ry\nz"}},
		{"a lone CR in a 7bit body", []string{"Cafe a\rb\nHi ", "\n"}, []string{"x\r"}},
		{"long line with a value", []string{"\u00e9" + long, long + "\n"}, []string{"https://example.org/unsubscribe?token=" + strings.Repeat("a", 60)}},
		{"value holding a line end", []string{"Caf\u00e9 ", " end\n"}, []string{"two\nlines"}},
		{"empty values", []string{"", "", ""}, []string{"", ""}},
		{"leading dot", []string{".start ", "\n.next\n"}, []string{"v"}},
		{"dot in a shared line", []string{"Hi ", "\nthe list:\n.\n"}, []string{"v"}},
		{"dot from a value", []string{"Hi\n", " end\n"}, []string{".v"}},
		{"dot after a value's line end", []string{"Hi ", " end\n"}, []string{"a\n.b"}},
		{"dot after a soft line break", []string{"Caf\u00e9 " + strings.Repeat("x", 74) + ".", "\n"}, []string{""}},
		{"no dot at a line start", []string{"Caf\u00e9 a.b ", " .c\n"}, []string{"v."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkTemplate(t, tt.lits, tt.vals) })
	}
}

func FuzzBodyTemplate(f *testing.F) {
	f.Add("Caf\u00e9 ", " and more\nlines = 3D\n", "Ana", "x\n")
	f.Add("plain ", "\n", "v", "")
	f.Add(strings.Repeat("long ", 30), strings.Repeat("\u00e9", 40)+"\n", "https://example.org/?a=b", " ")
	f.Fuzz(func(t *testing.T, a, b, v1, v2 string) {
		checkTemplate(t, []string{a, b, "\nend"}, []string{v1, v2})
	})
}

// A message given its parts encoded by a template is the message that
// encodes its text itself.
func TestMessage_PartsFromATemplate(t *testing.T) {
	now := time.Date(2026, 12, 3, 7, 0, 0, 0, time.UTC)
	lits := []string{"Caf\u00e9 news for ", ".\nUnsubscribe: ", "\n"}
	vals := []string{"Ana", "https://example.org/u?t=1"}
	text := lits[0] + vals[0] + lits[1] + vals[1] + lits[2]
	html := "<p>Caf\u00e9</p>"
	m := &Message{From: mail.Address{Address: "news@example.org"}, To: mail.Address{Address: "ana@example.org"}, Subject: "S",
		Text: text, HTML: html, MessageID: "<1@example.org>"}
	plain, _, err := m.render(nil, now)
	if err != nil {
		t.Fatal(err)
	}
	fillParts(t, m, lits, vals, html)
	templated, _, err := m.render(nil, now)
	if err != nil {
		t.Fatal(err)
	}
	// The boundaries are random: compare with them taken out.
	strip := func(b []byte) string {
		s := string(b)
		i := strings.Index(s, "boundary=")
		bd := s[i+len("boundary=") : i+len("boundary=")+60]
		return strings.ReplaceAll(s, bd, "B")
	}
	if strip(plain) != strip(templated) {
		t.Errorf("templated message differs:\n%s\n----\n%s", templated, plain)
	}
}

// fillParts gives m its parts as the renderer does: the text from a
// template of lits around vals, the HTML from a template without values.
func fillParts(t *testing.T, m *Message, lits, vals []string, html string) {
	t.Helper()
	tt, err := NewBodyTemplate(lits)
	if err != nil {
		t.Fatal(err)
	}
	th, err := NewBodyTemplate([]string{html})
	if err != nil {
		t.Fatal(err)
	}
	var ok1, ok2 bool
	if m.TextPart, ok1, err = tt.Fill(vals); err != nil || !ok1 {
		t.Fatal(ok1, err)
	}
	if m.HTMLPart, ok2, err = th.Fill(nil); err != nil || !ok2 {
		t.Fatal(ok2, err)
	}
}
