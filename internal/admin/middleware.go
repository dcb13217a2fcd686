package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/tidings/tidings/internal/web"
)

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
