package web

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/tidings/tidings/templates"
)

// Shell is what the layout (pages/layout.html) shows around every page.
// A handler's page data embeds it, so that every page and every error
// page is built on the same shell.
type Shell struct {
	// Site is the handler's own site value (a *feed.Site, a
	// subscribers.SiteInfo): the layout reads .Site.Title, .Description
	// and .Language, and templates.dir overrides may read the rest, as
	// they always could.
	Site      any
	Home      string // the front page; the layout links tags/, archive, feeds below it
	Subscribe string // the sign-up form
	Title     string // the page's; empty on the front page
	Feeds     []FeedLink
	// Canonical is the page's one URL (the canonical link, og:url);
	// empty on pages that are one person's or an error.
	Canonical string
	// Description and Image describe the page in link previews
	// (OpenGraph, Twitter cards); an empty Description is the site's.
	Description, Image string
	// Kind is the og:type: "article" on an article; empty: "website".
	Kind string
	// NoIndex asks search engines to leave the page out: one person's
	// (a token in its URL) or an error.
	NoIndex bool
	// Section is the navigation entry the page is under (home, tags,
	// archive, subscribe), marked aria-current.
	Section string
}

// FeedLink is one feed named in the layout: an autodiscovery link in the
// head and a link in the footer.
type FeedLink struct {
	Name, Title, URL string
	// TypeAttr is the whole type attribute: html/template would write the
	// + of a media type as &#43;, which some feed discovery code misses.
	TypeAttr template.HTMLAttr
}

// NewFeedLink returns the link to a feed of the given media type.
func NewFeedLink(name, title, url, mediaType string) FeedLink {
	return FeedLink{Name: name, Title: title, URL: url,
		TypeAttr: template.HTMLAttr(`type="` + template.HTMLEscapeString(mediaType) + `"`)}
}

// errorPage is the data of pages/error.html.
type errorPage struct {
	Shell
	Message string
	Field   string
}

// Options configure a Renderer.
type Options struct {
	// TemplateDir is templates.dir: its pages/*.html override the
	// embedded ones by the same relative paths.
	TemplateDir string
	// Funcs are the template functions the pages call (articleURL, date
	// ...), besides the ones every page has: stylesheet (the path of
	// Assets' stylesheet), timeZoneScript (TimeZoneScript) and current
	// (aria-current on the navigation entry of the page's Section).
	Funcs template.FuncMap
	// Assets are the stylesheet and favicon the layout links; nil: those
	// of TemplateDir, read anew.
	Assets *Assets
	// Pages are the handler's pages (index.html ...); layout.html and
	// error.html are always parsed.
	Pages []string
	// Shell is the shell of error pages; its Title is the error's.
	Shell Shell
	// Logger receives the errors of 5xx answers; nil: slog.Default().
	Logger *slog.Logger
}

// Renderer writes a handler's pages in the page shell and answers its
// errors, as a page or as JSON. Its templates are parsed and checked once,
// by NewRenderer; rendering is safe for concurrent use.
//
// A nil *Renderer, or one from NewJSON, has no pages: it answers every
// error in JSON.
type Renderer struct {
	pages *template.Template
	shell Shell
	log   *slog.Logger
}

// NewRenderer parses layout.html, error.html and the named pages into one
// set, and checks that html/template can escape each. A template that
// fails either way is an error naming its file and line, so a broken
// override stops tidings at start, not at the first request.
func NewRenderer(o Options) (*Renderer, error) {
	names := []string{"error.html"}
	for _, n := range o.Pages {
		if !slices.Contains(names, n) && n != "layout.html" {
			names = append(names, n)
		}
	}
	assets := o.Assets
	if assets == nil {
		var err error
		if assets, err = LoadAssets(o.TemplateDir); err != nil {
			return nil, err
		}
	}
	funcs := template.FuncMap{
		"stylesheet":     assets.StylesheetPath,
		"timeZoneScript": func() template.JS { return TimeZoneScript },
		"current":        current,
	}
	maps.Copy(funcs, o.Funcs)
	t, err := templates.Pages(o.TemplateDir, funcs, names...)
	if err != nil {
		return nil, err
	}
	// html/template escapes a page, and all it calls, on its first
	// execution, and only then reports what it cannot escape (an {{if}}
	// that leaves an attribute open ...). A run into a writer that fails
	// escapes each page and stops at its first byte, before any data or
	// function is used.
	for _, n := range names {
		var escErr *template.Error
		if err := t.ExecuteTemplate(failWriter{}, n, nil); errors.As(err, &escErr) {
			return nil, fmt.Errorf("template %s: %w", source(o.TemplateDir, n), err)
		}
	}
	return &Renderer{pages: t, shell: o.Shell, log: o.Logger}, nil
}

