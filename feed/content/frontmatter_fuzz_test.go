package content

import (
	"bytes"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
)

// frontMatterSeeds are Markdown files an author could plausibly write, and
// the awkward ones. Values containing "zqx" are markers: they must never
// reach the rendered article unless the body holds them too.
var frontMatterSeeds = []string{
	"---\ntitle: Harbour news\ndate: 2024-05-01\ntags: [boats, weather]\nsummary: zqxmarkersummary\n---\nThe body.\n",
	"+++\ntitle = \"Harbour news\"\ndate = 2024-05-01\ntags = [\"boats\"]\nauthor = \"zqxmarkerauthor\"\n+++\nThe body.\n",
	"---\ntitle: Never closed\nslug: zqxmarkerslug\nThe body.\n",
	"+++\ntitle = \"Never closed\"\nThe body.\n",
	"---",
	"+++",
	"---\n---",
	"---\ntitle: Bad date\ndate: 2024-13-45\n---\nBody.\n",
	"+++\ntitle = \"Bad date\"\ndate = 2024-13-45\n+++\nBody.\n",
	"---\ntitle: Bad time\nupdated: 2024-02-30 25:61\n---\nBody.\n",
	"---\ntitle: Tags as text\ntags: boats, weather , ,\n---\nBody.\n",
	"---\ntitle: Tags as a map\ntags: {a: b}\n---\nBody.\n",
	"+++\ntitle = \"Tags as a table\"\ntags = {a = \"b\"}\n+++\nBody.\n",
	"---\ntitle: Tags nested\ntags: [[a], b]\n---\nBody.\n",
	"---\ntitle: Draft as text\ndraft: yes\n---\nBody.\n",
	"+++\ntitle = \"Draft as text\"\ndraft = \"true\"\n+++\nBody.\n",
	"---\r\ntitle: CRLF\r\nid: zqxmarkerid\r\n---\r\nBody.\r\n",
	"---\rtitle: CR only\rid: zqxmarkercr\r---\rBody.\r",
	"\xef\xbb\xbf---\ntitle: BOM\nimage: zqxmarkerbom\n---\nBody.\n",
	"---\ntitle: \"a quoted\n---\nstring\"\nsummary: zqxmarkerquoted\n---\nBody.\n",
	"---\ntitle: Block\nsummary: |\n  ---\n  zqxmarkerblock\n---\nBody.\n",
	"+++\ntitle = \"\"\"\n+++\n\"\"\"\nsummary = \"zqxmarkertoml\"\n+++\nBody.\n",
	"---\n---\n# Heading title\nBody.\n",
	"+++\n+++\n# Heading title\nBody.\n",
	"---\ntitle: Nothing after\n---\n",
	"--- \ntitle: zqxmarkerspace\n---\nBody.\n",
	"---\ntitle: a\ntitle: b\n---\nBody.\n",
	"---\n? [a]\n: b\n---\nBody.\n",
	"---\n- a list\n---\nBody.\n",
	"---\ntitle: \"bell\\a, tab\\t, line\\nbreak and \\u2028 separator\"\n---\nBody.\n",
	"---\ntitle: !!binary aGVsbG8=\n---\nBody.\n",
	"---\ntitle: XSS\n---\n<script>alert(1)</script><a href=\"javascript:alert(1)\" onclick=\"x()\">a</a>\n<img src=x onerror=alert(1)><a href=\" JaVa\tScRiPt:alert(1)\">b</a>\n",
	"# Just a heading\n\nAnd a body with title: zqxmarkerbody in it.\n",
	"\n",
	"\x00binary",
	"\xed\xa0\x80 not UTF-8",
}

func FuzzFrontMatter(f *testing.F) {
	for _, s := range frontMatterSeeds {
		f.Add([]byte(s))
	}
	r, err := NewRenderer("https://example.org/blog/")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkSplitFrontMatter(t, string(data))
		// The decoders also see heads that are not cut out of a file.
		for _, format := range []string{"yaml", "toml"} {
			if _, _, err := parseFrontMatter(format, string(data), time.UTC); err != nil {
				checkFrontMatterError(t, err, string(data), 2, lineCount(string(data))+2)
			}
		}

		p, err := ParseFile("post.md", data, r, time.UTC)
		src := normalizeNewlines(data)
		if err != nil {
			checkParseFileError(t, src, err)
			return
		}
		checkTitle(t, p.Title)
		checkSafeHTML(t, p.HTML)
		checkNoHeadLeak(t, src, p)
	})
}

