package content

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// cleanBefore is clean as it was before the fast pass, word for word: our
// pass, then bluemonday's. The fast pass is held to its bytes.
func (r *Renderer) cleanBefore(raw string) (string, []string) {
	z := html.NewTokenizer(strings.NewReader(raw))
	var out strings.Builder
	out.Grow(len(raw))
	removed := map[string]bool{}
	var warnings []string
	warned := map[string]bool{}
	for {
		tt := z.Next()
		if tt == html.ErrorToken { // io.EOF: a strings.Reader fails no other way
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			out.Write(z.Raw())
			continue
		}
		if raw := z.Raw(); tt == html.StartTagToken && bareTag(raw) {
			// <p>, <em>: no attribute to look at, and written as the token
			// would write itself, without the cost of making the token.
			if unsafeElements[atom.Lookup(raw[1:len(raw)-1])] {
				removed[string(raw)] = true
			}
			out.Write(raw)
			continue
		}
		tok := z.Token()
		if unsafeElements[tok.DataAtom] {
			removed["<"+tok.Data+">"] = true
		}
		for i, a := range tok.Attr {
			key := strings.ToLower(a.Key)
			if strings.HasPrefix(key, "on") {
				removed[key+"="] = true
				continue
			}
			if !urlAttrs[key] && key != "srcset" {
				continue
			}
			v := strings.TrimSpace(a.Val)
			if scheme, _, ok := strings.Cut(strings.ToLower(v), ":"); ok && (scheme == "javascript" || scheme == "vbscript" || scheme == "data") {
				removed[scheme+": URL"] = true
				continue
			}
			if urlAttrs[key] {
				u, warning, ok := r.asset(v)
				if warning != "" && !warned[warning] {
					warned[warning] = true
					warnings = append(warnings, warning)
				}
				if !ok {
					u = r.absolute(v)
				}
				tok.Attr[i].Val = u
			}
		}
		out.WriteString(tok.String())
	}
	clean := r.sanitize(out.String())
	if len(removed) == 0 {
		return clean, warnings
	}
	what := make([]string, 0, len(removed))
	for k := range removed {
		what = append(what, k)
	}
	sort.Strings(what)
	return clean, append([]string{"removed unsafe HTML: " + strings.Join(what, ", ")}, warnings...)
}

// recordingAssets publishes .jpg and .png files, fails for names holding
// "gone", and records what it was asked, in order.
type recordingAssets struct{ asked []string }

func (a *recordingAssets) publish(ref string) (string, error) {
	a.asked = append(a.asked, ref)
	switch {
	case strings.Contains(ref, "gone"):
		return "", errors.New("no such file")
	case strings.HasSuffix(ref, ".jpg"), strings.HasSuffix(ref, ".png"):
		return "https://cdn.example.org/a/" + url.PathEscape(ref), nil
	}
	return "", ErrNotAsset
}

// diffClean cleans in with clean and with cleanBefore, with and without an
// AssetFunc, and fails t on any difference in the HTML, the warnings or
// what the AssetFunc was asked. It reports whether the fast pass took it.
func diffClean(t *testing.T, r *Renderer, in string) (fast bool) {
	t.Helper()
	for _, withAssets := range []bool{false, true} {
		rNew, rOld := r, r
		var aNew, aOld recordingAssets
		if withAssets {
			rNew, rOld = r.WithAssets(aNew.publish), r.WithAssets(aOld.publish)
		}
		got, gotW := rNew.clean(in)
		want, wantW := rOld.cleanBefore(in)
		if got != want {
			t.Fatalf("assets %v: clean(%q)\n got  %q\n want %q", withAssets, in, got, want)
		}
		if !reflect.DeepEqual(gotW, wantW) {
			t.Fatalf("assets %v: clean(%q) warnings\n got  %q\n want %q", withAssets, in, gotW, wantW)
		}
		if !reflect.DeepEqual(aNew.asked, aOld.asked) {
			t.Fatalf("assets %v: clean(%q) asked\n got  %q\n want %q", withAssets, in, aNew.asked, aOld.asked)
		}
		_, _, fast = rNew.WithAssets(new(recordingAssets).publish).cleanFast(in, new(assetLog))
	}
	return fast
}