// source names where the page called name was read from, as
// templates.Pages names it in its errors.
func source(dir, name string) string {
	if dir != "" {
		p := filepath.Join(dir, "pages", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "embedded pages/" + name
}

// NewJSON returns a Renderer for a JSON API: no pages, its errors logged
// to log.
func NewJSON(log *slog.Logger) *Renderer {
	return &Renderer{log: log}
}

// WithLogger returns a copy of rd whose 5xx answers are logged to log,
// for a handler whose logger is set after its pages are parsed.
func (rd *Renderer) WithLogger(log *slog.Logger) *Renderer {
	if rd == nil {
		return &Renderer{log: log}
	}
	c := *rd
	c.log = log
	return &c
}

func (rd *Renderer) logger() *slog.Logger {
	if rd == nil || rd.log == nil {
		return slog.Default()
	}
	return rd.log
}

// Render writes the named page with status. HEAD gets the headers only.
// A page that fails to render is answered as an internal error.
func (rd *Renderer) Render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var b bytes.Buffer
	if err := rd.pages.ExecuteTemplate(&b, name, data); err != nil {
		rd.Error(w, r, fmt.Errorf("render page %s: %w", name, err))
		return
	}
	write(w, r, status, "text/html; charset=utf-8", b.Bytes())
}

// Error answers err: with the status of its kind in the one table, as
// JSON ({"error": ..., "field": ...}) when WantsJSON(r), else as the
// error page in the page shell; never to be cached. A 5xx is logged with
// its cause; nothing else is, since a refused request is no fault of the
// server's.
func (rd *Renderer) Error(w http.ResponseWriter, r *http.Request, err error) {
	rd.answer(w, r, err, "", nil)
}

// ErrorPage answers err as Error does, but with the named page in place
// of error.html when the answer is a page: a form shown again with the
// error beside its field. data is that page's; the handler fills it from
// ProblemOf(err).
func (rd *Renderer) ErrorPage(w http.ResponseWriter, r *http.Request, err error, name string, data any) {
	rd.answer(w, r, err, name, data)
}

func (rd *Renderer) answer(w http.ResponseWriter, r *http.Request, err error, name string, data any) {
	p := ProblemOf(err)
	status := p.Status()
	if status >= 500 {
		rd.logger().Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, slog.Any("error", err))
	}
	h := w.Header()
	h.Add("Vary", "Accept")
	// Whatever the handler meant to cache, this answer is not it.
	h.Set("Cache-Control", "no-store")
	retryAfter(h, p)
	if rd == nil || rd.pages == nil || WantsJSON(r) {
		JSON(w, status, jsonError{Error: p.message(), Field: p.Field})
		return
	}
	if name == "" {
		shell := rd.shell
		shell.Title, shell.Canonical, shell.NoIndex = p.title(), "", true
		name, data = "error.html", &errorPage{Shell: shell, Message: p.message(), Field: p.Field}
	}
	var b bytes.Buffer
	if err := rd.pages.ExecuteTemplate(&b, name, data); err != nil {
		// The error page itself is broken: say so plainly, once.
		rd.logger().Error("render error page", "template", name, "path", r.URL.Path, slog.Any("error", err))
		write(w, r, status, "text/plain; charset=utf-8", []byte(p.message()+"\n"))
		return
	}
	write(w, r, status, "text/html; charset=utf-8", b.Bytes())
}

// current marks the navigation entry of the page's section: {{current
// .Section "tags"}} in a link's tag. section is any, so that a page whose
// data has no Section (a map) renders too.
func current(section any, entry string) template.HTMLAttr {
	if s, ok := section.(string); ok && s == entry {
		return `aria-current="page"`
	}
	return ""
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

// jsonError is the body of every JSON error.
type jsonError struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
}

func write(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body) // the client may be gone; nothing to do then
	}
}
