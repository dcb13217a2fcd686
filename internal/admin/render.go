package admin

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tidings/tidings/internal/web"
)

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
	for _, n := range append(nav[1:], accountNav) {
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

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

// funcs are the template functions of the admin pages.
var funcs = template.FuncMap{
	"time": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"day":       func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"lastWeeks": lastWeeks,
	"number":    number,
	"megabytes": megabytes,
}
