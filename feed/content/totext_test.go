package content

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

type htmlToTextCase struct {
	name  string
	in    string
	width int
	want  string
}

func runHTMLToText(t *testing.T, cases []htmlToTextCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			width := tc.width
			if width == 0 {
				width = 72
			}
			if got := HTMLToText(tc.in, width); got != tc.want {
				t.Errorf("HTMLToText(%q, %d)\ngot:\n%s\nwant:\n%s", tc.in, width, got, tc.want)
			}
		})
	}
}

func TestHTMLToText_Paragraphs(t *testing.T) {
	runHTMLToText(t, []htmlToTextCase{
		{name: "empty", in: "", want: ""},
		{name: "only whitespace and empty paragraphs", in: " <p> </p>\n<p>&nbsp;</p> ", want: ""},
		{name: "one blank line between paragraphs", in: "<p>One.</p>\n\n<p>Two.</p><p>Three.</p>", want: "One.\n\nTwo.\n\nThree.\n"},
		{name: "whitespace collapsed as in a browser", in: "<p>\n  Some   text\tspread\n over <em>lines</em> .  </p>", want: "Some text spread over lines .\n"},
		{name: "no space added between inline elements", in: "<p>un<b>break</b>able</p>", want: "unbreakable\n"},
		{name: "entities decoded", in: "<p>Fish &amp; chips &lt;3 &quot;caf&eacute;&quot; &#8212; 5&nbsp;km</p>", want: "Fish & chips <3 \"café\" — 5\u00a0km\n"},
		{
			name:  "wrapped at word boundaries",
			in:    "<p>The quick brown fox jumps over the lazy dog and keeps running.</p>",
			width: 20,
			want:  "The quick brown fox\njumps over the lazy\ndog and keeps\nrunning.\n",
		},
		{
			name:  "a word longer than the line is not broken",
			in:    "<p>see https://example.com/a/very/long/path/that/does/not/fit here</p>",
			width: 20,
			want:  "see\nhttps://example.com/a/very/long/path/that/does/not/fit\nhere\n",
		},
		{
			name:  "CJK counted as two cells and broken between characters",
			in:    "<p>日本語のテキストは空白なしで書かれる。</p>",
			width: 10,
			want:  "日本語のテ\nキストは空\n白なしで書\nかれる。\n",
		},
		{
			name:  "closing CJK punctuation never starts a line",
			in:    "<p>日本語です。</p>",
			width: 10, // "日本語です" fits, but "。" may not begin the next line
			want:  "日本語で\nす。\n",
		},
		{
			name:  "emoji counted as two cells",
			in:    "<p>🎉🎉 party 🎉🎉 time</p>",
			width: 11,
			want:  "🎉🎉 party\n🎉🎉 time\n",
		},
		{name: "text outside paragraphs", in: "Intro text<div>In a div</div>tail", want: "Intro text\n\nIn a div\n\ntail\n"},
		{name: "scripts and styles left out", in: "<p>a</p><script>alert(1)</script><style>p{}</style><p>b</p>", want: "a\n\nb\n"},
		{name: "control characters dropped", in: "<p>bell\x07 and esc\x1b[31m</p>", want: "bell and esc[31m\n"},
		{name: "invalid UTF-8 replaced", in: "<p>bad \xff byte</p>", want: "bad \uFFFD byte\n"},
		{name: "inline quotes get quotation marks", in: "<p>She said <q>hello</q>.</p>", want: "She said “hello”.\n"},
		{name: "rule", in: "<p>a</p><hr><p>b</p>", want: "a\n\n---\n\nb\n"},
	})
}

func TestHTMLToText_Headings(t *testing.T) {
	runHTMLToText(t, []htmlToTextCase{
		{name: "h1 underlined with =", in: "<h1>Release notes</h1><p>Text.</p>", want: "Release notes\n=============\n\nText.\n"},
		{name: "h2 underlined with -", in: "<h2>What&#39;s new</h2>", want: "What's new\n----------\n"},
		{name: "h6 underlined with -", in: "<h6>Small</h6>", want: "Small\n-----\n"},
		{name: "underline as wide as CJK text is displayed", in: "<h2>日本語</h2>", want: "日本語\n------\n"},
		{name: "inline markup inside heading", in: "<h1>  The <em>big</em>\n news </h1>", want: "The big news\n============\n"},
		{
			name:  "long heading wrapped, underline as wide as the widest line",
			in:    "<h1>A heading that is much too long</h1>",
			width: 16,
			want:  "A heading that\nis much too long\n================\n",
		},
		{name: "empty heading left out", in: "<h2> </h2><p>x</p>", want: "x\n"},
	})
}

