package mail_test

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// parsed is a composed message read back as a mail client would.
type parsed struct {
	header     mail.Header
	text, html string
}

// parseMessage reads raw with net/mail and mime/multipart and checks the
// structure every digest has: multipart/alternative, text then HTML.
func parseMessage(t *testing.T, raw []byte) parsed {
	t.Helper()
	for i, line := range bytes.Split(raw, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("line %d is %d octets long", i+1, len(line))
		}
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types, bodies []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, err := io.ReadAll(p) // quoted-printable is decoded by the reader
		if err != nil {
			t.Fatal(err)
		}
		types = append(types, ct)
		bodies = append(bodies, strings.ReplaceAll(string(b), "\r\n", "\n"))
	}
	if len(types) != 2 || types[0] != "text/plain" || types[1] != "text/html" {
		t.Fatalf("parts %v, want text/plain then text/html", types)
	}
	return parsed{header: msg.Header, text: bodies[0], html: bodies[1]}
}

func TestRender_MessageReadsBack(t *testing.T) {
	r := newTestRenderer(t, nil)
	m, err := r.Compose(context.Background(), testEdition(), testSubscriber())
	if err != nil {
		t.Fatal(err)
	}
	// The parts come encoded from the edition's templates, their text
	// put together only when asked for.
	if m.TextPart == nil || m.HTMLPart == nil {
		t.Fatal("the message's parts were not encoded from the edition's templates")
	}
	if m.Text != "" || m.HTML != "" {
		t.Error("Compose built the text of parts it sends encoded")
	}
	m.Text, m.HTML = m.TextBody(), m.HTMLBody()
	if m.MessageID != "" {
		t.Errorf("MessageID = %q, want it left to the ledger", m.MessageID)
	}
	raw, err := m.Bytes(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := parseMessage(t, raw)
	for _, line := range strings.Split(m.Text+"\n"+m.HTML, "\n") {
		if len(line) > 998 {
			t.Errorf("a line of the template's output is %d octets long", len(line))
		}
	}
	if p.text != strings.TrimRight(m.Text, "\n")+"\n" || p.html != strings.TrimRight(m.HTML, "\n")+"\n" {
		t.Error("the parts read back differ from the message's Text and HTML")
	}
	// Encoding the text whole gives the same bytes.
	whole := *m
	whole.TextPart, whole.HTMLPart = nil, nil
	raw2, err := whole.Bytes(nil)
	if err != nil {
		t.Fatal(err)
	}
	if q := parseMessage(t, raw2); q.text != p.text || q.html != p.html ||
		len(raw2) != len(raw) { // the same but for the random boundary
		t.Errorf("encoded from templates %d bytes, whole %d", len(raw), len(raw2))
	}

	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(p.header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "Example News, daily: 東京の桜が満開に: Ελλάδα και Ιαπωνία (and 2 more)"; subject != want {
		t.Errorf("Subject decodes to %q, want %q", subject, want)
	}
	to, err := mail.ParseAddress(p.header.Get("To"))
	if err != nil {
		t.Fatal(err)
	}
	if to.Name != `Ana "the reader" Sousa` || to.Address != "ana@example.com" {
		t.Errorf("To reads back as %q <%s>", to.Name, to.Address)
	}
	from, err := mail.ParseAddress(p.header.Get("From"))
	if err != nil || from.Address != "news@example.org" || from.Name != "Example News" {
		t.Errorf("From reads back as %v (%v)", from, err)
	}
	for name, want := range map[string]string{
		"List-Id":               `"Example News, daily" <daily.news.example.org>`,
		"List-Unsubscribe":      "<https://news.example.org/unsubscribe?token=U7tok>, <mailto:unsubscribe+u7tok@example.org?subject=unsubscribe>",
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"Precedence":            "bulk",
		"Date":                  "Mon, 03 Mar 2025 07:00:00 +0000",
	} {
		if got := p.header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

// The outbox writes a composed message's text itself, 8bit: the parts
// Compose encoded are not what it sends, their text is.
func TestRender_OutboxWritesTheComposedText(t *testing.T) {
	r := newTestRenderer(t, nil)
	want := compose(t, r, testEdition(), testSubscriber())
	m, err := r.Compose(context.Background(), testEdition(), testSubscriber())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := (&transport.Outbox{Dir: dir}).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil || len(files) != 1 {
		t.Fatalf("outbox holds %v (%v), want one .eml", files, err)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("Content-Transfer-Encoding: 8bit")) {
		t.Error("the outbox's parts are not 8bit")
	}
	p := parseMessage(t, raw)
	if p.text != strings.TrimRight(want.Text, "\n")+"\n" || p.html != strings.TrimRight(want.HTML, "\n")+"\n" {
		t.Errorf("the outbox's parts differ from the message's text:\n%.300q\nwant\n%.300q", p.text, want.Text)
	}
}

func TestRender_ListIDNonASCII(t *testing.T) {
	r := newTestRenderer(t, nil)
	e := testEdition()
	e.Digest = "weekly"
	m := compose(t, r, e, testSubscriber())
	raw, err := m.Bytes(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := parseMessage(t, raw)
	id := p.header.Get("List-Id")
	phrase, label, ok := strings.Cut(id, " <")
	if !ok || label != "weekly.news.example.org>" {
		t.Fatalf("List-Id %q, want the label <weekly.news.example.org>", id)
	}
	var dec mime.WordDecoder
	got, err := dec.DecodeHeader(phrase)
	if err != nil || got != "Wöchentliche Übersicht" {
		t.Errorf("List-Id phrase %q decodes to %q (%v)", phrase, got, err)
	}
}

// TestRender_PerSubscriber checks that two readers of an edition get the
// same body but for their own greeting and links.
func TestRender_PerSubscriber(t *testing.T) {
	r := newTestRenderer(t, nil)
	ana := testSubscriber()
	ben := &subscribers.Subscriber{ID: 8, Email: "ben@example.net", Name: "Ben"}
	ma, mb := compose(t, r, testEdition(), ana), compose(t, r, testEdition(), ben)
	if ma.Subject != mb.Subject {
		t.Errorf("subjects differ: %q and %q", ma.Subject, mb.Subject)
	}
	neutral := func(s string, sub *subscribers.Subscriber) string {
		links := fakeLinks{}
		return strings.NewReplacer(
			links.UnsubscribeURL(sub), "UNSUB", links.PreferencesURL(sub), "PREFS",
			sub.Name, "NAME", strings.ReplaceAll(sub.Name, `"`, "&#34;"), "NAME",
		).Replace(s)
	}
	for _, part := range []struct{ name, a, b string }{{"text", ma.Text, mb.Text}, {"html", ma.HTML, mb.HTML}} {
		if part.a == part.b {
			t.Errorf("%s parts are the same for two readers", part.name)
		}
		if !strings.Contains(part.a, "U7tok") || !strings.Contains(part.b, "U8tok") || strings.Contains(part.a, "U8tok") {
			t.Errorf("%s part does not carry its reader's own unsubscribe link", part.name)
		}
		if na, nb := neutral(part.a, ana), neutral(part.b, ben); na != nb {
			t.Errorf("%s parts differ beyond the reader's fields:\n%s", part.name, firstDiff(na, nb))
		}
	}
	if ma.Headers[1][1] == mb.Headers[1][1] {
		t.Error("List-Unsubscribe is the same for two readers")
	}
}

// TestRender_Concurrent composes one edition from many goroutines, as the
// delivery workers do, while the body is not cached yet.
func TestRender_Concurrent(t *testing.T) {
	r := newTestRenderer(t, nil)
	want := compose(t, newTestRenderer(t, nil), testEdition(), testSubscriber())
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	for range 16 {
		wg.Go(func() {
			m, err := r.Compose(context.Background(), testEdition(), testSubscriber())
			if err != nil {
				errs <- err.Error()
				return
			}
			if m.TextBody() != want.Text || m.HTMLBody() != want.HTML {
				errs <- "a concurrent message differs"
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// BenchmarkCompose measures one subscriber's message once the edition's
// body is rendered: the per-delivery cost.
func BenchmarkCompose(b *testing.B) {
	r := newTestRenderer(b, nil)
	e, s := testEdition(), testSubscriber()
	compose(b, r, e, s)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Compose(ctx, e, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkComposeUncached renders the templates for every message, as a
// renderer without the per-edition cache would (an edition without an id
// is never cached): the cost the cache saves.
func BenchmarkComposeUncached(b *testing.B) {
	r := newTestRenderer(b, nil)
	e, s := testEdition(), testSubscriber()
	e.ID = 0
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Compose(ctx, e, s); err != nil {
			b.Fatal(err)
		}
	}
}
