package feed

import (
	"strings"
	"testing"
)

// The tags page lists each tag once, with its count, linking its page.
func TestHandler_TagsPage(t *testing.T) {
	_, h := newServeEnv(t)
	w := serveGet(h, "/tags/")
	if w.Code != 200 {
		t.Fatalf("tags page: %d\n%s", w.Code, w.Body)
	}
	page := w.Body.String()
	if !strings.Contains(page, "<h1>Tags</h1>") || !strings.Contains(page, `aria-current="page">Tags</a>`) ||
		!strings.Contains(page, `<link rel="canonical" href="https://news.example.org/tags/">`) ||
		!strings.Contains(page, `<a href="https://news.example.org/tags/city/">City <span class="count">(1)</span></a>`) {
		t.Errorf("tags page:\n%s", page)
	}
}
