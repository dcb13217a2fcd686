package feed

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"
)

// entityFiles are articles as people write them: front matter with
// entities, markup in tags and title, and authors with an address, with
// a name alone, and with none (the site's stands in).
var entityFiles = map[string]string{
	"2026/cafe.md": `---
title: Tom &amp; Jerry&#39;s Caf&eacute; <em>reopens</em>
author: Ana Lima <ana@example.org>
tags: ["<b>Food</b>", "Caf&eacute;s", "<img src=x.png>", "Tom &amp; Jerry"]
summary: "The caf&eacute; on the quay &mdash; shut since May &amp; rebuilt &lt;at last&gt;."
date: 2026-11-25T09:00:00Z
---
The café on the quay opened again on **Tuesday** & served 200 breakfasts.
`,
	"2026/ferry.md": `---
title: Ferry timetable &ndash; winter
author: ruiz@example.org (Tom&aacute;s Ruiz)
tags: [Transport]
date: 2026-11-24T09:00:00Z
---
Winter sailings start on 1 December.
`,
	"2026/tide.md": `---
title: Tide tables
author: Tom&aacute;s Ruiz
date: 2026-11-23T09:00:00Z
---
High water at 06:12.
`,
	"2026/notice.md": `---
title: Harbour notice
date: 2026-11-22T09:00:00Z
---
The east pier is closed.
`,
}

func entityChannel(t *testing.T) (*Site, *channel) {
	t.Helper()
	e := newIngestEnv(t)
	for rel, src := range entityFiles {
		e.write(t, rel, src)
	}
	e.scanClean(t)
	s := testSite()
	as := e.list(t, ListOptions{Now: e.clock.Now()})
	if len(as) != len(entityFiles) {
		t.Fatalf("%d articles, want %d", len(as), len(entityFiles))
	}
	return s, &channel{Title: s.Title, Articles: as}
}

// The articles go through the whole way, file to store to feed; every
// format writes them as golden files, and a feed parser reads back the
// text the author meant: decoded once, no markup, the address apart.
func TestFeeds_EntitiesGolden(t *testing.T) {
	s, ch := entityChannel(t)
	got := buildAll(t, s, ch)
	for name, body := range got {
		golden := filepath.Join("testdata", "golden", "entities", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, body, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./feed -update to create it)", err)
		}
		if !bytes.Equal(body, want) {
			t.Errorf("%s differs from %s (go test ./feed -update refreshes it after a deliberate change)\n--- got ---\n%s", name, golden, body)
		}
	}

	type person struct{ name, email string }
	want := []struct {
		title, slug, summary string
		tags                 []string
		author               person
	}{
		{"Tom & Jerry's Café reopens", "tom-jerrys-cafe-reopens", "The café on the quay — shut since May & rebuilt <at last>.",
			[]string{"Food", "Cafés", "Tom & Jerry"}, person{"Ana Lima", "ana@example.org"}},
		{"Ferry timetable – winter", "ferry-timetable-winter", "", []string{"Transport"}, person{"Tomás Ruiz", "ruiz@example.org"}},
		{"Tide tables", "tide-tables", "", nil, person{"Tomás Ruiz", ""}},
		{"Harbour notice", "harbour-notice", "", nil, person{"Newsroom", "news@example.org"}},
	}
	for i, w := range want {
		if a := ch.Articles[i]; a.Slug != w.slug {
			t.Errorf("article %d slug %q, want %q", i, a.Slug, w.slug)
		}
	}
	for _, f := range formats {
		pf, err := gofeed.NewParser().ParseString(string(got[f.name]))
		if err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		for i, it := range pf.Items {
			w := want[i]
			if f.name != "feed.json" {
				// RSS descriptions and Atom's type="html" are HTML: one more
				// decoding is what a reader does to show them.
				it.Title, it.Description = html.UnescapeString(it.Title), html.UnescapeString(it.Description)
			}
			if it.Title != w.title {
				t.Errorf("%s item %d title %q, want %q", f.name, i, it.Title, w.title)
			}
			if !strings.HasSuffix(it.Link, "/articles/"+w.slug) {
				t.Errorf("%s item %d link %q, want the slug %q", f.name, i, it.Link, w.slug)
			}
			if w.summary != "" && it.Description != w.summary {
				t.Errorf("%s item %d summary %q, want %q", f.name, i, it.Description, w.summary)
			}
			if strings.Join(it.Categories, "|") != strings.Join(w.tags, "|") {
				t.Errorf("%s item %d tags %q, want %q", f.name, i, it.Categories, w.tags)
			}
			var got person
			if len(it.Authors) > 0 {
				got = person{it.Authors[0].Name, it.Authors[0].Email}
			}
			wantAuthor := w.author
			if f.name == "feed.json" {
				wantAuthor.email = "" // JSON Feed authors have no address
			}
			if got != wantAuthor {
				t.Errorf("%s item %d author %+v, want %+v", f.name, i, got, wantAuthor)
			}
		}
	}
	rss := string(got["feed.xml"])
	for _, s := range []string{
		"<author>ana@example.org (Ana Lima)</author>",
		"<author>ruiz@example.org (Tomás Ruiz)</author>",
		"<dc:creator>Tomás Ruiz</dc:creator>",
		"<author>news@example.org (Newsroom)</author>",
	} {
		if !strings.Contains(rss, s) {
			t.Errorf("RSS lacks %s", s)
		}
	}
	// HTML inside XML is escaped twice ("&amp;amp;"), never three times.
	if strings.Contains(rss, "<dc:creator>Ana") || strings.Contains(rss, "&amp;amp;amp;") || strings.Contains(rss, "eacute") {
		t.Errorf("RSS writes an author twice or an entity twice:\n%s", rss)
	}
}