func TestHTMLToText_Lists(t *testing.T) {
	runHTMLToText(t, []htmlToTextCase{
		{name: "unordered", in: "<ul><li>Apples</li><li>Pears</li></ul>", want: "- Apples\n- Pears\n"},
		{name: "ordered", in: "<ol><li>First</li><li>Second</li></ol>", want: "1. First\n2. Second\n"},
		{name: "ordered with start", in: `<ol start="9"><li>nine</li><li>ten</li></ol>`, want: "9. nine\n10. ten\n"},
		{name: "separated from paragraphs", in: "<p>Buy:</p><ul><li>milk</li></ul><p>Thanks.</p>", want: "Buy:\n\n- milk\n\nThanks.\n"},
		{
			name:  "continuation lines indented under the text",
			in:    "<ul><li>a list item long enough to wrap</li></ul><ol><li>numbered item that wraps too</li></ol>",
			width: 20,
			want:  "- a list item long\n  enough to wrap\n\n1. numbered item\n   that wraps too\n",
		},
		{
			name: "nested lists hang under their item",
			in:   "<ul><li>fruit<ul><li>apple</li><li>pear</li></ul></li><li>veg<ol><li>leek</li></ol></li></ul>",
			want: "- fruit\n  - apple\n  - pear\n- veg\n  1. leek\n",
		},
		{
			name: "paragraphs inside an item",
			in:   "<ol><li><p>First para.</p><p>Second para.</p></li><li><p>Next.</p></li></ol>",
			want: "1. First para.\n\n   Second para.\n2. Next.\n",
		},
		{name: "list written directly inside a list", in: "<ul><li>a</li><ul><li>b</li></ul></ul>", want: "- a\n  - b\n"},
		{name: "empty item keeps its marker", in: "<ol><li>a</li><li></li><li>c</li></ol>", want: "1. a\n2.\n3. c\n"},
		{name: "definition list", in: "<dl><dt>Term</dt><dd>Meaning of it</dd></dl>", want: "Term\n  Meaning of it\n"},
	})
}

func TestHTMLToText_Blockquotes(t *testing.T) {
	runHTMLToText(t, []htmlToTextCase{
		{name: "lines prefixed", in: "<blockquote><p>To be.</p><p>Or not.</p></blockquote>", want: "> To be.\n>\n> Or not.\n"},
		{
			name:  "wrapped inside the prefix",
			in:    "<blockquote>one two three four five six</blockquote>",
			width: 12,
			want:  "> one two\n> three four\n> five six\n",
		},
		{name: "nested", in: "<blockquote>outer<blockquote>inner</blockquote></blockquote>", want: "> outer\n>\n> > inner\n"},
		{name: "list inside", in: "<blockquote><ul><li>a</li><li>b</li></ul></blockquote>", want: "> - a\n> - b\n"},
	})
}

func TestHTMLToText_Preformatted(t *testing.T) {
	runHTMLToText(t, []htmlToTextCase{
		{
			name:  "kept verbatim and never wrapped",
			in:    "<p>Run:</p><pre><code>for i := 0; i &lt; 10; i++ {\n\tfmt.Println(i)   \n}</code></pre>",
			width: 10,
			want:  "Run:\n\nfor i := 0; i < 10; i++ {\n\tfmt.Println(i)\n}\n",
		},
		{name: "indentation and blank lines kept", in: "<pre>\n  a\n\n    b\n\n</pre>", want: "  a\n\n    b\n"},
		{name: "inside a list item", in: "<ul><li>code:<pre>x := 1\ny := 2</pre></li></ul>", want: "- code:\n\n  x := 1\n  y := 2\n"},
		{name: "markup inside kept as text, no references", in: `<pre><a href="https://x.test">link</a> <b>b</b></pre>`, want: "link b\n"},
	})
}

