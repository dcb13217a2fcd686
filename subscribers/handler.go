package subscribers

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/templates"
)

// SiteInfo is what the pages and the confirmation mail say about the site.
type SiteInfo struct {
	Title, Description, Language, BaseURL, PostalAddress string
}

// URL returns the absolute URL of a path below the site.
func (s SiteInfo) URL(p string) string {
	return strings.TrimSuffix(s.BaseURL, "/") + "/" + strings.TrimPrefix(p, "/")
}

// DigestInfo describes one digest a subscriber can choose.
type DigestInfo struct {
	Name, Title, Description string
}

// Options configure the handlers.
type Options struct {
	Site        SiteInfo
	Digests     []DigestInfo
	DoubleOptIn bool
	ConfirmTTL  time.Duration
	TemplateDir string
	AdminToken  string // empty: the admin API answers 404
	Logger      *slog.Logger
	Now         func() time.Time
}

// Handler serves sign-up, confirmation, unsubscribe and preferences pages,
// and the admin API.
type Handler struct {
	store   *Store
	tokens  *Tokens
	links   *Links
	mailer  Mailer
	opt     Options
	pages   *template.Template
	confirm *confirmMail
	perIP   *limiter
	perAddr *limiter
}

// resendAfter is how soon a pending address may be sent another
// confirmation mail.
const resendAfter = 10 * time.Minute

// maxBody bounds every form and JSON body.
const maxBody = 16 << 10

// NewHandler parses the templates and returns the handler.
func NewHandler(store *Store, tokens *Tokens, mailer Mailer, opt Options) (*Handler, error) {
	pages, err := templates.Pages(opt.TemplateDir, nil, "subscribe.html", "message.html", "preferences.html")
	if err != nil {
		return nil, err
	}
	cm, err := newConfirmMail(opt.TemplateDir)
	if err != nil {
		return nil, err
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Handler{
		store: store, tokens: tokens, links: NewLinks(tokens, opt.Site), mailer: mailer, opt: opt, pages: pages, confirm: cm,
		// A person signs up once; a few retries are fine, a script is not.
		perIP:   newLimiter(10, time.Minute, opt.Now),
		perAddr: newLimiter(3, time.Hour, opt.Now),
	}, nil
}

// Routes registers every route on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.Handle("GET /subscribe", h.secure(h.subscribeForm))
	mux.Handle("POST /subscribe", h.secure(h.subscribe))
	mux.Handle("GET /confirm", h.secure(h.confirmPage))
	mux.Handle("POST /confirm", h.secure(h.confirmPost))
	mux.Handle("GET /unsubscribe", h.secure(h.unsubscribePage))
	mux.Handle("POST /unsubscribe", h.secure(h.unsubscribePost))
	mux.Handle("GET /preferences", h.secure(h.preferencesPage))
	mux.Handle("POST /preferences", h.secure(h.preferencesPost))
	h.apiRoutes(mux)
}

// secure sets the headers every page of this package carries: no framing
// (clickjacking), a strict content policy, and no Referer, since the URLs
// hold tokens.
func (h *Handler) secure(f http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; form-action 'self' "+
			strings.TrimSuffix(h.opt.Site.BaseURL, "/")+"; frame-ancestors 'none'; base-uri 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		f(w, r)
	})
}

// page is the data of every page of this package.
type page struct {
	Site      SiteInfo
	Home      string
	Subscribe string
	Feeds     []struct{ Name, URL string }
	Title     string

	// message.html
	Paragraphs []string
	Action     string // a form with one button posts here
	Button     string
	Link       *link

	// subscribe.html and preferences.html
	Intro   string
	Email   string
	Name    string
	Digests []digestChoice
	Errors  map[string]string
	Saved   string
}

type link struct{ URL, Text string }

type digestChoice struct {
	DigestInfo
	Checked bool
}

func (h *Handler) newPage(title string) *page {
	return &page{Site: h.opt.Site, Home: h.opt.Site.URL(""), Subscribe: h.opt.Site.URL("subscribe"), Title: title, Errors: map[string]string{}}
}

func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	var b strings.Builder
	if err := h.pages.ExecuteTemplate(&b, name, p); err != nil {
		h.opt.Logger.Error("render page", "template", name, "error", err)
		http.Error(w, "page template failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write([]byte(b.String()))
	}
}

// message renders a page of a few paragraphs and, optionally, one button.
func (h *Handler) message(w http.ResponseWriter, r *http.Request, status int, title string, paragraphs ...string) {
	p := h.newPage(title)
	p.Paragraphs = paragraphs
	h.render(w, r, status, "message.html", p)
}

func (h *Handler) serverError(w http.ResponseWriter, r *http.Request, err error) {
	h.opt.Logger.Error("request failed", "path", r.URL.Path, "error", err)
	h.message(w, r, http.StatusInternalServerError, "Something went wrong",
		"Your request could not be completed. The error has been logged; please try again in a few minutes.")
}

// meta records who asked, for the consent events.
func meta(r *http.Request, route string) Meta {
	ip := r.RemoteAddr
	if i := strings.LastIndexByte(ip, ':'); i > 0 {
		ip = strings.Trim(ip[:i], "[]")
	}
	ua := r.UserAgent()
	if len(ua) > 512 {
		ua = ua[:512]
	}
	return Meta{IP: ip, UserAgent: ua, Route: route}
}

// tooLarge reports whether err comes from the body limit.
func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func itoa(n int) string { return strconv.Itoa(n) }
