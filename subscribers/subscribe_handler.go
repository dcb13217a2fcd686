package subscribers

import (
	"encoding/json"
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/tidings/tidings/internal/web"
)

// signUpForm is what a sign-up carries, from a form or from JSON.
type signUpForm struct {
	Email   string   `json:"email"`
	Name    string   `json:"name"`
	Digests []string `json:"digests"`
	Website string   `json:"website"` // the honeypot: people leave it empty
	// TimeZone is what the browser reported (web.TimeZoneScript): a name
	// ParseTimeZone refuses, forged or from a browser newer than our zone
	// database, gets the site's zone rather than an error.
	TimeZone string `json:"timezone"`
}

func (h *Handler) subscribeForm(w http.ResponseWriter, r *http.Request) {
	web.AllowTimeZoneScript(w)
	p := h.formPage(signUpForm{})
	p.Canonical, p.NoIndex = h.opt.Site.URL("subscribe"), false
	h.web.Render(w, r, http.StatusOK, "subscribe.html", p)
}

// formPage is the sign-up form filled in with f.
func (h *Handler) formPage(f signUpForm) *page {
	p := h.newPage("Subscribe to " + h.opt.Site.Title)
	p.Intro = "Get new articles by mail. You will receive a mail to confirm your address; nothing is sent before you do."
	p.Email, p.Name = f.Email, f.Name
	chosen := map[string]bool{}
	for _, d := range f.Digests {
		chosen[d] = true
	}
	for _, d := range h.opt.Digests {
		p.Digests = append(p.Digests, digestChoice{DigestInfo: d, Checked: len(chosen) == 0 || chosen[d.Name]})
	}
	p.Action = h.opt.Site.URL("subscribe")
	p.Button = "Subscribe"
	p.Script = web.TimeZoneScript
	p.Section = "subscribe"
	return p
}

// subscribe takes a form post or a JSON body. A new or pending address is
// sent a confirmation, a confirmed one a note that it is subscribed
// already: the same answer, the same work, so that no one can learn who
// is subscribed.
func (h *Handler) subscribe(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	isJSON := isJSONRequest(r)
	f, badField, err := readSignUp(r, isJSON)
	if err != nil {
		kind := web.BadRequest
		if tooLarge(err) {
			kind = web.TooLarge
		}
		h.signUpError(w, r, f, &web.Problem{Kind: kind, Field: badField, Message: err.Error(), Err: err})
		return
	}
	if f.Website != "" {
		// A bot filled the honeypot: answer as if all went well, store nothing.
		h.signUpDone(w, r)
		return
	}
	m := meta(r, "form")
	if isJSON {
		m.Route = "json"
	}
	m.TimeZone, _ = ParseTimeZone(f.TimeZone) // refused: "", the site's zone
	if wait := h.perIP.allow(m.IP); wait > 0 {
		h.tooMany(w, r, wait)
		return
	}
	res, err := h.store.SignUp(r.Context(), f.Email, f.Name, f.Digests, !h.opt.DoubleOptIn, resendAfter, m)
	var fe *FieldError
	if errors.As(err, &fe) {
		h.signUpError(w, r, f, problem(err))
		return
	}
	if err != nil {
		h.web.Error(w, r, err)
		return
	}
	if res.Notice == NoticeWelcome && !h.opt.Welcome {
		res.Notice = ""
	}
	if res.Notice != "" {
		// Queued, not sent: the answer waits for no SMTP server and is
		// the same whether the address was new, pending or subscribed.
		if err := h.mailer.Queue(r.Context(), res.Notice, res.Subscriber.ID, res.Subscriber.Email); err != nil {
			h.opt.Logger.Error("sign-up mail not queued", "subscriber", res.Subscriber.ID, "kind", res.Notice, slog.Any("error", err))
		}
	}
	h.opt.Logger.Info("sign-up", "subscriber", res.Subscriber.ID, "route", m.Route, "new", res.Created, "mail", res.Notice)
	if wait := h.opt.AnswerFloor - time.Since(start); wait > 0 {
		time.Sleep(wait)
	}
	h.signUpDone(w, r)
}

// signUpDone answers a sign-up taken, as JSON or a page like an error
// would be (web.WantsJSON).
func (h *Handler) signUpDone(w http.ResponseWriter, r *http.Request) {
	const msg = "Thank you. A mail is on its way to this address: it says what to do next."
	if web.WantsJSON(r) {
		web.JSON(w, http.StatusAccepted, map[string]string{"status": "ok", "message": msg})
		return
	}
	if h.opt.DoubleOptIn {
		h.message(w, r, "Check your inbox", msg, "Open the link in that mail and press the button to confirm. Nothing is sent to you before you do.")
		return
	}
	h.message(w, r, "You are subscribed", "Thank you. New articles will come to your inbox.")
}

// signUpError answers a refused sign-up: in JSON, or the form again with
// the error beside its field.
func (h *Handler) signUpError(w http.ResponseWriter, r *http.Request, f signUpForm, err error) {
	field := web.ProblemOf(err).Field
	if field == "" {
		field = "form"
	}
	web.AllowTimeZoneScript(w)
	p := h.formPage(f)
	p.Errors[field] = web.Message(err)
	h.web.ErrorPage(w, r, err, "subscribe.html", p)
}

func (h *Handler) tooMany(w http.ResponseWriter, r *http.Request, wait int) {
	h.web.Error(w, r, &web.Problem{Kind: web.TooManyRequests, RetryAfter: time.Duration(wait) * time.Second,
		Message: "Too many sign-up requests came from here. Please try again in a few minutes."})
}

func isJSONRequest(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/json"
}

// readSignUp decodes the body. It returns the field at fault, if any.
func readSignUp(r *http.Request, isJSON bool) (signUpForm, string, error) {
	var f signUpForm
	if isJSON {
		dec := json.NewDecoder(r.Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			if tooLarge(err) {
				return f, "form", err
			}
			return f, "form", errors.New("the body is not a JSON object with email, name, digests and timezone: " + err.Error())
		}
		for _, s := range append([]string{f.Email, f.Name, f.TimeZone}, f.Digests...) {
			if !utf8.ValidString(s) {
				return f, "form", errors.New("the request is not valid UTF-8")
			}
		}
		return f, "", nil
	}
	if err := r.ParseForm(); err != nil {
		return f, "form", err
	}
	for k, vs := range r.PostForm {
		for _, v := range vs {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				return signUpForm{}, "form", errors.New("the form data is not valid UTF-8")
			}
		}
	}
	f.Email = r.PostForm.Get("email")
	f.Name = r.PostForm.Get("name")
	f.Digests = r.PostForm["digests"]
	f.Website = r.PostForm.Get("website")
	f.TimeZone = r.PostForm.Get("timezone")
	return f, "", nil
}
