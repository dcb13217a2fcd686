package content

import (
	"errors"
	"html"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

func TestPlainText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"Tom &amp; Jerry&#39;s Caf&eacute;", "Tom & Jerry's Café"},
		{"Tom & Jerry", "Tom & Jerry"},
		{"AT&T", "AT&T"},
		{"&amp;amp; once", "&amp; once"}, // decoded exactly once
		{"&lt;b&gt;shown&lt;/b&gt;", "<b>shown</b>"},
		{"<b>x</b>", "x"},
		{"<b>Caf</b>é <i>au</i> lait", "Café au lait"},
		{"one<br>two", "one two"},
		{"one<p>two</p>", "one two"},
		{`<a href="/x" title="a > b">link</a> text`, `b">link text`}, // a > inside an attribute ends the tag, as in feeds' sloppy HTML
		{"a < b and c > d", "a < b and c > d"},
		{"x<3", "x<3"},
		{"<unclosed", "<unclosed"},
		{"before<!-- note -->after", "beforeafter"},
		{"<!-- never closed", ""},
		{"<script>alert(1)</script>", "alert(1)"},
		{"line\nbreak\tand\x00nul", "line break and nul"},
		{"&nbsp;&nbsp;", ""},
		{"  spaced   out  ", "spaced out"},
		{"&#x1F1E9;&#x1F1EA;", "🇩🇪"},
		{"&bogus; &notit;", "&bogus; ¬it;"}, // unknown names stay; HTML reads "&not" without its ';'

		{"caf&eacute", "café"}, // HTML reads the legacy entities without ';'
	} {
		if got := PlainText(tt.in); got != tt.want {
			t.Errorf("PlainText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSplitAuthor(t *testing.T) {
	for _, tt := range []struct{ in, name, email string }{
		{"Ana Lima <ana@example.org>", "Ana Lima", "ana@example.org"},
		{"ana@example.org (Ana Lima)", "Ana Lima", "ana@example.org"},
		{"<ana@example.org>", "ana@example.org", "ana@example.org"},
		{"ana@example.org", "ana@example.org", "ana@example.org"},
		{"Ana Lima", "Ana Lima", ""},
		{"Ana Lima (Politics Desk)", "Ana Lima (Politics Desk)", ""},
		{"Ana <not an address>", "Ana <not an address>", ""},
		{"Ana <a@b@c>", "Ana <a@b@c>", ""},
		{"Ana <ana@example.org.>", "Ana <ana@example.org.>", ""},
		{"Ana <a\u0085b@example.org>", "Ana <a\u0085b@example.org>", ""}, // an invisible character: no address a feed can carry
		{"Ana <a\xffb@example.org>", "Ana <a\xffb@example.org>", ""},
		{"", "", ""},
	} {
		name, email := SplitAuthor(tt.in)
		if name != tt.name || email != tt.email {
			t.Errorf("SplitAuthor(%q) = %q, %q; want %q, %q", tt.in, name, email, tt.name, tt.email)
		}
	}
}

// Normalize is the one place a source's metadata becomes plain text, so
// every source is tested through it.
func TestNormalize_PlainMetadata(t *testing.T) {
	r, err := NewRenderer("https://news.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	d, err := r.Normalize(Doc{ID: "a",
		Title:   "Tom &amp; Jerry&#39;s Caf&eacute;",
		Author:  `"Ana &amp; Co" <ana@example.org>`,
		Tags:    []string{"<b>Food</b>", "<img src=x>", "&amp;", "Caf&eacute;", "café", " <i></i> "},
		Summary: "<p>A &lt;cheap&gt; lunch &amp; more</p>",
		HTML:    "<p>Body.</p>",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ field, got, want string }{
		{"title", d.Title, "Tom & Jerry's Café"},
		{"author", d.Author, "Ana & Co"},
		{"author email", d.AuthorEmail, "ana@example.org"},
		{"tags", strings.Join(d.Tags, "|"), "Food|&|Café"},
		{"summary", d.Summary, "A <cheap> lunch & more"},
		{"slug", d.SlugBase, "tom-jerrys-cafe"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
		}
	}
}

func TestNormalize_AuthorForms(t *testing.T) {
	r, _ := NewRenderer("https://news.example.org/")
	for _, tt := range []struct{ in, name, email string }{
		{"Ana Lima <ana@example.org>", "Ana Lima", "ana@example.org"},
		{"ana@example.org (Ana Lima)", "Ana Lima", "ana@example.org"},
		{"Ana Lima &lt;ana@example.org&gt;", "Ana Lima", "ana@example.org"},
		{"<b>Ana</b> Lima <ana@example.org>", "Ana Lima", "ana@example.org"},
		{"Jo&atilde;o Silva", "João Silva", ""},
		{"<span></span>", "", ""},
	} {
		d, err := r.Normalize(Doc{ID: "a", Title: "T", HTML: "<p>x</p>", Author: tt.in})
		if err != nil {
			t.Fatal(err)
		}
		if d.Author != tt.name || d.AuthorEmail != tt.email {
			t.Errorf("author %q: got %q, %q; want %q, %q", tt.in, d.Author, d.AuthorEmail, tt.name, tt.email)
		}
	}
}

// A title a reader would not see anything of is refused, naming why; a
// syndicated item, which nobody can fix, gets one from its text.
func TestNormalize_TitleOfMarkupAlone(t *testing.T) {
	r, _ := NewRenderer("https://news.example.org/")
	for _, title := range []string{"<b></b>", "&nbsp;", "&#8203;", "<img src=x.png>", "<!-- -->", "&#x200E;&nbsp;<br>"} {
		_, err := r.Normalize(Doc{ID: "a", Title: title, HTML: "<p>Words here.</p>"})
		if !errors.Is(err, ErrNoTitle) || !strings.Contains(err.Error(), "only markup or entities") {
			t.Errorf("title %q: err %v, want ErrNoTitle saying it is only markup or entities", title, err)
		}
		d, err := r.Normalize(Doc{ID: "a", Title: title, HTML: "<p>Words here.</p>", Syndicated: true})
		if err != nil || d.Title != "Words here." {
			t.Errorf("syndicated title %q: got %q, %v; want the text's first words", title, d.Title, err)
		}
	}
	_, err := ParseFile("post.md", []byte("---\ntitle: \"<em></em>\"\n---\nBody.\n"), r, time.UTC)
	if !errors.Is(err, ErrNoTitle) || !strings.Contains(err.Error(), "only markup") || !strings.Contains(err.Error(), "give it a title") {
		t.Errorf("a file whose title is markup alone: %v", err)
	}
}

// Literal sources (text files, an HTML file's <title>) keep what they say:
// their text is escaped before Normalize reads it as HTML.
func TestParseFile_LiteralTitles(t *testing.T) {
	r, _ := NewRenderer("https://news.example.org/")
	for _, tt := range []struct{ name, src, want string }{
		{"a.txt", "Use &amp; for <b>ampersands</b>\n\nA paragraph of text that follows it.\n", "Use &amp; for <b>ampersands</b>"},
		{"a.html", "<title>Use &amp;amp; &lt;b&gt;</title><body><p>x</p></body>", "Use &amp; <b>"},
		{"a.md", "# Tom &amp; Jerry <em>again</em>\n\nBody.\n", "Tom & Jerry again"},
		{"b.md", "---\ntitle: Tom &amp; Jerry&#39;s Caf&eacute;\n---\nBody.\n", "Tom & Jerry's Café"},
	} {
		d, err := ParseFile(tt.name, []byte(tt.src), r, time.UTC)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if d.Title != tt.want {
			t.Errorf("%s: title %q, want %q", tt.name, d.Title, tt.want)
		}
	}
}

func TestSlugify(t *testing.T) {
	long := "Why the harbour authority is rethinking its plans for the waterfront developments again"
	for _, tt := range []struct{ in, want string }{
		{"Tom & Jerry's Café", "tom-jerrys-cafe"},
		{"Tom &amp; Jerry", "tom-amp-jerry"}, // slugify sees text; entities are decoded before it
		{"Straße über Ærø", "strasse-uber-aero"},
		{"Ελλάδα σήμερα", "ελλάδα-σήμερα"},
		{"हिन्दी समाचार", "हिन्दी-समाचार"},
		{"rock ’n’ roll", "rock-n-roll"},
		{"  --  ", ""},
		{long, "why-the-harbour-authority-is-rethinking-its-plans-for-the-waterfront"},
		{strings.Repeat("a", 100), strings.Repeat("a", 80)},
		{strings.Repeat("é", 50), strings.Repeat("e", 50)},
		{strings.Repeat("ε", 50), strings.Repeat("ε", 40)},
	} {
		got := slugify(tt.in)
		if got != tt.want {
			t.Errorf("slugify(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if len(got) > slugMax {
			t.Errorf("slugify(%q) is %d bytes, more than %d", tt.in, len(got), slugMax)
		}
	}
}

// A cut slug ends on a whole word of the title.
func TestSlugify_CutAtWord(t *testing.T) {
	title := "Council approves new ferry timetable after months of consultation with residents and developers"
	s := slugify(title)
	words := strings.Fields(strings.ToLower(title))
	got := strings.Split(s, "-")
	for i, w := range got {
		if w != words[i] {
			t.Fatalf("slug %q: word %d is %q, want %q (a word cut short)", s, i, w, words[i])
		}
	}
	if len(s) > slugMax || len(s)+1+len(words[len(got)]) <= slugMax {
		t.Errorf("slug %q (%d bytes) does not stop at the last word that fits in %d", s, len(s), slugMax)
	}
}

// FuzzPlainText holds the decoder and the author splitter to what outputs
// rely on: plain text is one line without control characters; escaped for
// HTML and read again it is the same text (decoded once, not twice); an
// author's name and address join and split back to themselves, and the
// address is one a header can carry.
func FuzzPlainText(f *testing.F) {
	for _, s := range []string{
		"Tom &amp; Jerry&#39;s Caf&eacute;", "<b>x</b>", "Ana Lima <ana@example.org>", "ana@example.org (Ana Lima)",
		"Ana &lt;ana@example.org&gt;", `"Quoted" <q@example.org>`, "a < b > c", "<!-- x", "&amp;amp;", "x@y (z) <a@b>",
		"\"\"a\"\" <a@b>", "<a@b> (c)", "x <a\u0085b@c.d>", "x <a\xffb@c.d>", "&#0;&#xD800;", "\u2028line", "<p>&nbsp;</p>",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := PlainText(s)
		if strings.IndexFunc(p, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) >= 0 {
			t.Fatalf("PlainText(%q) = %q holds a control character", s, p)
		}
		if utf8.ValidString(s) && !utf8.ValidString(p) {
			t.Fatalf("PlainText(%q) = %q is not valid UTF-8", s, p)
		}
		if again := PlainText(html.EscapeString(p)); again != p {
			t.Fatalf("PlainText(%q) = %q, but escaped and read again it is %q", s, p, again)
		}
		name, email := normAuthor(s)
		invisible := func(r rune) bool { return !unicode.IsGraphic(r) || unicode.IsSpace(r) || r == utf8.RuneError }
		if email != "" && (!utf8.ValidString(email) || strings.IndexFunc(email, invisible) >= 0 || strings.ContainsAny(email, "<>()") || strings.Count(email, "@") != 1) {
			t.Fatalf("author %q: address %q is not one address", s, email)
		}
		if email != "" && name == "" {
			t.Fatalf("author %q: an address %q without a name", s, email)
		}
		if n, e := SplitAuthor(JoinAuthor(name, email)); n != name || e != email {
			t.Fatalf("author %q: %q, %q joined as %q split back as %q, %q", s, name, email, JoinAuthor(name, email), n, e)
		}
		sl := slugify(p)
		if len(sl) > slugMax || strings.HasPrefix(sl, "-") || strings.HasSuffix(sl, "-") || strings.Contains(sl, "--") {
			t.Fatalf("slugify(%q) = %q", p, sl)
		}
	})
}

// BenchmarkPlainMetadata is what Normalize adds per article for its
// metadata: title, author, tags and summary made plain, the slug made.
func BenchmarkPlainMetadata(b *testing.B) {
	title := "Tom &amp; Jerry&#39;s Caf&eacute; <em>reopens</em> after a long winter on the quay"
	tags := []string{"<b>Food</b>", "Caf&eacute;s", "Harbour"}
	summary := "The caf&eacute; on the quay &mdash; shut since May &amp; rebuilt &lt;at last&gt;, opened again on Tuesday."
	b.ReportAllocs()
	for b.Loop() {
		t, _ := plainLine(title)
		normAuthor("Ana Lima <ana@example.org>")
		cleanTags(tags)
		plainLine(summary)
		slugify(t)
	}
}
