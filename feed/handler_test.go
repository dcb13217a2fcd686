package feed

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/web"
)

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"deflate, gzip;q=0.5", true},
		{"GZIP", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"br, identity", false},
		{"x-gzip", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/feed.xml", nil)
		r.Header.Set("Accept-Encoding", tt.header)
		if got := acceptsGzip(r); got != tt.want {
			t.Errorf("Accept-Encoding %q: %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestNotModified(t *testing.T) {
	mod := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	out := &Output{ETag: `"abc"`, Modified: mod}
	tests := []struct {
		name, inm, ims string
		want           bool
	}{
		{"none", "", "", false},
		{"etag", `"abc"`, "", true},
		{"gzip etag", `"abc-gz"`, "", true},
		{"weak", `W/"abc"`, "", true},
		{"list", `"x", "abc"`, "", true},
		{"star", `*`, "", true},
		{"other etag", `"x"`, "", false},
		{"same date", "", mod.Format(timeFormat), true},
		{"later date", "", mod.Add(time.Hour).Format(timeFormat), true},
		{"earlier date", "", mod.Add(-time.Second).Format(timeFormat), false},
		{"bad date", "", "yesterday", false},
		{"etag wins over date", `"x"`, mod.Format(timeFormat), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/feed.xml", nil)
			if tt.inm != "" {
				r.Header.Set("If-None-Match", tt.inm)
			}
			if tt.ims != "" {
				r.Header.Set("If-Modified-Since", tt.ims)
			}
			if got := notModified(r, out); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

const timeFormat = "Mon, 02 Jan 2006 15:04:05 GMT"

func TestTagSlug(t *testing.T) {
	tests := map[string]string{
		"City":         "city",
		"New York":     "new-york",
		"Ελλάδα":       "ελλάδα",
		"C++":          "c++",
		"a/b%c?d#e":    "a-b-c-d-e",
		"  spaced  ":   "spaced",
		"日本語":          "日本語",
		"!!!":          "",
		"snake_case":   "snake_case",
		"Café au lait": "café-au-lait",
	}
	for in, want := range tests {
		if got := TagSlug(in); got != want {
			t.Errorf("TagSlug(%q) = %q, want %q", in, got, want)
		}
	}
}

// newServeEnv builds the feeds of one article and serves them, and the
// pages, as cmd does: behind web.Secure.
func newServeEnv(t *testing.T) (*Publisher, http.Handler) {
	t.Helper()
	e := newIngestEnv(t)
	e.write(t, "bridge.md", "---\ntitle: Bridge opens\ndate: 2026-11-20 08:30\ntags: [City]\n---\n\nThe new bridge opened on Friday.\n")
	e.scan(t)
	pub := &Publisher{Store: e.store, Site: *testSite(), OutputDir: t.TempDir(), Now: e.clock.Now}
	if _, err := pub.Build(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(pub, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	return pub, web.Secure(mux, pub.Site.BaseURL)
}

func serveGet(h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// The gzip and the plain answer of a feed are two representations: a
// cache that stored one under the other's ETag would hand gzip bytes to a
// client that cannot read them, or the reverse.
func TestServeFeed_GzipAndPlainETagsDiffer(t *testing.T) {
	pub, h := newServeEnv(t)
	for _, name := range []string{"feed.xml", "atom.xml", "feed.json", "tags/city/atom.xml"} {
		t.Run(name, func(t *testing.T) {
			plain := serveGet(h, "/"+name)
			gz := serveGet(h, "/"+name, "Accept-Encoding", "gzip")
			if plain.Code != 200 || gz.Code != 200 || gz.Header().Get("Content-Encoding") != "gzip" {
				t.Fatalf("plain %d, gzip %d %q", plain.Code, gz.Code, gz.Header().Get("Content-Encoding"))
			}
			pt, gt := plain.Header().Get("ETag"), gz.Header().Get("ETag")
			if pt == "" || gt == "" || pt == gt {
				t.Errorf("ETag plain %s, gzip %s: want two different tags", pt, gt)
			}
			if pt != pub.Lookup(name).ETag {
				t.Errorf("plain ETag %s, want the feed's %s", pt, pub.Lookup(name).ETag)
			}
			for _, v := range []*httptest.ResponseRecorder{plain, gz} {
				if !strings.Contains(v.Header().Get("Vary"), "Accept-Encoding") {
					t.Errorf("Vary %q", v.Header().Get("Vary"))
				}
			}
			// Each tag revalidates its own representation.
			if r := serveGet(h, "/"+name, "Accept-Encoding", "gzip", "If-None-Match", gt); r.Code != 304 {
				t.Errorf("gzip revalidation: %d", r.Code)
			}
			if r := serveGet(h, "/"+name, "If-None-Match", pt); r.Code != 304 || r.Header().Get("Content-Encoding") != "" {
				t.Errorf("plain revalidation: %d %q", r.Code, r.Header().Get("Content-Encoding"))
			}
		})
	}
}

func TestHandler_ErrorPages(t *testing.T) {
	_, h := newServeEnv(t)
	for _, path := range []string{"/articles/nope", "/tags/nope/", "/tags/nope/feed.xml"} {
		w := serveGet(h, path)
		if w.Code != 404 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") ||
			!strings.Contains(w.Body.String(), "<title>Not found · The Harbour Gazette</title>") ||
			!strings.Contains(w.Body.String(), "The article may have been removed") ||
			!strings.Contains(w.Body.String(), `href="https://news.example.org/feed.xml"`) {
			t.Errorf("GET %s: %d\n%s", path, w.Code, w.Body)
		}
		// A client that asks for JSON reads JSON.
		w = serveGet(h, path, "Accept", "application/json")
		if w.Code != 404 || !strings.HasPrefix(w.Body.String(), `{"error":"There is nothing at this address.`) {
			t.Errorf("GET %s as JSON: %d %s", path, w.Code, w.Body)
		}
	}
}

// Every answer, a page, a feed or an error page, carries the security
// headers of web.Secure. Pages with the sign-up form may run its one
// script, by hash; the others none.
func TestHandler_SecurityHeaders(t *testing.T) {
	_, h := newServeEnv(t)
	for path, script := range map[string]string{"/": "script-src 'sha256-", "/articles/bridge-opens": "script-src 'sha256-",
		"/tags/": "script-src 'none'", "/tags/city/": "script-src 'none'", "/atom.xml": "script-src 'none'", "/feed.json": "script-src 'none'", "/articles/nope": "script-src 'none'"} {
		hd := serveGet(h, path).Header()
		csp := hd.Get("Content-Security-Policy")
		if !strings.Contains(csp, script) || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "style-src 'self';") ||
			!strings.Contains(csp, "frame-ancestors 'none'") || hd.Get("Strict-Transport-Security") == "" || hd.Get("X-Frame-Options") != "DENY" ||
			hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Referrer-Policy") == "" {
			t.Errorf("GET %s: %v", path, hd)
		}
	}
}

// An override in templates.dir is read by the same path, and keeps what
// the pages could always use: the functions and every field of the site.
func TestHandler_TemplateOverride(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "bridge.md", "---\ntitle: Bridge opens\ndate: 2026-11-20 08:30\ntags: [City]\n---\n\nThe new bridge opened on Friday.\n")
	e.scan(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "pages"), 0o755); err != nil {
		t.Fatal(err)
	}
	override := `{{template "head" .}}<p class="by">{{.Site.Author}} · {{articleURL .Article}}{{range .Article.Tags}} · {{tagURL .}}{{end}}</p>{{template "foot" .}}`
	if err := os.WriteFile(filepath.Join(dir, "pages", "article.html"), []byte(override), 0o644); err != nil {
		t.Fatal(err)
	}
	pub := &Publisher{Store: e.store, Site: *testSite(), OutputDir: t.TempDir(), Now: e.clock.Now}
	h, err := NewHandler(pub, dir, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	w := serveGet(mux, "/articles/bridge-opens")
	want := `<p class="by">Newsroom · https://news.example.org/articles/bridge-opens · https://news.example.org/tags/city/</p>`
	if w.Code != 200 || !strings.Contains(w.Body.String(), want) {
		t.Errorf("%d, want %s in\n%s", w.Code, want, w.Body)
	}
	// A broken override stops the handler from being made, naming the file.
	if err := os.WriteFile(filepath.Join(dir, "pages", "index.html"), []byte("{{template \"head\" .}}\n{{range .Articles}}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := NewHandler(pub, dir, nil); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "pages", "index.html")) {
		t.Errorf("broken override: %v", err)
	}
}

// The front page and every article carry the short sign-up form and its
// one script; an article describes itself to link previews.
func TestHandler_SignUpFormAndCards(t *testing.T) {
	_, h := newServeEnv(t)
	for _, path := range []string{"/", "/articles/bridge-opens"} {
		page := serveGet(h, path).Body.String()
		if !strings.Contains(page, `<form method="post" action="https://news.example.org/subscribe">`) ||
			!strings.Contains(page, `<label for="signup-email">Email address</label>`) || !strings.Contains(page, `<script>try{`) {
			t.Errorf("%s: no sign-up form:\n%s", path, page)
		}
	}
	page := serveGet(h, "/articles/bridge-opens").Body.String()
	for _, want := range []string{
		`<link rel="canonical" href="https://news.example.org/articles/bridge-opens">`,
		`<meta property="og:type" content="article">`, `<meta property="og:title" content="Bridge opens">`,
		`<meta property="og:description" content="The new bridge opened on Friday.">`, `<meta name="twitter:card" content="summary">`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("article lacks %s", want)
		}
	}
	if page := serveGet(h, "/tags/city/").Body.String(); strings.Contains(page, `id="signup-email"`) || !strings.Contains(page, `aria-current="page">Tags`) ||
		!strings.Contains(page, `<meta property="og:description" content="Articles tagged “City” in `) {
		t.Errorf("tag page: sign-up form or no current Tags entry:\n%s", page)
	}
}
