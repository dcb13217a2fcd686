package transport

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"testing"
)

func TestMessage_NamesAndSubjectRoundTrip(t *testing.T) {
	tests := []struct {
		name, fromName, toName, subject string
	}{
		{"plain", "Example News", "Ada Lovelace", "Your daily digest"},
		{"quotes and commas", `The "Daily", Inc.`, `Doe, Jane "JD"`, `Re: "quoted", commas, and =?not-a-word?=`},
		{"non-ASCII", "Zoë Ünïcödé", "José Müller-Łukasiewicz", "Grüße aus Köln — 7 Artikel"},
		{"long", strings.Repeat("Ünïcödé ", 12), strings.Repeat("Very Long Name ", 8), strings.Repeat("Ärger über lange Betreffzeilen ", 8)},
		{"emoji and backslash", `Back\slash 📰`, "日本語の名前", "📰 News, \\ and a tab\there"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Message{
				From:    mail.Address{Name: tt.fromName, Address: "news@example.org"},
				To:      mail.Address{Name: tt.toName, Address: "ada+digest@example.com"},
				ReplyTo: &mail.Address{Name: tt.fromName, Address: "editor@example.org"},
				Subject: tt.subject,
				Text:    "Hello\nworld\n",
				Date:    fixedDate(),
			}
			raw, err := m.Bytes(nil)
			if err != nil {
				t.Fatal(err)
			}
			p := parseMessage(t, raw)
			if p.subject != tt.subject {
				t.Errorf("subject = %q, want %q", p.subject, tt.subject)
			}
			for field, want := range map[string]mail.Address{"From": m.From, "To": m.To, "Reply-To": *m.ReplyTo} {
				got, err := mail.ParseAddress(p.header.Get(field))
				if err != nil {
					t.Fatalf("%s %q: %v", field, p.header.Get(field), err)
				}
				if *got != want {
					t.Errorf("%s = %+v, want %+v", field, *got, want)
				}
			}
			if d, err := p.header.Date(); err != nil || !d.Equal(fixedDate()) {
				t.Errorf("Date = %v, %v", d, err)
			}
			id := p.header.Get("Message-ID")
			if checkMessageID(id) != nil || !strings.HasSuffix(id, "@example.org>") {
				t.Errorf("Message-ID = %q", id)
			}
			if p.text != "Hello\r\nworld\r\n" {
				t.Errorf("text = %q", p.text)
			}
			for _, line := range strings.Split(string(raw[:bytes.Index(raw, []byte("\r\n\r\n"))]), "\r\n") {
				if len(line) > 78 && strings.Count(strings.TrimSpace(line), " ") > 0 {
					t.Errorf("header line of %d characters left unfolded: %q", len(line), line)
				}
			}
		})
	}
}

