package subscribers

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/tidings/tidings/internal/web"
)

// unsubscribePage shows one button; the same token works for the RFC 8058
// one-click POST that mail clients send.
func (h *Handler) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	s, err := h.holder(r.Context(), PurposeUnsubscribe, token)
	if isTokenError(err) {
		h.badLink(w, r, err)
		return
	}
	if err != nil {
		h.web.Error(w, r, err)
		return
	}
	if s.Status == StatusUnsubscribed {
		h.message(w, r, "You are unsubscribed", s.Email+" receives no more mail from "+h.opt.Site.Title+".")
		return
	}
	p := h.newPage("Unsubscribe")
	p.Paragraphs = []string{"Press the button and " + s.Email + " will receive no more mail from " + h.opt.Site.Title + "."}
	p.Action = h.opt.Site.URL("unsubscribe?token=" + url.QueryEscape(token))
	p.Button = "Unsubscribe"
	h.web.Render(w, r, http.StatusOK, "message.html", p)
}

// unsubscribePost unsubscribes with no cookie, no login and no redirect.
// A body of "List-Unsubscribe=One-Click" is a mail client acting on the
// List-Unsubscribe-Post header (RFC 8058); it gets a short 200.
func (h *Handler) unsubscribePost(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body) // bounded by private()
	oneClick := strings.TrimSpace(string(body)) == "List-Unsubscribe=One-Click"
	s, err := h.holder(r.Context(), PurposeUnsubscribe, r.URL.Query().Get("token"))
	if isTokenError(err) {
		// Forgotten subscribers' links are refused too: without the row
		// there is no nonce to tell their tokens from forged ones.
		h.badLink(w, r, err)
		return
	}
	if err != nil {
		h.web.Error(w, r, err)
		return
	}
	route := "link"
	if oneClick {
		route = "one-click"
	}
	s, err = h.store.Unsubscribe(r.Context(), s.ID, meta(r, route))
	if errors.Is(err, ErrNotFound) {
		// Erased on request since the link was checked: there is nothing
		// left to unsubscribe.
		if oneClick {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "unsubscribed\n")
			return
		}
		h.message(w, r, "You are unsubscribed", "This address receives no more mail from "+h.opt.Site.Title+".")
		return
	}
	if err != nil {
		h.web.Error(w, r, err)
		return
	}
	h.opt.Logger.Info("unsubscribed", "subscriber", s.ID, "route", route)
	if oneClick {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "unsubscribed\n")
		return
	}
	p := h.newPage("You are unsubscribed")
	p.Paragraphs = []string{s.Email + " receives no more mail from " + h.opt.Site.Title + ". Sorry to see you go."}
	p.Link = &link{URL: h.opt.Site.URL("subscribe"), Text: "Changed your mind? Subscribe again"}
	h.web.Render(w, r, http.StatusOK, "message.html", p)
}

// badLink answers an unsubscribe or preferences link whose token does not
// check, or names a subscriber no longer there: 400 whatever the reason,
// and one message, since those links do not expire.
func (h *Handler) badLink(w http.ResponseWriter, r *http.Request, err error) {
	h.web.Error(w, r, &web.Problem{Kind: web.BadRequest, Title: "Link not valid", Err: err,
		Message: "This link is not valid. It may have been cut short when it was copied: open it straight from the mail, or use the link in a newer mail."})
}
