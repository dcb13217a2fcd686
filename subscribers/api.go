package subscribers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/tidings/tidings/internal/web"
)

// apiRoutes registers the admin API. Without an admin token it is not
// there at all: every route answers 404.
func (h *Handler) apiRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/subscribers", h.admin(h.apiList))
	mux.Handle("POST /api/v1/subscribers", h.admin(h.apiCreate))
	mux.Handle("GET /api/v1/subscribers/{id}", h.admin(h.apiGet))
	mux.Handle("PATCH /api/v1/subscribers/{id}", h.admin(h.apiUpdate))
	mux.Handle("DELETE /api/v1/subscribers/{id}", h.admin(h.apiDelete))
}

// admin guards an API route with the admin token.
func (h *Handler) admin(f http.HandlerFunc) http.Handler {
	return web.Admin(h.opt.AdminToken, maxBody, "admin API", f)
}

// apiSubscriber is a subscriber as the API shows it.
type apiSubscriber struct {
	ID             int64      `json:"id"`
	Email          string     `json:"email"`
	Name           string     `json:"name"`
	Status         Status     `json:"status"`
	Digests        []string   `json:"digests"`
	Route          string     `json:"route"`
	CreatedAt      time.Time  `json:"created_at"`
	ConfirmedAt    *time.Time `json:"confirmed_at,omitempty"`
	UnsubscribedAt *time.Time `json:"unsubscribed_at,omitempty"`
	BounceCount    int        `json:"bounce_count"`
	TimeZone       string     `json:"timezone"` // "": the site's
}

func toAPI(s *Subscriber) apiSubscriber {
	d := s.Digests
	if d == nil {
		d = []string{}
	}
	return apiSubscriber{ID: s.ID, Email: s.Email, Name: s.Name, Status: s.Status, Digests: d, Route: s.Route,
		CreatedAt: s.CreatedAt, ConfirmedAt: s.ConfirmedAt, UnsubscribedAt: s.UnsubscribedAt, BounceCount: s.BounceCount, TimeZone: s.TimeZone}
}

func (h *Handler) apiList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := ListFilter{Status: Status(q.Get("status")), Digest: q.Get("digest"), Search: q.Get("search")}
	if f.Status != "" && !validStatus(f.Status) {
		h.web.Error(w, r, web.FieldErrorf(web.BadRequest, "status", "status must be pending, confirmed, unsubscribed, bounced or complained"))
		return
	}
	if c := q.Get("cursor"); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n < 0 {
			h.web.Error(w, r, web.FieldErrorf(web.BadRequest, "cursor", "cursor must be the next_cursor of an earlier page"))
			return
		}
		f.After = n
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			h.web.Error(w, r, web.FieldErrorf(web.BadRequest, "limit", "limit must be a number from 1 to 1000"))
			return
		}
		f.Limit = n
	}
	subs, next, err := h.store.List(r.Context(), f)
	if err != nil {
		h.web.Error(w, r, err)
		return
	}
	out := struct {
		Subscribers []apiSubscriber `json:"subscribers"`
		NextCursor  string          `json:"next_cursor,omitempty"`
	}{Subscribers: []apiSubscriber{}}
	for _, s := range subs {
		out.Subscribers = append(out.Subscribers, toAPI(s))
	}
	if next > 0 {
		out.NextCursor = strconv.FormatInt(next, 10)
	}
	web.JSON(w, http.StatusOK, out)
}

type apiInput struct {
	Email   *string   `json:"email"`
	Name    *string   `json:"name"`
	Digests *[]string `json:"digests"`
	Status  *Status   `json:"status"`
	// TimeZone is an IANA name, "" for the site's zone.
	TimeZone *string `json:"timezone"`
}

