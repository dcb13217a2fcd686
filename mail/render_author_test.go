package mail_test

import (
	"strings"
	"testing"

	tmail "github.com/tidings/tidings/mail"
)

// A mail shows an author's name, never the address the feeds carry, and
// the site's author under an article that names none.
func TestRender_AuthorName(t *testing.T) {
	r := newTestRenderer(t, func(o *tmail.RenderOptions) { o.SiteAuthor = "The Newsroom" })
	e := testEdition()
	e.Articles[1].Author, e.Articles[1].AuthorEmail = "Ana & Co", "ana@example.org"
	m := compose(t, r, e, testSubscriber())
	for _, want := range []string{"Ana & Co · 2 March 2025\n", "The Newsroom · 1 March 2025\n", "Yuki Tanaka · 2 March 2025\n"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text part lacks %q", want)
		}
	}
	for _, want := range []string{"Ana &amp; Co · 2 March 2025", "The Newsroom · 1 March 2025"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML part lacks %q", want)
		}
	}
	if strings.Contains(m.Text+m.HTML, "ana@example.org") {
		t.Error("the mail shows the author's address")
	}
}
