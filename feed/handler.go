package feed

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/internal/web"
)

// Handler serves the feeds from memory, the front page, tag pages and
// article pages.
type Handler struct {
	pub   *Publisher
	store *Store
	site  *Site
	web   *web.Renderer
	now   func() time.Time
}

// NewHandler parses the page templates (templateDir overrides them file by
// file) and returns the handler. Register it with Routes. log receives
// the requests that fail on the server's side.
func NewHandler(pub *Publisher, templateDir string, log *slog.Logger) (*Handler, error) {
	h := &Handler{pub: pub, store: pub.Store, site: &pub.Site, now: pub.Now}
	rd, err := web.NewRenderer(web.Options{
		TemplateDir: templateDir,
		Funcs: template.FuncMap{
			"articleURL": h.site.ArticleURL,
			"author":     func(a *Article) string { name, _ := h.site.AuthorOf(a); return name },
			"tagURL":     func(tag string) string { return h.site.URL(TagPath(url.PathEscape(TagSlug(tag)))) },
		},
		Pages:  []string{"meta.html", "index.html", "article.html", "tags.html"},
		Shell:  h.shell("", ""),
		Logger: log,
	})
	if err != nil {
		return nil, err
	}
	h.web = rd
	return h, nil
}

// Pages is the handler's renderer: the site's page shell, for answers no
// route gives (see web.Fallback).
func (h *Handler) Pages() *web.Renderer { return h.web }

// Routes registers every route on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	for _, f := range formats {
		mux.HandleFunc("GET /"+f.name, h.serveFeed)
		mux.HandleFunc("GET /tags/{tag}/"+f.name, h.serveFeed)
		if f.archived {
			mux.HandleFunc("GET /history/{n}/"+f.name, h.serveFeed)
			mux.HandleFunc("GET /tags/{tag}/history/{n}/"+f.name, h.serveFeed)
		}
	}
	mux.HandleFunc("GET /{$}", h.serveIndex)
	mux.HandleFunc("GET /tags/{$}", h.serveTags)
	mux.HandleFunc("GET /tags/{tag}/{$}", h.serveIndex)
	mux.HandleFunc("GET /articles/{slug}", h.serveArticle)
	mux.HandleFunc("GET /sitemap.xml", h.serveSitemap)
	mux.HandleFunc("GET /robots.txt", h.serveRobots)
	mux.HandleFunc("GET /"+assetsPath+"/{name}", h.serveAsset)
}