// The address is kept in the one author column and split on reading:
// what the store gives back is what Normalize made.
func TestStore_AuthorAddressRoundTrip(t *testing.T) {
	e := newIngestEnv(t)
	e.write(t, "a.md", entityFiles["2026/cafe.md"])
	e.scanClean(t)
	a := e.get(t, "a")
	if a.Author != "Ana Lima" || a.AuthorEmail != "ana@example.org" {
		t.Fatalf("stored author %q, %q", a.Author, a.AuthorEmail)
	}
	// Scanned again unchanged, the article is not taken for edited.
	if res := e.scanClean(t); res.Updated != 0 {
		t.Errorf("a second scan updated %d articles", res.Updated)
	}
	if _, err := e.store.Get(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
}

// Pages show the author's name, not the address, and the site's author
// where the article names none; the text is escaped once, for HTML.
func TestPages_AuthorAndEntities(t *testing.T) {
	e := newIngestEnv(t)
	for rel, src := range entityFiles {
		e.write(t, rel, src)
	}
	e.scanClean(t)
	pub := &Publisher{Store: e.store, Site: *testSite(), OutputDir: t.TempDir(), Now: e.clock.Now}
	h, err := NewHandler(pub, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	h.Routes(mux)
	for _, tt := range []struct{ path, want string }{
		{"/articles/tom-jerrys-cafe-reopens", "<h1>Tom &amp; Jerry&#39;s Café reopens</h1>"},
		{"/articles/tom-jerrys-cafe-reopens", "</time> · Ana Lima · "},
		{"/articles/ferry-timetable-winter", "</time> · Tomás Ruiz · "},
		{"/articles/harbour-notice", "</time> · Newsroom</p>"},
		{"/", "</time> · Newsroom</p>"},
	} {
		w := serveGet(mux, tt.path)
		body := w.Body.String()
		if w.Code != 200 || !strings.Contains(body, tt.want) {
			t.Errorf("%s: %d, want %s in\n%s", tt.path, w.Code, tt.want, body)
		}
		if strings.Contains(body, "ana@example.org") || strings.Contains(body, "&amp;amp;") || strings.Contains(body, "eacute") {
			t.Errorf("%s shows an address or an entity twice:\n%s", tt.path, body)
		}
	}
}

// The API takes what files take: entities decoded once, markup gone, the
// author split; it answers with the author line as given, address and
// all, so that what it reads back it can write again unchanged.
func TestAPI_EntitiesAndAuthor(t *testing.T) {
	e := newAPIEnv(t, testToken)
	code, got := e.do(t, "POST", "/api/v1/articles", `{"title": "Tom &amp; Jerry&#39;s Caf&eacute;", "content": "Body.",
		"tags": ["<b>Food</b>", "<i></i>"], "author": "ana@example.org (Ana &amp; Co)"}`)
	if code != http.StatusCreated {
		t.Fatalf("POST: %d %v", code, got)
	}
	if got["title"] != "Tom & Jerry's Café" || got["slug"] != "tom-jerrys-cafe" || got["author"] != "Ana & Co <ana@example.org>" {
		t.Errorf("title %q slug %q author %q", got["title"], got["slug"], got["author"])
	}
	if tags, _ := got["tags"].([]any); len(tags) != 1 || tags[0] != "Food" {
		t.Errorf("tags %v, want [Food]", got["tags"])
	}
	a := e.get(t, got["id"].(string))
	if a.Author != "Ana & Co" || a.AuthorEmail != "ana@example.org" {
		t.Errorf("stored author %q, %q", a.Author, a.AuthorEmail)
	}
	code, got = e.do(t, "POST", "/api/v1/articles", `{"title": "<b></b>&nbsp;", "content": "Body."}`)
	if code != http.StatusUnprocessableEntity || got["field"] != "title" || !strings.Contains(fmt.Sprint(got["error"]), "only markup") {
		t.Errorf("a title of markup alone: %d %v, want 422 naming the title and why", code, got)
	}
}
