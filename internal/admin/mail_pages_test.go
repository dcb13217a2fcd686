package admin

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/mail"
	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// mailFixture is an admin over a real ledger: subscribers, one digest,
// and a transport that refuses one domain for good.
type mailFixture struct {
	*testAdmin
	ledger *mail.Ledger
	subs   *subscribers.Store
	tr     *fakeTransport
	digest mail.Digest
	woken  int
	sent   []string // what SendNow, TestSend and CheckSource were asked
}

// fakeTransport accepts every message except those to refused domains,
// which it answers 550.
type fakeTransport struct {
	mu      sync.Mutex
	refused map[string]bool
	got     []string
}

func (f *fakeTransport) Send(_ context.Context, m *transport.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refused[domainOf(m.To.Address)] {
		return &transport.SendError{Command: "RCPT", Code: 550, Enhanced: "5.7.1", Message: "relaying denied for " + m.To.Address, Permanent: true}
	}
	f.got = append(f.got, m.To.Address)
	return nil
}
func (f *fakeTransport) Close() error { return nil }

type composer struct{}

func (composer) Compose(_ context.Context, e *mail.Edition, s *subscribers.Subscriber) (*transport.Message, error) {
	return &transport.Message{From: netmail.Address{Address: "news@example.org"}, Subject: e.Subject,
		Text: "Hello " + s.Email, HTML: "<p>Hello " + s.Email + "</p>"}, nil
}

