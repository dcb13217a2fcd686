package mail_test

import (
	"bytes"
	"context"
	"flag"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rivo/uniseg"
	"github.com/tidings/tidings/feed"
	tmail "github.com/tidings/tidings/mail"
	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// The -update flag rewrites the golden files. Another test file of the
// package may declare it already; this file is in the external test
// package, initialized after the internal one, so it looks first and
// declares it only when nobody did.
var _ = func() bool {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata")
	}
	return true
}()

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// fakeLinks makes per-subscriber URLs as the subscribers handler does,
// with readable tokens.
type fakeLinks struct{}

func (fakeLinks) UnsubscribeURL(s *subscribers.Subscriber) string {
	return "https://news.example.org/unsubscribe?token=U" + strconv.FormatInt(s.ID, 10) + "tok"
}

func (fakeLinks) UnsubscribeAddress(s *subscribers.Subscriber, domain string) string {
	return "unsubscribe+u" + strconv.FormatInt(s.ID, 10) + "tok@" + domain
}

func (fakeLinks) PreferencesURL(s *subscribers.Subscriber) string {
	return "https://news.example.org/preferences?token=P" + strconv.FormatInt(s.ID, 10) + "tok"
}

var testNow = time.Date(2025, 3, 3, 7, 0, 0, 0, time.UTC)

func testDigests() map[string]tmail.Digest {
	from := mail.Address{Name: "Example News", Address: "news@example.org"}
	return map[string]tmail.Digest{
		"daily": {Name: "daily", Title: "Example News, daily", Description: "The day's articles, every morning at seven.",
			Schedule: "0 7 * * *", From: from},
		"weekly": {Name: "weekly", Title: "Wöchentliche Übersicht", From: from},
	}
}

func testOptions() tmail.RenderOptions {
	return tmail.RenderOptions{
		SiteTitle: "Example News", SiteURL: "https://news.example.org/", Language: "en",
		PostalAddress: "Example News, 1 Example Street, 12345 Example City",
		ListDomain:    "news.example.org", Links: fakeLinks{}, Digests: testDigests(),
		Now: func() time.Time { return testNow },
	}
}

func newTestRenderer(t testing.TB, edit func(*tmail.RenderOptions)) *tmail.Renderer {
	t.Helper()
	o := testOptions()
	if edit != nil {
		edit(&o)
	}
	r, err := tmail.NewRenderer(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// testEdition has a non-Latin first title, an author with an address in
// angle brackets, a title with quotes and markup, and a long summary.
func testEdition() *tmail.Edition {
	day := func(d int) time.Time { return time.Date(2025, 3, d, 9, 30, 0, 0, time.UTC) }
	return &tmail.Edition{
		ID: 42, Digest: "daily", ScheduledAt: testNow, CreatedAt: testNow, State: "sending",
		Articles: []*feed.Article{
			{
				ID: "a1", Slug: "sakura", Title: "東京の桜が満開に: Ελλάδα και Ιαπωνία", Author: "Yuki Tanaka",
				Published: day(2), Tags: []string{"travel"}, Image: "https://news.example.org/media/sakura.jpg",
				Summary:     "東京の桜が今週末に満開を迎えました。上野公園には朝早くから多くの人が集まり、花見を楽しんでいます。気象庁によると、今年の開花は平年より五日早いということです。",
				ContentHTML: "<p>東京の桜が今週末に満開を迎えました。</p>",
				ContentText: "東京の桜が今週末に満開を迎えました。\n",
			},
			{
				ID: "a2", Slug: "budget", Title: `Ministers say "no deal" on the <budget> & taxes`, Author: "Editor <e@x.org>",
				Published:   day(2),
				Summary:     "After a night of talks the ministers left without an agreement. The finance minister said the gap between the two sides was \"wider than ever\" and that the next round would not start before April.",
				ContentHTML: `<p>After a night of talks the ministers left <em>without</em> an agreement.</p><p><a href="https://example.com/statement">Statement</a></p>`,
				ContentText: "After a night of talks the ministers left without an agreement.\n\nStatement [1]\n\nLinks:\n[1] https://example.com/statement\n",
			},
			{
				ID: "a3", Slug: "river-festival", Title: "River festival opens with a record crowd",
				Published: day(1),
				Summary:   "Some forty thousand people came to the opening night.\n\nThe festival runs until Sunday; the programme is on the city's website.",
			},
		},
	}
}

func testSubscriber() *subscribers.Subscriber {
	return &subscribers.Subscriber{ID: 7, Email: "ana@example.com", Name: `Ana "the reader" Sousa`,
		Status: subscribers.StatusConfirmed, Digests: []string{"daily"}}
}

// compose is Compose with the message's Text and HTML read from its
// parts, as the outbox and the previews read them.
func compose(t testing.TB, r *tmail.Renderer, e *tmail.Edition, s *subscribers.Subscriber) *transport.Message {
	t.Helper()
	m, err := r.Compose(context.Background(), e, s)
	if err != nil {
		t.Fatal(err)
	}
	m.Text, m.HTML = m.TextBody(), m.HTMLBody()
	return m
}

func TestRender_Golden(t *testing.T) {
	m := compose(t, newTestRenderer(t, nil), testEdition(), testSubscriber())
	for _, g := range []struct{ file, got string }{
		{"digest.txt.golden", m.Text},
		{"digest.html.golden", m.HTML},
	} {
		t.Run(g.file, func(t *testing.T) {
			path := filepath.Join("testdata", g.file)
			if updating() {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(g.got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./mail -run TestRender -update to create it)", err)
			}
			if g.got != string(want) {
				t.Errorf("%s differs from the rendered part (go test ./mail -run TestRender -update refreshes it):\n%s",
					path, firstDiff(string(want), g.got))
			}
		})
	}
}

// firstDiff shows the first line that differs.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\nwant " + strconv.Quote(w) + "\ngot  " + strconv.Quote(g)
		}
	}
	return "(no line differs)"
}

