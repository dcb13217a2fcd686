package admin

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tidings/tidings/internal/sqlite"
	"github.com/tidings/tidings/internal/web"
	"github.com/tidings/tidings/templates"
)

// Options configure the admin.
type Options struct {
	DB *sqlite.DB
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

// Body limits: a form, and a form with a file (multipart).
const (
	maxForm   = 1 << 20
	maxUpload = 256 << 20
	// uploadMemory of a multipart form is held in memory; the rest of
	// its files goes to temporary files, removed after the request.
	uploadMemory = 32 << 20
)

// handle routes a handler that needs a session. Without one, a request
// is sent to the login page, which sends it back here afterwards. A POST
// must carry the session's CSRF token (403 otherwise), and is written to
// the audit log once the handler returns: as the action the handler
// named with setAudit, else as its route.
func (a *Admin) handle(pattern string, h handlerFunc) {
	a.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s, err := a.session(r)
		if errors.Is(err, ErrNoSession) {
			a.toLogin(w, r)
			return
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		ctx := context.WithValue(r.Context(), sessionKey{}, s)
		if r.Method != http.MethodPost {
			if err := h(w, r.WithContext(ctx)); err != nil {
				a.fail(w, r, err)
			}
			return
		}
		if err := a.parseForm(w, r); err != nil {
			a.fail(w, r, err)
			return
		}
		if !validCSRF(s.id, r.PostFormValue("csrf")) {
			a.forbidden(w, r.WithContext(ctx))
			return
		}
		rec := &auditNote{action: strings.TrimPrefix(r.Pattern, "POST ")}
		ctx = context.WithValue(ctx, auditKey{}, rec)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		r = r.WithContext(ctx)
		if err := h(sw, r); err != nil {
			a.fail(sw, r, err)
		}
		detail := rec.detail
		if sw.status >= 400 {
			detail = strings.TrimSpace(fmt.Sprintf("%s (refused: %d)", detail, sw.status))
		}
		a.audit(r, s.Account, rec.action, detail)
	})
}

// parseForm reads a POST body within its limit.
func (a *Admin) parseForm(w http.ResponseWriter, r *http.Request) error {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
		err = r.ParseMultipartForm(uploadMemory)
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return web.Errorf(web.TooLarge, "The form is larger than the %d MB the admin accepts.", tooBig.Limit>>20)
	}
	if err != nil {
		return &web.Problem{Kind: web.BadRequest, Message: "The form could not be read: " + err.Error()}
	}
	return nil
}

// statusWriter remembers the status written, for the audit entry.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

type sessionKey struct{}
type auditKey struct{}

// sessionOf is the session of a request routed by handle.
func sessionOf(r *http.Request) *Session {
	s, _ := r.Context().Value(sessionKey{}).(*Session)
	return s
}

// auditNote is what a POST handler says of itself for the audit log.
type auditNote struct{ action, detail string }

// setAudit names the audit entry of the POST being handled: an action
// ("subscriber.forget") and a detail ("id 12, a@example.org"). Without a
// call the entry is the route, with no detail.
func setAudit(r *http.Request, action, detail string) {
	if n, ok := r.Context().Value(auditKey{}).(*auditNote); ok {
		n.action, n.detail = action, detail
	}
}

// audit writes one entry; a failure is logged, not answered: the action
// itself is done.
func (a *Admin) audit(r *http.Request, account, action, detail string) {
	err := a.Store.Audit(r.Context(), AuditEntry{Account: account, Action: action, Detail: detail, IP: clientIP(r)})
	if err != nil {
		a.log.Error("audit log", "action", action, "account", account, slog.Any("error", err))
	}
}

// clientIP is the address the request came from.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// View is the data of every admin template: the layout reads the shell
// fields, the page reads .Data.
type View struct {
	Title   string
	Data    any
	Section string // the nav section this page is in
	Account string // the operator logged in; empty on the login page
	CSRF    string // the form token: {{template "csrf" $}} in a form
	Flash   string // the message a.redirect left for this page
	Nav     []navItem
	CSS     string
	Site    string
	Version string
}

