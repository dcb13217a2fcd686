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
	h.renderPreferences(w, r, s, token, prefs{s.Name, s.Digests, s.TimeZone}, nil, "")
}

// prefs is what the preferences form shows: the stored values, or those
// just posted.
type prefs struct {
	name    string
	digests []string
	zone    string
}

// renderPreferences shows the form; with an error, that error beside its
// field and the status of its kind.
func (h *Handler) renderPreferences(w http.ResponseWriter, r *http.Request, s *Subscriber, token string, f prefs, err error, saved string) {
	p := h.newPage("Your subscription")
	p.Email, p.Name, p.Saved = s.Email, f.name, saved
	p.TimeZone, p.SiteZone = f.zone, h.opt.Site.TimeZone
	if p.SiteZone == "" {
		p.SiteZone = "UTC"
	}
	chosen := map[string]bool{}
	if s.Status == StatusConfirmed || s.Status == StatusPending {
		for _, d := range f.digests {
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

// preferencesPost saves the name, the time zone and the digests chosen;
// choosing none, or the "unsubscribe from everything" button, leaves the
// list. A time zone that does not exist is shown beside its field and
// nothing is saved.
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
		h.renderPreferences(w, r, s, token, prefs{s.Name, s.Digests, s.TimeZone},
			&web.Problem{Kind: kind, Field: "form", Message: "The form could not be read: " + err.Error(), Err: err}, "")
		return
	}
	f := prefs{r.PostForm.Get("name"), r.PostForm["digests"], r.PostForm.Get("timezone")}
	if !r.PostForm.Has("timezone") {
		f.zone = s.TimeZone // a form of an older template: keep the zone
	}
	if !utf8.ValidString(f.name) {
		h.renderPreferences(w, r, s, token, prefs{s.Name, s.Digests, s.TimeZone}, web.FieldErrorf(web.BadRequest, "name", "The name is not valid UTF-8."), "")
		return
	}
	m := meta(r, "link")
	if r.PostForm.Get("action") == "leave" {
		f.digests = []string{}
	}
	zone, err := ParseTimeZone(f.zone)
	if err != nil {
		h.renderPreferences(w, r, s, token, f, problem(err), "")
		return
	}
	updated, err := h.store.SetPreferences(r.Context(), s.ID, f.name, f.digests, m)
	if err == nil {
		updated, err = h.store.SetTimeZone(r.Context(), s.ID, zone, m)
	}
	var fe *FieldError
	if errors.As(err, &fe) {
		h.renderPreferences(w, r, s, token, f, problem(err), "")
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
	h.renderPreferences(w, r, updated, token, prefs{updated.Name, updated.Digests, updated.TimeZone}, nil, saved)
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
