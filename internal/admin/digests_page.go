package admin

import (
	"errors"
	"fmt"
	"net/http"
	netmail "net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/tidings/tidings/internal/web"
	"github.com/tidings/tidings/mail"
	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// digestRow is a digest with when it runs.
type digestRow struct {
	mail.Digest
	Next, Last time.Time
}

// When says in words when the digest makes an edition.
func (d digestRow) When() string {
	if d.Mode == mail.ModeEach {
		if d.Delay > 0 {
			return fmt.Sprintf("each new article, %s after it is published", d.Delay)
		}
		return "each new article, when it is published"
	}
	s := d.Schedule
	if d.DeliverAt.Set {
		s += ", delivered at " + strings.TrimPrefix(d.DeliverAt.String(), "local ") + " in each subscriber's own zone"
	}
	return s
}

// digestRows are the configured digests with their next and last runs.
func (a *Admin) digestRows(r *http.Request) ([]digestRow, error) {
	now := a.o.Now()
	var out []digestRow
	for _, d := range a.o.Data.Digests {
		row := digestRow{Digest: d}
		if s := a.o.Data.Scheduler; s != nil {
			row.Next = s.Next(d.Name, now)
		}
		if l := a.o.Data.Ledger; l != nil {
			last, err := l.LastRun(r.Context(), d.Name)
			if err != nil {
				return nil, err
			}
			row.Last = last
		}
		out = append(out, row)
	}
	return out, nil
}

// digests lists the digests: schedule, next and last run.
func (a *Admin) digests(w http.ResponseWriter, r *http.Request) error {
	rows, err := a.digestRows(r)
	if err != nil {
		return err
	}
	return a.render(w, r, "digests.html", "Digests", rows)
}

// digestOf is the digest the path's {name} names.
func (a *Admin) digestOf(r *http.Request) (mail.Digest, error) {
	name := r.PathValue("name")
	for _, d := range a.o.Data.Digests {
		if d.Name == name {
			return d, nil
		}
	}
	return mail.Digest{}, web.Errorf(web.NotFound, "No digest is named %q.", name)
}

// digestData is the data of digest.html.
type digestData struct {
	digestRow
	Email    string             // the subscriber previewed as; "" a sample reader
	Problem  string             // why the preview could not be made
	Message  *transport.Message // the preview
	Query    string             // ?email=... for the preview's own URLs
	Upcoming *mail.Edition      // what sending now would make; nil: nothing new
	CanTest  bool
	CanSend  bool
}

// digest is one digest: its schedule, the next edition previewed as any
// subscriber (HTML in a sandboxed frame, the text part, the .eml), a
// test send and the send-now button.
func (a *Admin) digest(w http.ResponseWriter, r *http.Request) error {
	d, err := a.digestOf(r)
	if err != nil {
		return err
	}
	rows, err := a.digestRows(r)
	if err != nil {
		return err
	}
	var data digestData
	for _, row := range rows {
		if row.Name == d.Name {
			data.digestRow = row
		}
	}
	act := a.o.Data.Actions
	data.CanTest, data.CanSend = act.TestSend != nil, act.SendNow != nil
	data.Email = strings.TrimSpace(r.URL.Query().Get("email"))
	status := http.StatusOK
	if act.Preview != nil {
		data.Message, err = act.Preview(r.Context(), d.Name, data.Email)
		if p := previewProblem(data.Email, err); p != nil {
			data.Message, data.Problem = nil, web.Message(p)
			status = p.Status()
		} else if err != nil {
			return err
		}
		if data.Email != "" {
			data.Query = "?" + url.Values{"email": {data.Email}}.Encode()
		}
	}
	if l := a.o.Data.Ledger; l != nil {
		if data.Upcoming, err = l.Next(r.Context(), d); err != nil {
			return err
		}
	}
	// The preview's frame is this page's one exception to "nothing framed,
	// nothing loaded in a frame": it may load the admin's own preview URL.
	w.Header().Set("Content-Security-Policy", a.csp+"; frame-src 'self'")
	return a.renderStatus(w, r, status, "digest.html", "Digest "+d.Name, data)
}

// previewProblem is the answer to a Preview error about the operator's
// input (an address no subscriber has), nil for any other.
func previewProblem(email string, err error) *web.Problem {
	if errors.Is(err, subscribers.ErrInvalidAddress) {
		return web.Errorf(web.BadRequest, "%q is not an email address. Give a subscriber's address, or leave the field empty for a sample reader.", email)
	}
	if errors.Is(err, subscribers.ErrNotFound) {
		return web.Errorf(web.NotFound, "No subscriber has the address %q, so there is nothing to preview as them. Leave the field empty for a sample reader.", email)
	}
	return nil
}

// digestPreview renders the next edition for the preview's URLs.
func (a *Admin) digestPreview(r *http.Request) (*transport.Message, mail.Digest, error) {
	d, err := a.digestOf(r)
	if err != nil {
		return nil, d, err
	}
	if a.o.Data.Actions.Preview == nil {
		return nil, d, web.Errorf(web.NotFound, "Previews are not available here.")
	}
	email := strings.TrimSpace(r.URL.Query().Get("email"))
	msg, err := a.o.Data.Actions.Preview(r.Context(), d.Name, email)
	if p := previewProblem(email, err); p != nil {
		return nil, d, p
	}
	return msg, d, err
}

// previewCSP is the preview HTML's own policy: the mail's inline styles
// and its images, never a script, a form or a plugin (sandbox, on top of
// the frame's sandbox attribute), and framed by the admin's own pages only.
const previewCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src http: https: data:; font-src http: https: data:; " +
	"form-action 'none'; base-uri 'none'; frame-ancestors 'self'; sandbox"

// previewHTML is the HTML part of the preview, for the digest page's
// sandboxed frame: the one admin URL that may be framed, and only by the
// admin.
func (a *Admin) previewHTML(w http.ResponseWriter, r *http.Request) error {
	msg, _, err := a.digestPreview(r)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Security-Policy", previewCSP)
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	if msg.HTML == "" {
		_, err = fmt.Fprint(w, "<!doctype html><title>No HTML part</title><p>This message has no HTML part.</p>")
		return err
	}
	_, err = fmt.Fprint(w, msg.HTML)
	return err
}

// previewEML is the whole previewed message as a .eml download.
func (a *Admin) previewEML(w http.ResponseWriter, r *http.Request) error {
	msg, d, err := a.digestPreview(r)
	if err != nil {
		return err
	}
	msg.MessageID = transport.NewMessageID(domainOf(msg.From.Address))
	raw, err := msg.Bytes(nil)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "message/rfc822")
	w.Header().Set("Content-Disposition", `attachment; filename="`+d.Name+`-preview.eml"`)
	_, err = w.Write(raw)
	return err
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}