// serveFeed answers from the built feeds: strong ETag, Last-Modified, 304s,
// gzip when accepted. GET routes answer HEAD too.
func (h *Handler) serveFeed(w http.ResponseWriter, r *http.Request) {
	// r.URL.Path is decoded, as the file was named: tags/ελλάδα/feed.xml.
	path := strings.TrimPrefix(r.URL.Path, "/")
	out := h.pub.Lookup(path)
	if out == nil {
		if cur := h.notYetArchived(r, path); cur != "" {
			// The page an archive's next-archive link names before it is
			// full: its articles are in the current feed.
			http.Redirect(w, r, cur, http.StatusFound)
			return
		}
		h.notFound(w, r, nil)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", out.ContentType)
	if out.Archive {
		hd.Set("Cache-Control", "public, max-age=86400") // a full page does not change
	} else {
		hd.Set("Cache-Control", "public, max-age=300")
	}
	hd.Set("Vary", "Accept-Encoding")
	hd.Set("Last-Modified", out.Modified.Format(http.TimeFormat))
	etag := out.ETag
	gz := acceptsGzip(r)
	if gz {
		etag = strings.TrimSuffix(out.ETag, `"`) + `-gz"`
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("ETag", etag)
	if notModified(r, out) {
		hd.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if !gz && out.Body == nil {
		h.serveFile(w, r, out)
		return
	}
	body := out.Body
	if gz {
		var err error
		if body, err = out.Gzip(); err != nil { // compressed by the first request that asks
			hd.Del("Content-Encoding")
			h.web.Error(w, r, fmt.Errorf("serve %s: %w", out.Path, err))
			return
		}
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
}

// serveFile answers with a feed too large to be held in memory, from its
// file.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, out *Output) {
	f, err := os.Open(out.File)
	if err != nil {
		h.web.Error(w, r, fmt.Errorf("serve %s: %w", out.Path, err))
		return
	}
	defer f.Close()
	w.Header().Set("Content-Length", strconv.FormatInt(out.Size, 10))
	if r.Method == http.MethodHead {
		return
	}
	io.Copy(w, f) // the client went away, or the file was replaced by a newer build
}

// notYetArchived returns the URL of the current feed when path is the
// archive page after the newest one, which is linked before it is full.
func (h *Handler) notYetArchived(r *http.Request, path string) string {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 2 || r.PathValue("n") != strconv.Itoa(n) {
		return ""
	}
	dir, file, ok := strings.Cut(path, "history/"+strconv.Itoa(n)+"/")
	if !ok || h.pub.Lookup(archiveDir(dir, n-1)+file) == nil {
		return ""
	}
	return h.site.URL(escapeDir(dir) + file)
}

// notModified applies If-None-Match (either encoding's tag matches: they
// are the same feed) and, only when it is absent, If-Modified-Since.
func notModified(r *http.Request, out *Output) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		gzTag := strings.TrimSuffix(out.ETag, `"`) + `-gz"`
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == "*" || t == out.ETag || t == gzTag {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		if t, err := http.ParseTime(ims); err == nil && !out.Modified.After(t) {
			return true
		}
	}
	return false
}

// acceptsGzip reads Accept-Encoding, honouring q=0.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// page is the data of the front page, tag pages and article pages.
type page struct {
	web.Shell
	Tag      string
	Tags     []tagLink // tags.html
	Articles []*Article
	Article  *Article
	Content  template.HTML
	// Page is the page of a front or tag page's list, from 1; Newer and
	// Older are the URLs of the pages before and after it, or empty.
	Page         int
	Newer, Older string
}

// shell is the layout of a page about the feeds in dir: the site's or a
// tag's, named in the head for autodiscovery and in the footer.
func (h *Handler) shell(dir, title string) web.Shell {
	s := web.Shell{Site: h.site, Home: h.site.URL(""), Subscribe: h.site.URL("subscribe"), Title: title}
	for _, f := range []struct{ name, file, typ string }{
		{"RSS", "feed.xml", "application/rss+xml"},
		{"Atom", "atom.xml", "application/atom+xml"},
		{"JSON Feed", "feed.json", "application/feed+json"},
	} {
		t := h.site.Title + " (" + f.name + ")"
		if title != "" {
			t = h.site.Title + ": " + title + " (" + f.name + ")"
		}
		s.Feeds = append(s.Feeds, web.NewFeedLink(f.name, t, h.site.URL(escapeDir(dir)+f.file), f.typ))
	}
	return s
}

func (h *Handler) newPage(dir, title string) *page {
	return &page{Shell: h.shell(dir, title)}
}

// escapeDir percent-encodes the tag segment of a feed folder for a URL.
func escapeDir(dir string) string {
	if slug, ok := strings.CutPrefix(dir, "tags/"); ok {
		return "tags/" + url.PathEscape(strings.TrimSuffix(slug, "/")) + "/"
	}
	return dir
}

// serveIndex answers the front page and tag pages: the newest
// feeds.items articles, and older ones ?page=2, 3, ... with rel=prev and
// rel=next links between them.
func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	o := ListOptions{Now: h.now()}
	n, ok := pageNumber(r.URL.Query().Get("page"))
	if !ok {
		h.web.Error(w, r, &web.Problem{Kind: web.BadRequest,
			Message: "The page number must be a whole number from 1, as in ?page=2."})
		return
	}
	per := h.site.Items
	if per > 0 {
		o.Limit, o.Offset = per+1, (n-1)*per // one more: is there an older page?
	} else if n > 1 {
		h.notFound(w, r, nil)
		return
	}
	dir, title := "", ""
	if slug := r.PathValue("tag"); slug != "" {
		tags, err := h.tagsOf(r.Context(), slug, o.Now)
		if err != nil {
			h.web.Error(w, r, err)
			return
		}
		if len(tags) == 0 {
			h.notFound(w, r, nil)
			return
		}
		o.Tags, dir, title = tags, TagPath(slug), tags[0]
	}
	as, err := h.store.List(r.Context(), o)
	if err != nil {
		h.web.Error(w, r, err)
		return
	}
	if n > 1 && len(as) == 0 {
		h.notFound(w, r, nil)
		return
	}
	p := h.newPage(dir, title)
	p.Page = n
	base := h.site.URL(escapeDir(dir))
	p.Canonical, p.Section = base, "home"
	if dir != "" {
		p.Section, p.Description = "tags", "Articles tagged “"+title+"” in "+h.site.Title+"."
	}
	if n > 1 {
		p.Canonical = base + "?page=" + strconv.Itoa(n)
	}
	if per > 0 && len(as) > per {
		as = as[:per]
		p.Older = base + "?page=" + strconv.Itoa(n+1)
	}
	switch {
	case n == 2:
		p.Newer = base
	case n > 2:
		p.Newer = base + "?page=" + strconv.Itoa(n-1)
	}
	p.Tag, p.Articles = title, as
	if dir == "" {
		web.AllowTimeZoneScript(w) // the front page's sign-up form
	}
	h.web.Render(w, r, http.StatusOK, "index.html", p)
}

// pageNumber reads ?page=: empty is 1; otherwise a whole number from 1
// written plainly (no sign, no leading zero).
func pageNumber(v string) (int, bool) {
	if v == "" {
		return 1, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || strconv.Itoa(n) != v || n > 1_000_000 {
		return 0, false
	}
	return n, true
}

// tagsOf returns the tags that fold into slug.
func (h *Handler) tagsOf(ctx context.Context, slug string, now time.Time) ([]string, error) {
	all, err := h.store.Tags(ctx, now)
	if err != nil {
		return nil, err
	}
	var tags []string
	for _, t := range all {
		if TagSlug(t) == slug {
			tags = append(tags, t)
		}
	}
	return tags, nil
}

func (h *Handler) serveArticle(w http.ResponseWriter, r *http.Request) {
	a, err := h.store.GetBySlug(r.Context(), r.PathValue("slug"), h.now())
	if kindOf(err) == web.NotFound {
		h.notFound(w, r, err)
		return
	}
	if err != nil {
		h.web.Error(w, r, err)
		return
	}
	p := h.newPage("", a.Title)
	p.Article = a
	p.Content = template.HTML(a.ContentHTML) // sanitized when it was ingested
	p.Canonical, p.Kind, p.Description, p.Image = h.site.ArticleURL(a), "article", a.Summary, a.Image
	web.AllowTimeZoneScript(w) // the sign-up form's
	h.web.Render(w, r, http.StatusOK, "article.html", p)
}

// notFound answers an address that names no feed, tag or article.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, err error) {
	h.web.Error(w, r, &web.Problem{Kind: web.NotFound,
		Message: "There is nothing at this address. The article may have been removed, or the link is mistyped.", Err: err})
}

// kindOf is how the web answers feed's errors, pages and API alike.
func kindOf(err error) web.Kind {
	switch {
	case errors.Is(err, ErrNotFound):
		return web.NotFound
	case errors.Is(err, ErrIDTaken):
		return web.Conflict
	}
	return web.Internal
}
