package main

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/tidings/tidings/subscribers"
)

// textOf returns the text/plain part of a received message, decoded.
func textOf(t *testing.T, m *mail.Message) string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(mt, "multipart/") {
		b, _ := io.ReadAll(decodedBody(m.Header.Get("Content-Transfer-Encoding"), m.Body))
		return string(b)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, _ := io.ReadAll(p) // multipart decodes quoted-printable itself
			return string(b)
		}
	}
}

func decodedBody(cte string, r io.Reader) io.Reader {
	if strings.EqualFold(cte, "quoted-printable") {
		return quotedprintable.NewReader(r)
	}
	return r
}

var confirmLink = regexp.MustCompile(`https?://\S+/confirm\?token=\S+`)

func postForm(t *testing.T, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := http.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// formAction finds the action of the (only) form on a page.
func formAction(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form on the page:\n%s", page)
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

// A subscriber's whole life through real HTTP and a real SMTP server:
// sign up, confirm from the mail, change preferences, leave by the RFC 8058
// one-click POST. Each step leaves its event.
func TestSubscriber_Lifecycle(t *testing.T) {
	sink := newSMTPSink(t)
	base, _, app := bootServeWith(t, func(c *Config) {
		c.SMTP.Host, c.SMTP.Port, c.SMTP.TLS = "127.0.0.1", sink.Addr.Port, "none"
		c.SMTP.Connections = 2
		c.Digests = append(c.Digests, DigestConfig{Name: "weekly", Title: "Example News, weekly", Schedule: "0 8 * * 1", MaxArticles: 50})
	})
	ctx := context.Background()

	// The form offers both digests, ticked.
	resp, page := get(t, base+"/subscribe")
	if resp.StatusCode != 200 || !strings.Contains(page, `value="daily" checked`) || !strings.Contains(page, `value="weekly" checked`) {
		t.Fatalf("sign-up form %d:\n%s", resp.StatusCode, page)
	}
	if resp.Header.Get("X-Frame-Options") != "DENY" || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("sign-up page can be framed: %v", resp.Header)
	}

	// Sign up.
	// The zone is what the form's script put in its hidden field.
	if !strings.Contains(page, `name="timezone"`) || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "script-src 'sha256-") {
		t.Errorf("sign-up form without its time-zone field or script: %v\n%s", resp.Header, page)
	}
	resp, page = postForm(t, base+"/subscribe", url.Values{"email": {"Ana.Sousa@Example.ORG"}, "name": {`Ana "the reader" Sousa`},
		"digests": {"daily"}, "timezone": {"Europe/Lisbon"}})
	if resp.StatusCode != 200 || !strings.Contains(page, "Check your inbox") {
		t.Fatalf("sign-up %d:\n%s", resp.StatusCode, page)
	}
	s, err := app.Subscribers.GetByEmail(ctx, "Ana.Sousa@example.org")
	if err != nil || s.Status != subscribers.StatusPending || strings.Join(s.Digests, ",") != "daily" || s.TimeZone != "Europe/Lisbon" {
		t.Fatalf("after sign-up: %+v %v", s, err)
	}

	// The confirmation mail, sent by the ledger's sender. Whatever name was
	// typed is shown nowhere in it: whoever typed the address may have
	// typed any name too.
	msg := sink.wait(t, 1)
	to, err := mail.ParseAddress(msg.Header.Get("To"))
	if err != nil || to.Address != "Ana.Sousa@example.org" || to.Name != "" {
		t.Errorf("To = %q (%v), want the bare address", msg.Header.Get("To"), err)
	}
	if msg.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", msg.Header.Get("Auto-Submitted"))
	}
	body := textOf(t, msg)
	if raw := msg.Header.Get("Subject") + body; strings.Contains(raw, "the reader") {
		t.Errorf("the confirmation mail shows the typed name:\n%s", raw)
	}
	link := confirmLink.FindString(body)
	if link == "" {
		t.Fatalf("no confirmation link in:\n%s", body)
	}

	// Asking again at once sends nothing more (resend at most every 10 minutes).
	postForm(t, base+"/subscribe", url.Values{"email": {"ana.sousa@example.org"}, "digests": {"daily"}})
	// A GET of the link (a mail scanner) confirms no one.
	resp, page = get(t, link)
	if resp.StatusCode != 200 || !strings.Contains(page, "Confirm my subscription") {
		t.Fatalf("confirm page %d:\n%s", resp.StatusCode, page)
	}
	if s, _ := app.Subscribers.Get(ctx, s.ID); s.Status != subscribers.StatusPending {
		t.Fatal("a GET confirmed the subscriber")
	}
	// The button does.
	resp, page = postForm(t, formAction(t, page), nil)
	if resp.StatusCode != 200 || !strings.Contains(page, "You are subscribed") {
		t.Fatalf("confirm %d:\n%s", resp.StatusCode, page)
	}
	if s, _ := app.Subscribers.Get(ctx, s.ID); s.Status != subscribers.StatusConfirmed {
		t.Fatalf("status after confirm: %s", s.Status)
	}
	confirmed := page
	// The welcome, the first mail that greets by the name given: the
	// address's owner has confirmed it.
	welcome := sink.wait(t, 2)
	if !strings.HasPrefix(welcome.Header.Get("Subject"), "Welcome to") || !strings.Contains(textOf(t, welcome), `Hello Ana "the reader" Sousa,`) {
		t.Errorf("second mail: %q, want the welcome greeting by name", welcome.Header.Get("Subject"))
	}
	deliveries := func() int {
		var n int
		if err := app.DB.Read.QueryRow(`SELECT COUNT(*) FROM deliveries`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := deliveries(); n != 2 {
		t.Errorf("%d mails queued, want 2: one confirmation (no resend within 10 minutes) and the welcome", n)
	}

	// A confirmed address asking again gets the same answer; its note
	// that it is subscribed already waits for the same 10 minutes.
	resp, page = postForm(t, base+"/subscribe", url.Values{"email": {"ana.sousa@example.org"}})
	if resp.StatusCode != 200 || !strings.Contains(page, "Check your inbox") {
		t.Errorf("sign-up of a confirmed address %d", resp.StatusCode)
	}
	if n := deliveries(); n != 2 {
		t.Errorf("%d mails queued after asking again within 10 minutes, want still 2", n)
	}

	// Preferences: add the weekly digest, change the name.
	prefs := regexp.MustCompile(`href="([^"]+/preferences\?token=[^"]+)"`).FindStringSubmatch(confirmed)
	if prefs == nil {
		t.Fatalf("no preferences link on the confirmation page:\n%s", page)
	}
	resp, page = get(t, strings.ReplaceAll(prefs[1], "&amp;", "&"))
	if resp.StatusCode != 200 || !strings.Contains(page, `value="daily" checked`) || strings.Contains(page, `value="weekly" checked`) ||
		!strings.Contains(page, `value="Europe/Lisbon"`) {
		t.Fatalf("preferences page %d:\n%s", resp.StatusCode, page)
	}
	resp, page = postForm(t, formAction(t, page), url.Values{"name": {"Ana Sousa"}, "digests": {"daily", "weekly"}, "action": {"save"}})
	if resp.StatusCode != 200 || !strings.Contains(page, "Saved.") {
		t.Fatalf("save preferences %d:\n%s", resp.StatusCode, page)
	}
	if s, _ := app.Subscribers.Get(ctx, s.ID); s.Name != "Ana Sousa" || strings.Join(s.Digests, ",") != "daily,weekly" {
		t.Errorf("after preferences: %q %v", s.Name, s.Digests)
	}

	// RFC 8058 one-click unsubscribe, exactly as a mail client sends it.
	// The link a digest carries is made for the subscriber as it is now:
	// confirming renewed its token nonce.
	if s, err = app.Subscribers.Get(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, app.Links.UnsubscribeURL(s), strings.NewReader("List-Unsubscribe=One-Click"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("one-click unsubscribe: %d", resp.StatusCode)
	}
	if s, _ := app.Subscribers.Get(ctx, s.ID); s.Status != subscribers.StatusUnsubscribed {
		t.Fatalf("status after one-click: %s", s.Status)
	}

	// The consent record.
	events, err := app.Subscribers.Events(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ev := range events {
		kinds = append(kinds, string(ev.Kind)+"/"+ev.Route)
		if ev.IP != "127.0.0.1" {
			t.Errorf("event %s from IP %q", ev.Kind, ev.IP)
		}
	}
	// The second request of the still-pending address is on record too.
	want := "subscribed/form confirmation_sent/form subscribed/form confirmed/link preferences/link unsubscribed/one-click"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("events:\n got %s\nwant %s", got, want)
	}
}

func TestSubscribe_BadInput(t *testing.T) {
	base, _, app := bootServeWith(t, nil)
	tests := []struct {
		name   string
		form   url.Values
		status int
		field  string
	}{
		{"no at", url.Values{"email": {"ana.example.org"}}, 422, "email"},
		{"space", url.Values{"email": {"ana sousa@example.org"}}, 422, "email"},
		{"CRLF", url.Values{"email": {"ana@example.org\r\nBcc: x@y.z"}}, 422, "email"},
		{"too long", url.Values{"email": {strings.Repeat("a", 250) + "@example.org"}}, 422, "email"},
		{"long local part", url.Values{"email": {strings.Repeat("a", 65) + "@example.org"}}, 422, "email"},
		{"name with CRLF", url.Values{"email": {"ana@example.org"}, "name": {"Ana\r\nBcc: x"}}, 422, "name"},
		{"unknown digest", url.Values{"email": {"ana@example.org"}, "digests": {"hourly"}}, 422, "digests"},
		{"not UTF-8", url.Values{"email": {"ana@example.org"}, "name": {"Caf\xe9"}}, 400, "form"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, page := postForm(t, base+"/subscribe", tt.form)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d:\n%s", resp.StatusCode, tt.status, page)
			}
			if !strings.Contains(page, `role="alert"`) || !strings.Contains(page, "<form") {
				t.Errorf("the form is not shown again with the error:\n%s", page)
			}
			if tt.field != "form" && !strings.Contains(page, `id="`+tt.field) && tt.field != "digests" {
				t.Errorf("no %s field on the page", tt.field)
			}
		})
	}
	subs, _, err := app.Subscribers.List(context.Background(), subscribers.ListFilter{})
	if err != nil || len(subs) != 0 {
		t.Errorf("bad requests stored %d subscribers (%v)", len(subs), err)
	}

	// JSON errors name the field.
	resp, err := http.Post(base+"/subscribe", "application/json", strings.NewReader(`{"email":"nope"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 422 || !strings.Contains(string(b), `"field":"email"`) {
		t.Errorf("JSON error %d %s", resp.StatusCode, b)
	}
	// An oversized body.
	resp, err = http.Post(base+"/subscribe", "application/x-www-form-urlencoded", strings.NewReader("email="+strings.Repeat("a", 64<<10)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge && resp.StatusCode != 400 {
		t.Errorf("oversized body: %d", resp.StatusCode)
	}
	// The honeypot: a bot gets a thank-you and nothing is stored.
	resp, _ = postForm(t, base+"/subscribe", url.Values{"email": {"bot@example.org"}, "website": {"http://spam"}})
	if resp.StatusCode != 200 {
		t.Errorf("honeypot answer %d", resp.StatusCode)
	}
	if _, err := app.Subscribers.GetByEmail(context.Background(), "bot@example.org"); err == nil {
		t.Error("the honeypot stored a subscriber")
	}
}