func TestRender_TextPart(t *testing.T) {
	m := compose(t, newTestRenderer(t, nil), testEdition(), testSubscriber())
	for i, line := range strings.Split(m.Text, "\n") {
		// Only a line with a link, which cannot be broken, may pass 72.
		if w := uniseg.StringWidth(line); w > 72 && !strings.Contains(line, "https://") {
			t.Errorf("text line %d is %d columns wide: %q", i+1, w, line)
		}
	}
	for _, want := range []string{
		"Example News, daily\n===================\n",
		"Ministers say \"no deal\" on the <budget> & taxes\n-----------------------------------------------\n",
		// CJK is two columns a character: 36 cells of underline for 18 characters.
		"東京の桜が満開に: Ελλάδα και Ιαπωνία\n" + strings.Repeat("-", 36) + "\n",
		"Editor <e@x.org> · 2 March 2025\n",
		"Read more: https://news.example.org/articles/budget\n",
		"Hello Ana \"the reader\" Sousa,\n",
		"Unsubscribe:\nhttps://news.example.org/unsubscribe?token=U7tok\n",
		"You receive Example News, daily because you subscribed at Example News\n",
		"Some forty thousand people came to the opening night.\n\nThe festival",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text part lacks %q", want)
		}
	}
}

func TestRender_HTMLPart(t *testing.T) {
	m := compose(t, newTestRenderer(t, nil), testEdition(), testSubscriber())
	for _, want := range []string{
		`<meta name="color-scheme" content="light dark">`,
		`max-width:600px`,
		`Ministers say &#34;no deal&#34; on the &lt;budget&gt; &amp; taxes`,
		`Editor &lt;e@x.org&gt; · 2 March 2025`,
		`alt="東京の桜が満開に: Ελλάδα και Ιαπωνία"`,
		`<p style="margin:0 0 12px 0;">Hello Ana &#34;the reader&#34; Sousa,</p>`,
		`href="https://news.example.org/unsubscribe?token=U7tok"`,
		`href="https://news.example.org/preferences?token=P7tok"`,
		`href="https://news.example.org/archive/daily/42"`,
		`Example News, 1 Example Street, 12345 Example City`,
		// The preheader: hidden, the first article's summary.
		`font-size:1px;line-height:1px;">東京の桜が今週末に満開を迎えました。`,
	} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML part lacks %s", want)
		}
	}
	if strings.Contains(m.HTML, "<budget>") || strings.Contains(m.HTML, "<em>") {
		t.Error("HTML part carries article markup unescaped, or content where the summary belongs")
	}
}

