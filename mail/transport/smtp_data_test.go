package transport

import (
	"bufio"
	"bytes"
	"net/mail"
	"net/textproto"
	"testing"
	"time"
)

func TestWriteDotted(t *testing.T) {
	tests := []struct{ name, msg string }{
		{"plain", "Subject: x\r\n\r\nhello\r\n"},
		{"leading dots", ".\r\n..\r\n.x\r\nmid.dle\r\n. \r\n"},
		{"dot first", ".starts the message\r\n"},
		{"bare LF", "a\nb\n.c\n"},
		{"no final line end", "a\r\nlast"},
		{"final CR", "a\r\nlast\r"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want bytes.Buffer
			dw := textproto.NewWriter(bufio.NewWriter(&want)).DotWriter()
			dw.Write([]byte(tt.msg))
			dw.Close()

			var got bytes.Buffer
			w := bufio.NewWriter(&got)
			if err := writeDotted(w, []byte(tt.msg)); err != nil {
				t.Fatal(err)
			}
			w.WriteString(".\r\n")
			w.Flush()
			if got.String() != want.String() {
				t.Errorf("got %q, want %q (textproto's DotWriter)", got.String(), want.String())
			}
		})
	}
}

// The server receives the bytes the message rendered to, lines of dots
// included: the transport's dot-stuffing is undone on the other side.
func TestSMTP_SendsExactBytes(t *testing.T) {
	srv := startServer(t, serverOpts{})
	tr := newTestSMTP(t, srv, SMTPConfig{})
	m := &Message{From: mail.Address{Address: "news@example.org"}, To: mail.Address{Address: "ana@example.org"},
		Subject: "Dots", Text: ".\n..\n.leading\nend.\n", MessageID: "<dots@example.org>",
		Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	want, err := m.Bytes(nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // a fresh connection, then a reused one
		if err := tr.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	_, _, msgs := srv.stats()
	if len(msgs) != 2 {
		t.Fatalf("%d messages received, want 2", len(msgs))
	}
	for _, got := range msgs {
		if !bytes.Equal(got.data, want) {
			t.Errorf("received\n%q\nwant\n%q", got.data, want)
		}
	}
}

// A message made of two template parts goes out without a look for dots
// when it has none at a line start, and doubled as any other when it
// has: in the parts, a value or a header. Either way the server receives
// the bytes it rendered to, prepared or not, signed or not.
func TestSMTP_TemplatePartsSkipTheDotLookOnlyWhenTheyMay(t *testing.T) {
	tests := []struct {
		name     string
		text     []string
		vals     []string
		header   string // an extra field's name
		dotFree  bool
		signWith bool
	}{
		{"no dots", []string{"Hello ", ",\nthe news.\n"}, []string{"Ana"}, "List-Id", true, false},
		{"no dots, signed", []string{"Hello ", ",\nthe news.\n"}, []string{"Ana"}, "List-Id", true, true},
		{"a shared line", []string{"Hello ", ",\n.\n..\n"}, []string{"Ana"}, "List-Id", false, false},
		{"a value", []string{"Hello\n", "\n"}, []string{".Ana"}, "List-Id", false, false},
		{"a header", []string{"Hello ", "\n"}, []string{"Ana"}, ".X-Odd", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startServer(t, serverOpts{})
			cfg := SMTPConfig{}
			if tt.signWith {
				cfg.DKIM = testDKIMs(t)["rsa"]
			}
			tr := newTestSMTP(t, srv, cfg)
			text := tt.text[0] + tt.vals[0] + tt.text[1]
			html := "<p>" + text + "</p>\n"
			m := &Message{From: mail.Address{Address: "news@example.org"}, To: mail.Address{Address: "ana@example.org"},
				Subject: "Dots", Text: text, HTML: html, MessageID: "<dots@example.org>",
				Date: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Headers: [][2]string{{tt.header, "x"}}}
			fillParts(t, m, tt.text, tt.vals, html)
			if err := tr.Prepare(m); err != nil {
				t.Fatal(err)
			}
			if m.dotFree != tt.dotFree {
				t.Fatalf("prepared dotFree %v, want %v", m.dotFree, tt.dotFree)
			}
			want := sameBoundary(bytes.Clone(m.prepared))
			if err := tr.Send(t.Context(), m); err != nil { // prepared
				t.Fatal(err)
			}
			if err := tr.Send(t.Context(), m); err != nil { // rendered again (or, signed, sent as it was)
				t.Fatal(err)
			}
			_, _, msgs := srv.stats()
			if len(msgs) != 2 {
				t.Fatalf("%d messages received, want 2", len(msgs))
			}
			for i, got := range msgs {
				g := sameBoundary(got.data)
				if tt.signWith && i == 0 {
					want = g // a signed message is sent again as it was
				}
				if !bytes.Equal(g, want) {
					t.Errorf("message %d received\n%q\nwant\n%q", i, g, want)
				}
			}
		})
	}
}