func newMailFixture(t testing.TB, subscribersN int) *mailFixture {
	t.Helper()
	db := openDB(t)
	f := &mailFixture{tr: &fakeTransport{refused: map[string]bool{"refused.example": true}},
		digest: mail.Digest{Name: "daily", Title: "Daily news", Schedule: "0 7 * * *", From: netmail.Address{Address: "news@example.org"}}}
	now := func() time.Time { return f.clock.Now() }
	f.subs = subscribers.NewStore(db, []string{"daily"}, now)
	articles := feed.NewStore(db)
	f.ledger = &mail.Ledger{DB: db, Articles: articles, Recipients: f.subs, Now: now}
	sched, err := mail.NewScheduler(f.ledger, []mail.Digest{f.digest}, time.UTC, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	data := Data{Subscribers: f.subs, Ledger: f.ledger, Scheduler: sched, Digests: []mail.Digest{f.digest},
		MailData: MailData{Articles: articles, Sources: []Source{{Name: "partner", URL: "https://partner.example/feed.xml", Every: time.Hour}},
			Rejections: func() []feed.Rejection {
				return []feed.Rejection{{Path: "/content/bad.md", Reason: "front matter: <script>alert(1)</script> is not YAML"}}
			},
			Actions: Actions{
				Preview: func(ctx context.Context, digest, email string) (*transport.Message, error) {
					to := "reader@example.org"
					if email != "" {
						s, err := f.subs.GetByEmail(ctx, email)
						if err != nil {
							return nil, err
						}
						to = s.Email
					}
					return &transport.Message{From: netmail.Address{Address: "news@example.org"}, To: netmail.Address{Address: to},
						Subject: "Daily news for " + to, Text: "Text part for " + to, HTML: "<p>HTML part for " + to + "</p>"}, nil
				},
				TestSend: func(ctx context.Context, digest, to string) error {
					f.sent = append(f.sent, "test "+digest+" "+to)
					return nil
				},
				SendNow: func(ctx context.Context, digest string) (int64, error) {
					ed, _, err := f.ledger.Plan(ctx, f.digest, f.clock.Now())
					if err != nil || ed == nil {
						return 0, err
					}
					f.sent = append(f.sent, "send "+digest)
					return ed.ID, nil
				},
				Wake: func() { f.woken++ },
				CheckSource: func(ctx context.Context, name string) error {
					f.sent = append(f.sent, "check "+name)
					return errors.New("partner.example: 503 Service Unavailable")
				},
			}}}
	f.testAdmin = newTestAdmin(t, Options{DB: db, Data: data})
	for i := range subscribersN {
		domain := "example.org"
		if i%4 == 3 {
			domain = "refused.example"
		}
		if _, err := f.subs.Add(ctx, fmt.Sprintf("r%d@%s", i, domain), "", []string{"daily"}, subscribers.StatusConfirmed, subscribers.Meta{Route: "cli"}); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// send runs the sender over what is due.
func (f *mailFixture) send(t *testing.T) mail.SendReport {
	t.Helper()
	s := &mail.Sender{Ledger: f.ledger, Transport: f.tr, Composer: composer{}, BounceLimit: 5}
	rep, err := s.SendDue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

var failureLink = regexp.MustCompile(`href="(/admin/editions/\d+/deliveries/\d+)">r3@refused.example<`)

func TestHTTP_EditionsSendFailRetry(t *testing.T) {
	f := newMailFixture(t, 8) // two of them at refused.example
	b := f.browser(t)
	b.login(ownerEmail, ownerPW, "")

	if p := b.get("/admin/editions"); p.status != 200 || !strings.Contains(p.body, "No edition yet") {
		t.Fatalf("empty editions page %d: %s", p.status, p.body)
	}

	// Send now: a confirmation first; a POST without it sends nothing.
	p := b.get("/admin/digests/daily/send")
	if p.status != 200 || !strings.Contains(p.body, `name="confirm" value="yes"`) {
		t.Fatalf("send confirmation %d: %s", p.status, p.body)
	}
	tok := p.csrf(t)
	if p := b.post("/admin/digests/daily/send", url.Values{"csrf": {tok}}); p.status != 400 || len(f.sent) != 0 {
		t.Fatalf("send without confirm: %d, %v", p.status, f.sent)
	}
	p = b.post("/admin/digests/daily/send", url.Values{"csrf": {tok}, "confirm": {"yes"}})
	if p.status != 303 || !regexp.MustCompile(`^/admin/editions/\d+$`).MatchString(p.location) {
		t.Fatalf("send: %d %q", p.status, p.location)
	}
	edPath := p.location

	// Before the sender ran: sending, reloading itself, 0 %.
	p = b.get(edPath)
	if p.status != 200 || p.header.Get("Refresh") == "" || !strings.Contains(p.body, "0 of 8 deliveries done (0 %)") ||
		!strings.Contains(p.body, "Edition planned; sending.") {
		t.Fatalf("edition while queued %d (Refresh %q): %s", p.status, p.header.Get("Refresh"), p.body)
	}
	if !strings.Contains(p.body, "/pause\"") || strings.Contains(p.body, "/retry\"") {
		t.Errorf("queued edition's actions: want pause, no retry: %s", p.body)
	}

	// Pause holds it: the sender sends nothing.
	p = b.post(edPath+"/pause", url.Values{"csrf": {tok}})
	if p.status != 303 {
		t.Fatalf("pause: %d %s", p.status, p.body)
	}
	if rep := f.send(t); rep.Sent != 0 {
		t.Fatalf("sent %d while paused", rep.Sent)
	}
	p = b.get(edPath)
	if !strings.Contains(p.body, "Paused") || !strings.Contains(p.body, "paused by "+ownerEmail) || p.header.Get("Refresh") != "" || !strings.Contains(p.body, "/resume\"") {
		t.Fatalf("paused edition page (Refresh %q): %s", p.header.Get("Refresh"), p.body)
	}
	if p := b.post(edPath+"/pause", url.Values{"csrf": {tok}}); p.status != 409 || !strings.Contains(p.body, "paused already") {
		t.Errorf("second pause: %d %s", p.status, p.body)
	}
	if p := b.post(edPath+"/resume", url.Values{"csrf": {tok}}); p.status != 303 || f.woken != 1 {
		t.Fatalf("resume: %d, woken %d", p.status, f.woken)
	}

	// Sent: 6 accepted, 2 refused with their replies.
	if rep := f.send(t); rep.Sent != 6 || rep.Failed != 2 {
		t.Fatalf("send report %+v", rep)
	}
	p = b.get(edPath)
	if p.header.Get("Refresh") != "" || !strings.Contains(p.body, "8 of 8 deliveries done (100 %)") {
		t.Fatalf("done edition page (Refresh %q): %s", p.header.Get("Refresh"), p.body)
	}
	if !strings.Contains(p.body, "550 5.7.1 relaying denied for r3@refused.example") || !strings.Contains(p.body, "Retry 2 failed") {
		t.Fatalf("failures not shown: %s", p.body)
	}
	m := failureLink.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no link to the failure: %s", p.body)
	}
	dp := b.get(m[1])
	if dp.status != 200 || !strings.Contains(dp.body, "relaying denied") || !strings.Contains(dp.body, "550") {
		t.Fatalf("failure page %d: %s", dp.status, dp.body)
	}
	if p := b.get(edPath + "/deliveries/999999"); p.status != 404 {
		t.Errorf("unknown delivery: %d", p.status)
	}

	// The list has the counts.
	p = b.get("/admin/editions")
	if !strings.Contains(p.body, `<td class="num">6</td><td class="num">0</td><td class="num">2</td>`) {
		t.Errorf("editions list counts: %s", p.body)
	}

	// Retry once the domain takes mail.
	f.tr.mu.Lock()
	f.tr.refused = nil
	f.tr.mu.Unlock()
	p = b.post(edPath+"/retry", url.Values{"csrf": {tok}})
	if p.status != 303 || f.woken != 2 {
		t.Fatalf("retry: %d, woken %d", p.status, f.woken)
	}
	if p := b.get(edPath); !strings.Contains(p.body, "2 failed deliveries queued again") {
		t.Errorf("no word of the retry: %s", p.body)
	}
	if rep := f.send(t); rep.Sent != 2 {
		t.Fatalf("retry sent %+v", rep)
	}
	if p := b.get(edPath); !strings.Contains(p.body, "8 of 8 deliveries done") || strings.Contains(p.body, "relaying denied") {
		t.Errorf("after the retry: %s", p.body)
	}

	// Every action is in the audit log, with CSRF required.
	if p := b.post(edPath+"/retry", url.Values{}); p.status != 403 {
		t.Errorf("retry without a token: %d", p.status)
	}
	log, err := f.Store.AuditLog(context.Background(), 0, 20)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range log {
		actions = append(actions, e.Action)
	}
	got := strings.Join(actions, ",")
	for _, want := range []string{"edition.retry", "edition.resume", "edition.pause", "digest.send"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit log %q lacks %s", got, want)
		}
	}

	// Bad input.
	for path, status := range map[string]int{"/admin/editions/abc": 404, "/admin/editions/12345": 404, "/admin/editions/-1": 404} {
		if p := b.get(path); p.status != status {
			t.Errorf("%s: %d, want %d", path, p.status, status)
		}
	}
	if p := b.post("/admin/editions/12345/retry", url.Values{"csrf": {tok}}); p.status != 404 {
		t.Errorf("retry of an unknown edition: %d", p.status)
	}
}

func TestHTTP_EditionsPaging(t *testing.T) {
	f := newMailFixture(t, 1)
	ctx := context.Background()
	for i := range editionsPageSize + 3 {
		if _, _, err := f.ledger.Plan(ctx, f.digest, f.clock.Now().Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	b := f.browser(t)
	b.login(ownerEmail, ownerPW, "")
	p := b.get("/admin/editions")
	rows := regexp.MustCompile(`<tr><td><a href="/admin/editions/(\d+)">`).FindAllStringSubmatch(p.body, -1)
	if len(rows) != editionsPageSize || rows[0][1] != fmt.Sprint(editionsPageSize+3) {
		t.Fatalf("first page: %d rows, first %v", len(rows), rows[0])
	}
	next := regexp.MustCompile(`href="(/admin/editions\?before=\d+)" rel="next"`).FindStringSubmatch(p.body)
	if next == nil {
		t.Fatal("no link to older editions")
	}
	p = b.get(next[1])
	rows = regexp.MustCompile(`<tr><td><a href="/admin/editions/(\d+)">`).FindAllStringSubmatch(p.body, -1)
	if len(rows) != 3 || rows[2][1] != "1" || strings.Contains(p.body, `rel="next"`) {
		t.Fatalf("second page: %v", rows)
	}
}

func TestHTTP_DigestPreviewAndTest(t *testing.T) {
	f := newMailFixture(t, 1)
	b := f.browser(t)
	b.login(ownerEmail, ownerPW, "")

	p := b.get("/admin/digests")
	if p.status != 200 || !strings.Contains(p.body, "0 7 * * *") || !strings.Contains(p.body, "2026-03-02 07:00 UTC") {
		t.Fatalf("digests page %d: %s", p.status, p.body)
	}
	p = b.get("/admin/digests/daily?email=r0@example.org")
	if p.status != 200 || !strings.Contains(p.body, "Daily news for r0@example.org") || !strings.Contains(p.body, "Text part for r0@example.org") {
		t.Fatalf("digest page %d: %s", p.status, p.body)
	}
	if !strings.Contains(p.body, `<iframe class="preview" title="The HTML part of the next edition" sandbox src="/admin/digests/daily/preview.html?email=r0%40example.org">`) {
		t.Errorf("no sandboxed frame: %s", p.body)
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("digest page CSP %q", csp)
	}
	// Only the preview may be framed, by the admin alone, with no script.
	h := b.get("/admin/digests/daily/preview.html?email=r0%40example.org")
	if h.status != 200 || h.body != "<p>HTML part for r0@example.org</p>" {
		t.Fatalf("preview.html %d: %q", h.status, h.body)
	}
	if csp := h.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'self'") || !strings.Contains(csp, "sandbox") || strings.Contains(csp, "script") {
		t.Errorf("preview CSP %q", csp)
	}
	if xfo := h.header.Get("X-Frame-Options"); xfo != "SAMEORIGIN" {
		t.Errorf("preview X-Frame-Options %q", xfo)
	}
	for _, path := range []string{"/admin/digests/daily", "/admin/editions"} {
		if csp := b.get(path).header.Get("Content-Security-Policy"); strings.Contains(csp, "frame-ancestors 'self'") {
			t.Errorf("%s may be framed: %q", path, csp)
		}
	}
	e := b.get("/admin/digests/daily/preview.eml")
	if e.status != 200 || e.header.Get("Content-Type") != "message/rfc822" || !strings.Contains(e.header.Get("Content-Disposition"), "daily-preview.eml") ||
		!strings.Contains(e.body, "Subject: Daily news for reader@example.org") || !strings.Contains(e.body, "Message-Id:") && !strings.Contains(e.body, "Message-ID:") {
		t.Fatalf("preview.eml %d %v: %s", e.status, e.header, e.body)
	}

	// An address no subscriber has: said on the page, no frame.
	p = b.get("/admin/digests/daily?email=nobody@example.org")
	if p.status != 404 || !strings.Contains(p.body, "No subscriber has the address &#34;nobody@example.org&#34;") || strings.Contains(p.body, "<iframe") {
		t.Fatalf("unknown subscriber preview %d: %s", p.status, p.body)
	}
	p = b.get("/admin/digests/daily?email=%3Cb%3Enobody%3C/b%3E@example.org")
	if p.status != 400 || !strings.Contains(p.body, "&lt;b&gt;nobody") || strings.Contains(p.body, "<b>nobody") {
		t.Fatalf("markup as the address %d: %s", p.status, p.body)
	}
	p = b.get("/admin/digests/daily?email=not+an+address")
	if p.status != 400 || !strings.Contains(p.body, "&#34;not an address&#34; is not an email address") || strings.Contains(p.body, "<iframe") {
		t.Errorf("preview as a non-address %d: %s", p.status, p.body)
	}
	if p := b.get("/admin/digests/weekly"); p.status != 404 {
		t.Errorf("unknown digest: %d", p.status)
	}

	// Test send.
	tok := p.csrf(t)
	if p := b.post("/admin/digests/daily/test", url.Values{"csrf": {tok}, "to": {"not an address"}}); p.status != 400 || !strings.Contains(p.body, "is not an email address") || len(f.sent) != 0 {
		t.Fatalf("test to a non-address: %d %v %s", p.status, f.sent, p.body)
	}
	p = b.post("/admin/digests/daily/test", url.Values{"csrf": {tok}, "to": {"Me <me@example.org>"}})
	if p.status != 303 || len(f.sent) != 1 || f.sent[0] != "test daily me@example.org" {
		t.Fatalf("test send: %d %v", p.status, f.sent)
	}
	if p := b.get(p.location); !strings.Contains(p.body, "A test copy of the next edition was sent to me@example.org.") {
		t.Errorf("no word of the test send: %s", p.body)
	}
}

func TestHTTP_ArticlesAndSources(t *testing.T) {
	f := newMailFixture(t, 0)
	b := f.browser(t)
	b.login(ownerEmail, ownerPW, "")
	p := b.get("/admin/articles")
	if p.status != 200 || !strings.Contains(p.body, "partner") || !strings.Contains(p.body, "never") {
		t.Fatalf("articles page %d: %s", p.status, p.body)
	}
	if !strings.Contains(p.body, "/content/bad.md") || strings.Contains(p.body, "<script>") || !strings.Contains(p.body, "&lt;script&gt;") {
		t.Errorf("rejected files: %s", p.body)
	}
	tok := p.csrf(t)
	p = b.post("/admin/articles/sources/check", url.Values{"csrf": {tok}, "source": {"partner"}})
	if p.status != 303 || len(f.sent) != 1 || f.sent[0] != "check partner" {
		t.Fatalf("check now: %d %v", p.status, f.sent)
	}
	if p := b.get("/admin/articles"); !strings.Contains(p.body, "Fetched partner: it failed: partner.example: 503") {
		t.Errorf("no word of the check: %s", p.body)
	}
	if p := b.post("/admin/articles/sources/check", url.Values{"csrf": {tok}, "source": {"other"}}); p.status != 404 || len(f.sent) != 1 {
		t.Errorf("check of an unknown source: %d %v", p.status, f.sent)
	}
}

func TestSourceInterval(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Hour: "1h", 10 * time.Minute: "10m", 90 * time.Minute: "1h30m",
		30 * time.Second: "30s", 24 * time.Hour: "24h", time.Hour + 5*time.Second: "1h0m5s"} {
		if got := (sourceRow{Source: Source{Every: d}}).Interval(); got != want {
			t.Errorf("%v: %q, want %q", d, got, want)
		}
	}
}

func TestArticleState(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	gone := now.Add(-time.Hour)
	for _, c := range []struct {
		a    feed.Article
		want string
	}{
		{feed.Article{Published: now.Add(-time.Hour)}, "published"},
		{feed.Article{Published: now}, "published"},
		{feed.Article{Published: now.Add(time.Hour)}, "scheduled"},
		{feed.Article{Published: now.Add(-time.Hour), Draft: true}, "draft"},
		{feed.Article{Published: now.Add(time.Hour), Draft: true}, "draft"},
		{feed.Article{Published: now.Add(-time.Hour), Draft: true, Removed: &gone}, "removed"},
	} {
		if got := articleState(&c.a, now); got != c.want {
			t.Errorf("%+v: %s, want %s", c.a, got, c.want)
		}
	}
}
