package subscribers

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
)

// confirmPage shows one button. A GET never confirms: mail scanners that
// open every link would confirm addresses nobody asked for.
func (h *Handler) confirmPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	s, err := h.holder(r.Context(), PurposeConfirm, token)
	if isTokenError(err) {
		h.badConfirmToken(w, r, err)
		return
	}
	if err != nil {
		h.web.Error(w, r, err)
		return
	}
	p := h.newPage("Confirm your subscription")
	p.Paragraphs = []string{"Press the button to confirm that " + s.Email + " should receive " + h.opt.Site.Title + "."}
	p.Action = h.opt.Site.URL("confirm?token=" + url.QueryEscape(token))
	p.Button = "Confirm my subscription"
	h.web.Render(w, r, http.StatusOK, "message.html", p)
}

// confirmPost confirms, once: confirming renews the subscriber's nonce, so
// the same link POSTed again is refused like any other bad link.
func (h *Handler) confirmPost(w http.ResponseWriter, r *http.Request) {
	s, err := h.holder(r.Context(), PurposeConfirm, r.URL.Query().Get("token"))
	if isTokenError(err) {
		h.badConfirmToken(w, r, err)
		return
	}
	if err != nil {
		h.web.Error(w, r, err)
		return
	}
	// Confirm checks the nonce again in its transaction: of two POSTs of
	// one link at once, only the first confirms.
	s, err = h.store.Confirm(r.Context(), s.ID, s.Nonce, meta(r, "link"))
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrTokenInvalid):
		h.badConfirmToken(w, r, ErrTokenInvalid)
		return
	case errors.Is(err, ErrNotPending):
		h.web.Error(w, r, explain(err, "This link was for an earlier sign-up",
			"This address has left the list since the link was sent. To receive "+h.opt.Site.Title+" again, sign up anew."))
		return
	case err != nil:
		h.web.Error(w, r, err)
		return
	}
	h.opt.Logger.Info("confirmed", "subscriber", s.ID)
	if h.opt.Welcome {
		if err := h.mailer.Queue(r.Context(), NoticeWelcome, s.ID, s.Email); err != nil {
			h.opt.Logger.Error("welcome mail not queued", "subscriber", s.ID, slog.Any("error", err))
		}
	}
	p := h.newPage("You are subscribed")
	p.Paragraphs = []string{"Thank you. " + s.Email + " will receive " + h.opt.Site.Title + "."}
	p.Link = &link{URL: h.links.PreferencesURL(s), Text: "Choose newsletters or change your name"}
	h.web.Render(w, r, http.StatusOK, "message.html", p)
}

// badConfirmToken answers an expired (410) or altered (400) link with a
// way to get a new one: the sign-up form, which resends to a pending
// address.
func (h *Handler) badConfirmToken(w http.ResponseWriter, r *http.Request, err error) {
	why := "This confirmation link is not valid. It may have been cut short or altered."
	if errors.Is(err, ErrTokenExpired) {
		why = "This confirmation link has expired."
	}
	p := h.newPage("Confirmation link not valid")
	p.Intro = why + " Enter your address to get a new link."
	for _, d := range h.opt.Digests {
		p.Digests = append(p.Digests, digestChoice{DigestInfo: d, Checked: true})
	}
	p.Action = h.opt.Site.URL("subscribe")
	p.Button = "Send me a new link"
	h.web.ErrorPage(w, r, explain(err, "", why), "subscribe.html", p)
}