func TestHTMLToText_LineBreaks(t *testing.T) {
	runHTMLToText(t, []htmlToTextCase{
		{name: "br breaks the line", in: "<p>Jane Doe<br>1 Main St<br/>\n  Springfield</p>", want: "Jane Doe\n1 Main St\nSpringfield\n"},
		{name: "double br is one blank line", in: "<p>a<br><br><br>b</p>", want: "a\n\nb\n"},
		{name: "trailing br adds nothing", in: "<p>a<br></p><p>b</p>", want: "a\n\nb\n"},
		{
			name:  "lines after br wrap on their own",
			in:    "<p>short<br>a longer line that has to wrap</p>",
			width: 16,
			want:  "short\na longer line\nthat has to wrap\n",
		},
	})
}

func TestHTMLToText_Tables(t *testing.T) {
	runHTMLToText(t, []htmlToTextCase{
		{
			name: "header row then rule",
			in:   "<table><thead><tr><th>Name</th><th>Age</th></tr></thead><tbody><tr><td>Ann</td><td>30</td></tr><tr><td>Bob</td><td>4</td></tr></tbody></table>",
			want: "Name | Age\n---- | ---\nAnn | 30\nBob | 4\n",
		},
		{
			name: "first row of th cells is the header",
			in:   "<table><tr><th>Key</th><th>Value</th></tr><tr><td><b>a</b> b</td><td>c</td></tr></table>",
			want: "Key | Value\n--- | -----\na b | c\n",
		},
		{name: "no header", in: "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td>d</td></tr></table>", want: "a | b\nc | d\n"},
		{
			name:  "not wrapped",
			in:    "<table><tr><td>a long cell of text</td><td>another long cell</td></tr></table>",
			width: 10,
			want:  "a long cell of text | another long cell\n",
		},
		{name: "caption above", in: "<table><caption>Prices</caption><tr><td>tea</td><td>2</td></tr></table>", want: "Prices\ntea | 2\n"},
		{name: "separated from paragraphs", in: "<p>x</p><table><tr><td>a</td><td>b</td></tr></table><p>y</p>", want: "x\n\na | b\n\ny\n"},
		{name: "links in cells get references", in: `<table><tr><td><a href="https://a.test">A</a></td></tr></table>`, want: "A[1]\n\nLinks:\n[1] https://a.test\n"},
	})
}

func TestHTMLToText_Images(t *testing.T) {
	runHTMLToText(t, []htmlToTextCase{
		{name: "alt text", in: `<p><img src="cat.jpg" alt="A  cat on a mat"></p>`, want: "[image: A cat on a mat]\n"},
		{name: "no alt omitted", in: `<p>Before <img src="x.png"> after</p><p><img src="y.png" alt=""></p>`, want: "Before after\n"},
		{name: "inline in text", in: `<p>Press <img src="k.png" alt="Enter"> now</p>`, want: "Press [image: Enter] now\n"},
		{name: "figure with caption", in: `<figure><img src="c.jpg" alt="Cat"><figcaption>Our cat</figcaption></figure>`, want: "[image: Cat]\n\nOur cat\n"},
	})
}

