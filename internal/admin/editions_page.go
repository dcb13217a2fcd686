package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tidings/tidings/internal/web"
	"github.com/tidings/tidings/mail"
)

// Page sizes of the editions pages.
const (
	editionsPageSize = 50
	failuresPageSize = 100
)

// sendingRefresh is how often an edition's page reloads itself while the
// edition sends (a Refresh header: no script needed).
const sendingRefresh = 2

// editionsData is the data of editions.html.
type editionsData struct {
	Editions []EditionRow
	Older    int64 // the id to page on from; 0 at the end
	Newer    bool  // this is not the first page
}

// EditionRow is an edition in a list, with what a row shows.
type EditionRow struct {
	mail.EditionSummary
}

// StateLabel is the edition's state as the operator reads it.
func (r EditionRow) StateLabel() string {
	switch {
	case !r.Paused.IsZero():
		return "paused"
	case r.State == mail.EditionDone:
		return "done"
	default:
		return "sending"
	}
}

// editions lists the editions, newest first, a page at a time.
func (a *Admin) editions(w http.ResponseWriter, r *http.Request) error {
	l := a.o.Data.Ledger
	if l == nil {
		return web.Errorf(web.NotFound, "This tidings has no mail ledger.")
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	ss, err := l.Summaries(r.Context(), before, editionsPageSize)
	if err != nil {
		return err
	}
	d := editionsData{Newer: before > 0}
	for _, s := range ss {
		d.Editions = append(d.Editions, EditionRow{s})
	}
	if len(ss) == editionsPageSize {
		d.Older = ss[len(ss)-1].ID
	}
	return a.render(w, r, "editions.html", "Editions", d)
}

// editionData is the data of edition.html.
type editionData struct {
	EditionRow
	Progress *mail.Progress // while it sends
	Failures []mail.Delivery
	After    int64 // the failure id this page starts after
	More     int64 // the id the next page of failures starts after; 0 at the end
	Refresh  int   // seconds between reloads; 0: none
	Retry    bool  // the actions offered
	Pause    bool
	Resume   bool
}

// Percent is the share of deliveries done, for the progress bar.
func (d editionData) Percent() string {
	if d.Progress != nil {
		return fmt.Sprintf("%.0f", d.Progress.Percent())
	}
	if d.Total == 0 {
		return "100"
	}
	return fmt.Sprintf("%.0f", 100*float64(d.Total-d.Queued)/float64(d.Total))
}

// Done is how many deliveries are no longer waiting.
func (d editionData) Done() int { return d.Total - d.Queued }

// editionOf is the edition the path's {id} names.
func (a *Admin) editionOf(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, web.Errorf(web.NotFound, "%q is not an edition number.", r.PathValue("id"))
	}
	if a.o.Data.Ledger == nil {
		return 0, web.Errorf(web.NotFound, "This tidings has no mail ledger.")
	}
	return id, nil
}

// editionProblem answers a ledger error about edition id: an unknown one
// is a 404.
func editionProblem(id int64, err error) error {
	if errors.Is(err, mail.ErrEditionNotFound) {
		return web.Errorf(web.NotFound, "There is no edition %d.", id)
	}
	return err
}

// edition is one edition's ledger: its counts, its progress while it
// sends (reloading itself), its failures with their SMTP replies, and
// the retry, pause and resume buttons.
func (a *Admin) edition(w http.ResponseWriter, r *http.Request) error {
	id, err := a.editionOf(r)
	if err != nil {
		return err
	}
	l := a.o.Data.Ledger
	s, err := l.Summary(r.Context(), id)
	if err != nil {
		return editionProblem(id, err)
	}
	d := editionData{EditionRow: EditionRow{s}}
	if d.Progress, err = l.EditionProgress(r.Context(), s); err != nil {
		return err
	}
	if d.Progress != nil && s.Paused.IsZero() {
		d.Refresh = sendingRefresh
	}
	d.After, _ = strconv.ParseInt(r.URL.Query().Get("after"), 10, 64)
	if d.Failures, err = l.FailuresPage(r.Context(), id, d.After, failuresPageSize); err != nil {
		return err
	}
	if len(d.Failures) == failuresPageSize {
		d.More = d.Failures[len(d.Failures)-1].ID
	}
	d.Retry = s.Failed > 0
	d.Pause = s.State != mail.EditionDone && s.Paused.IsZero()
	d.Resume = !s.Paused.IsZero()
	if d.Refresh > 0 {
		w.Header().Set("Refresh", strconv.Itoa(d.Refresh))
	}
	return a.render(w, r, "edition.html", fmt.Sprintf("Edition %d: %s", id, s.Subject), d)
}

