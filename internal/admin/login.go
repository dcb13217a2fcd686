package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Cookies. Both are HttpOnly, SameSite=Lax, Path=/admin, and Secure when
// the site is served over https.
const (
	// sessionCookie holds the session id, of which the database keeps
	// only a hash.
	sessionCookie = "tidings_admin"
	// preCookie is the login form's CSRF secret, before there is a
	// session: its token must come back in the form.
	preCookie = "tidings_admin_login"
)

func (a *Admin) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/admin", MaxAge: maxAge,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode}
}

// session is the live session of r's cookie, or ErrNoSession.
func (a *Admin) session(r *http.Request) (*Session, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, ErrNoSession
	}
	return a.Store.Session(r.Context(), c.Value)
}

// toLogin sends a request without a live session to the login page, which
// sends it back afterwards. A form sent without one goes back to the
// page it came from.
func (a *Admin) toLogin(w http.ResponseWriter, r *http.Request) {
	next := r.URL.RequestURI()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		next = ""
		if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
			next = ref.RequestURI()
		}
	}
	q := url.Values{}
	if n := safeNext(next); n != home {
		q.Set("next", n)
	}
	if _, err := r.Cookie(sessionCookie); err == nil {
		q.Set("ended", "1")
		http.SetCookie(w, a.cookie(sessionCookie, "", -1))
	}
	to := "/admin/login"
	if len(q) > 0 {
		to += "?" + q.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// loginData is the data of login.html.
type loginData struct {
	Next, Email, Error string
	NoAccounts         bool
}

// loginPage shows the login form; a browser already logged in goes on.
func (a *Admin) loginPage(w http.ResponseWriter, r *http.Request) error {
	next := safeNext(r.URL.Query().Get("next"))
	if _, err := a.session(r); err == nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	d := loginData{Next: next}
	if r.URL.Query().Get("ended") != "" {
		d.Error = "Your session has ended (you logged out, it expired, or the server was reset). Log in again to go on."
	}
	return a.showLogin(w, r, http.StatusOK, d)
}

// showLogin renders the login form, with a fresh pre-session secret when
// the browser has none.
func (a *Admin) showLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) error {
	if _, err := r.Cookie(preCookie); err != nil {
		secret, err := newSecret()
		if err != nil {
			return err
		}
		c := a.cookie(preCookie, secret, 0)
		http.SetCookie(w, c)
		r.AddCookie(c) // so that render puts its token in the form
	}
	n, err := a.Store.CountAccounts(r.Context())
	if err != nil {
		return err
	}
	d.NoAccounts = n == 0
	return a.renderStatus(w, r, status, "login.html", "Log in", d)
}

// login checks the form's CSRF token, the rate limit and the password, in
// that order; on success it starts a session and goes to next.
func (a *Admin) login(w http.ResponseWriter, r *http.Request) error {
	if err := a.parseForm(w, r); err != nil {
		return err
	}
	pre, err := r.Cookie(preCookie)
	if err != nil || !validCSRF(pre.Value, r.PostFormValue("csrf")) {
		a.forbidden(w, r)
		return nil
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	d := loginData{Next: safeNext(r.PostFormValue("next")), Email: email}
	ip := clientIP(r)
	ctx := r.Context()
	wait, err := a.Store.LoginWait(ctx, email, ip)
	if err != nil {
		return err
	}
	if wait > 0 {
		a.audit(r, email, "login.refused", fmt.Sprintf("rate limit: wait %s", wait.Round(time.Second)))
		w.Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
		d.Error = fmt.Sprintf("Too many failed logins for this account from your address. Try again in %s.", roundUp(wait))
		return a.showLogin(w, r, http.StatusTooManyRequests, d)
	}
	acct, err := a.Store.Authenticate(ctx, email, r.PostFormValue("password"))
	if errors.Is(err, ErrBadLogin) {
		if err := a.Store.LoginFailed(ctx, email, ip); err != nil {
			return err
		}
		a.audit(r, email, "login.failed", "")
		d.Error = "Wrong email or password."
		return a.showLogin(w, r, http.StatusUnauthorized, d)
	}
	if err != nil {
		return err
	}
	if err := a.Store.LoginSucceeded(ctx, email, ip); err != nil {
		return err
	}
	s, err := a.Store.CreateSession(ctx, acct.ID, ip, r.UserAgent())
	if err != nil {
		return err
	}
	http.SetCookie(w, a.cookie(sessionCookie, s.id, 0))
	http.SetCookie(w, a.cookie(preCookie, "", -1))
	a.audit(r, acct.Email, "login", "")
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
	return nil
}

// roundUp says a wait in whole seconds or minutes, never "0s".
func roundUp(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%d seconds", int(d.Seconds())+1)
	}
	return fmt.Sprintf("%d minutes", int(d.Minutes())+1)
}

// logout ends the session and goes to the login page.
func (a *Admin) logout(w http.ResponseWriter, r *http.Request) error {
	s := sessionOf(r)
	if err := a.Store.EndSession(r.Context(), s.id); err != nil {
		return err
	}
	setAudit(r, "logout", "")
	http.SetCookie(w, a.cookie(sessionCookie, "", -1))
	return a.redirect(w, r, "/admin/login", "You have logged out.")
}
