package feed

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// sitemapURL is one <url> of sitemap.xml.
type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// serveSitemap lists the pages a search engine should know (the front
// page, the tags and their pages, every published article, the archive
// and the sign-up form) in the sitemaps.org format. The pages of one
// person (confirm, preferences, unsubscribe) are never in it.
func (h *Handler) serveSitemap(w http.ResponseWriter, r *http.Request) {
	now := h.now()
	as, err := h.store.List(r.Context(), ListOptions{Now: now, NoContent: true})
	if err != nil {
		h.web.Error(w, r, err)
		return
	}
	tags, err := h.store.Tags(r.Context(), now)
	if err != nil {
		h.web.Error(w, r, err)
		return
	}
	var newest time.Time
	urls := make([]sitemapURL, 0, len(as)+len(tags)+4)
	for _, a := range as {
		mod := a.Published
		if a.Updated.After(mod) {
			mod = a.Updated
		}
		if mod.After(newest) {
			newest = mod
		}
		urls = append(urls, sitemapURL{Loc: h.site.ArticleURL(a), LastMod: mod.UTC().Format(time.RFC3339)})
	}
	head := []sitemapURL{{Loc: h.site.URL("")}, {Loc: h.site.URL("tags/")}}
	if !newest.IsZero() {
		head[0].LastMod = newest.UTC().Format(time.RFC3339)
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if s := TagSlug(t); !seen[s] {
			seen[s] = true
			head = append(head, sitemapURL{Loc: h.site.URL(TagPath(url.PathEscape(s)))})
		}
	}
	head = append(head, sitemapURL{Loc: h.site.URL("archive")}, sitemapURL{Loc: h.site.URL("subscribe")})
	urls = append(head, urls...)

	var b strings.Builder
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", " ")
	set := struct {
		XMLName xml.Name     `xml:"urlset"`
		NS      string       `xml:"xmlns,attr"`
		URLs    []sitemapURL `xml:"url"`
	}{NS: "http://www.sitemaps.org/schemas/sitemap/0.9", URLs: urls}
	if err := enc.Encode(set); err != nil {
		h.web.Error(w, r, err)
		return
	}
	b.WriteString("\n")
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	if r.Method != http.MethodHead {
		io.WriteString(w, b.String())
	}
}

// serveRobots lets crawlers read the site, points them at the sitemap,
// and keeps them off the pages that act on a link (confirm, unsubscribe,
// preferences), the APIs and the admin.
func (h *Handler) serveRobots(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	if r.Method == http.MethodHead {
		return
	}
	io.WriteString(w, robotsTxt(h.site.BaseURL, h.site.URL("sitemap.xml")))
}

// robotsTxt is robots.txt for a site at base (whose path, behind a
// proxy, prefixes every page's).
func robotsTxt(base, sitemap string) string {
	prefix := "/"
	if u, err := url.Parse(base); err == nil && u.Path != "" {
		prefix = strings.TrimSuffix(u.Path, "/") + "/"
	}
	var b strings.Builder
	b.WriteString("User-agent: *\n")
	for _, p := range []string{"confirm", "unsubscribe", "preferences", "api/", "admin"} {
		b.WriteString("Disallow: " + prefix + p + "\n")
	}
	b.WriteString("\nSitemap: " + sitemap + "\n")
	return b.String()
}
