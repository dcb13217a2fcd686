package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The stylesheet and favicon the pages link are the ones the server
// answers, the embedded ones or templates.dir's: a page never links a
// stylesheet that is not there. sitemap.xml and robots.txt come with them.
func TestServe_SiteAssets(t *testing.T) {
	for _, override := range []bool{false, true} {
		dir := t.TempDir()
		if override {
			writeFile(t, filepath.Join(dir, "pages"), "style.css", "body { color: rebeccapurple; }\n")
		}
		base, _, _ := bootServeWith(t, func(c *Config) {
			if override {
				c.Templates.Dir = dir
			}
		})
		_, page := get(t, base+"/")
		m := regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)">`).FindStringSubmatch(page)
		if m == nil || !strings.HasPrefix(m[1], base+"/static/style.") {
			t.Fatalf("override %v: front page links no stylesheet of the site:\n%s", override, page)
		}
		resp, css := get(t, m[1])
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") ||
			strings.Contains(css, "rebeccapurple") != override {
			t.Errorf("override %v: %s answers %d %q:\n%.200s", override, m[1], resp.StatusCode, resp.Header.Get("Content-Type"), css)
		}
		if resp, _ := get(t, base+"/favicon.svg"); resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
			t.Errorf("favicon: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if resp, body := get(t, base+"/robots.txt"); resp.StatusCode != 200 || !strings.Contains(body, "Sitemap: "+base+"/sitemap.xml") {
			t.Errorf("robots.txt: %d\n%s", resp.StatusCode, body)
		}
		if resp, body := get(t, base+"/sitemap.xml"); resp.StatusCode != 200 || !strings.Contains(body, "<loc>"+base+"/articles/bridge-opens</loc>") {
			t.Errorf("sitemap.xml: %d\n%s", resp.StatusCode, body)
		}
	}
}