func TestRender_FullContent(t *testing.T) {
	r := newTestRenderer(t, func(o *tmail.RenderOptions) { o.FullContent = true })
	m := compose(t, r, testEdition(), testSubscriber())
	if !strings.Contains(m.HTML, "<em>without</em>") {
		t.Error("HTML part lacks the article's content")
	}
	if !strings.Contains(m.Text, "Statement [1]\n\nLinks:\n[1] https://example.com/statement\n") {
		t.Error("text part lacks the article's text")
	}
	// The third article has no content: its summary stands in.
	if !strings.Contains(m.Text, "Some forty thousand people") {
		t.Error("text part lacks the summary of an article without content")
	}
}

// A digest can ask for whole articles even when the renderer's default is
// summaries.
func TestRender_FullContentPerDigest(t *testing.T) {
	r := newTestRenderer(t, func(o *tmail.RenderOptions) {
		d := o.Digests["daily"]
		d.FullContent = true
		o.Digests["daily"] = d
	})
	if m := compose(t, r, testEdition(), testSubscriber()); !strings.Contains(m.HTML, "<em>without</em>") {
		t.Error("HTML part lacks the article's content")
	}
}

func TestRender_Escaping(t *testing.T) {
	r := newTestRenderer(t, nil)
	s := &subscribers.Subscriber{ID: 9, Email: "bob@example.com", Name: "<b>Bob</b> & \"co\""}
	e := testEdition()
	e.Articles[0].Title = `<script>alert(1)</script>`
	e.Articles[0].Image = `javascript:alert(1)`
	m := compose(t, r, e, s)
	if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "<b>Bob") || strings.Contains(m.HTML, `src="javascript:`) {
		t.Errorf("HTML part lets markup or a script URL through:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, "Hello &lt;b&gt;Bob&lt;/b&gt; &amp; &#34;co&#34;,") {
		t.Error("the reader's name is not escaped in the HTML part")
	}
	if !strings.Contains(m.Text, "Hello <b>Bob</b> & \"co\",") {
		t.Error("the reader's name is changed in the text part")
	}
}

// A syndicated article says where it was first published, in both parts;
// the site's own articles do not.
func TestRender_Attribution(t *testing.T) {
	e := testEdition()
	e.Articles[2].Source, e.Articles[2].Path = "Partner Post", "https://partner.example.com/festival?a=1&b=2"
	m := compose(t, newTestRenderer(t, nil), e, testSubscriber())
	if !strings.Contains(m.Text, "First published by Partner Post: https://partner.example.com/festival?a=1&b=2") {
		t.Errorf("text part lacks the attribution:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, `First published by <a href="https://partner.example.com/festival?a=1&amp;b=2" style="color:#6b7280;">Partner Post</a>`) {
		t.Errorf("HTML part lacks the attribution:\n%s", m.HTML)
	}
	if n := strings.Count(m.Text, "First published by"); n != 1 {
		t.Errorf("%d attributions in the text part, want 1", n)
	}
}

func TestRender_ReaderNameStripped(t *testing.T) {
	s := testSubscriber()
	s.Name = "Eve\r\nBcc: victim@example.net"
	m := compose(t, newTestRenderer(t, nil), testEdition(), s)
	if m.To.Name != "Eve Bcc: victim@example.net" {
		t.Errorf("To name = %q, want line breaks removed", m.To.Name)
	}
	raw, err := m.Bytes(nil)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("\r\nBcc:")) {
		t.Error("a name injected a header")
	}
}