// digestTest mails one copy of the next edition to an address, outside
// the ledger.
func (a *Admin) digestTest(w http.ResponseWriter, r *http.Request) error {
	d, err := a.digestOf(r)
	if err != nil {
		return err
	}
	if a.o.Data.Actions.TestSend == nil {
		return web.Errorf(web.NotFound, "Test sends are not available here.")
	}
	to := strings.TrimSpace(r.PostFormValue("to"))
	addr, err := netmail.ParseAddress(to)
	if to == "" || err != nil {
		return web.Errorf(web.BadRequest, "%q is not an email address: give one address, like you@example.org. Nothing was sent.", to)
	}
	setAudit(r, "digest.test", d.Name+" to "+addr.Address)
	if err := a.o.Data.Actions.TestSend(r.Context(), d.Name, addr.Address); err != nil {
		return &web.Problem{Kind: web.Unavailable, Message: "The test copy could not be sent to " + addr.Address + ": " + err.Error()}
	}
	return a.redirect(w, r, "/admin/digests/"+url.PathEscape(d.Name), "A test copy of the next edition was sent to "+addr.Address+".")
}

// digestSendPage asks to confirm sending an edition now, saying what it
// would carry.
func (a *Admin) digestSendPage(w http.ResponseWriter, r *http.Request) error {
	d, err := a.digestOf(r)
	if err != nil {
		return err
	}
	if a.o.Data.Actions.SendNow == nil {
		return web.Errorf(web.NotFound, "Sending from the admin is not available here.")
	}
	data := digestData{digestRow: digestRow{Digest: d}, CanSend: true}
	if l := a.o.Data.Ledger; l != nil {
		if data.Upcoming, err = l.Next(r.Context(), d); err != nil {
			return err
		}
	}
	return a.render(w, r, "digest_send.html", "Send "+d.Name+" now?", data)
}

// digestSend plans an edition now and has the sender send it in the
// background (tidings digest send), then shows its page to watch.
func (a *Admin) digestSend(w http.ResponseWriter, r *http.Request) error {
	d, err := a.digestOf(r)
	if err != nil {
		return err
	}
	if a.o.Data.Actions.SendNow == nil {
		return web.Errorf(web.NotFound, "Sending from the admin is not available here.")
	}
	if r.PostFormValue("confirm") != "yes" {
		return web.Errorf(web.BadRequest, "Sending needs the confirmation: use the Send button on the confirmation page. Nothing was sent.")
	}
	id, err := a.o.Data.Actions.SendNow(r.Context(), d.Name)
	if err != nil {
		return err
	}
	if id == 0 {
		setAudit(r, "digest.send", d.Name+": no new articles, no edition")
		return a.redirect(w, r, "/admin/digests/"+url.PathEscape(d.Name), "No new articles since the last edition: nothing was sent.")
	}
	setAudit(r, "digest.send", fmt.Sprintf("%s: edition %d", d.Name, id))
	return a.redirect(w, r, editionPath(id), "Edition planned; sending.")
}
