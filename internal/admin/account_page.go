package admin

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// accountData is the data of account.html.
type accountData struct {
	Error    string
	Accounts []Account
}

// account shows the operator's own account: the password form, and who
// else may log in.
func (a *Admin) account(w http.ResponseWriter, r *http.Request) error {
	return a.showAccount(w, r, http.StatusOK, "")
}

func (a *Admin) showAccount(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	as, err := a.Store.Accounts(r.Context())
	if err != nil {
		return err
	}
	return a.renderStatus(w, r, status, "account.html", "Your account", accountData{Error: msg, Accounts: as})
}

// changePassword sets a new password after checking the current one
// (under the login rate limit, so that this form guesses no faster than
// the login), ends every session of the account, and starts a new one
// for this browser.
func (a *Admin) changePassword(w http.ResponseWriter, r *http.Request) error {
	s := sessionOf(r)
	ctx := r.Context()
	ip := clientIP(r)
	setAudit(r, "password", "")
	wait, err := a.Store.LoginWait(ctx, s.Account, ip)
	if err != nil {
		return err
	}
	if wait > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(int(wait/time.Second)+1))
		return a.showAccount(w, r, http.StatusTooManyRequests, "Too many wrong passwords from your address. Try again in "+roundUp(wait)+".")
	}
	if _, err := a.Store.Authenticate(ctx, s.Account, r.PostFormValue("current")); errors.Is(err, ErrBadLogin) {
		if err := a.Store.LoginFailed(ctx, s.Account, ip); err != nil {
			return err
		}
		return a.showAccount(w, r, http.StatusUnprocessableEntity, "The current password is wrong; nothing changed.")
	} else if err != nil {
		return err
	}
	pw := r.PostFormValue("new")
	if pw != r.PostFormValue("again") {
		return a.showAccount(w, r, http.StatusUnprocessableEntity, "The two new passwords differ; nothing changed.")
	}
	if err := checkPassword(pw); err != nil {
		return a.showAccount(w, r, http.StatusUnprocessableEntity, "Not changed: "+err.Error()+".")
	}
	if err := a.Store.SetPassword(ctx, s.Account, pw); err != nil {
		return err
	}
	ns, err := a.Store.CreateSession(ctx, s.AccountID, ip, r.UserAgent())
	if err != nil {
		return err
	}
	http.SetCookie(w, a.cookie(sessionCookie, ns.id, 0))
	setAudit(r, "password", "changed; every session ended")
	return a.redirect(w, r, "/admin/account", "Password changed. Every other browser logged in to this account was logged out.")
}