func TestHTMLToText_Links(t *testing.T) {
	runHTMLToText(t, []htmlToTextCase{
		{
			name: "numbered references and a Links block",
			in:   `<p>Read <a href="https://go.dev/doc">the docs</a> and <a href="https://go.dev/blog">the blog</a>.</p>`,
			want: "Read the docs[1] and the blog[2].\n\nLinks:\n[1] https://go.dev/doc\n[2] https://go.dev/blog\n",
		},
		{
			name: "same URL twice listed once",
			in:   `<p><a href="https://a.test/">one</a>, <a href="https://b.test/">two</a>, <a href="https://a.test/">one again</a></p>`,
			want: "one[1], two[2], one again[1]\n\nLinks:\n[1] https://a.test/\n[2] https://b.test/\n",
		},
		{
			name: "text that is the URL written once",
			in:   `<p>See <a href="https://example.com/x">https://example.com/x</a> or mail <a href="mailto:me@example.com">me@example.com</a>.</p>`,
			want: "See https://example.com/x or mail me@example.com.\n",
		},
		{
			name: "reference sticks to the text, before the space",
			in:   `<p><a href="https://a.test"> spaced </a>out</p>`,
			want: "spaced[1] out\n\nLinks:\n[1] https://a.test\n",
		},
		{
			name: "link wrapping a heading and teaser",
			in:   `<a href="https://x.test/post"><h2>Card</h2><p>Teaser text</p></a>`,
			want: "Card\n----\n\nTeaser text[1]\n\nLinks:\n[1] https://x.test/post\n",
		},
		{
			name: "image link",
			in:   `<p><a href="https://x.test/big.jpg"><img src="small.jpg" alt="Chart"></a></p>`,
			want: "[image: Chart][1]\n\nLinks:\n[1] https://x.test/big.jpg\n",
		},
		{
			name: "fragment and empty links have no reference",
			in:   `<p><a href="#fn1">1</a> <a href="https://x.test"></a><a>plain</a></p>`,
			want: "1 plain\n",
		},
		{
			name: "spaces in URL escaped so the whole URL stays clickable",
			in:   "<p><a href=\" https://x.test/a b\n\">x</a></p>",
			want: "x[1]\n\nLinks:\n[1] https://x.test/a%20b\n",
		},
		{
			name: "numbered in reading order across blocks",
			in:   `<ul><li><a href="https://1.test">one</a></li></ul><blockquote><a href="https://2.test">two</a></blockquote><h2><a href="https://3.test">three</a></h2>`,
			want: "- one[1]\n\n> two[2]\n\nthree[3]\n--------\n\nLinks:\n[1] https://1.test\n[2] https://2.test\n[3] https://3.test\n",
		},
	})
}

// overlongMarkers matches the list, quote and link-list markers that may
// push a single word, URL or underline past the width.
var overlongMarkers = regexp.MustCompile(`^(?:> ?|- |-?[0-9]+\. |\[[0-9]+\] | +)+`)

func FuzzHTMLToText(f *testing.F) {
	for _, s := range []string{
		"",
		"<p>Hello <b>world</b> &amp; more</p>",
		"<h1>Title</h1><h2>Sub</h2><p>text</p>",
		"<ul><li>a<ul><li>b</li></ul></li></ul><ol start=3><li>c</li></ol>",
		"<blockquote><blockquote><p>deep quote with words</p></blockquote></blockquote>",
		"<pre>\tcode  \n  more</pre>",
		"<table><tr><th>a</th></tr><tr><td>b</td></tr></table>",
		`<a href="https://x.test"><h2>c</h2><p>t</p></a><img alt="x">`,
		"<p>日本語のテキスト。👨‍👩‍👧‍👦 🇩🇪🇫🇷 é</p>",
		"a<br><br>b<br>",
		"<p>a\u00a0b\u00a0c\u00a0d e</p>",
		"<dl><dt>t</dt><dd>d</dd></dl><hr><q>q</q>",
	} {
		f.Add(s, uint8(20))
	}
	f.Fuzz(func(t *testing.T, s string, w uint8) {
		width := int(w % 100) // 0: no wrapping
		out := HTMLToText(s, width)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8: %q", out)
		}
		if out == "" {
			return
		}
		if !strings.HasSuffix(out, "\n") || strings.HasSuffix(out, "\n\n") {
			t.Fatalf("output does not end with exactly one newline: %q", out)
		}
		// Tables and preformatted text are never wrapped.
		lower := strings.ToLower(s)
		unwrapped := false
		for _, tag := range []string{"<pre", "<listing", "<xmp", "<plaintext", "<table"} {
			unwrapped = unwrapped || strings.Contains(lower, tag)
		}
		for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if strings.TrimRight(line, " \t\u00a0") != line {
				t.Fatalf("trailing space in line %q", line)
			}
			if width == 0 || unwrapped || uniseg.StringWidth(line) <= width {
				continue
			}
			if rest := overlongMarkers.ReplaceAllString(line, ""); strings.Contains(rest, " ") {
				t.Fatalf("line %q is %d cells wide, more than %d, and not a single word", line, uniseg.StringWidth(line), width)
			}
		}
	})
}