func newDiffRenderer(t testing.TB) *Renderer {
	r, err := NewRenderer("https://news.example.org/section/")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// diffMarkdown are Markdown articles of what goldmark's GFM writes, each
// one the fast pass must take.
var diffMarkdown = []string{
	"# Title\n\nA paragraph with *emphasis*, **strong**, ~~struck~~ and `code <b>`.\n",
	"## Heading with id\n\n### Ünïcode héading & more\n\n#### 1. Numbers: first\n",
	"| Left | Centre | Right | None |\n|:---|:---:|---:|---|\n| a | b | c | d |\n| e & f | `g` | **h** | [i](/i) |\n",
	"- [ ] open task\n- [x] done task\n- plain item\n",
	"1. one\n2. two\n   - nested\n   - list\n\n3) three\n\n5. five starts\n6. six\n",
	"Autolinks: https://example.com/path?q=1&r=2, www.example.org and mail@example.net, <https://x.example/>.\n",
	"```go\nfunc main() { fmt.Println(\"<hi> & 'bye'\") }\n```\n\n    indented code\n\n```\nno language\n```\n",
	"![Alt text](img/photo.jpg \"A title\")\n\n![gone](img/gone.jpg)\n\n![remote](https://example.com/x.png 'single')\n",
	"[relative](page.html) [rooted](/about) [fragment](#top) [query](?x=1) [mail](mailto:a@example.org) [title](https://example.com \"T & t\")\n",
	"Entities: &amp; &lt; &gt; &quot; &#39; &copy; &nbsp; &#x1F600; &bogus; & alone, 'quotes' \"double\"\n",
	"> A quote\n> with **bold**\n>\n> > nested\n\n---\n\n***\n\nLine  \nbreak\\\nand soft\nbreak.\n",
	"Reference [link][ref] and ![image][img].\n\n[ref]: https://example.com/ref \"Ref\"\n[img]: pics/a.png\n",
	"Text with <em>inline</em> html, <span>span</span>, <kbd>Ctrl</kbd>, <sup>2</sup>, <sub>i</sub>, <abbr title=\"HyperText\">HTML</abbr>.\n",
	"<div>\n<p>Raw block</p>\n</div>\n\n<!-- a comment -->\n\nAfter.\n",
	"<figure><img src=\"fig.jpg\" alt=\"A figure\" width=\"640\" height=\"50%\"><figcaption>Caption</figcaption></figure>\n",
	"<table summary=\"s\"><thead align=\"left\"><tr valign=\"top\"><th scope=\"col\" colspan=\"2\" abbr=\"x\">H</th></tr></thead><tbody><tr><td rowspan=\"3\" nowrap headers=\"a b\" align=\"center\" width=\"10\">d</td></tr></tbody></table>\n",
	"<p dir=\"rtl\" lang=\"ar\" id=\"para-1\" title=\"A title\" class=\"lead\" style=\"color:red\" onclick=\"alert(1)\">attrs</p>\n",
	"<a href=\"javascript:alert(1)\">js</a> <a>no href</a> <a name=\"anchor\">named</a> <img> <img alt=\"only alt\">\n",
	"<ol type=\"a\" start=\"3\"><li value=\"3\" type=\"i\">x</li></ol><ul type=\"disc\"><li>y</li></ul><dl><dt>t</dt><dd>d</dd></dl>\n",
	"<del cite=\"https://example.com/why\" datetime=\"2026-01-02T03:04:05Z\">old</del><ins cite=\"not a url\">new</ins><q cite=\"q.html\">q</q><blockquote cite=\" rel/ative \">b</blockquote>\n",
	"<h2 id=\"custom id\">space id</h2><h3 id=\"ok-id\">ok</h3><h4 id=\"bad!id\">bad</h4>\n",
	"<input type=\"checkbox\" checked> <form action=\"x\"><button onclick=\"x()\">b</button></form> <nav>n</nav> <custom-el data-x=\"1\">c</custom-el>\n",
	"<a href='single' title=unquoted>odd quoting</a> <img src=img/a.jpg alt=\"it's\" ALT=second> <A HREF=\"UPPER.html\">upper</A> <br/> <hr /> <p/>\n",
	"<a href=\"http://[::1]:namedport\">bad url</a> <a href=\"ftp://example.com/\">ftp</a> <a href=\"//example.com/x\">proto</a> <a href=\"%zz\">bad escape</a> <a href=\"a b\">space</a>\n",
	"<img src=\"data:image/png;base64,iVBORw0KGgo=\"> <a href=\" VBScript:x\">vb</a> <img srcset=\"a.jpg 1x, b.jpg 2x\" src=\"a.jpg\"> <video poster=\"p.jpg\" src=\"v.mp4\"></video>\n",
	"<a href=\"x\"><a>inner</a></a></a> <a></a></a> <img></img></img>\n",
	"Ünïcode text — “quotes” ‘single’ … ½ © ™ Ελληνικά 日本語 🎉\n",
	"",
	"   \n\t\n",
}

// diffHTML are raw HTML fragments the fast pass may leave to bluemonday,
// held to the same bytes either way.
var diffHTML = []string{
	"<script>alert(1)</script><p>after</p>",
	"<style>p{}</style><p>x</p>",
	"<iframe src=\"x.html\">in</iframe><noscript>ns</noscript><title>t</title><textarea>&lt;t</textarea>",
	"</title> stray <title>x</title> after",
	"<details open><summary>s</summary>d</details><time datetime=\"2026-01-01\">t</time><bdo dir=\"rtl\">b</bdo>",
	"<map name=\"m\"><area href=\"a.html\" alt=\"a\" coords=\"1,2,3\"></map><img usemap=\"#m\" src=\"a.png\">",
	"<meter value=\"2\" max=\"3\">m</meter><progress value=\"1\">p</progress>",
	"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><link rel=\"x\"></head><body><p>doc</p></body></html>",
	"<p\x00>nul</p>\x00<a href=\"a\x00b\">n</a>",
	"a\r\nb\rc<a href=\"x\r\ny\">crlf</a><p title=\"a&#13;b\">cr entity</p>",
	"\r\n",
	"<p",
	"text <a href=\"unterminated",
	"<!-- unterminated comment",
	"<![CDATA[cdata]]> <?php echo 1 ?> </ > </> <%x>",
	"<p =x>empty key</p><p x\"y=1 a'b=2 <c=3>odd keys</p>",
	"<svg><circle r=\"1\"/></svg><math><mi>x</mi></math><o:p>word</o:p>",
	"<a href=\"mailto:a@example.org?subject=Hi there\">m</a><a href=\"https://example.com/?a=1&amp;b=<2>&c=%ZZ\">q</a><a href=\"?k<y>=v\">k</a>",
	"<img src=\"  img/a.jpg  \" alt=\"pad\"><img src=\"img/gone.jpg\"><img src=\"img/gone.jpg\"><img src=\"img/b.jpg#frag\">",
	"<IMG SRC=\"javascript:alert('XSS');\"><IMG SRC=JaVaScRiPt:alert('XSS')><a href=\"jav&#x09;ascript:x\">t</a>",
	"<div onmouseover=\"x\" ONCLICK=\"y\"><span dir=\"sideways\" lang=\"x\" id=\"\">s</span></div>",
	"<td>orphan cell</td><tr><th>orphan</th></tr><col span=\"2\" align=\"char\" valign=\"baseline\"><colgroup width=\"5%\"></colgroup>",
	"x&am</>p; &amp</ >; &l<!---->t; a&am<p",
	"<p>&#x26;lt; &AMP; &ampx &notin; &notit; &#0; &#xD800; &#128512</p>",
	"<img src=x/><a href=y/>z</a><br/ ><p / >",
	"<h1 id=\"\">e</h1><h2 id=\" \">s</h2><a href=\"\">empty</a><a href=\" \">space</a><img src=\"#\">",
	"<p title=\"Paragraph, with (punctuation) [ok] !./\\\">t</p><p title=\"not ok: <>\">u</p>",
}

// diffFiles are the HTML the repository's sample articles give clean.
func diffFiles(t testing.TB, r *Renderer) []string {
	var out []string
	for _, dir := range []string{"../../testdata/content", "testdata/text"} {
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			src := strings.ReplaceAll(strings.TrimPrefix(string(data), "\xef\xbb\xbf"), "\r\n", "\n")
			switch filepath.Ext(p) {
			case ".md":
				_, _, body, err := splitFrontMatter(src)
				if err != nil {
					return err
				}
				h, err := r.Markdown(body)
				if err != nil {
					return err
				}
				out = append(out, h)
			case ".html":
				doc, err := parseHTMLFile(src)
				if err != nil {
					return err
				}
				out = append(out, doc.Body)
			case ".txt":
				doc, err := parseText(src, time.UTC)
				if err != nil {
					return err
				}
				out = append(out, doc.HTML)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(out) < 8 {
		t.Fatalf("only %d sample articles found", len(out))
	}
	return out
}

func TestClean_SameAsBluemonday(t *testing.T) {
	r := newDiffRenderer(t)
	t.Run("files", func(t *testing.T) {
		for _, h := range diffFiles(t, r) {
			if !diffClean(t, r, h) {
				t.Errorf("the fast pass left a sample article to bluemonday:\n%s", h)
			}
		}
	})
	t.Run("markdown", func(t *testing.T) {
		for _, md := range diffMarkdown {
			h, err := r.Markdown(md)
			if err != nil {
				t.Fatal(err)
			}
			if !diffClean(t, r, h) && strings.TrimSpace(h) != "" {
				t.Errorf("the fast pass left this to bluemonday:\n%s", h)
			}
		}
	})
	t.Run("html", func(t *testing.T) {
		fast := 0
		for _, h := range diffHTML {
			if diffClean(t, r, h) {
				fast++
			}
		}
		if fast == 0 || fast == len(diffHTML) {
			t.Errorf("the fast pass took %d of %d raw HTML fragments: the corpus does not test both ways", fast, len(diffHTML))
		}
	})
}

// TestClean_SlowPathAsksOnce checks that an article the fast pass gives
// up on half way through asks the AssetFunc once per reference, as before.
func TestClean_SlowPathAsksOnce(t *testing.T) {
	var a recordingAssets
	r := newDiffRenderer(t).WithAssets(a.publish)
	in := `<img src="one.jpg"><img src="gone.png"><script>x</script><img src="two.jpg"><img src="one.jpg">`
	if _, _, ok := r.cleanFast(in, new(assetLog)); ok {
		t.Fatal("the fast pass took a <script>; the test needs one it gives up on")
	}
	a.asked = nil
	out, warnings := r.clean(in)
	if got, want := strings.Join(a.asked, " "), "one.jpg gone.png two.jpg one.jpg"; got != want {
		t.Errorf("asked %q, want %q", got, want)
	}
	if !strings.Contains(out, `src="https://cdn.example.org/a/two.jpg"`) || len(warnings) != 2 {
		t.Errorf("clean = %q, %q", out, warnings)
	}
}

func FuzzClean(f *testing.F) {
	r := newDiffRenderer(f)
	for _, md := range diffMarkdown {
		h, err := r.Markdown(md)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(h)
	}
	for _, h := range diffHTML {
		f.Add(h)
	}
	f.Fuzz(func(t *testing.T, in string) {
		diffClean(t, r, in)
	})
}

// FuzzCleanMarkdown is FuzzClean on what goldmark makes of arbitrary
// Markdown, the HTML the fast pass is for.
func FuzzCleanMarkdown(f *testing.F) {
	r := newDiffRenderer(f)
	for _, md := range diffMarkdown {
		f.Add(md)
	}
	f.Fuzz(func(t *testing.T, md string) {
		h, err := r.Markdown(md)
		if err != nil {
			t.Skip()
		}
		diffClean(t, r, h)
	})
}

// BenchmarkClean compares clean with the two passes it replaces, over the
// sample articles and the Markdown of diffMarkdown, with an AssetFunc as
// a scan has.
func BenchmarkClean(b *testing.B) {
	r := newDiffRenderer(b)
	var docs []string
	var size int64
	for _, md := range diffMarkdown {
		h, err := r.Markdown(md)
		if err != nil {
			b.Fatal(err)
		}
		docs = append(docs, h)
	}
	docs = append(docs, diffFiles(b, r)...)
	for _, d := range docs {
		size += int64(len(d))
	}
	ra := r.WithAssets(func(ref string) (string, error) {
		if strings.HasSuffix(ref, ".jpg") {
			return "https://cdn.example.org/a/" + url.PathEscape(ref), nil
		}
		return "", ErrNotAsset
	})
	for _, c := range []struct {
		name  string
		clean func(string) (string, []string)
	}{{"two-pass", ra.cleanBefore}, {"one-pass", ra.clean}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				for _, d := range docs {
					c.clean(d)
				}
			}
		})
	}
}