// checkSplitFrontMatter holds splitFrontMatter to what it promises: head
// and body are the file's own text on either side of the first closing
// fence, and a file without a head is all body.
func checkSplitFrontMatter(t *testing.T, src string) {
	format, head, body, err := splitFrontMatter(src)
	if err != nil {
		if !errors.Is(err, ErrBadFrontMatter) || !strings.Contains(err.Error(), "line 1") {
			t.Fatalf("split error %q: want ErrBadFrontMatter naming line 1", err)
		}
		return
	}
	fence := map[string]string{"yaml": "---", "toml": "+++"}[format]
	if fence == "" {
		if format != "" || head != "" || body != src {
			t.Fatalf("no head: got format %q head %q body %q", format, head, body)
		}
		return
	}
	open, afterOpen, _ := strings.Cut(src, "\n")
	if strings.TrimRight(open, " \t") != fence {
		t.Fatalf("opening line %q is not the fence %q with spaces after it", open, fence)
	}
	if !strings.HasPrefix(afterOpen, head) || !strings.HasSuffix(src, body) {
		t.Fatalf("head %q and body %q are not the file's own text", head, body)
	}
	between := strings.TrimSuffix(src[len(open)+1+len(head):len(src)-len(body)], "\n")
	if strings.TrimRight(between, " \t") != fence {
		t.Fatalf("head and body are separated by %q, not the closing fence", between)
	}
	for _, l := range strings.Split(head, "\n") {
		if strings.TrimRight(l, " \t") == fence {
			t.Fatalf("head %q runs past a closing fence", head)
		}
	}
	_, _, err = parseFrontMatter(format, head, time.UTC)
	if err != nil {
		checkFrontMatterError(t, err, head, 2, lineCount(head)+2)
	}
}

var (
	lineRef  = regexp.MustCompile(`\bline (\d+)`)
	lineWord = regexp.MustCompile(`\bline\b`)
)

// checkFrontMatterError wants an error about a head to wrap
// ErrBadFrontMatter and every line it names to lie within [lo, hi], lines
// of the file counted from its opening fence.
func checkFrontMatterError(t *testing.T, err error, head string, lo, hi int) {
	t.Helper()
	if !errors.Is(err, ErrBadFrontMatter) {
		t.Fatalf("front matter error %q does not wrap ErrBadFrontMatter", err)
	}
	checkLines(t, err, head, lo, hi)
}

func checkLines(t *testing.T, err error, src string, lo, hi int) {
	t.Helper()
	msg := err.Error()
	for _, m := range lineRef.FindAllStringSubmatch(msg, -1) {
		n, _ := strconv.Atoi(m[1])
		if n < lo || n > hi {
			t.Fatalf("error %q names line %d; the text it is about spans lines %d to %d", msg, n, lo, hi)
		}
	}
	// "line" must come with its number, unless the word is the author's,
	// quoted back in the message, or YAML's "line break".
	said := lineWord.MatchString(strings.ReplaceAll(msg, "line break", ""))
	if said && !strings.Contains(strings.ToLower(src), "line") && !lineRef.MatchString(msg) {
		t.Fatalf("error %q speaks of a line without naming it", msg)
	}
}

func checkParseFileError(t *testing.T, src string, err error) {
	t.Helper()
	var known bool
	for _, sentinel := range []error{ErrBadFrontMatter, ErrEmptyFile, ErrBinaryFile, ErrNoTitle} {
		known = known || errors.Is(err, sentinel)
	}
	if !known {
		t.Fatalf("parseFile error %q wraps none of the package's sentinels", err)
	}
	if !errors.Is(err, ErrBadFrontMatter) {
		return
	}
	// An error inside a closed head names a line of the head, or the
	// closing fence when the head ends too soon.
	if head, _, ok := oracleSplit(src); ok && !strings.Contains(err.Error(), "never closed") {
		checkLines(t, err, src, 2, lineCount(strings.Join(head, "\n"))+2)
		return
	}
	checkLines(t, err, src, 1, lineCount(src))
}

func checkTitle(t *testing.T, title string) {
	t.Helper()
	if strings.TrimSpace(title) == "" {
		t.Fatalf("parsed with empty title %q", title)
	}
	if !utf8.ValidString(title) {
		t.Fatalf("title %q is not UTF-8", title)
	}
	for _, r := range title {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == '\u0085' {
			t.Fatalf("title %q holds %U", title, r)
		}
	}
}

