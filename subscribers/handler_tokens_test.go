package subscribers

import (
	"context"
	"strings"
	"testing"
)

// personLinks are the three links one person holds: the confirmation link
// from the mail, and the unsubscribe and preferences links of a digest.
type personLinks struct{ confirm, unsubscribe, preferences string }

// signUpByForm signs email up through the form and returns the subscriber
// with the links mailed to it and those a digest would carry.
func (e *handlerEnv) signUpByForm(t *testing.T, email string) (*Subscriber, personLinks) {
	t.Helper()
	before := len(e.mailer.sent)
	resp, _ := do(t, "POST", e.srv.URL+"/subscribe", formType, "email="+strings.ReplaceAll(email, "@", "%40"))
	if resp.StatusCode != 200 || len(e.mailer.sent) != before+1 {
		t.Fatalf("sign-up of %s: %d, %d mails", email, resp.StatusCode, len(e.mailer.sent)-before)
	}
	s := e.byEmail(t, email)
	return s, personLinks{
		confirm:     confirmURL(t, e.mailer.sent[before].Text),
		unsubscribe: e.h.links.UnsubscribeURL(s),
		preferences: e.h.links.PreferencesURL(s),
	}
}

// refused checks that every way of using an old person's links is
// answered as a bad link, shows nothing of the subscriber now there, and
// changes nothing.
func (e *handlerEnv) refused(t *testing.T, old personLinks, now *Subscriber) {
	t.Helper()
	for _, tc := range []struct{ what, method, url, body, mark string }{
		{"confirm page", "GET", old.confirm, "", "Send me a new link"},
		{"confirm button", "POST", old.confirm, "", "Send me a new link"},
		{"unsubscribe page", "GET", old.unsubscribe, "", "Link not valid"},
		{"unsubscribe button", "POST", old.unsubscribe, "", "Link not valid"},
		{"one-click unsubscribe", "POST", old.unsubscribe, "List-Unsubscribe=One-Click", "Link not valid"},
		{"preferences page", "GET", old.preferences, "", "Link not valid"},
		{"preferences save", "POST", old.preferences, "name=Mallory&digests=weekly", "Link not valid"},
		{"preferences leave", "POST", old.preferences, "action=leave", "Link not valid"},
	} {
		resp, page := do(t, tc.method, tc.url, formType, tc.body)
		if resp.StatusCode != 400 || !strings.Contains(page, tc.mark) || strings.Contains(page, now.Email) ||
			strings.Contains(page, "/preferences?token=") {
			t.Errorf("%s with an old link: %d\n%s", tc.what, resp.StatusCode, page)
		}
	}
	after := e.get(t, now.ID)
	if after.Status != now.Status || after.Name != now.Name || strings.Join(after.Digests, ",") != strings.Join(now.Digests, ",") {
		t.Errorf("old links changed the subscriber now there: %+v, was %+v", after, now)
	}
}

// After forget, the next person to sign up must not be reachable through
// any link the forgotten one held.
func TestHandler_LinksAfterForget(t *testing.T) {
	e := newHandlerEnv(t, "")
	ana, old := e.signUpByForm(t, "ana@example.org")
	if err := e.store.Forget(context.Background(), ana.Email, operatorMeta); err != nil {
		t.Fatal(err)
	}
	ben, _ := e.signUpByForm(t, "ben@example.org")
	if ben.ID == ana.ID {
		t.Errorf("ben got the forgotten ana's id %d", ana.ID)
	}
	e.refused(t, old, ben)
}

// A confirmation link works once: POSTed again it gives out nothing, in
// particular no preferences link.
func TestHandler_ConfirmLinkWorksOnce(t *testing.T) {
	e := newHandlerEnv(t, "")
	ana, links := e.signUpByForm(t, "ana@example.org")
	resp, page := do(t, "POST", links.confirm, formType, "")
	if resp.StatusCode != 200 || !strings.Contains(page, "/preferences?token=") {
		t.Fatalf("first confirm %d:\n%s", resp.StatusCode, page)
	}
	for _, method := range []string{"POST", "GET"} {
		resp, page = do(t, method, links.confirm, formType, "")
		if resp.StatusCode != 400 || !strings.Contains(page, "This confirmation link is not valid") ||
			strings.Contains(page, "/preferences?token=") || strings.Contains(page, ana.Email) {
			t.Errorf("%s of a used confirm link: %d\n%s", method, resp.StatusCode, page)
		}
	}
	if got := e.get(t, ana.ID); got.Status != StatusConfirmed {
		t.Errorf("status %s after confirming", got.Status)
	}
}

// A person who left and signs up again starts over: the links of the
// earlier subscription stop working, the new ones work.
func TestHandler_ResubscriptionEndsOldLinks(t *testing.T) {
	e := newHandlerEnv(t, "")
	ana, _ := e.signUpByForm(t, "ana@example.org")
	// Confirmed and mailed digests: these are the links in those mails.
	if resp, _ := do(t, "POST", confirmURL(t, e.mailer.sent[0].Text), formType, ""); resp.StatusCode != 200 {
		t.Fatalf("confirm %d", resp.StatusCode)
	}
	ana = e.get(t, ana.ID)
	old := personLinks{
		confirm:     confirmURL(t, e.mailer.sent[0].Text),
		unsubscribe: e.h.links.UnsubscribeURL(ana),
		preferences: e.h.links.PreferencesURL(ana),
	}
	if resp, _ := do(t, "POST", old.unsubscribe, formType, "List-Unsubscribe=One-Click"); resp.StatusCode != 200 {
		t.Fatalf("unsubscribe %d", resp.StatusCode)
	}
	// Still hers while she is away: she can come back on the preferences page.
	if resp, _ := do(t, "GET", old.preferences, "", ""); resp.StatusCode != 200 {
		t.Errorf("preferences link while unsubscribed: %d", resp.StatusCode)
	}
	again, links := e.signUpByForm(t, "ana@example.org")
	if again.ID != ana.ID || again.Status != StatusPending {
		t.Fatalf("signed up again as %d %s", again.ID, again.Status)
	}
	e.refused(t, old, again)
	if resp, _ := do(t, "POST", links.confirm, formType, ""); resp.StatusCode != 200 {
		t.Errorf("new confirm link %d", resp.StatusCode)
	}
	now := e.get(t, ana.ID)
	for _, u := range []string{e.h.links.UnsubscribeURL(now), e.h.links.PreferencesURL(now)} {
		if resp, page := do(t, "GET", u, "", ""); resp.StatusCode != 200 || !strings.Contains(page, now.Email) {
			t.Errorf("new link %s: %d", u, resp.StatusCode)
		}
	}
}
