package content

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

func TestFirstParagraph(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{name: "empty", text: "", want: ""},
		{name: "plain", text: "Hello there.\n", want: "Hello there."},
		{
			name: "wrapped lines joined by spaces",
			text: "The quick brown fox\njumps over the lazy\ndog.\n\nSecond.\n",
			want: "The quick brown fox jumps over the lazy dog.",
		},
		{
			name: "headings skipped",
			text: "Release notes\n=============\n\nWhat's new\n----------\n\nFaster builds.\n",
			want: "Faster builds.",
		},
		{
			name: "link references removed",
			text: "Read the docs[1] and the blog[12].\n\nLinks:\n[1] https://go.dev/doc\n",
			want: "Read the docs and the blog.",
		},
		{
			name: "images and tables skipped",
			text: "[image: A cat][1]\n\nName | Age\n---- | ---\nAnn | 30\n\na | b\nc | d\n\nAfter the table.\n",
			want: "After the table.",
		},
		{name: "image in text kept", text: "Press [image: Enter] now.\n", want: "Press [image: Enter] now."},
		{name: "only headings and links", text: "Title\n=====\n\nLinks:\n[1] https://x.test\n", want: ""},
		{name: "rule skipped", text: "---\n\nText.\n", want: "Text."},
		{name: "quote markers removed", text: "> To be or not\n> to be.\n>\n> That is it.\n", want: "To be or not to be."},
		{
			name: "CJK lines joined without a space",
			text: "日本語のテ\nキストです。\n",
			want: "日本語のテキストです。",
		},
		{name: "line breaks from br joined", text: "Jane Doe\n1 Main St\n", want: "Jane Doe 1 Main St"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := firstParagraph(tt.text); got != tt.want {
				t.Errorf("firstParagraph(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestFirstParagraph_FromHTML(t *testing.T) {
	in := `<h1>Launch</h1><p><img src="hero.jpg" alt="Rocket"></p>` +
		`<p>We <a href="https://x.test/launch">launched</a> today,<br>right on time.</p><p>More.</p>`
	want := "We launched today, right on time."
	if got := firstParagraph(HTMLToText(in, 20)); got != want {
		t.Errorf("firstParagraph(HTMLToText(...)) = %q, want %q", got, want)
	}
}

func TestCutText(t *testing.T) {
	const family = "👨‍👩‍👧‍👦" // 7 runes, one grapheme cluster
	tests := []struct {
		name  string
		s     string
		limit int
		want  string
	}{
		{name: "short returned trimmed", s: "  Hello world \n", limit: 20, want: "Hello world"},
		{name: "exactly the limit is not cut", s: "abcde fghij", limit: 11, want: "abcde fghij"},
		{name: "one over the limit", s: "a bb ccc dddd", limit: 12, want: "a bb ccc…"},
		{name: "cut at a word boundary", s: "The quick brown fox jumps over the lazy dog", limit: 20, want: "The quick brown fox…"},
		{name: "word not split", s: "The quick brown fox jumps over the lazy dog", limit: 18, want: "The quick brown…"},
		{name: "trailing comma dropped", s: "Apples, pears, plums and more", limit: 16, want: "Apples, pears…"},
		{name: "trailing colon and dash dropped", s: "Note: see — this thing here", limit: 11, want: "Note: see…"},
		{name: "no space at all", s: "Supercalifragilisticexpialidocious", limit: 10, want: "Supercali…"},
		{name: "space too early, cut mid-word", s: "a Supercalifragilisticexpialidocious", limit: 10, want: "a Superca…"},
		{name: "CJK without spaces", s: "日本語のテキストはスペースなしで書かれる", limit: 8, want: "日本語のテキス…"},
		{name: "family emoji straddling the limit left out whole", s: "Hi " + family + " there", limit: 8, want: "Hi…"},
		{name: "family emoji that fits kept whole", s: "Hi" + family + "there", limit: 10, want: "Hi" + family + "…"},
		{name: "flags not split", s: "🇩🇪🇫🇷🇮🇹", limit: 4, want: "🇩🇪…"},
		{name: "flag pair straddling the limit", s: "ab🇩🇪🇫🇷", limit: 4, want: "ab…"},
		{name: "skin tone kept with its emoji", s: "ok👍🏽👍🏽", limit: 5, want: "ok👍🏽…"},
		{name: "combining accent kept with its letter", s: "cafe\u0301 cafe\u0301 cafe\u0301", limit: 6, want: "cafe\u0301…"},
		{name: "combining accent not separated", s: "abe\u0301cd", limit: 4, want: "ab…"},
		{name: "limit one", s: "Hello", limit: 1, want: "…"},
		{name: "limit zero", s: "Hello", limit: 0, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cutText(tt.s, tt.limit)
			if got != tt.want {
				t.Errorf("cutText(%q, %d) = %q, want %q", tt.s, tt.limit, got, tt.want)
			}
			if n := utf8.RuneCountInString(got); n > max(tt.limit, 0) {
				t.Errorf("cutText(%q, %d) = %q has %d runes", tt.s, tt.limit, got, n)
			}
		})
	}
}

func FuzzCutText(f *testing.F) {
	for _, s := range []string{
		"The quick brown fox jumps over the lazy dog",
		"Supercalifragilisticexpialidocious",
		"日本語のテキストはスペースなしで書かれる",
		"Hi 👨‍👩‍👧‍👦 there 🇩🇪🇫🇷🇮🇹 ok👍🏽",
		"cafe\u0301 e\u0301\u0301\u0301\u0301",
		"  a, b; c: d  ",
		"\u0600 x",
	} {
		for _, limit := range []int{0, 1, 3, 7, 10, 20} {
			f.Add(s, limit)
		}
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit %= 200
		got := cutText(s, limit)
		if !utf8.ValidString(got) && utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		if n := utf8.RuneCountInString(got); n > max(limit, 0) {
			t.Fatalf("cutText(%q, %d) = %q has %d runes", s, limit, got, n)
		}
		trimmed := strings.TrimSpace(s)
		body := got
		if got != trimmed {
			body = strings.TrimSuffix(got, "…")
		}
		if !strings.HasPrefix(trimmed, body) {
			t.Fatalf("cutText(%q, %d) = %q: not a prefix of the input", s, limit, got)
		}
		// The cut must fall between grapheme clusters.
		at := 0
		for state, rest := -1, trimmed; at < len(body); {
			var c string
			c, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
			at += len(c)
		}
		if at != len(body) {
			t.Fatalf("cutText(%q, %d) = %q cuts inside a grapheme cluster", s, limit, got)
		}
	})
}