var eventAttr = regexp.MustCompile(`^on[a-z]+$`)

// checkSafeHTML looks for script at the level a browser would run it: a
// script element, an on* attribute, a javascript: URL. Text that merely
// mentions them ("set onclick=" in a paragraph) is harmless and allowed.
func checkSafeHTML(t *testing.T, s string) {
	t.Helper()
	if strings.Contains(strings.ToLower(s), "<script") {
		t.Fatalf("HTML holds <script: %q", s)
	}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		if strings.EqualFold(tok.Data, "script") {
			t.Fatalf("HTML holds a script element: %q", s)
		}
		for _, a := range tok.Attr {
			key := strings.ToLower(a.Key)
			if eventAttr.MatchString(key) {
				t.Fatalf("HTML holds event attribute %s=%q: %q", a.Key, a.Val, s)
			}
			if !scriptURLAttrs[key] {
				continue
			}
			for _, u := range strings.Split(a.Val, ",") {
				if strings.HasPrefix(urlScheme(u), "javascript:") {
					t.Fatalf("HTML holds %s=%q: %q", a.Key, a.Val, s)
				}
			}
		}
	}
}

// scriptURLAttrs are the attributes whose URL a browser follows or loads.
var scriptURLAttrs = map[string]bool{
	"href": true, "src": true, "srcset": true, "cite": true, "poster": true, "action": true,
	"formaction": true, "background": true, "longdesc": true, "xlink:href": true, "data": true,
}

// urlScheme lower-cases u without the white space and control characters a
// browser ignores in a scheme ("java\tscript:" runs).
func urlScheme(u string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return unicode.ToLower(r)
	}, u)
}

var headPair = regexp.MustCompile(`^\s*["']?[\w.-]+["']?\s*[:=]\s*["']?([A-Za-z0-9]+)["']?\s*$`)

// checkNoHeadLeak: a marker value (alphanumeric, 8+ long, with "zqx" in it)
// of a key: value (or key = value) line in a closed head may appear in the
// article's HTML or text only if the body holds it too.
func checkNoHeadLeak(t *testing.T, src string, p Doc) {
	t.Helper()
	head, body, ok := oracleSplit(src)
	if !ok {
		return
	}
	bodyLetters := alnumLower(body) + "\x00" + alnumLower(htmlText(body))
	for _, l := range head {
		m := headPair.FindStringSubmatch(l)
		if m == nil || len(m[1]) < 8 || !strings.Contains(strings.ToLower(m[1]), "zqx") {
			continue
		}
		v := strings.ToLower(m[1])
		if strings.Contains(bodyLetters, v) {
			continue
		}
		if strings.Contains(strings.ToLower(p.HTML), v) || strings.Contains(strings.ToLower(p.Text), v) {
			t.Fatalf("front matter line %q leaked into the article:\nHTML %q\nText %q", l, p.HTML, p.Text)
		}
	}
}

// oracleSplit cuts a closed head as an author sees it: a first line of
// --- or +++ (trailing blanks allowed) and the next line that repeats it.
// src has its newlines normalized.
func oracleSplit(src string) (head []string, body string, ok bool) {
	lines := strings.Split(src, "\n")
	fence := strings.TrimRight(lines[0], " \t")
	if fence != "---" && fence != "+++" {
		return nil, "", false
	}
	for i := 1; i < len(lines); i++ {
		if strings.TrimRight(lines[i], " \t") == fence {
			return lines[1:i], strings.Join(lines[i+1:], "\n"), true
		}
	}
	return nil, "", false
}

// normalizeNewlines does to a file what parseFile does before it looks for
// a head.
func normalizeNewlines(data []byte) string {
	s := string(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}

// lineCount counts lines as the YAML decoder does: besides \n, NEL, LS and
// PS end a line in YAML 1.1, so an error may name a line past the last \n.
func lineCount(s string) int {
	return 1 + strings.Count(s, "\n") + strings.Count(s, "\r") +
		strings.Count(s, "\u0085") + strings.Count(s, "\u2028") + strings.Count(s, "\u2029")
}

// htmlText is the text of s with its tags and comments dropped and its
// character references decoded, as a browser would show it.
func htmlText(s string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			b.Write(z.Text())
		}
	}
}

func alnumLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}
