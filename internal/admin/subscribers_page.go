package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/tidings/tidings/internal/web"
	"github.com/tidings/tidings/subscribers"
)

// subscriberRoutes routes the Subscribers section: the list, a
// subscriber's page and its actions, the import and the export.
func (a *Admin) subscriberRoutes() {
	a.imports = newImports(a)
	a.handle("GET /admin/subscribers", a.subscribersPage)
	a.handle("GET /admin/subscribers/new", a.subscriberNew)
	a.handle("POST /admin/subscribers", a.subscriberAdd)
	a.handle("GET /admin/subscribers/{id}", a.subscriberPage)
	a.handle("POST /admin/subscribers/{id}/digests", a.subscriberDigests)
	a.handle("POST /admin/subscribers/{id}/unsubscribe", a.subscriberUnsubscribe)
	a.handle("GET /admin/subscribers/{id}/forget", a.subscriberForgetPage)
	a.handle("POST /admin/subscribers/{id}/forget", a.subscriberForget)
	a.handle("GET /admin/subscribers/export", a.subscribersExport)
	a.handle("GET /admin/subscribers/import", a.importForm)
	a.handle("POST /admin/subscribers/import", a.importUpload)
	a.handle("GET /admin/subscribers/import/{job}/{$}", a.importPage)
	a.handle("POST /admin/subscribers/import/{job}/{$}", a.importAct)
}

// subscriberPageSize is how many subscribers a page of the list shows.
const subscriberPageSize = 50

// statuses are the five, in the order the pages show them.
var statuses = []subscribers.Status{subscribers.StatusConfirmed, subscribers.StatusPending,
	subscribers.StatusUnsubscribed, subscribers.StatusBounced, subscribers.StatusComplained}

// statusCount is one card of the list's counts.
type statusCount struct {
	Status subscribers.Status
	N      int
	Link   string
}

// listData is the data of subscribers.html.
type listData struct {
	Counts     []statusCount
	Total      int
	Q          string
	Status     string
	Digest     string
	Statuses   []subscribers.Status
	Digests    []string
	Rows       []*subscribers.Subscriber
	Next, Prev string // links to the neighbouring pages, "" at an end
	Filtered   bool
}

// subscribersPage lists the subscribers: counts by status, a search by
// address or name, filters by status and digest, a page at a time by id.
func (a *Admin) subscribersPage(w http.ResponseWriter, r *http.Request) error {
	st, err := a.subscriberStore()
	if err != nil {
		return err
	}
	q := r.URL.Query()
	d := listData{Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Digest: q.Get("digest"),
		Statuses: statuses, Digests: st.Digests()}
	d.Filtered = d.Q != "" || d.Status != "" || d.Digest != ""
	f := subscribers.ListFilter{Search: d.Q, Status: subscribers.Status(d.Status), Digest: d.Digest, Limit: subscriberPageSize}
	f.After, _ = strconv.ParseInt(q.Get("after"), 10, 64)
	f.Before, _ = strconv.ParseInt(q.Get("before"), 10, 64)
	page, err := st.ListPage(r.Context(), f)
	var fe *subscribers.FieldError
	if errors.As(err, &fe) {
		return web.Errorf(web.BadRequest, "The list cannot be shown: %v.", err)
	}
	if err != nil {
		return err
	}
	counts, err := st.CountByStatus(r.Context())
	if err != nil {
		return err
	}
	for _, s := range statuses {
		d.Counts = append(d.Counts, statusCount{Status: s, N: counts[s], Link: listLink(d, "status", string(s))})
		d.Total += counts[s]
	}
	d.Rows = page.Subscribers
	if page.Next != 0 {
		d.Next = listLink(d, "after", strconv.FormatInt(page.Next, 10))
	}
	if page.Prev != 0 {
		d.Prev = listLink(d, "before", strconv.FormatInt(page.Prev, 10))
	}
	return a.render(w, r, "subscribers.html", "Subscribers", d)
}

// listLink is the list with d's filters and one more parameter.
func listLink(d listData, key, value string) string {
	v := url.Values{}
	for k, s := range map[string]string{"q": d.Q, "status": d.Status, "digest": d.Digest} {
		if s != "" {
			v.Set(k, s)
		}
	}
	v.Set(key, value)
	return "/admin/subscribers?" + v.Encode()
}

