package mail

import (
	"net/mail"
	"strings"
	"testing"

	"github.com/rivo/uniseg"
)

func TestWrapText(t *testing.T) {
	for _, c := range []struct {
		name  string
		width int
		in    string
		want  string
	}{
		{"short", 20, "one two three", "one two three"},
		{"wrap at words", 10, "one two three four five", "one two\nthree four\nfive"},
		{"exact fit", 7, "one two three", "one two\nthree"},
		{"spaces and breaks collapse", 72, "  one\ttwo\nthree  ", "one two three"},
		{"paragraphs", 72, "one\n\n\ntwo\r\n\r\nthree", "one\n\ntwo\n\nthree"},
		{"hyphenated word kept", 6, "a well-known fact", "a\nwell-known\nfact"},
		{"long word alone", 10, "see https://example.org/a/long/path now", "see\nhttps://example.org/a/long/path\nnow"},
		// Two cells a character: five fit in ten columns.
		{"cjk", 10, "東京の桜が満開になりました", "東京の桜が\n満開になり\nました"},
		{"empty", 72, " \n\n ", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := wrapText(c.width, c.in); got != c.want {
				t.Errorf("wrapText(%d, %q) = %q, want %q", c.width, c.in, got, c.want)
			}
		})
	}
}

func TestHeading(t *testing.T) {
	if got, want := heading("=", "Ελλάδα"), "Ελλάδα\n======"; got != want {
		t.Errorf("heading = %q, want %q", got, want)
	}
	long := strings.Repeat("word ", 20)
	lines := strings.Split(heading("-", long), "\n")
	if len(lines) != 3 || uniseg.StringWidth(lines[2]) != uniseg.StringWidth(lines[0]) || uniseg.StringWidth(lines[0]) > textWidth {
		t.Errorf("a long heading is not wrapped and underlined as wide as its widest line: %q", lines)
	}
}

func TestOneLine(t *testing.T) {
	if got, want := oneLine(" a\r\nb\x00c\u2028d\te \xff "), "a b c d e \uFFFD"; got != want {
		t.Errorf("oneLine = %q, want %q", got, want)
	}
}

func TestQueryValue(t *testing.T) {
	for _, c := range []struct{ url, want string }{
		{"https://x.org/unsubscribe?token=abc-_1", "abc-_1"},
		{"https://x.org/u?a=1&token=a%2Bb#frag", "a+b"},
		{"https://x.org/u?tokenx=1", ""},
		{"https://x.org/u", ""},
		{"https://x.org/u?token=%zz", ""},
	} {
		if got := queryValue(c.url, "token"); got != c.want {
			t.Errorf("queryValue(%q) = %q, want %q", c.url, got, c.want)
		}
	}
}

func TestListID(t *testing.T) {
	r := &Renderer{opt: RenderOptions{SiteTitle: "Site"}}
	for _, c := range []struct {
		d    Digest
		want string
	}{
		{Digest{Name: "daily", Title: `The "Daily" \ News`, From: mail.Address{Address: "news@example.org"}}, `"The \"Daily\" \\ News" <daily.example.org>`},
		{Digest{Name: "Week End", From: mail.Address{Address: "n@example.org"}}, `"Site" <week-end.example.org>`},
		{Digest{Name: "x", Title: "Ελλάδα, νέα", From: mail.Address{Address: "n@example.org"}}, "=?utf-8?b?zpXOu867zqzOtM6xLCDOvc6tzrE=?= <x.example.org>"},
	} {
		if got := r.listID(c.d); got != c.want {
			t.Errorf("listID(%q) = %q, want %q", c.d.Title, got, c.want)
		}
	}
}