func (h *Handler) readAPIInput(w http.ResponseWriter, r *http.Request) (apiInput, bool) {
	var in apiInput
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		kind := web.BadRequest
		if tooLarge(err) {
			kind = web.TooLarge
		}
		h.web.Error(w, r, &web.Problem{Kind: kind, Err: err,
			Message: "the body must be a JSON object with email, name, digests, status and timezone: " + err.Error()})
		return in, false
	}
	if in.Status != nil && !validStatus(*in.Status) {
		h.web.Error(w, r, web.FieldErrorf(web.Invalid, "status", "status must be pending, confirmed, unsubscribed, bounced or complained"))
		return in, false
	}
	if in.TimeZone != nil {
		z, err := ParseTimeZone(*in.TimeZone)
		if err != nil {
			h.web.Error(w, r, problem(err))
			return in, false
		}
		in.TimeZone = &z
	}
	return in, true
}

func (h *Handler) apiCreate(w http.ResponseWriter, r *http.Request) {
	in, ok := h.readAPIInput(w, r)
	if !ok {
		return
	}
	if in.Email == nil {
		h.web.Error(w, r, web.FieldErrorf(web.Invalid, "email", "email is required"))
		return
	}
	var name string
	var digests []string
	status := StatusConfirmed
	if in.Name != nil {
		name = *in.Name
	}
	if in.Digests != nil {
		digests = *in.Digests
	}
	if in.Status != nil {
		status = *in.Status
	}
	s, err := h.store.Add(r.Context(), *in.Email, name, digests, status, meta(r, "api"))
	if err == nil && in.TimeZone != nil && *in.TimeZone != "" {
		s, err = h.store.SetTimeZone(r.Context(), s.ID, *in.TimeZone, meta(r, "api"))
	}
	if err != nil {
		h.apiStoreError(w, r, err)
		return
	}
	web.JSON(w, http.StatusCreated, toAPI(s))
}

func (h *Handler) apiID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.web.Error(w, r, web.FieldErrorf(web.NotFound, "id", "no subscriber has id %s", strconv.Quote(r.PathValue("id"))))
		return 0, false
	}
	return id, true
}

func (h *Handler) apiGet(w http.ResponseWriter, r *http.Request) {
	id, ok := h.apiID(w, r)
	if !ok {
		return
	}
	s, err := h.store.Get(r.Context(), id)
	if err != nil {
		h.apiStoreError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, toAPI(s))
}

func (h *Handler) apiUpdate(w http.ResponseWriter, r *http.Request) {
	id, ok := h.apiID(w, r)
	if !ok {
		return
	}
	in, ok := h.readAPIInput(w, r)
	if !ok {
		return
	}
	if in.Email != nil {
		h.web.Error(w, r, web.FieldErrorf(web.Invalid, "email", "an address cannot be changed; add the new one and delete the old"))
		return
	}
	var digests []string
	if in.Digests != nil {
		digests = *in.Digests
		if digests == nil {
			digests = []string{}
		}
	}
	s, err := h.store.Update(r.Context(), id, in.Name, digests, in.Status, meta(r, "api"))
	if err == nil && in.TimeZone != nil {
		s, err = h.store.SetTimeZone(r.Context(), id, *in.TimeZone, meta(r, "api"))
	}
	if err != nil {
		h.apiStoreError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, toAPI(s))
}

// apiDelete erases the subscriber, as tidings subscribers forget does.
func (h *Handler) apiDelete(w http.ResponseWriter, r *http.Request) {
	id, ok := h.apiID(w, r)
	if !ok {
		return
	}
	s, err := h.store.Get(r.Context(), id)
	if err == nil {
		err = h.store.Forget(r.Context(), s.Email, meta(r, "api"))
	}
	if err != nil {
		h.apiStoreError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiStoreError answers a store error by its kind (problem); a missing
// subscriber is named by the id asked for.
func (h *Handler) apiStoreError(w http.ResponseWriter, r *http.Request, err error) {
	p := web.ProblemOf(problem(err))
	if p.Kind == web.NotFound {
		p = explain(err, "", "no such subscriber")
		p.Field = "id"
	}
	h.web.Error(w, r, p)
}

func validStatus(s Status) bool {
	switch s {
	case StatusPending, StatusConfirmed, StatusUnsubscribed, StatusBounced, StatusComplained:
		return true
	}
	return false
}
