package subscribers

import (
	"errors"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/tidings/tidings/internal/web"
)

func (h *Handler) preferencesPage(w http.ResponseWriter, r *http.Request) {
	s, token, ok := h.preferencesSubscriber(w, r)
	if !ok {
		return
	}
	h.renderPreferences(w, r, s, token, s.Name, s.Digests, nil, "")
}

// renderPreferences shows the form; with an error, that error beside its
// field and the status of its kind.
func (h *Handler) renderPreferences(w http.ResponseWriter, r *http.Request, s *Subscriber, token, name string, digests []string, err error, saved string) {
	p := h.newPage("Your subscription")
	p.Email, p.Name, p.Saved = s.Email, name, saved
	chosen := map[string]bool{}
	if s.Status == StatusConfirmed || s.Status == StatusPending {
		for _, d := range digests {
			chosen[d] = true
		}
	}
	for _, d := range h.opt.Digests {
		p.Digests = append(p.Digests, digestChoice{DigestInfo: d, Checked: chosen[d.Name]})
	}
	p.Action = h.opt.Site.URL("preferences?token=" + url.QueryEscape(token))
	if err != nil {
		field := web.ProblemOf(err).Field
		if field == "" {
			field = "form"
		}
		p.Errors[field] = web.Message(err)
		h.web.ErrorPage(w, r, err, "preferences.html", p)
		return
	}
	h.web.Render(w, r, http.StatusOK, "preferences.html", p)
}

// preferencesPost saves the name and the digests chosen; choosing none, or
// the "unsubscribe from everything" button, leaves the list.
func (h *Handler) preferencesPost(w http.ResponseWriter, r *http.Request) {
	s, token, ok := h.preferencesSubscriber(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		kind := web.BadRequest
		if tooLarge(err) {
			kind = web.TooLarge
		}
		h.renderPreferences(w, r, s, token, s.Name, s.Digests,
			&web.Problem{Kind: kind, Field: "form", Message: "The form could not be read: " + err.Error(), Err: err}, "")
		return
	}
	name, digests := r.PostForm.Get("name"), r.PostForm["digests"]
	if !utf8.ValidString(name) {
		h.renderPreferences(w, r, s, token, s.Name, s.Digests, web.FieldErrorf(web.BadRequest, "name", "The name is not valid UTF-8."), "")
		return
	}
	m := meta(r, "link")
	if r.PostForm.Get("action") == "leave" {
		digests = []string{}
	}
	updated, err := h.store.SetPreferences(r.Context(), s.ID, name, digests, m)
	var fe *FieldError
	if errors.As(err, &fe) {
		h.renderPreferences(w, r, s, token, name, digests, problem(err), "")
		return
	}
	if err != nil {
		h.web.Error(w, r, err)
		return
	}
	h.opt.Logger.Info("preferences saved", "subscriber", s.ID, "status", string(updated.Status), "digests", len(updated.Digests))
	saved := "Saved."
	if updated.Status == StatusUnsubscribed {
		saved = "You are unsubscribed from everything. Tick a newsletter and save to come back."
	}
	h.renderPreferences(w, r, updated, token, updated.Name, updated.Digests, nil, saved)
}

// preferencesSubscriber checks the token and loads the subscriber, or
// answers the request itself.
func (h *Handler) preferencesSubscriber(w http.ResponseWriter, r *http.Request) (*Subscriber, string, bool) {
	token := r.URL.Query().Get("token")
	s, err := h.holder(r.Context(), PurposePreferences, token)
	if isTokenError(err) {
		h.badLink(w, r, err)
		return nil, "", false
	}
	if err != nil {
		h.web.Error(w, r, err)
		return nil, "", false
	}
	return s, token, true
}
