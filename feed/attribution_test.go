package feed

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed/atom"
	"github.com/mmcdole/gofeed/rss"

	"github.com/tidings/tidings/feed/content"
)

// syndicated is an article that came from the upstream "Partner Post".
func syndicated() *Article {
	t0 := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	return &Article{
		ID: "Partner Post:g1", Slug: "ferry-timetable", Source: "Partner Post", Path: "https://partner.example.com/2026/ferry?x=1&y=2",
		Title: "Ferry timetable changes", Summary: "Winter sailings start Monday.",
		ContentHTML: "<p>Winter sailings start Monday.</p>", ContentText: "Winter sailings start Monday.\n",
		Published: t0, Updated: t0,
	}
}

func TestArticle_Syndicated(t *testing.T) {
	for _, tt := range []struct {
		source, path string
		want         string // OriginalLink; "-": not syndicated
	}{
		{"content", "2026/a.md", "-"},
		{"api", "", "-"},
		{"", "", "-"},
		{"partner", "https://p.example/a", "https://p.example/a"},
		{"partner", "javascript:alert(1)", ""},
		{"partner", "", ""},
	} {
		a := &Article{Source: tt.source, Path: tt.path}
		if got := a.Syndicated(); got != (tt.want != "-") {
			t.Errorf("%q: Syndicated %v", tt.source, got)
		}
		if got := a.OriginalLink(); tt.want != "-" && got != tt.want {
			t.Errorf("%q %q: OriginalLink %q, want %q", tt.source, tt.path, got, tt.want)
		}
	}
}

// A syndicated item names its upstream and links to the original in RSS
// (<source url>, atom:link rel=via), Atom (<source>, rel=via) and JSON
// Feed (external_url); the site's own articles carry none of it.
func TestFeeds_Attribution(t *testing.T) {
	s := testSite()
	as := append([]*Article{syndicated()}, fixedArticles()...)
	const feedURL = "https://partner.example.com/feed.xml"
	got := buildAll(t, s, &channel{Title: s.Title, Articles: as, Sources: map[string]string{"Partner Post": feedURL}})

	rf, err := (&rss.Parser{}).Parse(bytes.NewReader(got["feed.xml"]))
	if err != nil {
		t.Fatal(err)
	}
	if src := rf.Items[0].Source; src == nil || src.URL != feedURL || src.Title != "Partner Post" {
		t.Errorf("RSS source %+v, want %s named Partner Post", src, feedURL)
	}
	if !strings.Contains(string(got["feed.xml"]), `<atom:link href="https://partner.example.com/2026/ferry?x=1&amp;y=2" rel="via"`) {
		t.Errorf("RSS item has no via link to the original:\n%s", got["feed.xml"])
	}
	for _, it := range rf.Items[1:] {
		if it.Source != nil {
			t.Errorf("own article %q has a source %+v", it.Title, it.Source)
		}
	}

	af, err := (&atom.Parser{}).Parse(bytes.NewReader(got["atom.xml"]))
	if err != nil {
		t.Fatal(err)
	}
	e := af.Entries[0]
	if e.Source == nil || e.Source.Title != "Partner Post" || e.Source.ID != feedURL {
		t.Errorf("Atom source %+v", e.Source)
	}
	via := ""
	for _, l := range e.Links {
		if l.Rel == "via" {
			via = l.Href
		}
	}
	if via != "https://partner.example.com/2026/ferry?x=1&y=2" {
		t.Errorf("Atom via link %q", via)
	}
	for _, e := range af.Entries[1:] {
		if e.Source != nil {
			t.Errorf("own article %q has a source", e.Title)
		}
	}
	if !strings.Contains(string(got["feed.json"]), `"external_url":"https://partner.example.com/2026/ferry?x=1&y=2"`) {
		t.Errorf("JSON Feed item has no external_url:\n%s", got["feed.json"])
	}
	validate(t, s, got)
}

// validate runs the W3C Feed Validator, when it is installed, on the RSS
// and Atom bodies in got (by file name), warnings counted as failures.
func validate(t *testing.T, s *Site, got map[string][]byte) {
	t.Helper()
	const tool = "/work/shared/tools/feedvalidator.py"
	if _, err := os.Stat("/opt/feedvalidator"); err != nil {
		t.Log("feed validator not installed; not run")
		return
	}
	if _, err := os.Stat(tool); err != nil {
		t.Log("feed validator script missing; not run")
		return
	}
	dir := t.TempDir()
	for name, body := range got {
		if !strings.HasSuffix(name, ".xml") {
			continue
		}
		p := filepath.Join(dir, strings.ReplaceAll(name, "/", "_"))
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("/usr/bin/python3", tool, "--strict", "--base", s.URL(name), p).CombinedOutput()
		if err != nil {
			t.Errorf("feed validator on %s: %v\n%s", name, err, out)
		}
	}
}

// An upstream item saved as feed/upstream saves it shows, on its page and
// in the built feeds, the upstream's name, feed URL and the original link.
func TestPublisher_AttributionFromStore(t *testing.T) {
	ctx := context.Background()
	e := newIngestEnv(t)
	now := e.clock.Now()
	d := content.Doc{ID: "partner:g1", Source: "partner", Path: "https://partner.example.com/a/1", Title: "Ferry timetable",
		HTML: "<p>Winter sailings.</p>", Syndicated: true, Date: now.Add(-time.Hour)}
	r, err := content.NewRenderer("https://news.example.org/")
	if err != nil {
		t.Fatal(err)
	}
	d, err = r.Normalize(d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.SaveItems(ctx, []Item{{Doc: d}}, now); err != nil {
		t.Fatal(err)
	}
	if err := e.store.SaveSource(ctx, SourceStatus{Name: "partner", URL: "https://partner.example.com/feed.xml", LastFetch: now}); err != nil {
		t.Fatal(err)
	}
	pub := &Publisher{Store: e.store, Site: *testSite(), OutputDir: t.TempDir(), Now: e.clock.Now}
	if _, err := pub.Build(ctx); err != nil {
		t.Fatal(err)
	}
	if body := string(pub.Lookup("feed.xml").Body); !strings.Contains(body, `<source url="https://partner.example.com/feed.xml">partner</source>`) {
		t.Errorf("RSS lacks the source:\n%s", body)
	}
	h, err := NewHandler(pub, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	a, err := e.store.Get(ctx, "partner:g1")
	if err != nil {
		t.Fatal(err)
	}
	w := serveGet(mux, "/articles/"+a.Slug)
	if w.Code != 200 || !strings.Contains(w.Body.String(), `First published by <a href="https://partner.example.com/a/1">partner</a>`) {
		t.Errorf("page %d lacks the attribution:\n%s", w.Code, w.Body)
	}
}