func TestMessage_AlternativeParts(t *testing.T) {
	text := "Line one with trailing space \nA very long line " + strings.Repeat("lorem ipsum ", 20) + "\nEquals = sign, ünïcödé\r\n.\nlast line without newline"
	html := "<p>Hello <b>world</b> = " + strings.Repeat("<i>x</i> ", 30) + "</p>\n<p>ünïcödé</p>"
	m := &Message{
		From: mail.Address{Address: "news@example.org"}, To: mail.Address{Address: "a@example.com"},
		Subject: "Parts", Text: text, HTML: html, MessageID: "<stable-1@example.org>",
	}
	raw, err := m.Bytes(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := parseMessage(t, raw)
	crlf := func(s string) string { return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n") }
	if p.text != crlf(text) {
		t.Errorf("text part = %q\nwant %q", p.text, crlf(text))
	}
	if p.html != crlf(html) {
		t.Errorf("html part = %q\nwant %q", p.html, crlf(html))
	}
	if got := p.header.Get("Message-ID"); got != "<stable-1@example.org>" {
		t.Errorf("Message-ID = %q", got)
	}
	if p.header.Get("MIME-Version") != "1.0" {
		t.Errorf("MIME-Version = %q", p.header.Get("MIME-Version"))
	}
}

func TestMessage_ExtraHeadersInOrder(t *testing.T) {
	unsub := "<https://news.example.org/unsubscribe?token=" + strings.Repeat("abcdef0123", 8) + ">, <mailto:unsubscribe@example.org?subject=unsubscribe>"
	extra := [][2]string{
		{"List-Id", "Example News daily <daily.news.example.org>"},
		{"List-Unsubscribe", unsub},
		{"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
		{"Precedence", "bulk"},
	}
	m := &Message{From: mail.Address{Address: "news@example.org"}, To: mail.Address{Address: "a@example.com"},
		Subject: "Headers", Text: "x", Headers: extra}
	raw, err := m.Bytes(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := parseMessage(t, raw)
	last := -1
	for _, kv := range extra {
		if got := p.header.Get(kv[0]); got != kv[1] {
			t.Errorf("%s = %q, want %q", kv[0], got, kv[1])
		}
		i := bytes.Index(raw, []byte("\r\n"+kv[0]+": "))
		if i <= last {
			t.Errorf("%s at %d, not after the previous extra header (%d)", kv[0], i, last)
		}
		last = i
	}
}

func TestMessage_RejectsHeaderInjection(t *testing.T) {
	ok := func() *Message {
		return &Message{From: mail.Address{Name: "News", Address: "news@example.org"},
			To: mail.Address{Address: "a@example.com"}, Subject: "Hi", Text: "x"}
	}
	tests := []struct {
		name   string
		edit   func(*Message)
		header string
	}{
		{"subject CRLF", func(m *Message) { m.Subject = "Hi\r\nBcc: victim@example.net" }, "Subject"},
		{"subject LF", func(m *Message) { m.Subject = "Hi\nX: y" }, "Subject"},
		{"from name", func(m *Message) { m.From.Name = "News\r\nBcc: v@example.net" }, "From"},
		{"from address", func(m *Message) { m.From.Address = "news@example.org\r\nBcc: v@example.net" }, "From"},
		{"to name", func(m *Message) { m.To.Name = "A\nB" }, "To"},
		{"to address CR", func(m *Message) { m.To.Address = "a@example.com\r" }, "To"},
		{"reply-to", func(m *Message) { m.ReplyTo = &mail.Address{Name: "x\r\ny", Address: "r@example.org"} }, "Reply-To"},
		{"message-id", func(m *Message) { m.MessageID = "<a@b>\r\nBcc: v@example.net" }, "Message-ID"},
		{"extra value", func(m *Message) {
			m.Headers = [][2]string{{"List-Id", "ok <l.example.org>"}, {"List-Unsubscribe", "<https://x.example/u>\r\nBcc: v@example.net"}}
		}, "List-Unsubscribe"},
		{"extra name", func(m *Message) { m.Headers = [][2]string{{"X-Evil\r\nBcc", "v@example.net"}} }, "X-Evil\r\nBcc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok()
			tt.edit(m)
			raw, err := m.Bytes(nil)
			var he *HeaderError
			if !errors.As(err, &he) || !errors.Is(err, ErrHeaderInjection) || he.Header != tt.header {
				t.Fatalf("err = %v, want a HeaderError for %q with ErrHeaderInjection; got %q", err, tt.header, raw)
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", tt.header)) {
				t.Errorf("error %q does not name %q", err, tt.header)
			}
		})
	}
}

func TestMessage_RejectsInvalid(t *testing.T) {
	tests := []struct {
		name string
		m    Message
	}{
		{"no text", Message{From: mail.Address{Address: "a@example.org"}, To: mail.Address{Address: "b@example.org"}}},
		{"no from", Message{To: mail.Address{Address: "b@example.org"}, Text: "x"}},
		{"to without @", Message{From: mail.Address{Address: "a@example.org"}, To: mail.Address{Address: "b"}, Text: "x"}},
		{"non-ASCII address", Message{From: mail.Address{Address: "a@exämple.org"}, To: mail.Address{Address: "b@example.org"}, Text: "x"}},
		{"bad message-id", Message{From: mail.Address{Address: "a@example.org"}, To: mail.Address{Address: "b@example.org"}, Text: "x", MessageID: "no-brackets@x"}},
		{"reserved extra", Message{From: mail.Address{Address: "a@example.org"}, To: mail.Address{Address: "b@example.org"}, Text: "x", Headers: [][2]string{{"bcc", "c@example.org"}}}},
		{"colon in name", Message{From: mail.Address{Address: "a@example.org"}, To: mail.Address{Address: "b@example.org"}, Text: "x", Headers: [][2]string{{"X:Y", "z"}}}},
		{"non-ASCII extra", Message{From: mail.Address{Address: "a@example.org"}, To: mail.Address{Address: "b@example.org"}, Text: "x", Headers: [][2]string{{"List-Id", "Nëws <n.example.org>"}}}},
		{"signed extra twice", Message{From: mail.Address{Address: "a@example.org"}, To: mail.Address{Address: "b@example.org"}, Text: "x", Headers: [][2]string{{"List-Id", "<a.example.org>"}, {"list-id", "<b.example.org>"}}}},
		{"unbreakable long value", Message{From: mail.Address{Address: "a@example.org"}, To: mail.Address{Address: "b@example.org"}, Text: "x", Headers: [][2]string{{"X-Long", strings.Repeat("x", 1000)}}}},
		{"invalid UTF-8 body", Message{From: mail.Address{Address: "a@example.org"}, To: mail.Address{Address: "b@example.org"}, Text: "x\xff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if raw, err := tt.m.Bytes(nil); err == nil {
				t.Fatalf("rendered:\n%s", raw)
			}
		})
	}
}

// FuzzMessage_NoInjection: whatever the subject, names and an extra
// header value, a rendered message has exactly the expected fields and
// gives the inputs back.
func FuzzMessage_NoInjection(f *testing.F) {
	f.Add("Hello", "Ada", "Example News", "<https://x.example/u>")
	f.Add("Hi\r\nBcc: x@y", "A\nB", `"Quoted", name`, "v\r\nX-Injected: 1")
	f.Add("Grüße =?utf-8?q?x?=", "Zoë", "日本", "a  b\tc")
	f.Fuzz(func(t *testing.T, subject, toName, fromName, value string) {
		m := &Message{From: mail.Address{Name: fromName, Address: "news@example.org"},
			To: mail.Address{Name: toName, Address: "a@example.com"}, Subject: subject, Text: "x",
			Headers: [][2]string{{"List-Unsubscribe", value}}}
		raw, err := m.Bytes(nil)
		if err != nil {
			return
		}
		p := parseMessage(t, raw)
		want := []string{"Content-Transfer-Encoding", "Content-Type", "Date", "From", "List-Unsubscribe", "Message-Id", "Mime-Version", "Subject", "To"}
		var got []string
		for k := range p.header {
			got = append(got, k)
		}
		if len(got) != len(want) {
			t.Fatalf("fields %v, want %v", got, want)
		}
		for _, k := range want {
			if len(p.header[k]) != 1 {
				t.Fatalf("field %s appears %d times", k, len(p.header[k]))
			}
		}
		// Readers drop the whitespace around an unstructured field.
		if p.subject != subject && p.subject != strings.Trim(subject, " \t") {
			t.Errorf("subject %q, want %q", p.subject, subject)
		}
		if to, err := mail.ParseAddress(p.header.Get("To")); err != nil || to.Name != toName {
			t.Errorf("To %q: %v", p.header.Get("To"), err)
		}
		if p.header.Get("List-Unsubscribe") != strings.TrimSpace(value) {
			t.Errorf("List-Unsubscribe %q, want %q", p.header.Get("List-Unsubscribe"), value)
		}
	})
}

// What plainAddress lets through without a parse reads back as written.
func FuzzPlainAddress(f *testing.F) {
	for _, a := range [][2]string{{"", "reader1@r1.example"}, {"Reader 1", "reader1@r1.example"},
		{"Ana", "bounces+d42.t0k3n=x@news.example.org"}, {" Ana", "a@b.c"}, {"Ana  Bo", "a.b@c"}, {"", "a..b@c"},
		{"", "\"q\"@c"}, {"", "a@[1.2.3.4]"}, {"=?utf-8?q?x?=", "a@b"}, {"O'Brien", "o@b.ie"}} {
		f.Add(a[0], a[1])
	}
	f.Fuzz(func(t *testing.T, name, address string) {
		a := mail.Address{Name: name, Address: address}
		if plainAddress(a) {
			if err := readsBack("To", a); err != nil {
				t.Fatalf("plainAddress took %q <%s>, which does not read back: %v", name, address, err)
			}
		}
	})
}

func TestPlainAddress(t *testing.T) {
	for _, tt := range []struct {
		name, address string
		plain         bool
	}{
		{"", "reader1@r1.example", true},
		{"Reader 1", "reader1@r1.example", true},
		{"", "bounces+d42.t0k3n=x@news.example.org", true},
		{"Ana  Bo", "a@b.example", false},
		{" Ana", "a@b.example", false},
		{"Ana ", "a@b.example", false},
		{"O'Brien", "o@b.example", false},
		{"", "a..b@c.example", false},
		{"", ".a@c.example", false},
		{"", "a@c_d.example", false},
		{"", "a@[192.0.2.1]", false},
		{"", "no-at.example", false},
	} {
		if got := plainAddress(mail.Address{Name: tt.name, Address: tt.address}); got != tt.plain {
			t.Errorf("plainAddress(%q <%s>) = %v, want %v", tt.name, tt.address, got, tt.plain)
		}
	}
}
