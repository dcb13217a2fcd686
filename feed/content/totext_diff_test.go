package content

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
)

// diffWidths are the widths the new HTMLToText is held to the reference
// at: no wrapping, narrow enough to wrap nearly every line, and the mail's.
var diffWidths = []int{0, 20, 72}

// textDiffMarkdown are article bodies in the shapes authors write, rendered
// and sanitized as every Markdown article is.
var textDiffMarkdown = []string{
	"# Title\n\nA paragraph with *emphasis*, **strong**, `code` and [a link](https://example.org/a).\n\nAnother [link](https://example.org/a) to the same page, and [one](/b) more.\n",
	"## Harbour news\n\n- first item\n- second item with a [link](https://example.org/x)\n  - nested item\n  - another nested\n    1. deep ordered\n    2. deeper\n- third\n\n3. three\n4. four\n",
	"| Item | Before | After |\n|---|---:|---:|\n| Ferry budget | 100 | 120 |\n| Bridge | 7 | 8 |\n\nAfter the table.\n",
	"![A photo of the dock](img/dock.jpg)\n\nText after ![inline image](https://example.org/i.png) in a line.\n\n![](nothing.jpg)\n",
	"> A quote\n> over lines\n>\n> > nested quote with **bold**\n\nAfter the quote.\n",
	"```go\nfunc main() {\n\tfmt.Println(\"hi <there>\")\n}\n```\n\n    indented code\n    block\n",
	"Line one  \nline two with a hard break\\\nline three.\n\n***\n\nAfter a rule &amp; entities &copy; &#8212; &lt;tag&gt; caf&eacute; 5&nbsp;km.\n",
	"日本語のテキストは空白なしで書かれる。中文也没有空格。\n\n한국어는 띄어쓰기를 합니다.\n\n🎉🎉 party 🎉🎉 time with e\u0301 combining.\n",
	"Visit <https://example.org/auto> or https://example.org/bare and mail <jane@example.org>.\n",
	"<div><p>raw <b>html</b> in markdown</p><ul><li>one<li>two</ul></div>\n\n<table><tr><td>no tbody</td></tr></table>\n",
	"Term\n\n<dl><dt>term</dt><dd>definition with <q>quote</q></dd></dl>\n\n<p>unclosed <em>emphasis\n",
	"- [x] done task\n- [ ] open task\n\n~~struck~~ text and footnote-ish[^1].\n\n[^1]: the note.\n",
	"<h2>Heading with <a href=\"https://example.org/h\">a link</a></h2>\n\n<a href=\"https://example.org/card\"><h3>Card</h3><p>teaser</p></a>\n",
	"<ol start=\"7\"><li>seven</li><li>eight<ol><li>nested</li></ol></li></ol>\n\n<ul><li></li><li><p>para item</p><p>second para</p></li></ul>\n",
	"<pre>\nleading newline dropped\n  kept   spacing\n</pre>\n\n<pre><code>\ncode block</code></pre>\n",
}