// subscriberStore is the store, or a 503 page when this admin was built
// without one.
func (a *Admin) subscriberStore() (*subscribers.Store, error) {
	if a.o.Data.Subscribers == nil {
		return nil, web.Errorf(web.Unavailable, "The subscriber list is not available in this admin.")
	}
	return a.o.Data.Subscribers, nil
}

// meta says in a subscriber's events that the operator did it, from where.
func meta(r *http.Request) subscribers.Meta {
	return subscribers.Meta{IP: clientIP(r), UserAgent: r.UserAgent(), Route: "admin"}
}

// digestChoice is one checkbox of a digest form.
type digestChoice struct {
	Name, Title string
	Checked     bool
}

// digestChoices are the configured digests, ticked where chosen.
func (a *Admin) digestChoices(names, chosen []string) []digestChoice {
	titles := map[string]string{}
	for _, d := range a.o.Data.Digests {
		titles[d.Name] = d.Title
	}
	out := make([]digestChoice, len(names))
	for i, n := range names {
		out[i] = digestChoice{Name: n, Title: titles[n]}
		for _, c := range chosen {
			out[i].Checked = out[i].Checked || c == n
		}
	}
	return out
}

// subscriberData is the data of subscriber.html.
type subscriberData struct {
	Sub     *subscribers.Subscriber
	Events  []subscribers.Event
	Digests []digestChoice
	Error   string
}

// subscriberPage shows one subscriber: status, digests, time zone,
// consent and every event, with the actions.
func (a *Admin) subscriberPage(w http.ResponseWriter, r *http.Request) error {
	return a.showSubscriber(w, r, http.StatusOK, "")
}

func (a *Admin) showSubscriber(w http.ResponseWriter, r *http.Request, status int, problem string) error {
	st, sub, err := a.subscriberOf(r)
	if err != nil {
		return err
	}
	evs, err := st.Events(r.Context(), sub.ID)
	if err != nil {
		return err
	}
	d := subscriberData{Sub: sub, Events: evs, Digests: a.digestChoices(st.Digests(), sub.Digests), Error: problem}
	return a.renderStatus(w, r, status, "subscriber.html", sub.Email, d)
}

// subscriberOf reads the subscriber the path's {id} names.
func (a *Admin) subscriberOf(r *http.Request) (*subscribers.Store, *subscribers.Subscriber, error) {
	st, err := a.subscriberStore()
	if err != nil {
		return nil, nil, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, nil, web.Errorf(web.NotFound, "There is no subscriber %q: a subscriber's address in the admin is /admin/subscribers/ and a number.", r.PathValue("id"))
	}
	sub, err := st.Get(r.Context(), id)
	if errors.Is(err, subscribers.ErrNotFound) {
		return nil, nil, web.Errorf(web.NotFound, "There is no subscriber %d: it may have been forgotten.", id)
	}
	return st, sub, err
}

// subscriberDigests sets the digests a subscriber receives.
func (a *Admin) subscriberDigests(w http.ResponseWriter, r *http.Request) error {
	st, sub, err := a.subscriberOf(r)
	if err != nil {
		return err
	}
	digests := r.PostForm["digests"]
	if digests == nil {
		digests = []string{} // none ticked: none, not unchanged
	}
	setAudit(r, "subscriber.digests", "id "+strconv.FormatInt(sub.ID, 10)+", "+sub.Email+": "+strings.Join(digests, ", "))
	if _, err := st.Update(r.Context(), sub.ID, nil, digests, nil, meta(r)); err != nil {
		var fe *subscribers.FieldError
		if errors.As(err, &fe) {
			return a.showSubscriber(w, r, http.StatusUnprocessableEntity, "The digests were not changed: "+err.Error()+".")
		}
		return err
	}
	msg := "Digests saved: " + strings.Join(digests, ", ") + "."
	if len(digests) == 0 {
		msg = "Digests saved: none. The subscriber stays on the list and receives no digest."
	}
	return a.redirect(w, r, "/admin/subscribers/"+strconv.FormatInt(sub.ID, 10), msg)
}

