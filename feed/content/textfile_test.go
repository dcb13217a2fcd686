package content

import (
	"html"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
)

// textLoc is not UTC so that a zone-less date read in UTC would fail.
var textLoc = time.FixedZone("EET", 2*60*60)

func readTextFixture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "text", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	textH2RE    = regexp.MustCompile(`<h2>(.*?)</h2>`)
	textTableRE = regexp.MustCompile(`<table><thead><tr>(.*?)</tr></thead>(?:<tbody>(.*?)</tbody>)?</table>`)
	textThRE    = regexp.MustCompile(`<th>(.*?)</th>`)
	textTagRE   = regexp.MustCompile(`<(/?(p|h2|ul|ol|li|strong|table|thead|tbody|tr|th|td)|ol start="\d+")>`)
)

func textHeadings(s string) []string {
	var out []string
	for _, m := range textH2RE.FindAllStringSubmatch(s, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

type textTableShape struct {
	header []string
	rows   int
}

func textTables(s string) []textTableShape {
	var out []textTableShape
	for _, m := range textTableRE.FindAllStringSubmatch(s, -1) {
		var tt textTableShape
		for _, th := range textThRE.FindAllStringSubmatch(m[1], -1) {
			tt.header = append(tt.header, html.UnescapeString(th[1]))
		}
		tt.rows = strings.Count(m[2], "<tr>")
		out = append(out, tt)
	}
	return out
}

// textLetters counts letters, which joining lines, dropping list markers
// and table pipes, and escaping leave alone: comparing counts shows that no
// text was lost or repeated.
func textLetters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

// checkTextHTML asserts the shape every parse result must have: one block
// element per line, each closed, and no markup but ours. It reads the
// output once, tag by tag, so that it costs the fuzzer little beside the
// parser.
func checkTextHTML(t *testing.T, out string) {
	t.Helper()
	if out == "" {
		return
	}
	for line := range strings.SplitSeq(out, "\n") {
		ok := false
		for _, b := range textBlocks {
			if (strings.HasPrefix(line, b.open) || b.open == "<ol>" && strings.HasPrefix(line, "<ol start=")) &&
				strings.HasSuffix(line, b.close) {
				ok = true
			}
		}
		if !ok {
			t.Errorf("line is not one block element: %q", line)
		}
	}
	open := map[string]int{}
	for rest := out; rest != ""; {
		lt := strings.IndexAny(rest, "<>")
		if lt < 0 {
			break
		}
		gt := strings.IndexByte(rest[lt:], '>')
		if rest[lt] == '>' || gt < 0 {
			t.Errorf("raw markup left in output: %q", rest[lt:])
			return
		}
		tag := rest[lt+1 : lt+gt]
		rest = rest[lt+gt+1:]
		name, closing := strings.CutPrefix(tag, "/")
		if !closing {
			if n, ok := strings.CutPrefix(tag, `ol start="`); ok && strings.HasSuffix(n, `"`) && allDigits(n[:len(n)-1]) {
				name = "ol"
			}
		}
		if !textTags[name] {
			t.Errorf("raw markup left in output: <%s>", tag)
			continue
		}
		if closing {
			open[name]--
		} else {
			open[name]++
		}
	}
	for tag, n := range open {
		if n != 0 {
			t.Errorf("<%s> opened and closed %+d times apart", tag, n)
		}
	}
}

// textBlocks are the block elements a line of the output may be.
var textBlocks = []struct{ open, close string }{
	{"<p>", "</p>"}, {"<h2>", "</h2>"}, {"<ul>", "</ul>"}, {"<ol>", "</ol>"}, {"<table>", "</table>"},
}

// textTags are the elements the plain-text parser writes.
var textTags = map[string]bool{"p": true, "h2": true, "ul": true, "ol": true, "li": true, "strong": true,
	"table": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

func TestParseText_Fixtures(t *testing.T) {
	tests := []struct {
		file      string
		title     string
		published time.Time
		author    string
		headings  []string
		tables    []textTableShape
		paras     int
		dropped   []string // input lines that must not reach the HTML
		contains  []string
		absent    []string
	}{{
		file:      "news-ceasefire.txt",
		title:     "Ceasefire Holds for a Third Day as Negotiators Gather in Geneva",
		published: time.Date(2026, 11, 3, 0, 0, 0, 0, textLoc),
		author:    "Mariam Haddad",
		headings: []string{"What the Agreement Says", "Security Guarantees and US Involvement",
			"Timeline of the Talks", "Did You Know?", "Frequently Asked Questions"},
		tables: []textTableShape{{header: []string{"Date", "Event"}, rows: 5}},
		paras:  15,
		dropped: []string{"Ceasefire Holds for a Third Day as Negotiators Gather in Geneva", "Published November 3, 2026",
			"By Mariam Haddad", "Table of Contents", "Related Coverage", "Share this article"},
		contains: []string{
			"<p>The calm held.</p>",
			"<p><strong>Pro Tip:</strong> Readers who want to follow",
			"<h2>Frequently Asked Questions</h2>\n<ul><li><strong>Is the ceasefire permanent?</strong> No. The current text covers 30 days",
			"<li><strong>Who monitors violations?</strong> A joint commission",
			"<li><strong>Can aid convoys move freely?</strong> Yes, along three agreed corridors",
			"<li><strong>What happens if the truce breaks down?</strong> Both delegations",
			"<tr><td>October 31, 2026</td><td>Ceasefire agreement signed; truce takes effect at midnight</td></tr>",
			"<h2>Timeline of the Talks</h2>\n<table>",
		},
		absent: []string{"Table of Contents", "Share this", "Related Coverage", "Published", "Mariam", "Gather in Geneva", "|"},
	}, {
		file:      "crlf-bom.txt",
		title:     "Harbour Ferry Returns After Winter Repairs",
		published: time.Date(2026, 3, 9, 0, 0, 0, 0, textLoc),
		author:    "Tomas Lindqvist",
		headings:  []string{"What Changes for Passengers", "A Long Winter on the Island"},
		paras:     10,
		dropped: []string{"Harbour Ferry Returns After Winter Repairs", "Posted on March 9, 2026", "By Tomas Lindqvist",
			"Share this:", "Facebook", "X", "Email"},
		contains: []string{
			"adults &amp; students",
			"<ul><li>Monthly passes bought before March 1 remain valid until they expire.</li><li>Bicycles",
			"<p><strong>Note:</strong> The operator advises",
		},
		absent: []string{"\r", "\uFEFF", "Share", "Facebook", "Email"},
	}, {
		file:      "wrapped.txt",
		title:     "City Council Approves Plan to Reopen the Old Rail Line",
		published: time.Date(2026, 10, 14, 9, 30, 0, 0, textLoc),
		author:    "Annika Sorensen",
		headings:  []string{"Why the Line Closed", "What It Will Cost"},
		paras:     7,
		dropped: []string{"City Council Approves Plan to Reopen the Old Rail Line", "By Annika Sorensen",
			"Published: 2026-10-14 09:30"},
		contains: []string{
			"<p>The city council voted 9 to 4 on Tuesday night to reopen the disused rail line between the harbour district and the northern suburbs, ending a debate that has run, on and off, for the better part of two decades.</p>",
			// A wrap that falls after a full stop still joins.
			"with seven new stations. Construction is due to start in 2027",
			"the railway&#39;s well-known money troubles",
			"<ul><li>Rebuilding the track bed and laying new rails: 150 million crowns.</li><li>Seven stations with step-free access: 95 million crowns.</li><li>Trains, signalling and a small depot at the northern end of the line: 165 million crowns.</li></ul>",
			"<p><strong>Note:</strong> An earlier version of this article gave the wrong year for the closure of the line to freight traffic. It was 1994, not 1992.</p>",
		},
	}, {
		file:      "unicode.txt",
		title:     "Forty Scripts, One Waterfront: Thessaloniki's Festival of Writing 🌍",
		published: time.Date(2026, 5, 21, 0, 0, 0, 0, textLoc),
		author:    "Eleni Papadaki",
		headings:  []string{"Πρόγραμμα και εκδηλώσεις", "日本からの参加者", "A Pavilion Read from Right to Left", "Visitors by Pavilion"},
		tables:    []textTableShape{{header: []string{"Script", "Pavilion", "Visitors on day one"}, rows: 4}},
		paras:     16,
		dropped: []string{"Forty Scripts, One Waterfront: Thessaloniki's Festival of Writing 🌍", "Published 2026-05-21",
			"By Eleni Papadaki"},
		contains: []string{
			"<p>Το φεστιβάλ γλωσσών της Θεσσαλονίκης άνοιξε την Πέμπτη με περισσότερους από τριάντα χιλιάδες επισκέπτες.</p>",
			"<p>東京の書道家、山田花子さんは毎朝、会場で書道の実演を行っています。</p>\n<p>「文字は文化の顔です」と山田さんは話しました。</p>",
			"<p>يقول المنظمون إن جناح الخط العربي كان الأكثر زيارة في اليوم الأول.</p>",
			"<p>בביתן העברי מציגים כתבי יד עתיקים ומכונת כתיבה משנות החמישים.</p>",
			"<li>日本語 — Japanese, with daily calligraphy demonstrations</li>",
			"<tr><td>العربية</td><td>Warehouse D</td><td>9,100</td></tr>",
			"linguists 👩‍🔬👨‍🏫 from", "city 🇬🇷 next year",
		},
	}, {
		file:      "listicle.txt",
		title:     "7 Things to Know Before Visiting Kyoto in Autumn",
		published: time.Date(2026, 10, 5, 0, 0, 0, 0, textLoc),
		author:    "Kenji Morita",
		headings:  []string{"When the Leaves Turn"},
		tables:    []textTableShape{{header: []string{"Period", "Where the colour is", "Crowds"}, rows: 5}},
		paras:     6,
		dropped: []string{"7 Things to Know Before Visiting Kyoto in Autumn", "Posted on Oct 5, 2026 | 6 min read",
			"By Kenji Morita", "Share this story on Facebook or X"},
		contains: []string{
			"<ol><li>Go early, or go late. The big temples open at 8 or 9 a.m.;",
			"<li>Book trains and rooms well ahead. Rooms for the last two weeks of November sell out months in advance.</li></ol>",
			"<tr><td>Late November</td><td>City centre, Tofukuji, Arashiyama</td><td>Peak</td></tr>",
			"<p><strong>Pro Tip:</strong> Kyoto&#39;s tourism office",
		},
		absent: []string{"min read", "Share", "Posted", "---"},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			src := readTextFixture(t, tt.file)
			doc, err := parseText(src, textLoc)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Title != tt.title {
				t.Errorf("Title = %q, want %q", doc.Title, tt.title)
			}
			if !doc.Published.Equal(tt.published) {
				t.Errorf("Published = %v, want %v", doc.Published, tt.published)
			}
			if doc.Author != tt.author {
				t.Errorf("Author = %q, want %q", doc.Author, tt.author)
			}
			if got := textHeadings(doc.HTML); !slices.Equal(got, tt.headings) {
				t.Errorf("headings = %q, want %q", got, tt.headings)
			}
			if got := textTables(doc.HTML); !slices.EqualFunc(got, tt.tables, func(a, b textTableShape) bool {
				return slices.Equal(a.header, b.header) && a.rows == b.rows
			}) {
				t.Errorf("tables = %v, want %v", got, tt.tables)
			}
			if got := strings.Count(doc.HTML, "<p>"); got != tt.paras {
				t.Errorf("%d paragraphs, want %d", got, tt.paras)
			}
			for _, s := range tt.contains {
				if !strings.Contains(doc.HTML, s) {
					t.Errorf("HTML lacks %q", s)
				}
			}
			for _, s := range tt.absent {
				if strings.Contains(doc.HTML, s) {
					t.Errorf("HTML holds %q", s)
				}
			}
			want := textLetters(src)
			for _, s := range tt.dropped {
				if !strings.Contains(src, s) {
					t.Fatalf("fixture lacks dropped line %q", s)
				}
				want -= textLetters(s)
			}
			if got := textLetters(html.UnescapeString(textTagRE.ReplaceAllString(doc.HTML, ""))); got != want {
				t.Errorf("HTML holds %d letters, want %d: text was lost or repeated", got, want)
			}
			checkTextHTML(t, doc.HTML)
			if t.Failed() {
				t.Logf("HTML:\n%s", doc.HTML)
			}
		})
	}
}

func TestParseText_LineEndings(t *testing.T) {
	raw := readTextFixture(t, "crlf-bom.txt")
	// An editor or a git setting could normalise the fixture; then this
	// test would prove nothing.
	if !strings.HasPrefix(raw, "\uFEFF") || !strings.Contains(raw, "\r\n") {
		t.Fatal("crlf-bom.txt lost its BOM or its CRLF line ends")
	}
	lf := strings.ReplaceAll(strings.TrimPrefix(raw, "\uFEFF"), "\r\n", "\n")
	want, err := parseText(lf, textLoc)
	if err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{
		"bom+crlf": raw,
		"cr":       strings.ReplaceAll(lf, "\n", "\r"),
		"bom+lf":   "\uFEFF" + lf,
	} {
		t.Run(name, func(t *testing.T) {
			got, err := parseText(src, textLoc)
			if err != nil {
				t.Fatal(err)
			}
			if got.Title != want.Title || got.Author != want.Author || !got.Published.Equal(want.Published) || got.HTML != want.HTML {
				t.Errorf("differs from the LF twin:\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// textHTML parses "Title\n"+body and returns the HTML.
func textHTML(t *testing.T, body string) string {
	t.Helper()
	doc, err := parseText("Title\n"+body, textLoc)
	if err != nil {
		t.Fatal(err)
	}
	checkTextHTML(t, doc.HTML)
	return doc.HTML
}

func TestParseText_Headings(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"question heading", "Did You Know?\nThe truce lasted 41 days.",
			"<h2>Did You Know?</h2>\n<p>The truce lasted 41 days.</p>"},
		{"short sentence stays a paragraph", "The calm held.\nOfficials confirmed the figures on Monday.",
			"<p>The calm held.</p>\n<p>Officials confirmed the figures on Monday.</p>"},
		{"plain question stays a paragraph", "Will it hold?\nNobody in Geneva is willing to say.",
			"<p>Will it hold?</p>\n<p>Nobody in Geneva is willing to say.</p>"},
		{"heading before heading dropped", "Background\nWhat Comes Next\nTalks resume on Monday.",
			"<h2>What Comes Next</h2>\n<p>Talks resume on Monday.</p>"},
		{"heading at the end dropped", "Talks resume on Monday.\nRelated Coverage\nMore From Geneva",
			"<p>Talks resume on Monday.</p>"},
		{"contents without list dropped", "Table of Contents\nIn this article:\nTalks resume on Monday.",
			"<p>Talks resume on Monday.</p>"},
		{"contents with list kept", "Contents\n- Background\n- Timeline\nBackground\nTalks began in March.",
			"<h2>Contents</h2>\n<ul><li>Background</li><li>Timeline</li></ul>\n<h2>Background</h2>\n<p>Talks began in March.</p>"},
		{"heading before list and table", "Key Dates\n| Date | Event |\n|---|---|\n| May 1 | Talks |\nWhat to Watch\n- The vote",
			"<h2>Key Dates</h2>\n<table><thead><tr><th>Date</th><th>Event</th></tr></thead><tbody><tr><td>May 1</td><td>Talks</td></tr></tbody></table>\n<h2>What to Watch</h2>\n<ul><li>The vote</li></ul>"},
		{"last line of a wrapped paragraph", "\nThe talks, which began in March, were moved at the last minute to the\nPalais des Nations\n\nDelegates arrived on Monday.",
			"<p>The talks, which began in March, were moved at the last minute to the Palais des Nations</p>\n<p>Delegates arrived on Monday.</p>"},
		{"heading of a wrapped text", "\nBackground\nThe talks, which began in March, were moved at the last minute to\nGeneva, where the delegations arrived on Monday.",
			"<h2>Background</h2>\n<p>The talks, which began in March, were moved at the last minute to Geneva, where the delegations arrived on Monday.</p>"},
		// Scraped text: one long line per paragraph, even without a full stop.
		{"long line without full stop", "The delegations from both sides arrived in Geneva on Monday for talks that mediators described as serious\nMore follows.",
			"<p>The delegations from both sides arrived in Geneva on Monday for talks that mediators described as serious</p>\n<p>More follows.</p>"},
		{"two sentences", "Talks ended. Nothing Was Agreed\nThe delegations meet again in Vienna on Friday.",
			"<p>Talks ended. Nothing Was Agreed</p>\n<p>The delegations meet again in Vienna on Friday.</p>"},
		{"label with a short rest is a lead-in", "Photo: Reuters\nMore follows.",
			"<p><strong>Photo:</strong> Reuters</p>\n<p>More follows.</p>"},
		{"markdown heading", "## Background ##\nTalks began in March.",
			"<h2>Background</h2>\n<p>Talks began in March.</p>"},
		{"lower-case start", "according to officials\nTalks began in March.",
			"<p>according to officials</p>\n<p>Talks began in March.</p>"},
		{"lower-case heading between paragraphs", "Talks began in March.\n\nwhat comes next\n\nThey resume on Monday.",
			"<p>Talks began in March.</p>\n<h2>what comes next</h2>\n<p>They resume on Monday.</p>"},
		{"lower-case heading of a brand", "Talks began in March.\n\niPhone sales in Europe\n\nThey fell by a tenth.",
			"<p>Talks began in March.</p>\n<h2>iPhone sales in Europe</h2>\n<p>They fell by a tenth.</p>"},
		{"lower-case line ending a sentence stays a paragraph", "Talks began in March.\n\nnobody came.\n\nThey resume on Monday.",
			"<p>Talks began in March.</p>\n<p>nobody came.</p>\n<p>They resume on Monday.</p>"},
		{"lower-case heading between one-line paragraphs", "Talks began in March.\nwhat comes next\nThey resume on Monday.",
			"<p>Talks began in March.</p>\n<h2>what comes next</h2>\n<p>They resume on Monday.</p>"},
		{"lower-case line after an open line is no heading", "Talks began in March and\nwhat comes next\nThey resume on Monday.",
			"<p>Talks began in March and what comes next</p>\n<p>They resume on Monday.</p>"},
		{"lower-case line in a hard-wrapped paragraph is joined", "\nThe talks, which began in March, were moved at the last minute to\ngeneva after all\nThe delegations arrived on Monday and the first session ran late.",
			"<p>The talks, which began in March, were moved at the last minute to geneva after all The delegations arrived on Monday and the first session ran late.</p>"},
		{"lower-case line at the end stays a paragraph", "Talks began in March.\n\nthanks for reading",
			"<p>Talks began in March.</p>\n<p>thanks for reading</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := textHTML(t, tt.body); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestParseText_Paragraphs(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"one line per paragraph", "Talks resume Monday.\nBoth sides agreed to the venue.\nMarkets rose.",
			"<p>Talks resume Monday.</p>\n<p>Both sides agreed to the venue.</p>\n<p>Markets rose.</p>"},
		{"blank-line paragraphs", "\nTalks resume Monday.\n\nMarkets rose.\n",
			"<p>Talks resume Monday.</p>\n<p>Markets rose.</p>"},
		{"hard-wrapped paragraph", "\nThe ferry returned to service on Monday after eleven weeks in dry\ndock, to the relief of the roughly 400 commuters who depend on it.\nIts engines were overhauled.\n\nFares rise in April.",
			"<p>The ferry returned to service on Monday after eleven weeks in dry dock, to the relief of the roughly 400 commuters who depend on it. Its engines were overhauled.</p>\n<p>Fares rise in April.</p>"},
		{"hyphen at the wrap", "\nThe ferry is a well-\nknown sight.",
			"<p>The ferry is a well-known sight.</p>"},
		{"lower-case continuation", "The ferry, which was repaired in the yard at\nvarberg, returned on Monday.",
			"<p>The ferry, which was repaired in the yard at varberg, returned on Monday.</p>"},
		{"lead-ins", "Pro Tip: Book early.\nEditor's note: This article was updated.\nNote that fares rise: by 2 crowns.\nOfficials said: the deal is done.",
			"<p><strong>Pro Tip:</strong> Book early.</p>\n<p><strong>Editor&#39;s note:</strong> This article was updated.</p>\n<p>Note that fares rise: by 2 crowns.</p>\n<p>Officials said: the deal is done.</p>"},
		{"rules dropped", "One.\n* * *\nTwo.\n---",
			"<p>One.</p>\n<p>Two.</p>"},
		{"control characters and spaces", "Tabs\tand  \x07bells.",
			"<p>Tabs and bells.</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := textHTML(t, tt.body); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestParseText_Tables(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"escaped pipe", "| Key | Meaning |\n|---|---|\n| a \\| b | either |",
			"<table><thead><tr><th>Key</th><th>Meaning</th></tr></thead><tbody><tr><td>a | b</td><td>either</td></tr></tbody></table>"},
		{"no outer pipes, alignment", "Month | High\n:--- | ---:\nMay | 21 °C",
			"<table><thead><tr><th>Month</th><th>High</th></tr></thead><tbody><tr><td>May</td><td>21 °C</td></tr></tbody></table>"},
		{"ragged rows", "| A | B |\n|---|---|\n| 1 |\n| 1 | 2 | 3 |\nAfter.",
			"<table><thead><tr><th>A</th><th>B</th></tr></thead><tbody><tr><td>1</td><td></td></tr><tr><td>1</td><td>2</td></tr></tbody></table>\n<p>After.</p>"},
		{"header only", "| A | B |\n| --- | --- |",
			"<table><thead><tr><th>A</th><th>B</th></tr></thead></table>"},
		{"separator width differs", "| A | B |\n|---|\n| 1 | 2 |",
			"<p>| A | B |</p>\n<p>|---|</p>\n<p>| 1 | 2 |</p>"},
		{"pipe in prose", "Cats | Dogs is a show.\nIt airs on Fridays.",
			"<p>Cats | Dogs is a show.</p>\n<p>It airs on Fridays.</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := textHTML(t, tt.body); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestParseText_Lists(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"faq", "- Is it permanent? No.\n- Why now?\n- Who pays? The contact group? Probably.",
			"<ul><li><strong>Is it permanent?</strong> No.</li><li>Why now?</li><li><strong>Who pays?</strong> The contact group? Probably.</li></ul>"},
		{"bullet kinds mix", "* One\n• Two\n- Three",
			"<ul><li>One</li><li>Two</li><li>Three</li></ul>"},
		{"ordered", "1. Go early.\n2) Walk.",
			"<ol><li>Go early.</li><li>Walk.</li></ol>"},
		{"ordered from 3", "3. Walk.\n4. Carry cash.",
			`<ol start="3"><li>Walk.</li><li>Carry cash.</li></ol>`},
		{"loose list is one list", "\n- One.\n\n- Two.\n\n1. First.\n\n2. Second.",
			"<ul><li>One.</li><li>Two.</li></ul>\n<ol><li>First.</li><li>Second.</li></ol>"},
		{"continuation lines", "- Trains, signalling and a depot at the end of the\n  line: 165 million.\n- Stations cost\nless than expected.\nThen a paragraph.",
			"<ul><li>Trains, signalling and a depot at the end of the line: 165 million.</li><li>Stations cost less than expected.</li></ul>\n<p>Then a paragraph.</p>"},
		{"list then paragraph", "- One.\nA paragraph.",
			"<ul><li>One.</li></ul>\n<p>A paragraph.</p>"},
		{"not list markers", "-5 degrees overnight.\n2026. A year of talks.",
			"<p>-5 degrees overnight.</p>\n<p>2026. A year of talks.</p>"},
		{"lead-in in an item", "- Pro Tip: Book early.",
			"<ul><li><strong>Pro Tip:</strong> Book early.</li></ul>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := textHTML(t, tt.body); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestParseText_Meta(t *testing.T) {
	day := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, textLoc) }
	tests := []struct {
		name      string
		head      string
		published time.Time
		author    string
		html      string
	}{
		{"rfc3339 keeps its zone", "Published: 2026-11-03T08:15:00Z", time.Date(2026, 11, 3, 8, 15, 0, 0, time.UTC), "", ""},
		{"date and time", "Published 2026-11-03 08:15", day(2026, 11, 3, 8, 15), "", ""},
		{"long month", "Published on November 3, 2026", day(2026, 11, 3, 0, 0), "", ""},
		{"short month", "Posted on Nov 3, 2026", day(2026, 11, 3, 0, 0), "", ""},
		{"day first", "Published: 3 November 2026", day(2026, 11, 3, 0, 0), "", ""},
		{"with time", "Published November 3, 2026 9:05 PM", day(2026, 11, 3, 21, 5), "", ""},
		{"weekday", "Posted on Tuesday, November 3, 2026", day(2026, 11, 3, 0, 0), "", ""},
		{"byline", "By Jane Doe", time.Time{}, "Jane Doe", ""},
		{"byline with colon and particle", "By: Ludwig van Beek and Ana de la Cruz", time.Time{}, "Ludwig van Beek and Ana de la Cruz", ""},
		{"combined line", "By Jane Doe | Published November 3, 2026 | Updated November 4, 2026", day(2026, 11, 3, 0, 0), "Jane Doe", ""},
		{"sentence starting with By", "By the end of the week, talks had resumed.", time.Time{}, "",
			"<p>By the end of the week, talks had resumed.</p>"},
		{"published without a date", "Published by the Harbour Gazette.", time.Time{}, "",
			"<p>Published by the Harbour Gazette.</p>"},
		{"updated alone dates the article", "Updated November 4, 2026 9:00 AM", day(2026, 11, 4, 9, 0), "", ""},
		{"byline with a label", "By Jane Doe — Harbour Gazette", time.Time{}, "Jane Doe", ""},
		{"byline with a sentence is kept", "By Jane Doe | The talks resumed on Monday.", time.Time{}, "",
			"<p>By Jane Doe | The talks resumed on Monday.</p>"},
		{"label alone is kept", "Harbour Gazette\nTalks resume.", time.Time{}, "",
			"<h2>Harbour Gazette</h2>\n<p>Talks resume.</p>"},
		{"repeated title", "Ceasefire Holds", time.Time{}, "", ""},
		{"too far down", "One.\nTwo.\nThree.\nFour.\nFive.\nPublished November 3, 2026\nBy Jane Doe", time.Time{}, "",
			"<p>One.</p>\n<p>Two.</p>\n<p>Three.</p>\n<p>Four.</p>\n<p>Five.</p>\n<p>Published November 3, 2026</p>\n<p>By Jane Doe</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parseText("Ceasefire Holds\n"+tt.head+"\n", textLoc)
			if err != nil {
				t.Fatal(err)
			}
			if !doc.Published.Equal(tt.published) {
				t.Errorf("Published = %v, want %v", doc.Published, tt.published)
			}
			if doc.Author != tt.author {
				t.Errorf("Author = %q, want %q", doc.Author, tt.author)
			}
			if doc.HTML != tt.html {
				t.Errorf("HTML = %q, want %q", doc.HTML, tt.html)
			}
		})
	}
	t.Run("nil location is UTC", func(t *testing.T) {
		doc, err := parseText("T\nPublished 2026-11-03\n", nil)
		if err != nil || !doc.Published.Equal(time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("got %v, %v", doc.Published, err)
		}
	})
}

func TestParseText_Share(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"share this article", "Talks resume.\nShare this article", "<p>Talks resume.</p>"},
		{"share this with networks", "Talks resume.\nShare this:\nFacebook\nTwitter | LinkedIn\nEmail", "<p>Talks resume.</p>"},
		{"share on", "Talks resume.\nShare on Facebook\nShare on X", "<p>Talks resume.</p>"},
		{"share line before a last paragraph", "Talks resume.\nShare this story\nMore on Friday.",
			"<p>Talks resume.</p>\n<p>More on Friday.</p>"},
		{"sentence about shares kept", "Talks resume.\nShare prices rose on the news.",
			"<p>Talks resume.</p>\n<p>Share prices rose on the news.</p>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := textHTML(t, tt.body); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestParseText_Escaping(t *testing.T) {
	src := "Q&A: <b>Talks</b>\n<script>alert('x')</script> & more.\n- Is 1 < 2? Yes & no.\n| <i>A</i> | B&C |\n|---|---|\n| \"x\" | y |\n"
	doc, err := parseText(src, textLoc)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Title != "Q&A: <b>Talks</b>" {
		t.Errorf("Title = %q: it is plain text, escaped by whoever renders it", doc.Title)
	}
	want := "<p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more.</p>\n" +
		"<ul><li><strong>Is 1 &lt; 2?</strong> Yes &amp; no.</li></ul>\n" +
		"<table><thead><tr><th>&lt;i&gt;A&lt;/i&gt;</th><th>B&amp;C</th></tr></thead><tbody><tr><td>&#34;x&#34;</td><td>y</td></tr></tbody></table>"
	if doc.HTML != want {
		t.Errorf("got\n%s\nwant\n%s", doc.HTML, want)
	}
	checkTextHTML(t, doc.HTML)
}

func TestParseText_Title(t *testing.T) {
	tests := []struct{ name, src, title string }{
		{"collapsed", "\n\n  Ceasefire\tholds \x07 in  Geneva \nBody.", "Ceasefire holds in Geneva"},
		{"markdown", "# Ceasefire holds\nBody.", "Ceasefire holds"},
		{"hashtag kept", "#Geneva talks\nBody.", "#Geneva talks"},
		{"title only", "Ceasefire holds", "Ceasefire holds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parseText(tt.src, textLoc)
			if err != nil {
				t.Fatal(err)
			}
			if doc.Title != tt.title {
				t.Errorf("Title = %q, want %q", doc.Title, tt.title)
			}
		})
	}
}

func TestParseText_Blank(t *testing.T) {
	for name, src := range map[string]string{
		"empty":           "",
		"white space":     "  \n\t\n \u00a0 \n",
		"bom and crlf":    "\uFEFF\r\n\r\n",
		"control only":    "\x01\x02\n\x1b",
		"line separators": "\u2028\u2029",
		"bom only":        "\uFEFF\uFEFF",
	} {
		t.Run(name, func(t *testing.T) {
			if doc, err := parseText(src, textLoc); err == nil {
				t.Errorf("no error; got %+v", doc)
			}
		})
	}
}

// textSeeds cuts the fixtures into small pieces: the head of each (title,
// byline, date, first paragraphs) and each run of blocks under a title of
// its own. Small seeds keep every shape of the fixtures (tables, lists,
// headings, wrapped text) while the inputs the fuzzer derives from them
// stay small; the whole fixtures would make minimising each new input
// take the fuzzer's full minute, during which it runs nothing new.
func textSeeds(tb testing.TB) []string {
	files, err := filepath.Glob(filepath.Join("testdata", "text", "*.txt"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no seed fixtures: %v", err)
	}
	var seeds []string
	for _, p := range files {
		lines := strings.Split(readTextFixture(tb, filepath.Base(p)), "\n")
		const piece = 6
		seeds = append(seeds, strings.Join(lines[:min(piece, len(lines))], "\n"))
		for i := piece; i < len(lines); i += piece {
			seeds = append(seeds, "Title\n"+strings.Join(lines[i:min(i+piece, len(lines))], "\n"))
		}
	}
	return seeds
}

// checkParsedText holds parseText to what it promises for any input: an
// error only for input without text, else a title of one printable line
// and well-formed HTML.
func checkParsedText(t *testing.T, data string) {
	t.Helper()
	doc, err := parseText(data, textLoc)
	if err != nil {
		if strings.TrimFunc(data, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == '\uFEFF' }) != "" {
			t.Errorf("error %v for input with text", err)
		}
		return
	}
	if doc.Title == "" {
		t.Error("no error and no title")
	}
	for _, r := range doc.Title {
		if unicode.IsControl(r) || r == '\n' || r == '\u2028' || r == '\u2029' {
			t.Errorf("Title %q holds control character %U", doc.Title, r)
		}
	}
	checkTextHTML(t, doc.HTML)
}

// TestParseText_WholeFixtures gives checkParsedText the whole fixtures,
// which the fuzzer gets in pieces.
func TestParseText_WholeFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "text", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, p := range files {
		t.Run(filepath.Base(p), func(t *testing.T) { checkParsedText(t, readTextFixture(t, filepath.Base(p))) })
	}
}

func FuzzParseText(f *testing.F) {
	for _, s := range textSeeds(f) {
		f.Add(s)
	}
	for _, s := range []string{"", "T\n<p>x</p>", "T\n| a \\| |\n|-|\n|\\|", "T\n- a? b\n1) c\n# \n## x ##", "\r\r\n\uFEFFT\u2028By X\n",
		"T\nUpdated 9 Jan 2024 07:30 (first published 8 Jan 2024 22:10)\nBy ANA LIMA, Politics Desk\nText.",
		"T\n3 June 2023 · 14:05 CET | — Ana Lima\nPublished 31 June 2023\nText."} {
		f.Add(s)
	}
	f.Fuzz(checkParsedText)
}
