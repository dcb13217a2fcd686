package admin

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tidings/tidings/mail"
	"github.com/tidings/tidings/subscribers"
)

// subsAdmin is an admin over a subscriber list with the digests daily
// and weekly, logged in.
func subsAdmin(t testing.TB) (*testAdmin, *browser, *subscribers.Store) {
	t.Helper()
	db := openDB(t)
	st := subscribers.NewStore(db, []string{"daily", "weekly"}, nil)
	ta := newTestAdmin(t, Options{DB: db, Data: Data{Subscribers: st,
		Digests: []mail.Digest{{Name: "daily", Title: "Every morning"}, {Name: "weekly", Title: "On Fridays"}}}})
	ta.imports.dir = t.TempDir()
	t.Cleanup(func() { ta.Close() })
	b := ta.browser(t)
	if p := b.login(ownerEmail, ownerPW, ""); p.status != 303 {
		t.Fatalf("login: %d", p.status)
	}
	return ta, b, st
}

func add(t testing.TB, st *subscribers.Store, email, name string, digests ...string) *subscribers.Subscriber {
	t.Helper()
	s, err := st.Add(context.Background(), email, name, digests, "", subscribers.Meta{Route: "cli"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func wantIn(t testing.TB, p page, what ...string) {
	t.Helper()
	for _, w := range what {
		if !strings.Contains(p.body, w) {
			t.Errorf("page (%d) lacks %q:\n%s", p.status, w, p.body)
		}
	}
}

func auditActions(t testing.TB, ta *testAdmin) string {
	t.Helper()
	es, err := ta.Store.AuditLog(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Action+" "+e.Detail)
	}
	return strings.Join(out, "\n")
}

var rowLinkRE = regexp.MustCompile(`<a href="/admin/subscribers/(\d+)">`)

func TestSubscribersPage_SearchFilterPaging(t *testing.T) {
	ta, b, st := subsAdmin(t)
	ctx := context.Background()
	for i := range 120 {
		d := "daily"
		if i%4 == 0 {
			d = "weekly"
		}
		add(t, st, fmt.Sprintf("reader%03d@example.org", i), fmt.Sprintf("Reader %d", i), d)
	}
	evil := add(t, st, "mallory@example.org", `<script>alert("x")</script> Mallory`, "daily")
	if _, err := st.Unsubscribe(ctx, evil.ID, subscribers.Meta{}); err != nil {
		t.Fatal(err)
	}

	p := b.get("/admin/subscribers")
	wantIn(t, p, "121 subscribers", `<span class="n">120</span> confirmed`, `<span class="n">1</span> unsubscribed`,
		`rel="next"`, "reader000@example.org")
	if strings.Contains(p.body, `rel="prev"`) {
		t.Error("the first page links to a previous one")
	}
	if n := len(rowLinkRE.FindAllString(p.body, -1)); n != subscriberPageSize {
		t.Errorf("first page shows %d rows, want %d", n, subscriberPageSize)
	}
	// Next, next: the last page; then back.
	next := regexp.MustCompile(`href="([^"]+)" rel="next"`)
	prev := regexp.MustCompile(`href="([^"]+)" rel="prev"`)
	p2 := b.get(html.UnescapeString(next.FindStringSubmatch(p.body)[1]))
	p3 := b.get(html.UnescapeString(next.FindStringSubmatch(p2.body)[1]))
	wantIn(t, p3, "mallory@example.org", `rel="prev"`)
	if strings.Contains(p3.body, `rel="next"`) || len(rowLinkRE.FindAllString(p3.body, -1)) != 21 {
		t.Errorf("last page: %d rows, next link %v", len(rowLinkRE.FindAllString(p3.body, -1)), strings.Contains(p3.body, `rel="next"`))
	}
	back := b.get(html.UnescapeString(prev.FindStringSubmatch(p3.body)[1]))
	if rowLinkRE.FindAllString(back.body, -1)[0] != rowLinkRE.FindAllString(p2.body, -1)[0] || !strings.Contains(back.body, `rel="prev"`) {
		t.Error("previous page from the last is not the second page")
	}

	// The name's markup is shown, escaped, never run.
	if strings.Contains(p3.body, "<script>") || !strings.Contains(p3.body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Mallory") {
		t.Error("the name with markup is not escaped in the list")
	}

	for _, c := range []struct {
		query string
		want  int
		first string
	}{
		{"q=READER11", 10, "reader110@example.org"},         // 110..119
		{"q=reader1&status=confirmed&digest=weekly", 5, ""}, // 100..119, every fourth
		{"q=Mallory", 1, "mallory@example.org"},
		{"status=unsubscribed", 1, "mallory@example.org"},
		{"q=100%25", 0, ""},
		{"q=nobody", 0, ""},
	} {
		p := b.get("/admin/subscribers?" + c.query)
		if n := len(rowLinkRE.FindAllString(p.body, -1)); n != c.want {
			t.Errorf("%s: %d rows, want %d", c.query, n, c.want)
		}
		if c.first != "" && !strings.Contains(p.body, c.first) {
			t.Errorf("%s: %s not shown", c.query, c.first)
		}
		if c.want == 0 {
			wantIn(t, p, "No subscriber matches.")
		}
	}
	if p := b.get("/admin/subscribers?status=active"); p.status != 400 || !strings.Contains(p.body, `&#34;active&#34; is not a status`) {
		t.Errorf("bad status: %d %s", p.status, p.body)
	}
	_ = ta
}

func TestSubscriberPage_Actions(t *testing.T) {
	ta, b, st := subsAdmin(t)
	ctx := context.Background()
	s := add(t, st, "jane@example.org", `Jane <b>Roe</b>`, "daily")
	path := fmt.Sprintf("/admin/subscribers/%d", s.ID)

	p := b.get(path)
	wantIn(t, p, "<h1>jane@example.org</h1>", "confirmed", "Jane &lt;b&gt;Roe&lt;/b&gt;", "imported", "added by operator",
		`value="daily" checked`, `value="weekly">`, "Every morning")
	if p := b.get("/admin/subscribers/999"); p.status != 404 || !strings.Contains(p.body, "There is no subscriber 999") {
		t.Errorf("unknown id: %d", p.status)
	}
	if p := b.get("/admin/subscribers/x1"); p.status != 404 {
		t.Errorf("bad id: %d", p.status)
	}

	// Change digests: both, then none.
	tok := p.csrf(t)
	r := b.post(path+"/digests", url.Values{"csrf": {tok}, "digests": {"daily", "weekly"}})
	if r.status != 303 || r.location != path {
		t.Fatalf("digests: %d %q %s", r.status, r.location, r.body)
	}
	wantIn(t, b.get(path), "Digests saved: daily, weekly.", `value="weekly" checked`, "digests daily -&gt; daily, weekly")
	b.post(path+"/digests", url.Values{"csrf": {tok}})
	if got, _ := st.Get(ctx, s.ID); len(got.Digests) != 0 {
		t.Errorf("no box ticked leaves digests %v", got.Digests)
	}
	if r := b.post(path+"/digests", url.Values{"csrf": {tok}, "digests": {"hourly"}}); r.status != 422 || !strings.Contains(r.body, "The digests were not changed") {
		t.Errorf("unknown digest: %d %s", r.status, r.body)
	}

	// Unsubscribe.
	r = b.post(path+"/unsubscribe", url.Values{"csrf": {tok}})
	if got, _ := st.Get(ctx, s.ID); r.status != 303 || got.Status != subscribers.StatusUnsubscribed {
		t.Fatalf("unsubscribe: %d, status %s", r.status, got.Status)
	}
	evs, _ := st.Events(ctx, s.ID)
	if last := evs[len(evs)-1]; last.Kind != subscribers.EventUnsubscribed || last.Route != "admin" || last.IP != "127.0.0.1" {
		t.Errorf("unsubscribe event %+v", last)
	}

	// Forget: a page first, which changes nothing; without the token
	// the POST is refused; with it the subscriber is gone.
	fp := b.get(path + "/forget")
	wantIn(t, fp, "Forget jane@example.org?", "cannot be undone", `action="`+path+`/forget"`)
	if _, err := st.Get(ctx, s.ID); err != nil {
		t.Fatal("the confirmation page forgot already")
	}
	if r := b.post(path+"/forget", url.Values{}); r.status != 403 {
		t.Errorf("forget without token: %d", r.status)
	}
	r = b.post(path+"/forget", url.Values{"csrf": {fp.csrf(t)}})
	if r.status != 303 || r.location != "/admin/subscribers" {
		t.Fatalf("forget: %d %q", r.status, r.location)
	}
	if _, err := st.Get(ctx, s.ID); err == nil {
		t.Fatal("still there after forget")
	}
	wantIn(t, b.get("/admin/subscribers"), "Forgotten: subscriber")
	if p := b.get(path); p.status != 404 {
		t.Errorf("forgotten subscriber's page: %d", p.status)
	}

	log := auditActions(t, ta)
	for _, w := range []string{fmt.Sprintf("subscriber.forget id %d", s.ID), "subscriber.unsubscribe id", "subscriber.digests id",
		"(refused: 422)"} {
		if !strings.Contains(log, w) {
			t.Errorf("audit log lacks %q:\n%s", w, log)
		}
	}
	if strings.Contains(log, "forget id "+fmt.Sprint(s.ID)+", jane") {
		t.Error("the audit log keeps the forgotten address")
	}
}

func TestSubscriberAdd(t *testing.T) {
	ta, b, st := subsAdmin(t)
	p := b.get("/admin/subscribers/new")
	wantIn(t, p, `value="daily" checked`, `value="weekly" checked`, `value="confirmed" checked`)
	tok := p.csrf(t)
	r := b.post("/admin/subscribers", url.Values{"csrf": {tok}, "email": {"New@Example.ORG"}, "name": {"Nia"},
		"digests": {"weekly"}, "status": {"pending"}})
	if r.status != 303 {
		t.Fatalf("add: %d %s", r.status, r.body)
	}
	s, err := st.GetByEmail(context.Background(), "new@example.org")
	if err != nil || s.Status != subscribers.StatusPending || len(s.Digests) != 1 || s.Digests[0] != "weekly" || r.location != fmt.Sprintf("/admin/subscribers/%d", s.ID) {
		t.Fatalf("added %+v %v, sent to %q", s, err, r.location)
	}
	for _, c := range []struct{ email, want string }{
		{"new@example.org", "already on the list"},
		{"not an address", "Not added: email"},
	} {
		r := b.post("/admin/subscribers", url.Values{"csrf": {tok}, "email": {c.email}, "name": {"<i>x</i>"}, "status": {"confirmed"}})
		if r.status != 422 || !strings.Contains(r.body, c.want) || !strings.Contains(r.body, `value="&lt;i&gt;x&lt;/i&gt;"`) {
			t.Errorf("%q: %d, want 422 with %q and the form kept: %s", c.email, r.status, c.want, r.body)
		}
	}
	if !strings.Contains(auditActions(t, ta), fmt.Sprintf("subscriber.add id %d, New@example.org", s.ID)) {
		t.Error("the add is not in the audit log")
	}
}

// upload posts a file to the import form as a browser does.
func (b *browser) upload(name string, data []byte, csrf string) page {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", b.base+"/admin/subscribers/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: out.String(), header: resp.Header}
}

// importFile uploads data and returns its preview page and path.
func importFile(t *testing.T, b *browser, name string, data []byte) (page, string) {
	t.Helper()
	r := b.upload(name, data, b.get("/admin/subscribers/import").csrf(t))
	if r.status != 303 || !strings.HasPrefix(r.location, "/admin/subscribers/import/") {
		t.Fatalf("upload %s: %d %q %s", name, r.status, r.location, r.body)
	}
	return b.get(r.location), r.location
}

// finish waits for the import at path to end and returns its summary.
func finish(t *testing.T, b *browser, path string) page {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p := b.get(path)
		if !strings.Contains(p.body, "<progress") {
			return p
		}
		if p.header.Get("Refresh") != "2" {
			t.Errorf("progress page without a Refresh header")
		}
		if time.Now().After(deadline) {
			t.Fatal("the import does not end")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mappingForm is the preview's form as it stands, with changes.
func mappingForm(t *testing.T, p page, action string, set map[string]string) url.Values {
	t.Helper()
	f := url.Values{"csrf": {p.csrf(t)}, "action": {action}}
	n := regexp.MustCompile(`name="columns" value="(\d+)"`).FindStringSubmatch(p.body)
	if n == nil {
		t.Fatalf("no mapping form: %s", p.body)
	}
	f.Set("columns", n[1])
	sel := regexp.MustCompile(`(?s)<select id="(col\d+)" name="col\d+">(.*?)</select>`)
	for _, m := range sel.FindAllStringSubmatch(p.body, -1) {
		v := ""
		if s := regexp.MustCompile(`value="([^"]*)" selected`).FindStringSubmatch(m[2]); s != nil {
			v = s[1]
		}
		f.Set(m[1], v)
	}
	for k, v := range set {
		f.Set(k, v)
	}
	return f
}

func TestImport_MappingByHandAndSummary(t *testing.T) {
	ta, b, st := subsAdmin(t)
	ctx := context.Background()
	gone := add(t, st, "left@example.org", "", "daily")
	st.Unsubscribe(ctx, gone.ID, subscribers.Meta{})
	var csv bytes.Buffer
	csv.WriteString("email,name,Membership Level\n")
	for i := range 90 {
		fmt.Fprintf(&csv, "member%02d@example.org,Member %d,gold\n", i, i)
	}
	for i := range 10 { // 10 % invalid
		fmt.Fprintf(&csv, "not-an-address-%d,Broken %d,gold\n", i, i)
	}
	csv.WriteString("left@example.org,Back Again,gold\n")
	csv.WriteString(`evil@example.org,<img src=x onerror=alert(1)>,gold` + "\n")

	p, path := importFile(t, b, "members.csv", csv.Bytes())
	wantIn(t, p, "members.csv", `unknown column &#34;Membership Level&#34;`, `<label for="col2">Membership Level</label>`,
		"Not recognised as any tool")
	if strings.Contains(p.body, `value="import"`) && !strings.Contains(p.body, "Preview with this mapping") {
		t.Error("no way to preview again")
	}
	// Leave the unknown column out and preview again.
	r := b.post(path, mappingForm(t, p, "preview", map[string]string{"col2": ""}))
	if r.status != 303 {
		t.Fatalf("preview again: %d %s", r.status, r.body)
	}
	p = b.get(path)
	wantIn(t, p, "member00@example.org", "Member 0", `value="" selected>leave out`)
	if strings.Contains(p.body, "unknown column") {
		t.Error("the hand mapping is not used")
	}
	if _, err := st.GetByEmail(ctx, "member00@example.org"); err == nil {
		t.Fatal("the preview stored a row")
	}
	// A mapping without email is refused before anything starts.
	if r := b.post(path, mappingForm(t, p, "import", map[string]string{"col0": ""})); r.status != 422 || !strings.Contains(r.body, "no column feeds email") {
		t.Errorf("import without email column: %d", r.status)
	}
	r = b.post(path, mappingForm(t, p, "import", map[string]string{"confirmed": "1"}))
	if r.status != 303 || r.location != path {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	s := finish(t, b, path)
	wantIn(t, s, "The import is done", `<span class="n">91</span> added`, `<span class="n">10</span> skipped (0 already up to date, 10 with errors)`,
		`<span class="n">1</span> kept`, "1 unsubscribed", "<code>Membership Level</code>", "<td class=\"num\">92</td>",
		"not-an-address-0")
	if strings.Contains(s.body, "<img src=x") {
		t.Error("markup from the file is not escaped in the summary")
	}
	if got, _ := st.GetByEmail(ctx, "member05@example.org"); got == nil || got.Status != subscribers.StatusConfirmed {
		t.Errorf("imported row: %+v", got)
	}
	if got, _ := st.GetByEmail(ctx, "left@example.org"); got.Status != subscribers.StatusUnsubscribed {
		t.Error("an import turned a no into a yes")
	}
	if r := b.post(path, url.Values{"csrf": {s.csrf(t)}, "action": {"import"}}); r.status != 303 {
		t.Errorf("a second start: %d", r.status)
	}
	if got := b.get("/admin/subscribers"); !strings.Contains(got.body, "92 subscribers") {
		t.Error("the list does not show the import")
	}
	log := auditActions(t, ta)
	if !strings.Contains(log, "subscribers.import.done members.csv: added 91, updated 0, skipped 10 (10 errors), kept 1") {
		t.Errorf("audit log: %s", log)
	}
	// The upload is gone from disk once done.
	if files, _ := os.ReadDir(ta.imports.dir); len(files) != 0 {
		t.Errorf("uploads left: %v", files)
	}
}

func TestImport_BadInput(t *testing.T) {
	ta, b, st := subsAdmin(t)
	ta.imports.max = 1 << 20
	ctx := context.Background()

	t.Run("too large", func(t *testing.T) {
		big := bytes.Repeat([]byte("someone@example.org,Some One\n"), (2<<20)/29)
		r := b.upload("big.csv", append([]byte("email,name\n"), big...), b.get("/admin/subscribers/import").csrf(t))
		if r.status != 413 || !strings.Contains(r.body, "big.csv is 2.0 MB; the admin imports files up to 1 MB. Nothing was imported.") {
			t.Errorf("%d %s", r.status, r.body)
		}
		if files, _ := os.ReadDir(ta.imports.dir); len(files) != 0 {
			t.Errorf("a refused upload was kept: %v", files)
		}
	})
	t.Run("not csv", func(t *testing.T) {
		p, _ := importFile(t, b, "list.xlsx", []byte("PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00binary"))
		wantIn(t, p, "this is not a CSV file: it holds binary data", "Upload another file")
		if strings.Contains(p.body, `value="import"`) {
			t.Error("a binary file can be imported")
		}
	})
	t.Run("empty", func(t *testing.T) {
		r := b.upload("empty.csv", nil, b.get("/admin/subscribers/import").csrf(t))
		if r.status != 422 || !strings.Contains(r.body, "empty.csv is empty") {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
	t.Run("no file", func(t *testing.T) {
		r := b.post("/admin/subscribers/import", url.Values{"csrf": {b.get("/admin/subscribers/import").csrf(t)}})
		if r.status != 400 || !strings.Contains(r.body, "No file was sent") {
			t.Errorf("%d %s", r.status, r.body)
		}
	})
	t.Run("bom and semicolons", func(t *testing.T) {
		p, path := importFile(t, b, "semi.csv", []byte("\ufeffemail;name\nsemi@example.org;Semi Colon\n"))
		wantIn(t, p, "tidings' own format", "separated by a semicolon", "semi@example.org", "Semi Colon")
		b.post(path, mappingForm(t, p, "import", nil))
		wantIn(t, finish(t, b, path), `<span class="n">1</span> added (1 pending)`)
		if s, err := st.GetByEmail(ctx, "semi@example.org"); err != nil || s.Name != "Semi Colon" {
			t.Errorf("%+v %v", s, err)
		}
	})
	t.Run("broken quotes", func(t *testing.T) {
		p, path := importFile(t, b, "quotes.csv", []byte("email,name\nq1@example.org,\"Unclosed\nq2@example.org,Fine\n"))
		wantIn(t, p, "Skipped:", `class="bad"`)
		b.post(path, mappingForm(t, p, "import", nil))
		s := finish(t, b, path)
		wantIn(t, s, "with errors", "quote")
	})
	t.Run("mailchimp export", func(t *testing.T) {
		data, err := os.ReadFile("../../subscribers/testdata/import/mailchimp_unsubscribed.csv")
		if err != nil {
			t.Fatal(err)
		}
		p, _ := importFile(t, b, "mc.csv", data)
		wantIn(t, p, "an export of mailchimp", `value="email" selected`)
	})
	t.Run("discard", func(t *testing.T) {
		p, path := importFile(t, b, "d.csv", []byte("email\nd@example.org\n"))
		r := b.post(path, url.Values{"csrf": {p.csrf(t)}, "action": {"discard"}})
		if r.status != 303 || !strings.Contains(b.get(r.location).body, "Discarded d.csv: nothing was imported.") {
			t.Errorf("discard: %d", r.status)
		}
		if p := b.get(path); p.status != 404 {
			t.Errorf("a discarded import: %d", p.status)
		}
	})
	if p := b.get("/admin/subscribers/import/nosuch/"); p.status != 404 || !strings.Contains(p.body, "Upload the file again") {
		t.Errorf("unknown import: %d", p.status)
	}
}

// An import that fails part-way says which lines were stored.
func TestImport_StoppedPartWay(t *testing.T) {
	d := summaryOf(importJob{Name: "x.csv", Lines: 1001, Err: fmt.Errorf("import: storing lines 1002 to 2001: %w", context.DeadlineExceeded),
		Result: subscribers.ImportResult{Added: 1000}})
	if d.Completed || d.Stored != 1001 || !strings.Contains(d.Stopped, "storing lines 1002 to 2001") {
		t.Fatalf("%+v", d)
	}
	many := summaryOf(importJob{RowErrors: 5000, Result: subscribers.ImportResult{Skipped: 5002,
		Errors: make([]subscribers.RowError, shownRowErrors)}})
	if many.More != 5000-shownRowErrors || many.UpToDate != 2 || len(many.Errors) != shownRowErrors {
		t.Errorf("5000 row errors, %d kept: more %d, up to date %d", shownRowErrors, many.More, many.UpToDate)
	}
	ta, _, _ := subsAdmin(t)
	var b strings.Builder
	if err := ta.pages["import_summary.html"].ExecuteTemplate(&b, "main", View{Data: d}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "Lines up to 1001 were stored (counted below); nothing after line 1001 was.") {
		t.Errorf("summary: %s", b.String())
	}
}

func TestSubscribersExport(t *testing.T) {
	ta, b, st := subsAdmin(t)
	add(t, st, "x@example.org", "=HYPERLINK(1)", "daily")
	p := b.get("/admin/subscribers/export")
	if p.status != 200 || !strings.HasPrefix(p.header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(p.header.Get("Content-Disposition"), "attachment") ||
		p.body != "email,name,digests,status,timezone\nx@example.org,'=HYPERLINK(1),daily,confirmed,\n" {
		t.Fatalf("%d %v %q", p.status, p.header, p.body)
	}
	if !strings.Contains(auditActions(t, ta), "subscribers.export") {
		t.Error("the export is not in the audit log")
	}
}

// While an import runs its page is a progress bar that reloads itself
// without script.
func TestImport_ProgressPage(t *testing.T) {
	ta, b, _ := subsAdmin(t)
	ta.imports.mu.Lock()
	ta.imports.jobs["abc"] = &importJob{ID: "abc", Name: "big.csv", Size: 4 << 20, Bytes: 1 << 20, Lines: 20001, State: "running"}
	ta.imports.mu.Unlock()
	p := b.get("/admin/subscribers/import/abc/")
	if p.status != 200 || p.header.Get("Refresh") != "2" {
		t.Fatalf("%d, Refresh %q", p.status, p.header.Get("Refresh"))
	}
	wantIn(t, p, "<h1>Importing big.csv</h1>", `<progress id="progress" max="100" value="25">`, "Read 1.0 MB of 4.0 MB (25 %); stored up to line 20001")
	if strings.Contains(p.body, "http-equiv") {
		t.Error("a timed meta refresh in the page")
	}
	if r := b.post("/admin/subscribers/import/abc/", url.Values{"csrf": {p.csrf(t)}, "action": {"discard"}}); r.status != 303 {
		t.Errorf("discard while running: %d", r.status)
	}
	if _, _, err := ta.imports.get(httptest.NewRequest("GET", "/", nil)); err == nil {
		t.Error("found a job without an id")
	}
	ta.imports.mu.Lock()
	defer ta.imports.mu.Unlock()
	if ta.imports.jobs["abc"] == nil {
		t.Error("a running import was discarded")
	}
}
