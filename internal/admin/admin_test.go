package admin

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/database/databasetest"
)

// cheap are argon2id params for tests: the rule is the same, the cost is not.
var cheap = Params{Memory: 64, Time: 1, Threads: 1}

// clock is a settable time for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openDB(t testing.TB) *database.DB {
	t.Helper()
	return databasetest.Open(t)
}

// testAdmin is an admin on a fresh database, on a clock, with one account.
type testAdmin struct {
	*Admin
	clock *clock
	srv   *httptest.Server
}

const (
	ownerEmail = "owner@example.org"
	ownerPW    = "correct horse battery"
)

func newTestAdmin(t testing.TB, o Options) *testAdmin {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	if o.DB == nil {
		o.DB = openDB(t)
	}
	o.Now = c.Now
	o.SiteTitle = "Test News"
	a, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	a.Store.Params = cheap
	if _, err := a.Store.AddAccount(context.Background(), ownerEmail, ownerPW); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Routes(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &testAdmin{Admin: a, clock: c, srv: srv}
}

// browser is a client with cookies that does not follow redirects.
type browser struct {
	t    testing.TB
	c    *http.Client
	base string
}

func (ta *testAdmin) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: ta.srv.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (b *browser) do(method, path string, form url.Values) page {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	bs, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(bs), header: resp.Header}
}

func (b *browser) get(path string) page                   { return b.do("GET", path, nil) }
func (b *browser) post(path string, form url.Values) page { return b.do("POST", path, form) }

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the form token on a page.
func (p page) csrf(t testing.TB) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no csrf field on the page (%d): %s", p.status, p.body)
	}
	return m[1]
}

// login logs b in, from the login page, and returns where it was sent.
func (b *browser) login(email, pw, next string) page {
	b.t.Helper()
	lp := b.get("/admin/login")
	return b.post("/admin/login", url.Values{"csrf": {lp.csrf(b.t)}, "email": {email}, "password": {pw}, "next": {next}})
}

func TestHTTP_LoginDashboardLogout(t *testing.T) {
	ta := newTestAdmin(t, Options{Data: Data{Settings: Settings{Config: "[site]\ntitle = \"Test News\"\n"}}})
	b := ta.browser(t)

	p := b.get("/admin/settings")
	if p.status != 303 || p.location != "/admin/login?next=%2Fadmin%2Fsettings" {
		t.Fatalf("without a session: %d %q, want 303 to the login with next", p.status, p.location)
	}
	lp := b.get(p.location)
	if lp.status != 200 || !strings.Contains(lp.body, `name="next" value="/admin/settings"`) {
		t.Fatalf("login page %d: %s", lp.status, lp.body)
	}
	p = b.post("/admin/login", url.Values{"csrf": {lp.csrf(t)}, "email": {ownerEmail}, "password": {ownerPW}, "next": {"/admin/settings"}})
	if p.status != 303 || p.location != "/admin/settings" {
		t.Fatalf("login: %d %q, want back to /admin/settings: %s", p.status, p.location, p.body)
	}
	p = b.get("/admin/settings")
	if p.status != 200 || !strings.Contains(p.body, "title = &#34;Test News&#34;") || !strings.Contains(p.body, ownerEmail) {
		t.Fatalf("settings %d: %s", p.status, p.body)
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q", csp)
	}
	d := b.get("/admin/")
	if d.status != 200 || !strings.Contains(d.body, `aria-current="page">Dashboard`) {
		t.Fatalf("dashboard %d: %s", d.status, d.body)
	}
	p = b.post("/admin/logout", url.Values{"csrf": {d.csrf(t)}})
	if p.status != 303 || p.location != "/admin/login" {
		t.Fatalf("logout: %d %q", p.status, p.location)
	}
	if p := b.get("/admin/login"); !strings.Contains(p.body, "You have logged out.") {
		t.Errorf("no word of the logout on the login page: %s", p.body)
	}
	p = b.get("/admin/")
	if p.status != 303 || !strings.HasPrefix(p.location, "/admin/login") {
		t.Fatalf("after logout: %d %q, want the login page", p.status, p.location)
	}

	log, err := ta.Store.AuditLog(context.Background(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Account+" "+e.Action)
	}
	if got, want := strings.Join(actions, ", "), ownerEmail+" logout, "+ownerEmail+" login"; got != want {
		t.Errorf("audit log %q, want %q", got, want)
	}
}