// subscriberUnsubscribe takes a subscriber off every digest, as their own
// unsubscribe link would; the record stays.
func (a *Admin) subscriberUnsubscribe(w http.ResponseWriter, r *http.Request) error {
	st, sub, err := a.subscriberOf(r)
	if err != nil {
		return err
	}
	setAudit(r, "subscriber.unsubscribe", "id "+strconv.FormatInt(sub.ID, 10)+", "+sub.Email)
	if _, err := st.Unsubscribe(r.Context(), sub.ID, meta(r)); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/subscribers/"+strconv.FormatInt(sub.ID, 10), "Unsubscribed: "+sub.Email+" receives no more mail.")
}

// subscriberForgetPage asks before erasing: it says what goes and what stays.
func (a *Admin) subscriberForgetPage(w http.ResponseWriter, r *http.Request) error {
	_, sub, err := a.subscriberOf(r)
	if err != nil {
		return err
	}
	return a.render(w, r, "subscriber_forget.html", "Forget "+sub.Email+"?", sub)
}

// subscriberForget erases a subscriber on their request, after the
// confirmation page.
func (a *Admin) subscriberForget(w http.ResponseWriter, r *http.Request) error {
	st, sub, err := a.subscriberOf(r)
	if err != nil {
		return err
	}
	// The audit log keeps the id, not the address: the point is that it goes.
	setAudit(r, "subscriber.forget", "id "+strconv.FormatInt(sub.ID, 10))
	if err := st.Forget(r.Context(), sub.Email, meta(r)); err != nil {
		return err
	}
	return a.redirect(w, r, "/admin/subscribers", "Forgotten: subscriber "+strconv.FormatInt(sub.ID, 10)+
		" and their record are erased; the address cannot be imported again.")
}

// addData is the data of subscriber_new.html.
type addData struct {
	Email, Name, Status string
	Digests             []digestChoice
	Error               string
}

// subscriberNew is the form to add a subscriber.
func (a *Admin) subscriberNew(w http.ResponseWriter, r *http.Request) error {
	st, err := a.subscriberStore()
	if err != nil {
		return err
	}
	all := st.Digests()
	return a.render(w, r, "subscriber_new.html", "Add a subscriber",
		addData{Status: string(subscribers.StatusConfirmed), Digests: a.digestChoices(all, all)})
}

// subscriberAdd adds one subscriber from the form.
func (a *Admin) subscriberAdd(w http.ResponseWriter, r *http.Request) error {
	st, err := a.subscriberStore()
	if err != nil {
		return err
	}
	d := addData{Email: strings.TrimSpace(r.PostFormValue("email")), Name: r.PostFormValue("name"),
		Status: r.PostFormValue("status"), Digests: a.digestChoices(st.Digests(), r.PostForm["digests"])}
	setAudit(r, "subscriber.add", d.Email)
	digests := r.PostForm["digests"]
	if digests == nil {
		digests = []string{}
	}
	if d.Status != string(subscribers.StatusConfirmed) && d.Status != string(subscribers.StatusPending) {
		d.Status = string(subscribers.StatusConfirmed)
	}
	sub, err := st.Add(r.Context(), d.Email, d.Name, digests, subscribers.Status(d.Status), meta(r))
	if err != nil {
		var fe *subscribers.FieldError
		if !errors.As(err, &fe) {
			return err
		}
		d.Error = "Not added: " + err.Error() + "."
		if existing, gerr := st.GetByEmail(r.Context(), d.Email); errors.Is(err, subscribers.ErrExists) && gerr == nil {
			d.Error += " See subscriber " + strconv.FormatInt(existing.ID, 10) + "."
		}
		return a.renderStatus(w, r, http.StatusUnprocessableEntity, "subscriber_new.html", "Add a subscriber", d)
	}
	setAudit(r, "subscriber.add", "id "+strconv.FormatInt(sub.ID, 10)+", "+sub.Email)
	return a.redirect(w, r, "/admin/subscribers/"+strconv.FormatInt(sub.ID, 10), "Added "+sub.Email+".")
}

// subscribersExport downloads the list as CSV (Store.Export): the file
// the import reads back.
func (a *Admin) subscribersExport(w http.ResponseWriter, r *http.Request) error {
	st, err := a.subscriberStore()
	if err != nil {
		return err
	}
	name := "subscribers-" + a.o.Now().UTC().Format("2006-01-02") + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	// Streamed: once the first row is written an error can only cut the
	// file short, which the log says.
	if err := st.Export(r.Context(), w); err != nil {
		a.log.Error("export subscribers", "error", err)
	}
	a.audit(r, sessionOf(r).Account, "subscribers.export", name)
	return nil
}