// render writes page (its file name in templates/admin) in the layout,
// with title and data, status 200.
func (a *Admin) render(w http.ResponseWriter, r *http.Request, page, title string, data any) error {
	return a.renderStatus(w, r, http.StatusOK, page, title, data)
}

// renderStatus is render with another status.
func (a *Admin) renderStatus(w http.ResponseWriter, r *http.Request, status int, page, title string, data any) error {
	t, ok := a.pages[page]
	if !ok {
		return fmt.Errorf("admin page %s: no such template", page)
	}
	v := View{Title: title, Data: data, Nav: nav, CSS: a.cssPath, Site: a.o.SiteTitle, Version: a.o.Version,
		Section: section(r.URL.Path), Flash: a.takeFlash(w, r)}
	if s := sessionOf(r); s != nil {
		v.Account, v.CSRF = s.Account, s.CSRF
	} else if c, err := r.Cookie(preCookie); err == nil {
		v.CSRF = csrfToken(c.Value)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout.html", v); err != nil {
		return fmt.Errorf("render admin page %s: %w", page, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(b.Bytes())
	}
	return nil
}

// section is the nav section of an admin path.
func section(p string) string {
	best := ""
	for _, n := range nav[1:] {
		if p == n.Path || strings.HasPrefix(p, n.Path+"/") {
			best = n.Section
		}
	}
	if best == "" && (p == "/admin/" || p == "/admin") {
		return "dashboard"
	}
	return best
}

// flashCookie carries a message across a redirect (post, redirect, get).
const flashCookie = "tidings_admin_flash"

// redirect sends the browser to an admin path (to, chosen by the
// handler, never taken from the request) with a 303 after a form, leaving
// flash (if any) to be shown once on the page it lands on.
func (a *Admin) redirect(w http.ResponseWriter, r *http.Request, to, flash string) error {
	if !strings.HasPrefix(to, "/admin/") {
		return fmt.Errorf("admin redirect to %q: not an admin path", to)
	}
	if flash != "" {
		http.SetCookie(w, a.cookie(flashCookie, url.QueryEscape(flash), 60))
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
	return nil
}

func (a *Admin) takeFlash(w http.ResponseWriter, r *http.Request) string {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, a.cookie(flashCookie, "", -1))
	msg, _ := url.QueryUnescape(c.Value)
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return msg
}

// errorData is the data of error.html.
type errorData struct{ Message, Back string }

// fail answers err as an error page in the layout, with the status of
// its kind; a 5xx is logged with its cause.
func (a *Admin) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := web.ProblemOf(err)
	status := p.Status()
	if status >= 500 {
		a.log.Error("admin request failed", "method", r.Method, "path", r.URL.Path, "status", status, slog.Any("error", err))
	}
	title := p.Title
	if title == "" {
		title = http.StatusText(status)
	}
	if err := a.renderStatus(w, r, status, "error.html", title, errorData{Message: web.Message(err)}); err != nil {
		a.log.Error("render admin error page", slog.Any("error", err))
		http.Error(w, web.Message(err), status)
	}
}

// forbidden answers a POST whose CSRF token is missing or wrong.
func (a *Admin) forbidden(w http.ResponseWriter, r *http.Request) {
	back := ""
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
		back = safeNext(ref.RequestURI())
	}
	err := a.renderStatus(w, r, http.StatusForbidden, "error.html", "Form expired",
		errorData{Message: "This form was not accepted: its security token is missing or belongs to another session " +
			"(the page may be from before you last logged in). Nothing was changed. Go back, reload the page and send the form again.",
			Back: back})
	if err != nil {
		a.log.Error("render admin error page", slog.Any("error", err))
		http.Error(w, "forbidden: missing or wrong CSRF token", http.StatusForbidden)
	}
}

func (a *Admin) stylesheet(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Write(a.css)
}

// funcs are the template functions of the admin pages.
var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
}
