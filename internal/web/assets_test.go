package web

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// The stylesheet is served under the name the pages link, cached for
// good; an override from templates.dir changes the name, so browsers
// fetch it at once; a stale name is not found.
func TestAssets_StylesheetByHash(t *testing.T) {
	def, err := LoadAssets("")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeOverride(t, dir, "style.css", "body { color: rebeccapurple; }")
	own, err := LoadAssets(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^static/style\.[0-9a-f]{10}\.css$`).MatchString(def.StylesheetPath()) || own.StylesheetPath() == def.StylesheetPath() {
		t.Fatalf("paths %q and %q: want static/style.HASH.css, different for different bytes", def.StylesheetPath(), own.StylesheetPath())
	}
	mux := http.NewServeMux()
	own.Routes(mux)
	for _, tc := range []struct {
		path, ctype, body, cache string
		code                     int
	}{
		{"/" + own.StylesheetPath(), "text/css; charset=utf-8", "rebeccapurple", "immutable", 200},
		{"/favicon.svg", "image/svg+xml", "<svg", "max-age=86400", 200},
		{"/" + def.StylesheetPath(), "", "", "", 404},
	} {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest("GET", tc.path, nil))
		if w.Code != tc.code || !strings.Contains(w.Body.String(), tc.body) ||
			(tc.code == 200 && (w.Header().Get("Content-Type") != tc.ctype || !strings.Contains(w.Header().Get("Cache-Control"), tc.cache))) {
			t.Errorf("%s: %d %v\n%.80s", tc.path, w.Code, w.Header(), w.Body)
		}
	}
}

// Every page links the stylesheet, the favicon and says what it is to
// link previews; an error page asks not to be indexed and names no
// canonical URL, whatever the handler's shell said.
func TestRenderer_HeadOfEveryPage(t *testing.T) {
	rd, err := NewRenderer(Options{Pages: []string{"message.html"},
		Shell: Shell{Site: testSite{Title: "The Harbour Gazette", Description: "News from the quay"}, Home: "https://news.example.org/",
			Canonical: "https://news.example.org/x"}})
	if err != nil {
		t.Fatal(err)
	}
	assets, _ := LoadAssets("")
	w := httptest.NewRecorder()
	rd.Render(w, httptest.NewRequest("GET", "/x", nil), 200, "message.html", struct {
		Shell
		Paragraphs []string
		Action     string
		Link       *struct{ URL, Text string }
	}{Shell: Shell{Site: testSite{Title: "The Harbour Gazette", Description: "News from the quay"}, Home: "https://news.example.org/",
		Title: "Bridge opens", Canonical: "https://news.example.org/articles/bridge", Kind: "article",
		Image: "https://news.example.org/a/bridge.jpg", Section: "tags"}})
	page := w.Body.String()
	for _, want := range []string{
		`<link rel="stylesheet" href="https://news.example.org/` + assets.StylesheetPath() + `">`,
		`<link rel="icon" href="https://news.example.org/favicon.svg" type="image/svg+xml">`,
		`<link rel="canonical" href="https://news.example.org/articles/bridge">`,
		`<meta property="og:title" content="Bridge opens">`,
		`<meta property="og:type" content="article">`,
		`<meta property="og:description" content="News from the quay">`,
		`<meta property="og:image" content="https://news.example.org/a/bridge.jpg">`,
		`<meta name="twitter:card" content="summary_large_image">`,
		`<a href="https://news.example.org/tags/" aria-current="page">Tags</a>`,
		`<a class="skip" href="#main">`, `<main id="main"`, `<nav aria-label="Site">`, `<footer class="site">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(page, "noindex") || strings.Contains(page, "style=") || strings.Contains(page, "<style") {
		t.Errorf("a page with noindex or inline style:\n%s", page)
	}
	w = serve(rd, "GET", "/nope", &Problem{Kind: NotFound})
	if page := w.Body.String(); !strings.Contains(page, `<meta name="robots" content="noindex">`) || strings.Contains(page, "canonical") ||
		!strings.Contains(page, `<meta name="twitter:card" content="summary">`) {
		t.Errorf("error page head:\n%s", page)
	}
}