// deliveryData is the data of delivery.html.
type deliveryData struct {
	Edition  *mail.Edition
	Delivery mail.Delivery
}

// delivery is one delivery of an edition: its state, attempts and the
// last SMTP reply in full.
func (a *Admin) delivery(w http.ResponseWriter, r *http.Request) error {
	id, err := a.editionOf(r)
	if err != nil {
		return err
	}
	did, err := strconv.ParseInt(r.PathValue("delivery"), 10, 64)
	if err != nil || did <= 0 {
		return web.Errorf(web.NotFound, "%q is not a delivery number.", r.PathValue("delivery"))
	}
	l := a.o.Data.Ledger
	ed, err := l.Edition(r.Context(), id)
	if err != nil {
		return editionProblem(id, err)
	}
	dv, err := l.Delivery(r.Context(), did)
	if errors.Is(err, mail.ErrDeliveryNotFound) || (err == nil && dv.EditionID != id) {
		return web.Errorf(web.NotFound, "Edition %d has no delivery %d.", id, did)
	}
	if err != nil {
		return err
	}
	return a.render(w, r, "delivery.html", "Delivery to "+dv.Email, deliveryData{Edition: ed, Delivery: dv})
}

// editionRetry queues an edition's failed deliveries again and wakes the
// sender (tidings editions retry).
func (a *Admin) editionRetry(w http.ResponseWriter, r *http.Request) error {
	id, err := a.editionOf(r)
	if err != nil {
		return err
	}
	n, err := a.o.Data.Ledger.Retry(r.Context(), id)
	if err != nil {
		return editionProblem(id, err)
	}
	setAudit(r, "edition.retry", fmt.Sprintf("edition %d, %d failed deliveries queued again", id, n))
	if n == 0 {
		return a.redirect(w, r, editionPath(id), "Nothing to retry: no delivery of this edition has failed.")
	}
	a.wake()
	return a.redirect(w, r, editionPath(id), fmt.Sprintf("%d failed %s queued again; sending.", n, countNoun(n, "delivery", "deliveries")))
}

// editionPause holds an edition's queued deliveries until it is resumed.
func (a *Admin) editionPause(w http.ResponseWriter, r *http.Request) error {
	id, err := a.editionOf(r)
	if err != nil {
		return err
	}
	err = a.o.Data.Ledger.Pause(r.Context(), id, "paused by "+sessionOf(r).Account+" at "+a.o.Now().UTC().Format(time.RFC3339))
	switch {
	case errors.Is(err, mail.ErrPaused):
		return web.Errorf(web.Conflict, "Edition %d is paused already.", id)
	case errors.Is(err, mail.ErrEditionDone):
		return web.Errorf(web.Conflict, "Edition %d is done: nothing is left to pause.", id)
	case err != nil:
		return editionProblem(id, err)
	}
	setAudit(r, "edition.pause", fmt.Sprintf("edition %d", id))
	return a.redirect(w, r, editionPath(id), "Paused: no more of its mail goes out until you resume it.")
}

// editionResume lets a paused edition go on (tidings editions resume).
func (a *Admin) editionResume(w http.ResponseWriter, r *http.Request) error {
	id, err := a.editionOf(r)
	if err != nil {
		return err
	}
	err = a.o.Data.Ledger.Resume(r.Context(), id)
	if errors.Is(err, mail.ErrNotPaused) {
		return web.Errorf(web.Conflict, "Edition %d is not paused.", id)
	}
	if err != nil {
		return editionProblem(id, err)
	}
	setAudit(r, "edition.resume", fmt.Sprintf("edition %d", id))
	a.wake()
	return a.redirect(w, r, editionPath(id), "Resumed; sending.")
}

func editionPath(id int64) string { return "/admin/editions/" + strconv.FormatInt(id, 10) }

func countNoun(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