func TestHTTP_CSRF(t *testing.T) {
	ta := newTestAdmin(t, Options{})
	b, other := ta.browser(t), ta.browser(t)
	if p := b.login(ownerEmail, ownerPW, ""); p.status != 303 || p.location != "/admin/" {
		t.Fatalf("login: %d %q", p.status, p.location)
	}
	other.login(ownerEmail, ownerPW, "")
	mine, theirs := b.get("/admin/").csrf(t), other.get("/admin/").csrf(t)
	if mine == theirs {
		t.Fatal("two sessions share a CSRF token")
	}
	wrong := "x" + mine[1:]
	if mine[0] == 'x' { // one token in 64 starts so: the "wrong" one would be right
		wrong = "y" + mine[1:]
	}
	for name, form := range map[string]url.Values{
		"missing":         {},
		"wrong":           {"csrf": {wrong}},
		"another session": {"csrf": {theirs}},
	} {
		t.Run(name, func(t *testing.T) {
			p := b.post("/admin/logout", form)
			if p.status != 403 || !strings.Contains(p.body, "security token is missing or belongs to another session") {
				t.Fatalf("%d: %s", p.status, p.body)
			}
			if p := b.get("/admin/"); p.status != 200 {
				t.Fatalf("the refused logout logged out: %d", p.status)
			}
		})
	}
	// The login form has its own token, before any session.
	fresh := ta.browser(t)
	fresh.get("/admin/login")
	if p := fresh.post("/admin/login", url.Values{"email": {ownerEmail}, "password": {ownerPW}}); p.status != 403 {
		t.Fatalf("login without its token: %d", p.status)
	}
}

func TestHTTP_SessionEnds(t *testing.T) {
	ta := newTestAdmin(t, Options{SessionIdle: time.Hour})
	b := ta.browser(t)
	b.login(ownerEmail, ownerPW, "")
	tab := b.get("/admin/audit") // a second tab, open before the logout
	b.post("/admin/logout", url.Values{"csrf": {b.get("/admin/").csrf(t)}})

	// The old tab's form, after the logout: to the login, not a 403.
	p := b.post("/admin/logout", url.Values{"csrf": {tab.csrf(t)}})
	if p.status != 303 || !strings.HasPrefix(p.location, "/admin/login") {
		t.Fatalf("a form from before the logout: %d %q", p.status, p.location)
	}

	// An idle session: the login page says it ended, and sends back after.
	b.login(ownerEmail, ownerPW, "")
	ta.clock.Advance(61 * time.Minute)
	p = b.get("/admin/settings")
	if p.status != 303 || p.location != "/admin/login?ended=1&next=%2Fadmin%2Fsettings" {
		t.Fatalf("idle session: %d %q", p.status, p.location)
	}
	if lp := b.get(p.location); !strings.Contains(lp.body, "Your session has ended") {
		t.Errorf("the login page does not say the session ended: %s", lp.body)
	}

	// A cookie from another instance's database.
	other := ta.browser(t)
	u, _ := url.Parse(ta.srv.URL)
	other.c.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "c29tZSBvdGhlciBkYXRhYmFzZSdzIHNlc3Npb24gaWQ", Path: "/admin"}})
	if p := other.get("/admin/"); p.status != 303 || !strings.HasPrefix(p.location, "/admin/login") {
		t.Fatalf("a foreign cookie: %d %q", p.status, p.location)
	}

	// Wrong password: a clear message, the address kept in the form.
	p = ta.browser(t).login(ownerEmail, "not the password", "")
	if p.status != 401 || !strings.Contains(p.body, "Wrong email or password.") || !strings.Contains(p.body, `value="`+ownerEmail+`"`) {
		t.Fatalf("wrong password: %d %s", p.status, p.body)
	}
	// A name with markup never runs: the login form echoes it escaped.
	p = ta.browser(t).login(`<script>alert(1)</script>@x.org`, "whatever it is", "")
	if strings.Contains(p.body, "<script>alert") {
		t.Fatal("markup in the address came back unescaped")
	}
}

