package feed

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/templates"
)

// Handler serves the feeds from memory, the front page, tag pages and
// article pages.
type Handler struct {
	pub   *Publisher
	store *Store
	site  *Site
	pages *template.Template
	log   *slog.Logger
	now   func() time.Time
}

// NewHandler parses the page templates (templateDir overrides them file by
// file) and returns the handler. Register it with Routes.
func NewHandler(pub *Publisher, templateDir string, log *slog.Logger) (*Handler, error) {
	h := &Handler{pub: pub, store: pub.Store, site: &pub.Site, log: log, now: pub.Now}
	pages, err := templates.Pages(templateDir, template.FuncMap{
		"articleURL": h.site.ArticleURL,
		"tagURL":     func(tag string) string { return h.site.URL(TagPath(url.PathEscape(TagSlug(tag)))) },
	}, "meta.html", "index.html", "article.html", "error.html")
	if err != nil {
		return nil, err
	}
	h.pages = pages
	return h, nil
}

// Routes registers every route on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	for _, f := range formats {
		mux.HandleFunc("GET /"+f.name, h.serveFeed)
		mux.HandleFunc("GET /tags/{tag}/"+f.name, h.serveFeed)
	}
	mux.HandleFunc("GET /{$}", h.serveIndex)
	mux.HandleFunc("GET /tags/{tag}/{$}", h.serveIndex)
	mux.HandleFunc("GET /articles/{slug}", h.serveArticle)
}

// serveFeed answers from the built feeds: strong ETag, Last-Modified, 304s,
// gzip when accepted. GET routes answer HEAD too.
func (h *Handler) serveFeed(w http.ResponseWriter, r *http.Request) {
	// r.URL.Path is decoded, as the file was named: tags/ελλάδα/feed.xml.
	out := h.pub.Lookup(strings.TrimPrefix(r.URL.Path, "/"))
	if out == nil {
		h.notFound(w, r)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", out.ContentType)
	hd.Set("Cache-Control", "public, max-age=300")
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
	body := out.Body
	if gz {
		body = out.Gzip() // compressed by the first request that asks
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(body)
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

type feedLink struct {
	Name, Title, URL string
	// TypeAttr is the whole type attribute: html/template would write the
	// + of a media type as &#43;, which some feed discovery code misses.
	TypeAttr template.HTMLAttr
}

type page struct {
	Site      *Site
	Home      string
	Subscribe string
	Title     string
	Tag       string
	Feeds     []feedLink
	Articles  []*Article
	Article   *Article
	Content   template.HTML
	Message   string
}

func (h *Handler) newPage(dir, title string) *page {
	p := &page{Site: h.site, Home: h.site.URL(""), Subscribe: h.site.URL("subscribe"), Title: title}
	for _, f := range []struct{ name, file, typ string }{
		{"RSS", "feed.xml", "application/rss+xml"},
		{"Atom", "atom.xml", "application/atom+xml"},
		{"JSON Feed", "feed.json", "application/feed+json"},
	} {
		t := h.site.Title + " (" + f.name + ")"
		if title != "" {
			t = h.site.Title + ": " + title + " (" + f.name + ")"
		}
		p.Feeds = append(p.Feeds, feedLink{Name: f.name, TypeAttr: template.HTMLAttr(`type="` + f.typ + `"`), Title: t,
			URL: h.site.URL(escapeDir(dir) + f.file)})
	}
	return p
}

// escapeDir percent-encodes the tag segment of a feed folder for a URL.
func escapeDir(dir string) string {
	if slug, ok := strings.CutPrefix(dir, "tags/"); ok {
		return "tags/" + url.PathEscape(strings.TrimSuffix(slug, "/")) + "/"
	}
	return dir
}

func (h *Handler) serveIndex(w http.ResponseWriter, r *http.Request) {
	o := ListOptions{Limit: h.site.Items, Now: h.now()}
	dir, title := "", ""
	if slug := r.PathValue("tag"); slug != "" {
		tags, err := h.tagsOf(r.Context(), slug, o.Now)
		if err != nil {
			h.serverError(w, r, err)
			return
		}
		if len(tags) == 0 {
			h.notFound(w, r)
			return
		}
		o.Tags, dir, title = tags, TagPath(slug), tags[0]
	}
	as, err := h.store.List(r.Context(), o)
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	p := h.newPage(dir, title)
	p.Tag, p.Articles = title, as
	h.render(w, r, http.StatusOK, "index.html", p)
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
	if errors.Is(err, ErrNotFound) {
		h.notFound(w, r)
		return
	}
	if err != nil {
		h.serverError(w, r, err)
		return
	}
	p := h.newPage("", a.Title)
	p.Article = a
	p.Content = template.HTML(a.ContentHTML) // sanitized when it was ingested
	h.render(w, r, http.StatusOK, "article.html", p)
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	p := h.newPage("", "Not found")
	p.Message = "There is nothing at this address. The article may have been removed, or the link is mistyped."
	h.render(w, r, http.StatusNotFound, "error.html", p)
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.log.Error("request failed", "path", r.URL.Path, "error", err)
	p := h.newPage("", "Something went wrong")
	p.Message = "The page could not be built. The error has been logged; please try again in a moment."
	h.render(w, r, http.StatusInternalServerError, "error.html", p)
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	var b strings.Builder
	if err := h.pages.ExecuteTemplate(&b, name, p); err != nil {
		h.log.Error("render page", "template", name, "error", err)
		http.Error(w, "page template failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write([]byte(b.String()))
	}
}
