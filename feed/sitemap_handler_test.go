package feed

import (
	"encoding/xml"
	"strings"
	"testing"
)

// sitemap.xml names the front page, the tags page, each tag's page, each
// published article with its last change, the archive and the sign-up
// form; robots.txt points at it and keeps crawlers off one person's pages.
func TestHandler_SitemapAndRobots(t *testing.T) {
	_, h := newServeEnv(t)
	w := serveGet(h, "/sitemap.xml")
	if w.Code != 200 || w.Header().Get("Content-Type") != "application/xml; charset=utf-8" {
		t.Fatalf("sitemap: %d %v", w.Code, w.Header())
	}
	var set struct {
		XMLName xml.Name
		URLs    []struct {
			Loc     string `xml:"loc"`
			LastMod string `xml:"lastmod"`
		} `xml:"url"`
	}
	if err := xml.Unmarshal(w.Body.Bytes(), &set); err != nil {
		t.Fatalf("sitemap does not parse: %v\n%s", err, w.Body)
	}
	if set.XMLName.Space != "http://www.sitemaps.org/schemas/sitemap/0.9" || set.XMLName.Local != "urlset" {
		t.Errorf("root %v", set.XMLName)
	}
	locs := map[string]string{}
	for _, u := range set.URLs {
		locs[u.Loc] = u.LastMod
	}
	for _, want := range []string{"https://news.example.org/", "https://news.example.org/tags/", "https://news.example.org/tags/city/",
		"https://news.example.org/articles/bridge-opens",
		"https://news.example.org/archive", "https://news.example.org/subscribe"} {
		if _, ok := locs[want]; !ok {
			t.Errorf("sitemap lacks %s:\n%s", want, w.Body)
		}
	}
	if locs["https://news.example.org/articles/bridge-opens"] == "" {
		t.Errorf("an article without lastmod:\n%s", w.Body)
	}
	for loc := range locs {
		if strings.Contains(loc, "token") || strings.Contains(loc, "preferences") || strings.Contains(loc, "confirm") {
			t.Errorf("sitemap names a person's page: %s", loc)
		}
	}

	w = serveGet(h, "/robots.txt")
	body := w.Body.String()
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") ||
		!strings.Contains(body, "Sitemap: https://news.example.org/sitemap.xml\n") ||
		!strings.Contains(body, "Disallow: /unsubscribe\n") || !strings.Contains(body, "Disallow: /preferences\n") ||
		strings.Contains(body, "Disallow: /\n") {
		t.Errorf("robots.txt %d:\n%s", w.Code, body)
	}
}

func TestRobotsTxt_BelowAPath(t *testing.T) {
	for base, want := range map[string]string{
		"https://news.example.org":        "Disallow: /confirm\n",
		"https://news.example.org/":       "Disallow: /confirm\n",
		"https://example.org/news":        "Disallow: /news/confirm\n",
		"https://example.org/news/":       "Disallow: /news/confirm\n",
		"https://example.org/a/b/?x=1#yz": "Disallow: /a/b/confirm\n",
	} {
		got := robotsTxt(base, base+"/sitemap.xml")
		if !strings.Contains(got, want) || !strings.HasPrefix(got, "User-agent: *\n") || !strings.HasSuffix(got, "\nSitemap: "+base+"/sitemap.xml\n") {
			t.Errorf("base %q:\n%s", base, got)
		}
	}
}