func TestHTTP_Cookies(t *testing.T) {
	for _, tt := range []struct {
		base   string
		secure bool
	}{{"http://127.0.0.1:8080", false}, {"https://news.example.org", true}} {
		ta := newTestAdmin(t, Options{BaseURL: tt.base})
		lresp, err := http.Get(ta.srv.URL + "/admin/login")
		if err != nil {
			t.Fatal(err)
		}
		lb, _ := io.ReadAll(lresp.Body)
		lresp.Body.Close()
		req, _ := http.NewRequest("POST", ta.srv.URL+"/admin/login", strings.NewReader(url.Values{
			"csrf": {page{body: string(lb)}.csrf(t)}, "email": {ownerEmail}, "password": {ownerPW}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range lresp.Cookies() {
			if c.Secure != tt.secure {
				t.Errorf("%s: cookie %s Secure %v", tt.base, c.Name, c.Secure)
			}
			req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var got *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == sessionCookie {
				got = c
			}
		}
		if got == nil || !got.HttpOnly || got.SameSite != http.SameSiteLaxMode || got.Path != "/admin" || got.Secure != tt.secure {
			t.Errorf("%s: %d, session cookie %#v", tt.base, resp.StatusCode, got)
		}
	}
}

func TestHTTP_ChangePassword(t *testing.T) {
	ta := newTestAdmin(t, Options{})
	b, other := ta.browser(t), ta.browser(t)
	b.login(ownerEmail, ownerPW, "")
	other.login(ownerEmail, ownerPW, "")
	change := func(current, pw, again string) page {
		t.Helper()
		return b.post("/admin/account/password", url.Values{"csrf": {b.get("/admin/account").csrf(t)},
			"current": {current}, "new": {pw}, "again": {again}})
	}
	for _, tt := range []struct{ current, pw, again, want string }{
		{"wrong one!", "a brand new password", "a brand new password", "The current password is wrong"},
		{ownerPW, "a brand new password", "a brand new passwort", "The two new passwords differ"},
		{ownerPW, "short", "short", "needs at least 10"},
	} {
		if p := change(tt.current, tt.pw, tt.again); p.status != 422 || !strings.Contains(p.body, tt.want) {
			t.Errorf("%+v: %d, want 422 saying %q: %s", tt, p.status, tt.want, p.body)
		}
	}
	if p := other.get("/admin/"); p.status != 200 {
		t.Fatalf("a refused change ended a session: %d", p.status)
	}
	p := change(ownerPW, "a brand new password", "a brand new password")
	if p.status != 303 || p.location != "/admin/account" {
		t.Fatalf("change: %d %q: %s", p.status, p.location, p.body)
	}
	if p := b.get("/admin/account"); p.status != 200 || !strings.Contains(p.body, "Password changed.") {
		t.Fatalf("this browser after the change: %d: %s", p.status, p.body)
	}
	if p := other.get("/admin/"); p.status != 303 {
		t.Fatalf("the other browser is still logged in: %d", p.status)
	}
	if p := ta.browser(t).login(ownerEmail, "a brand new password", ""); p.status != 303 {
		t.Fatalf("login with the new password: %d", p.status)
	}
	log, _ := ta.Store.AuditLog(context.Background(), 0, 50)
	var pw []string
	for _, e := range log {
		if e.Action == "password" {
			pw = append(pw, e.Detail)
		}
	}
	if len(pw) != 4 || pw[0] != "changed; every session ended" || !strings.Contains(pw[1], "refused: 422") {
		t.Errorf("audit of the password changes: %q", pw)
	}
}

// A form with a file (the CSV import's) is checked the same way: its csrf
// field is read from the multipart body, and the handler gets the file.
func TestHTTP_MultipartForm(t *testing.T) {
	ta := newTestAdmin(t, Options{})
	var got string
	ta.handle("POST /admin/test-upload", func(w http.ResponseWriter, r *http.Request) error {
		f, _, err := r.FormFile("file")
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(f)
		got = string(b)
		setAudit(r, "test.upload", fmt.Sprintf("%d bytes", len(b)))
		return ta.redirect(w, r, "/admin/", "Uploaded.")
	})
	b := ta.browser(t)
	b.login(ownerEmail, ownerPW, "")
	token := b.get("/admin/").csrf(t)
	upload := func(csrf string) page {
		t.Helper()
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		if csrf != "" {
			mw.WriteField("csrf", csrf)
		}
		fw, _ := mw.CreateFormFile("file", "list.csv")
		io.WriteString(fw, "email\na@example.org\n")
		mw.Close()
		req, _ := http.NewRequest("POST", ta.srv.URL+"/admin/test-upload", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := b.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		bs, _ := io.ReadAll(resp.Body)
		return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(bs)}
	}
	if p := upload(""); p.status != 403 || got != "" {
		t.Fatalf("upload without the token: %d, handler saw %q", p.status, got)
	}
	if p := upload(token); p.status != 303 || got != "email\na@example.org\n" {
		t.Fatalf("upload: %d, handler saw %q: %s", p.status, got, p.body)
	}
	log, _ := ta.Store.AuditLog(context.Background(), 0, 1)
	if len(log) != 1 || log[0].Action != "test.upload" || log[0].Detail != "20 bytes" || log[0].Account != ownerEmail {
		t.Errorf("audit entry %+v", log)
	}
}
