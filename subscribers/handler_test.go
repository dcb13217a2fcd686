package subscribers

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/web"
)

// memMailer composes what it is asked to queue at once, as the mail
// ledger's sender later would, and keeps it. The end-to-end test in
// cmd/tidings sends through the ledger and a real SMTP server; here only
// the handler's side is under test.
type memMailer struct {
	mu      sync.Mutex
	notices *Notices
	sent    []Mail
	kinds   []string
	fail    error
}

func (m *memMailer) Queue(ctx context.Context, kind string, id int64, email string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	mail, err := m.notices.ComposeNotice(ctx, kind, id)
	if err != nil {
		return err
	}
	if mail != nil {
		m.sent = append(m.sent, *mail)
		m.kinds = append(m.kinds, kind)
	}
	return nil
}

type handlerEnv struct {
	*storeEnv
	h      *Handler
	mailer *memMailer
	srv    *httptest.Server
}

func newHandlerEnv(t testing.TB, adminToken string) *handlerEnv {
	t.Helper()
	se := newStoreEnv(t)
	mailer := &memMailer{}
	tokens := NewTokens([]byte("0123456789abcdef0123456789abcdef"), se.clock.Now)
	e := &handlerEnv{storeEnv: se, mailer: mailer}
	mux := http.NewServeMux()
	// Served as cmd serves it: behind web.Secure, for the site's URL.
	e.srv = httptest.NewUnstartedServer(nil)
	e.srv.Config.Handler = web.Secure(mux, "http://"+e.srv.Listener.Addr().String())
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	opt := Options{
		Site:        SiteInfo{Title: "The Harbour Gazette", BaseURL: e.srv.URL, Language: "en"},
		Digests:     []DigestInfo{{Name: "daily", Title: "Daily"}, {Name: "weekly", Title: "Weekly"}},
		DoubleOptIn: true, ConfirmTTL: 72 * time.Hour, AdminToken: adminToken,
		Logger: newDiscardLogger(), Now: se.clock.Now,
	}
	h, err := NewHandler(se.store, tokens, mailer, opt)
	if err != nil {
		t.Fatal(err)
	}
	if mailer.notices, err = NewNotices(se.store, tokens, opt); err != nil {
		t.Fatal(err)
	}
	e.h = h
	h.Routes(mux)
	return e
}