// textDiffHTML are hand-written bodies, well-formed or not, that reach
// HTMLToText as written (or as little changed as the sanitizer leaves
// them).
var textDiffHTML = []string{
	"",
	"plain text, no tags",
	"<p>One.</p>\n\n<p>Two.</p><p>Three.</p>",
	"<ul><li>a<ul><li>b<ul><li>c</li></ul></li></ul></li><li>d</li></ul>",
	"<ol start=\"3\"><li>x</li><li>y</li></ol><ol start=\" 12 \"><li>z</li></ol><ol start=\"no\"><li>w</li></ol>",
	"<table><caption>Cap</caption><thead><tr><th>A</th><th>B</th></tr></thead><tbody><tr><td>1</td><td>2</td></tr><tr><td></td><td></td></tr></tbody><tfoot><tr><td>f</td></tr></tfoot></table>",
	"<table>\n<thead>\n<tr>\n<th>H1</th>\n<th align=\"right\">H2</th>\n</tr>\n</thead>\n<tbody>\n<tr>\n<td>a <b>b</b></td>\n<td>c</td>\n</tr>\n</tbody>\n</table>",
	"<table><tr><td>implied tbody</td></tr></table>",
	"<table><tbody><tr><th>H</th><th>H2</th></tr><tr><td>x</td><td>y</td></tr></tbody></table>",
	"<table><tbody>stray text<tr><td>x</td></tr></tbody></table>",
	"<pre>  keep\n\tthis\x07 </pre><pre>\n\nafter two newlines</pre><pre>&#10;entity newline</pre>",
	"<blockquote><p>quoted</p><blockquote><p>deeper</p></blockquote><ul><li>item</li></ul></blockquote>",
	"<p><a href=\"https://example.org/x\">same</a> and <a href=\"https://example.org/x\">same again</a> and <a href=\"https://example.org/y\">other</a></p>",
	"<p><a href=\"https://example.org/\">https://example.org/</a> <a href=\"mailto:a@b.org\">a@b.org</a> <a href=\"#top\">top</a> <a href=\"javascript:x\">js</a></p>",
	"<p><a href=\"https://example.org/?a=1&amp;b=2&#38;c=3&quot;\">amp</a> <a href=\"  https://example.org/sp ace\t\">space</a></p>",
	"<p><a href=\"https://example.org/&copy\">legacy entity</a> <a href=\"https://example.org/&copy=1\">legacy =</a> <a href=\"x&notit;\">prefix</a></p>",
	"<p><img src=\"a.jpg\" alt=\"An  image\"> <img src=\"b.jpg\"> <img alt=\"\"> <img src=\"c.jpg\" alt=\"first\" alt=\"second\"/></p>",
	"<p>line<br>break<br/>and<br />more<br><br><br>after blank</p>",
	"<p>Fish &amp; chips &lt;3 &quot;caf&eacute;&quot; &#8212; 5&nbsp;km &notit; &amp &#x41; &#0; &#128;</p>",
	"<h1>Title</h1><h2>Sub <em>title</em></h2><h3></h3><h4>four</h4>",
	"<p>日本語のテキストは空白なしで書かれる。</p><p>中文<b>粗体</b>文字，标点。</p>",
	"<p>unclosed <b>bold <i>both</b> italic</i></p>",
	"<p>para<div>div in p</div></p>",
	"<ul><li>one<li>two</ul>",
	"<p>one<p>two",
	"<b><p>block in inline</p></b>",
	"<!-- comment --><p>after comment</p>",
	"<p>a < b and c > d, 1 <2</p>",
	"<P CLASS=x>upper case</P>",
	"<p>bad \xff byte</p>",
	"<p>cr\r\nlf</p>",
	"<p>nul\x00byte</p>",
	"<script>alert(1)</script><style>p{}</style><p>kept</p>",
	"<svg><text>svg</text></svg><math><mi>x</mi></math>",
	"<select><option>o</option></select><textarea>t</textarea>",
	"<dl><dt>t</dt><dd>d<dl><dt>t2</dt><dd>d2</dd></dl></dd></dl>",
	"<li>stray item</li><dd>stray dd</dd>",
	"<ul>text in list<li>item</li><ul><li>list in list</li></ul></ul>",
	"<p><q>quote</q> <del>del</del> <ins>ins</ins> <sub>sub</sub><sup>sup</sup> <kbd>kbd</kbd></p>",
	"<a href=\"https://example.org/a\"><a href=\"https://example.org/b\">nested</a></a>",
	"<div/>self closing div<span/>",
	"<p title='single' id=x>unquoted attr</p><p a=\"1\"b=\"2\">no space</p>",
	"<hr><hr/><p>a</p><hr>",
	"<p>soft\u00adhyphen and zero\u200bwidth</p>",
	"<h2><ul><li>list in heading</li><li>two</li></ul></h2>",
	"<table><tr><td><table><tbody><tr><td>nested table</td></tr></tbody></table></td></tr></table>",
	"<p>x</p></p>",
	"</div>stray end",
	"<p>unterminated <b",
	"<p>trailing <",
	"<p><wbr>w<wbr/>b</p><center>c</center><details><summary>s</summary>d</details>",
	"<figure><img src=\"x.jpg\" alt=\"fig\"><figcaption>caption</figcaption></figure>",
	"<p>" + strings.Repeat("word ", 50) + "</p>",
	"<ul>" + strings.Repeat("<li>deep<ul>", 30) + strings.Repeat("</ul></li>", 30) + "</ul>",
	// The parser refuses more than 512 open elements; HTMLToText then
	// has no text.
	strings.Repeat("<span>", 300) + "deep" + strings.Repeat("</span>", 300),
	strings.Repeat("<span>", 600) + "too deep" + strings.Repeat("</span>", 600),
}

