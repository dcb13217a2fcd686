package admin

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/web"
	"github.com/tidings/tidings/templates"
)

// Options configure the admin.
type Options struct {
	DB *database.DB
	// BaseURL is site.base_url: over https the session cookie is Secure.
	BaseURL     string
	SiteTitle   string
	Version     string
	TemplateDir string // templates.dir: its admin/*.html override the embedded pages
	// SessionIdle and SessionMax end a session after that long without a
	// request, and that long after its login; zero: DefaultIdle, DefaultMax.
	SessionIdle, SessionMax time.Duration
	Now                     func() time.Time
	Logger                  *slog.Logger

	// What the pages show, read through the packages that own it.
	Data Data
}

// Admin is the web admin, mounted at /admin: its pages, the login,
// sessions, CSRF checks and the audit log.
type Admin struct {
	Store *Store

	o       Options
	log     *slog.Logger
	pages   map[string]*template.Template
	css     []byte
	cssPath string
	csp     string
	secure  bool
	mux     *http.ServeMux
	imports *imports // the subscriber imports (import_page.go)
	memo    memo     // the dashboard's costly counts
	// viewed is when the dashboard was last looked at (Unix ns), for Run.
	viewed       atomic.Int64
	refreshEvery time.Duration // Run's tick; tests shorten it
}

// navItem is one section in the layout's navigation.
type navItem struct{ Path, Label, Section string }

// nav is every section of the admin, in the order the layout shows them.
// A page is in the section whose path its own path starts with.
var nav = []navItem{
	{"/admin/", "Dashboard", "dashboard"},
	{"/admin/subscribers", "Subscribers", "subscribers"},
	{"/admin/editions", "Editions", "editions"},
	{"/admin/digests", "Digests", "digests"},
	{"/admin/articles", "Articles and sources", "articles"},
	{"/admin/settings", "Settings", "settings"},
	{"/admin/audit", "Audit log", "audit"},
}

// accountNav is the operator's own page, linked from their address in
// the header rather than from the sections.
var accountNav = navItem{"/admin/account", "Your account", "account"}

// New parses every admin page (failing on a broken one, naming it) and
// routes them.
func New(o Options) (*Admin, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	st := NewStore(o.DB, o.Now)
	if o.SessionIdle > 0 {
		st.Idle = o.SessionIdle
	}
	if o.SessionMax > 0 {
		st.Max = o.SessionMax
	}
	pages, err := templates.Admin(o.TemplateDir, funcs)
	if err != nil {
		return nil, err
	}
	// html/template reports what it cannot escape only on a page's first
	// run: run each into a writer that fails at once, so that a broken
	// override stops the start, not a request (as web.NewRenderer does).
	for name, t := range pages {
		var escErr *template.Error
		if err := t.ExecuteTemplate(failWriter{}, "layout.html", View{}); errors.As(err, &escErr) {
			return nil, fmt.Errorf("admin template %s: %w", name, err)
		}
	}
	css, err := templates.AdminFile(o.TemplateDir, "admin.css")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(css)
	a := &Admin{Store: st, o: o, log: o.Logger, pages: pages, css: css,
		cssPath: "/admin/static/admin." + hex.EncodeToString(sum[:6]) + ".css",
		secure:  strings.HasPrefix(o.BaseURL, "https://"), mux: http.NewServeMux()}
	formAction := "'self'"
	if u, err := url.Parse(o.BaseURL); err == nil && u.Scheme != "" && u.Host != "" {
		formAction += " " + u.Scheme + "://" + u.Host
	}
	// Stricter than the public pages': no inline style either, as the
	// stylesheet is a file; and never framed.
	a.csp = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action " + formAction +
		"; frame-ancestors 'none'; base-uri 'none'"
	a.routes()
	return a, nil
}

// Routes mounts the admin on mux at /admin.
func (a *Admin) Routes(mux *http.ServeMux) {
	mux.Handle("/admin/", a)
	mux.Handle("/admin", http.RedirectHandler("/admin/", http.StatusMovedPermanently))
}

// ServeHTTP answers every request under /admin/.
func (a *Admin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", a.csp)
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	a.mux.ServeHTTP(w, r)
}

// handlerFunc is an admin page's handler: it writes the page (a.render)
// or a redirect (a.redirect), or returns an error, which the admin
// answers as an error page (a *web.Problem's kind sets the status).
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// routes lists every admin route. A page is one line here.
func (a *Admin) routes() {
	a.mux.HandleFunc("GET "+a.cssPath, a.stylesheet)
	a.public("GET /admin/login", a.loginPage)
	a.public("POST /admin/login", a.login)
	a.handle("POST /admin/logout", a.logout)
	a.handle("GET /admin/{$}", a.dashboard)
	a.handle("GET /admin/settings", a.settings)
	a.handle("GET /admin/audit", a.auditPage)
	a.subscriberRoutes()
	a.handle("GET /admin/account", a.account)
	a.handle("POST /admin/account/password", a.changePassword)
	a.mux.HandleFunc("/admin/", func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, web.Errorf(web.NotFound, "There is no admin page at this address."))
	})
	// Editions, digests, articles and sources.
	a.handle("GET /admin/editions", a.editions)
	a.handle("GET /admin/editions/{id}", a.edition)
	a.handle("GET /admin/editions/{id}/deliveries/{delivery}", a.delivery)
	a.handle("POST /admin/editions/{id}/retry", a.editionRetry)
	a.handle("POST /admin/editions/{id}/pause", a.editionPause)
	a.handle("POST /admin/editions/{id}/resume", a.editionResume)
	a.handle("GET /admin/digests", a.digests)
	a.handle("GET /admin/digests/{name}", a.digest)
	a.handle("GET /admin/digests/{name}/preview.html", a.previewHTML)
	a.handle("GET /admin/digests/{name}/preview.eml", a.previewEML)
	a.handle("POST /admin/digests/{name}/test", a.digestTest)
	a.handle("GET /admin/digests/{name}/send", a.digestSendPage)
	a.handle("POST /admin/digests/{name}/send", a.digestSend)
	a.handle("GET /admin/articles", a.articles)
	a.handle("POST /admin/articles/sources/check", a.sourceCheck)
}

// public routes a handler that needs no session (the login).
func (a *Admin) public(pattern string, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.fail(w, r, err)
		}
	})
}

// stylesheet serves admin.css, cached for ever: its URL names its hash.
func (a *Admin) stylesheet(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(a.css)
}