func do(t *testing.T, method, u, contentType, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

const formType = "application/x-www-form-urlencoded"

func TestHandler_ConfirmTokens(t *testing.T) {
	e := newHandlerEnv(t, "")
	resp, _ := do(t, "POST", e.srv.URL+"/subscribe", formType, "email=ana%40example.org")
	if resp.StatusCode != 200 || len(e.mailer.sent) != 1 {
		t.Fatalf("sign-up %d, %d mails", resp.StatusCode, len(e.mailer.sent))
	}
	link := confirmURL(t, e.mailer.sent[0].Text)

	// An altered token: a page that offers a new link.
	resp, page := do(t, "GET", link+"x", "", "")
	if resp.StatusCode != 400 || !strings.Contains(page, "Send me a new link") {
		t.Errorf("altered token %d:\n%s", resp.StatusCode, page)
	}
	// An expired one.
	e.clock.Advance(73 * time.Hour)
	resp, page = do(t, "POST", link, formType, "")
	if resp.StatusCode != 410 || !strings.Contains(page, "expired") || !strings.Contains(page, "Send me a new link") {
		t.Errorf("expired token %d:\n%s", resp.StatusCode, page)
	}
	if s, _ := e.store.GetByEmail(context.Background(), "ana@example.org"); s.Status != StatusPending {
		t.Errorf("an expired token confirmed: %s", s.Status)
	}
	// Asking again (the form on that page) sends a new link that works.
	do(t, "POST", e.srv.URL+"/subscribe", formType, "email=ana%40example.org")
	if len(e.mailer.sent) != 2 {
		t.Fatalf("%d mails after asking again", len(e.mailer.sent))
	}
	resp, _ = do(t, "POST", confirmURL(t, e.mailer.sent[1].Text), formType, "")
	if resp.StatusCode != 200 {
		t.Errorf("new link %d", resp.StatusCode)
	}
	// A confirm token is not an unsubscribe token.
	token := strings.SplitN(link, "token=", 2)[1]
	resp, _ = do(t, "POST", e.srv.URL+"/unsubscribe?token="+token, formType, "List-Unsubscribe=One-Click")
	if resp.StatusCode != 400 {
		t.Errorf("confirm token unsubscribed: %d", resp.StatusCode)
	}
}

func confirmURL(t *testing.T, text string) string {
	t.Helper()
	for _, f := range strings.Fields(text) {
		if strings.Contains(f, "/confirm?token=") {
			return f
		}
	}
	t.Fatalf("no confirmation link in:\n%s", text)
	return ""
}

func TestHandler_UnsubscribePages(t *testing.T) {
	e := newHandlerEnv(t, "")
	s := e.withStatus(t, "bo@example.org", StatusConfirmed)
	u := e.h.links.UnsubscribeURL(s)
	if len(u) > 200 {
		t.Errorf("unsubscribe URL is %d long: %s", len(u), u)
	}
	resp, page := do(t, "GET", u, "", "")
	if resp.StatusCode != 200 || !strings.Contains(page, ">Unsubscribe</button>") {
		t.Fatalf("GET %d:\n%s", resp.StatusCode, page)
	}
	if got, _ := e.store.Get(context.Background(), s.ID); got.Status != StatusConfirmed {
		t.Fatal("a GET unsubscribed")
	}
	resp, page = do(t, "POST", u, formType, "")
	if resp.StatusCode != 200 || !strings.Contains(page, "You are unsubscribed") {
		t.Fatalf("button %d:\n%s", resp.StatusCode, page)
	}
	if ok, _ := isDeliverable(context.Background(), e.store, s.ID, "daily"); ok {
		t.Error("still deliverable after unsubscribing")
	}
	// Again, and through one-click: still 200, no second event.
	resp, _ = do(t, "POST", u, formType, "List-Unsubscribe=One-Click")
	if resp.StatusCode != 200 {
		t.Errorf("second unsubscribe %d", resp.StatusCode)
	}
	evs, _ := e.store.Events(context.Background(), s.ID)
	n := 0
	for _, ev := range evs {
		if ev.Kind == "unsubscribed" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d unsubscribed events, want 1", n)
	}
	if resp, _ := do(t, "GET", e.srv.URL+"/unsubscribe?token=garbage", "", ""); resp.StatusCode != 400 {
		t.Errorf("garbage token %d", resp.StatusCode)
	}
}

func TestHandler_PagesAreSafe(t *testing.T) {
	e := newHandlerEnv(t, "")
	resp, page := do(t, "POST", e.srv.URL+"/subscribe", formType, "email=%3Cscript%3Ealert(1)%3C%2Fscript%3E&name=%3Cimg+src%3Dx+onerror%3Dalert(1)%3E")
	if resp.StatusCode != 422 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if strings.Contains(page, "<script>alert") || strings.Contains(page, "<img src=x") {
		t.Errorf("input echoed unescaped:\n%s", page)
	}
	for _, h := range []string{"X-Frame-Options", "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
}

func TestHandler_RateLimits(t *testing.T) {
	e := newHandlerEnv(t, "")
	var last *http.Response
	for i := range 11 {
		last, _ = do(t, "POST", e.srv.URL+"/subscribe", formType, "email=user"+itoa(i)+"%40example.org")
	}
	if last.StatusCode != 429 || last.Header.Get("Retry-After") == "" {
		t.Errorf("11th sign-up from one IP within a minute: %d, Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
	}
	e.clock.Advance(time.Minute)
	for i := range 4 {
		last, _ = do(t, "POST", e.srv.URL+"/subscribe", "application/json", `{"email":"same@example.org"}`)
		if last.StatusCode != 202 {
			t.Fatalf("JSON sign-up %d: %d; asking again for one address is answered as the first time", i, last.StatusCode)
		}
	}
	if n := len(e.mailer.sent); n != 11 {
		t.Errorf("%d confirmation mails, want 10 + 1 (the same address is mailed once per 10 minutes)", n)
	}
}

// A notice that cannot be queued is logged; the answer is the one every
// sign-up gets, so that a failing queue tells no one about the address.
func TestHandler_QueueFailure(t *testing.T) {
	e := newHandlerEnv(t, "")
	_, want := do(t, "POST", e.srv.URL+"/subscribe", formType, "email=bo%40example.org")
	e.mailer.fail = io.ErrUnexpectedEOF
	resp, page := do(t, "POST", e.srv.URL+"/subscribe", formType, "email=ana%40example.org")
	if resp.StatusCode != 200 || page != want {
		t.Errorf("queue failure: %d, and a page other than every sign-up's:\n%s", resp.StatusCode, page)
	}
}

func TestAPI(t *testing.T) {
	off := newHandlerEnv(t, "")
	if resp, _ := do(t, "GET", off.srv.URL+"/api/v1/subscribers", "", ""); resp.StatusCode != 404 {
		t.Errorf("API without a token configured: %d", resp.StatusCode)
	}
	e := newHandlerEnv(t, "s3cret-token")
	api := e.srv.URL + "/api/v1/subscribers"
	auth := []string{"Authorization", "Bearer s3cret-token"}
	if resp, _ := do(t, "GET", api, "", "", "Authorization", "Bearer wrong"); resp.StatusCode != 401 {
		t.Errorf("wrong token: %d", resp.StatusCode)
	}
	resp, body := do(t, "POST", api, "application/json", `{"email":"Ana@Example.org","name":"Ana","digests":["weekly"]}`, auth...)
	if resp.StatusCode != 201 || !strings.Contains(body, `"email":"Ana@example.org"`) || !strings.Contains(body, `"status":"confirmed"`) {
		t.Fatalf("create %d %s", resp.StatusCode, body)
	}
	var created struct{ ID int64 }
	json.Unmarshal([]byte(body), &created)
	for _, tt := range []struct{ body, field string }{
		{`{"email":"nope"}`, "email"},
		{`{"email":"x@example.org","digests":["hourly"]}`, "digests"},
		{`{"email":"x@example.org","status":"happy"}`, "status"},
		{`{"email":"x@example.org","name":"a\r\nb"}`, "name"},
		{`{"name":"no address"}`, "email"},
	} {
		resp, body := do(t, "POST", api, "application/json", tt.body, auth...)
		if resp.StatusCode != 422 || !strings.Contains(body, `"field":"`+tt.field+`"`) {
			t.Errorf("create %s: %d %s", tt.body, resp.StatusCode, body)
		}
	}
	if resp, _ := do(t, "POST", api, "application/json", `{"email":"ana@example.org"}`, auth...); resp.StatusCode != 409 {
		t.Errorf("duplicate: %d", resp.StatusCode)
	}
	for i := range 5 {
		do(t, "POST", api, "application/json", `{"email":"p`+itoa(i)+`@example.org","status":"pending"}`, auth...)
	}
	// Paging with a cursor visits everyone once.
	seen := map[string]bool{}
	next := ""
	for page := 0; page < 10; page++ {
		q := url.Values{"limit": {"2"}}
		if next != "" {
			q.Set("cursor", next)
		}
		resp, body := do(t, "GET", api+"?"+q.Encode(), "", "", auth...)
		var out struct {
			Subscribers []struct{ Email string }
			NextCursor  string `json:"next_cursor"`
		}
		if err := json.Unmarshal([]byte(body), &out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("list %d %s", resp.StatusCode, body)
		}
		for _, s := range out.Subscribers {
			if seen[s.Email] {
				t.Errorf("%s listed twice", s.Email)
			}
			seen[s.Email] = true
		}
		if next = out.NextCursor; next == "" {
			break
		}
	}
	if len(seen) != 6 {
		t.Errorf("paged through %d subscribers, want 6", len(seen))
	}
	if _, body := do(t, "GET", api+"?status=pending&search=p3", "", "", auth...); strings.Count(body, `"email"`) != 1 {
		t.Errorf("filter: %s", body)
	}
	if resp, body := do(t, "GET", api+"?status=happy", "", "", auth...); resp.StatusCode != 400 || !strings.Contains(body, `"field":"status"`) {
		t.Errorf("bad filter: %d %s", resp.StatusCode, body)
	}
	one := api + "/" + itoa(int(created.ID))
	if resp, body := do(t, "PATCH", one, "application/json", `{"name":"Ana Sousa","digests":["daily","weekly"]}`, auth...); resp.StatusCode != 200 || !strings.Contains(body, `"digests":["daily","weekly"]`) {
		t.Errorf("patch %d %s", resp.StatusCode, body)
	}
	if resp, body := do(t, "GET", one, "", "", auth...); resp.StatusCode != 200 || !strings.Contains(body, `"name":"Ana Sousa"`) {
		t.Errorf("get %d %s", resp.StatusCode, body)
	}
	if resp, _ := do(t, "DELETE", one, "", "", auth...); resp.StatusCode != 204 {
		t.Errorf("delete %d", resp.StatusCode)
	}
	if resp, body := do(t, "GET", one, "", "", auth...); resp.StatusCode != 404 || !strings.Contains(body, `"error"`) {
		t.Errorf("get after delete %d %s", resp.StatusCode, body)
	}
}

func newDiscardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// The answer to a sign-up takes as long for a subscribed address as for a
// new one: medians of 50 requests each, interleaved, within 10 %.
func TestHandler_SignUpTimingTellsNothing(t *testing.T) {
	e := newHandlerEnv(t, "")
	e.h.opt.AnswerFloor = 30 * time.Millisecond
	e.h.perIP = newLimiter(1<<30, 1, e.clock.Now)
	e.store.SetSignUpCaps(Caps{}) // a hundred sign-ups from one test client
	const n = 50
	for i := range n {
		e.withStatus(t, "subscribed"+itoa(i)+"@example.org", StatusConfirmed)
	}
	e.clock.Advance(time.Hour) // past the window of their own confirmation mails
	timeOf := func(email string) time.Duration {
		start := time.Now()
		resp, _ := do(t, "POST", e.srv.URL+"/subscribe", formType, "email="+url.QueryEscape(email))
		if resp.StatusCode != 200 {
			t.Fatalf("sign-up of %s: %d", email, resp.StatusCode)
		}
		return time.Since(start)
	}
	var fresh, known []time.Duration
	for i := range n {
		fresh = append(fresh, timeOf("new"+itoa(i)+"@example.org"))
		known = append(known, timeOf("subscribed"+itoa(i)+"@example.org"))
	}
	median := func(ds []time.Duration) time.Duration {
		slices.Sort(ds)
		return ds[len(ds)/2]
	}
	a, b := median(fresh), median(known)
	if d := a - b; d > a/10 || -d > a/10 {
		t.Errorf("median answer %v for new addresses, %v for subscribed ones: more than 10%% apart", a, b)
	}
	if len(e.mailer.kinds) != 2*n {
		t.Errorf("%d mails queued, want one per sign-up (a confirmation or a note)", len(e.mailer.kinds))
	}
}
