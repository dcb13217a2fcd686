package transport

import (
	netmail "net/mail"
	"strings"
	"testing"
)

func TestTransferEncoding(t *testing.T) {
	tests := []struct {
		name, body     string
		want, wantFile string // for SMTP, and for the outbox's files
	}{
		{"short ASCII", "Hello,\n\nconfirm: https://news.example.org/confirm?token=abc=\n", "7bit", "7bit"},
		{"non-ASCII", "Grüße\n", "quoted-printable", "8bit"},
		{"not UTF-8", "Gr\xfc\xdfe\n", "quoted-printable", "quoted-printable"},
		{"998 octets", strings.Repeat("a", 998) + "\n", "7bit", "7bit"},
		{"999 octets", strings.Repeat("a", 999), "quoted-printable", "quoted-printable"},
		{"bare CR", "a\rb", "quoted-printable", "quoted-printable"},
		{"NUL", "a\x00b", "quoted-printable", "quoted-printable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := transferEncoding(tt.body, false); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if got := transferEncoding(tt.body, true); got != tt.wantFile {
				t.Errorf("in a file: got %s, want %s", got, tt.wantFile)
			}
		})
	}
	// In an .eml file a 7bit link reads as it stands.
	m := &Message{From: netmail.Address{Address: "news@example.org"}, To: netmail.Address{Address: "ana@example.org"}, Subject: "x",
		Text: "open https://news.example.org/confirm?token=AQ-x_9\n", MessageID: "<a@example.org>"}
	raw, err := m.Bytes(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "https://news.example.org/confirm?token=AQ-x_9\r\n") {
		t.Errorf("link not readable as it stands:\n%s", raw)
	}
}