// diffCorpus is every input of the differential tests: the repository's
// example articles and the bodies above, as Normalize hands them to
// HTMLToText, and the hand-written HTML as written too.
func diffCorpus(t testing.TB) []string {
	t.Helper()
	r, err := NewRenderer("https://news.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, pattern := range []string{"../../testdata/content/*", "../../testdata/content/*/*", "testdata/text/*"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	var out []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue // a folder
		}
		d, err := ParseFile(filepath.Base(f), data, r, time.UTC)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, d.HTML)
		if FormatOf(f) == HTML {
			out = append(out, string(data))
		}
	}
	if len(out) < 5 {
		t.Fatalf("found %d example articles; the globs are wrong", len(out))
	}
	for i, md := range textDiffMarkdown {
		h, err := r.Markdown(md)
		if err != nil {
			t.Fatal(err)
		}
		d, err := r.Normalize(Doc{ID: fmt.Sprint("md", i), Title: "T", HTML: h})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h, d.HTML)
	}
	for i, h := range textDiffHTML {
		d, err := r.Normalize(Doc{ID: fmt.Sprint("html", i), Title: "T", HTML: h})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, h, d.HTML)
	}
	return out
}

// checkSameText fails unless HTMLToText writes s as the reference does.
func checkSameText(t *testing.T, s string) {
	t.Helper()
	for _, w := range diffWidths {
		if got, want := HTMLToText(s, w), refHTMLToText(s, w); got != want {
			t.Fatalf("HTMLToText(%q, %d)\ngot:\n%s\nwant (reference):\n%s", s, w, got, want)
		}
	}
}

// checkSameTree fails if treeBuilder.build takes s but builds another tree than
// html.ParseFragment does.
func checkSameTree(t *testing.T, s string) (fast bool) {
	t.Helper()
	var tb treeBuilder
	root, ok := tb.build(s)
	if !ok {
		return false
	}
	nodes, err := html.ParseFragment(strings.NewReader(s), plainBody())
	if err != nil {
		t.Fatalf("treeBuilder.build(%q) built a tree where html.ParseFragment fails: %v", s, err)
	}
	var want strings.Builder
	for _, n := range nodes {
		dumpTree(&want, n, 0)
	}
	var got strings.Builder
	for c := root.FirstChild; c != nil; c = c.NextSibling {
		if c.Parent != root {
			t.Fatalf("%q: a top node's parent is not the root", s)
		}
		dumpTree(&got, c, 0)
	}
	if got.String() != want.String() {
		t.Fatalf("treeBuilder.build(%q)\ngot:\n%s\nwant (html.ParseFragment):\n%s", s, got.String(), want.String())
	}
	return true
}

// dumpTree writes the tree as far as the layout reads it: node types,
// names, text, and the attributes plainAttr is asked for.
func dumpTree(sb *strings.Builder, n *html.Node, depth int) {
	fmt.Fprintf(sb, "%*s%d %q", 2*depth, "", n.Type, n.Data)
	if n.Type == html.ElementNode {
		fmt.Fprintf(sb, " atom=%d ns=%q", n.DataAtom, n.Namespace)
		seen := map[string]bool{}
		for _, a := range n.Attr {
			if a.Namespace == "" && (a.Key == "href" || a.Key == "alt" || a.Key == "start") && !seen[a.Key] {
				seen[a.Key] = true
				fmt.Fprintf(sb, " %s=%q", a.Key, a.Val)
			}
		}
	}
	sb.WriteByte('\n')
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Parent != n {
			sb.WriteString("(wrong parent)\n")
		}
		dumpTree(sb, c, depth+1)
	}
}

func TestHTMLToText_SameAsReference(t *testing.T) {
	for i, s := range diffCorpus(t) {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			checkSameText(t, s)
			checkSameTree(t, s)
		})
	}
}

// TestTreeBuilder_TakesSanitizedArticles holds the fast path to what it is
// for: every Markdown article of the corpus, sanitized, is built without
// html.ParseFragment. (A builder that gave up on everything would pass
// the differential tests.)
func TestTreeBuilder_TakesSanitizedArticles(t *testing.T) {
	r, err := NewRenderer("https://news.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	for i, md := range textDiffMarkdown {
		h, err := r.Markdown(md)
		if err != nil {
			t.Fatal(err)
		}
		d, err := r.Normalize(Doc{ID: fmt.Sprint("md", i), Title: "T", HTML: h})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(md, "<") {
			continue // raw HTML, which may be what the parser is needed for
		}
		if !checkSameTree(t, d.HTML) {
			t.Errorf("treeBuilder.build gave up on the sanitized HTML of %q:\n%s", md, d.HTML)
		}
	}
}

// FuzzHTMLToTextSameAsReference holds HTMLToText to the reference on any input, and the
// tree treeBuilder.build makes, when it builds one, to html.ParseFragment's.
func FuzzHTMLToTextSameAsReference(f *testing.F) {
	for _, s := range diffCorpus(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkSameTree(t, s)
		checkSameText(t, s)
	})
}

// genTags are the elements FuzzHTMLToTextGenerated builds HTML of: all
// that treeBuilder.build opens, and a few it leaves to the parser.
var genTags = []string{
	"p", "div", "span", "a", "b", "em", "strong", "code", "i", "u", "s", "q", "sub", "sup",
	"ul", "ol", "li", "dl", "dt", "dd", "blockquote", "pre", "h1", "h2", "h3", "h6", "hr", "br", "img", "wbr",
	"table", "caption", "thead", "tbody", "tfoot", "tr", "td", "th",
	"section", "article", "figure", "figcaption", "details", "summary", "center", "del", "ins", "mark",
	"font", "button", "form", "select", "option", "textarea", "script", "svg", "ruby", "rt", "colgroup", "col",
}

// genTexts are the texts it puts between the tags.
var genTexts = []string{
	"word", "two words", " ", "\n", "  spaced  out  ", "&amp;", "&lt;b&gt;", "&nbsp;", "&notit;", "&#10;",
	"日本語です。", "a < b", "\u00a0", "x\ty", "https://example.org/", "&#0;", "\u00ad",
}

// genAttrs are the attributes it gives its start tags.
var genAttrs = []string{
	` href="https://example.org/x"`, ` href="https://example.org/?a=1&amp;b=2"`, ` href="#top"`,
	` alt="an image"`, ` alt="a &quot;b&quot;"`, ` start="3"`, ` class="c"`, ` href='single'`,
	` href="https://example.org/y" href="https://example.org/z"`, ` title="t"`, ` HREF="upper"`,
}

// genHTML makes HTML of the fuzzer's bytes, read as a list of steps, so
// that most inputs are tags nested in ways plainTree takes, or almost.
func genHTML(ops []byte) string {
	var sb strings.Builder
	var open []string
	for i := 0; i < len(ops); i++ {
		op := ops[i]
		arg := 0
		if i+1 < len(ops) {
			i++
			arg = int(ops[i])
		}
		switch op % 8 {
		case 0, 1, 2: // open a tag
			tag := genTags[arg%len(genTags)]
			sb.WriteString("<" + tag)
			if op%3 == 0 {
				sb.WriteString(genAttrs[(arg/len(genTags))%len(genAttrs)])
			}
			switch tag {
			case "br", "hr", "img", "wbr", "col":
				if op&0x80 != 0 {
					sb.WriteString("/")
				}
				sb.WriteString(">")
			default:
				sb.WriteString(">")
				open = append(open, tag)
			}
		case 3, 4: // close the current element
			if len(open) > 0 {
				sb.WriteString("</" + open[len(open)-1] + ">")
				open = open[:len(open)-1]
			}
		case 5, 6: // text
			sb.WriteString(genTexts[arg%len(genTexts)])
		case 7: // close some other element, or nothing
			sb.WriteString("</" + genTags[arg%len(genTags)] + ">")
		}
	}
	if len(ops)%2 == 0 {
		for len(open) > 0 {
			sb.WriteString("</" + open[len(open)-1] + ">")
			open = open[:len(open)-1]
		}
	}
	return sb.String()
}

// FuzzHTMLToTextGenerated is FuzzHTMLToTextSameAsReference for HTML made
// of the fuzzer's bytes by genHTML: tags that are mostly well nested, in
// any order, where the tree-construction rules that treeBuilder.build must
// know to leave to the parser are at work.
func FuzzHTMLToTextGenerated(f *testing.F) {
	f.Add([]byte{0, 0, 5, 0, 3, 0})
	f.Add([]byte{0, 12, 0, 14, 5, 1, 3, 0, 0, 14, 0, 0, 5, 2})
	f.Add([]byte{0, 30, 0, 33, 0, 35, 0, 37, 5, 0, 3, 0, 3, 0, 3, 0, 3, 0})
	f.Add([]byte{0, 30, 0, 35, 0, 37, 5, 0})
	f.Add([]byte{0, 0, 0, 16, 0, 1, 5, 9, 3, 0, 3, 0, 3, 0})
	f.Fuzz(func(t *testing.T, ops []byte) {
		s := genHTML(ops)
		checkSameTree(t, s)
		checkSameText(t, s)
	})
}