func TestRender_Subject(t *testing.T) {
	r := newTestRenderer(t, nil)
	arts := testEdition().Articles
	d := testDigests()["daily"]
	custom := d
	custom.Subject = "{{.Count}} new: {{.First}} (+{{.More}}) in {{.Title}}"
	broken := d
	broken.Subject = "{{.NoSuchField}}"
	untitled := d
	untitled.Title = ""
	for _, c := range []struct {
		name string
		d    tmail.Digest
		arts []*feed.Article
		want string
	}{
		{"three", d, arts, "Example News, daily: 東京の桜が満開に: Ελλάδα και Ιαπωνία (and 2 more)"},
		{"one", d, arts[1:2], `Example News, daily: Ministers say "no deal" on the <budget> & taxes`},
		{"none", d, nil, "Example News, daily"},
		{"custom", custom, arts, "3 new: 東京の桜が満開に: Ελλάδα και Ιαπωνία (+2) in Example News, daily"},
		{"broken template", broken, arts, "Example News, daily"},
		{"no title", untitled, nil, "daily"},
		{"controls", d, []*feed.Article{{Title: "Line\r\nbreak\tand\x00nul\u2028sep"}}, "Example News, daily: Line break and nul sep"},
		{"template in title", d, []*feed.Article{{Title: "{{.Count}} {{title}}"}}, "Example News, daily: {{.Count}} {{title}}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := r.Subject(c.d, c.arts); got != c.want {
				t.Errorf("Subject = %q, want %q", got, c.want)
			}
		})
	}
}

func TestNewRenderer_BadTemplate(t *testing.T) {
	for _, c := range []struct {
		name, file, src, want string
	}{
		{"parse", "digest.html", "<p>\n{{.Subject}}\n{{if}}\n", "digest.html:3"},
		{"run", "digest.txt", "{{.Subject}}\n{{.NoSuchField}}\n", "digest.txt:2"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "mail"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "mail", c.file), []byte(c.src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := tmail.NewRenderer(tmail.RenderOptions{TemplateDir: dir, Digests: testDigests()})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("NewRenderer error = %v, want one naming %s", err, c.want)
			}
		})
	}
}

func TestRender_TemplateOverride(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "mail"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := "{{.Reader.Greeting}} {{range .Articles}}[{{.Title}}]{{end}} {{.Reader.UnsubscribeURL}}\n"
	if err := os.WriteFile(filepath.Join(dir, "mail", "digest.txt"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newTestRenderer(t, func(o *tmail.RenderOptions) { o.TemplateDir = dir })
	e := testEdition()
	e.Articles = e.Articles[2:]
	m := compose(t, r, e, testSubscriber())
	want := "Hello Ana \"the reader\" Sousa, [River festival opens with a record crowd] https://news.example.org/unsubscribe?token=U7tok\n"
	if m.Text != want {
		t.Errorf("text = %q, want %q", m.Text, want)
	}
	if !strings.Contains(m.HTML, "<!doctype html>") {
		t.Error("the HTML part is not the embedded default")
	}
}

func TestRender_Errors(t *testing.T) {
	r := newTestRenderer(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Compose(ctx, testEdition(), testSubscriber()); err == nil {
		t.Error("Compose with a cancelled context succeeded")
	}
	e := testEdition()
	e.Digest = "nope"
	if _, err := r.Compose(context.Background(), e, testSubscriber()); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("Compose of an unknown digest: error = %v", err)
	}
	if _, err := r.Compose(context.Background(), testEdition(), nil); err == nil {
		t.Error("Compose without a subscriber succeeded")
	}
}

func TestRender_Preview(t *testing.T) {
	r := newTestRenderer(t, nil)
	e := testEdition()
	e.ID = 0 // not stored yet
	m, err := r.Preview(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.To.Address == "" || !strings.Contains(m.Text, "Hello Sample Reader,") {
		t.Errorf("preview for a sample reader: To %v, text:\n%s", m.To, m.Text)
	}
	if strings.Contains(m.Text, "/archive/") {
		t.Error("a preview of an unsaved edition links to the archive")
	}
	m, err = r.Preview(e, testSubscriber())
	if err != nil {
		t.Fatal(err)
	}
	if m.To.Address != "ana@example.com" {
		t.Errorf("preview To = %v", m.To)
	}
}
