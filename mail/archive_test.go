package mail_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/mmcdole/gofeed"
	"github.com/tidings/tidings/feed"
	tmail "github.com/tidings/tidings/mail"
)

// fakeLedger holds editions in memory and returns them as the ledger's
// Editions and Edition do: lists without their articles.
type fakeLedger struct {
	editions []*tmail.Edition
	err      error
}

func (f *fakeLedger) Editions(_ context.Context, digest string, limit int) ([]*tmail.Edition, error) {
	if f.err != nil {
		return nil, f.err
	}
	var out []*tmail.Edition
	for _, e := range slices.Backward(f.editions) { // stored oldest first
		if e.Digest == digest && len(out) < limit {
			c := *e
			c.ArticleCount, c.Articles = len(e.Articles), nil
			out = append(out, &c)
		}
	}
	return out, nil
}

func (f *fakeLedger) Edition(_ context.Context, id int64) (*tmail.Edition, error) {
	if f.err != nil {
		return nil, f.err
	}
	for _, e := range f.editions {
		if e.ID == id {
			return e, nil
		}
	}
	return nil, fmt.Errorf("%d: %w", id, tmail.ErrEditionNotFound)
}

func newTestArchive(t *testing.T) (*fakeLedger, http.Handler) {
	t.Helper()
	return newTestArchiveLog(t, slog.New(slog.DiscardHandler))
}

// newTestArchiveLog is newTestArchive with the archive logging to log.
func newTestArchiveLog(t *testing.T, log *slog.Logger) (*fakeLedger, http.Handler) {
	t.Helper()
	older := testEdition()
	older.ID, older.ScheduledAt, older.Articles = 41, testNow.Add(-24*time.Hour), older.Articles[2:]
	weekly := testEdition()
	weekly.ID, weekly.Digest, weekly.Subject = 43, "weekly", "Die Woche"
	future := testEdition()
	future.ID, future.ScheduledAt, future.Subject = 44, testNow.Add(time.Hour), "Not out yet"
	l := &fakeLedger{editions: []*tmail.Edition{older, testEdition(), weekly, future}}
	site := &feed.Site{Title: "Example News", Description: "News from the example town", Language: "en",
		BaseURL: "https://news.example.org/"}
	a, err := tmail.NewArchive(l, newTestRenderer(t, nil), site, "")
	if err != nil {
		t.Fatal(err)
	}
	a.Logger = log
	mux := http.NewServeMux()
	a.Routes(mux)
	return l, mux
}

func get(t *testing.T, h http.Handler, path string) (int, http.Header, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	b, _ := io.ReadAll(rec.Body)
	return rec.Code, rec.Header(), string(b)
}

func TestArchive_Index(t *testing.T) {
	_, h := newTestArchive(t)
	code, hd, body := get(t, h, "/archive")
	if code != http.StatusOK || !strings.HasPrefix(hd.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /archive: %d %s", code, hd.Get("Content-Type"))
	}
	daily := strings.Index(body, "Example News, daily")
	weekly := strings.Index(body, "Wöchentliche Übersicht")
	newer := strings.Index(body, `href="https://news.example.org/archive/daily/42"`)
	older := strings.Index(body, `href="https://news.example.org/archive/daily/41"`)
	if daily < 0 || weekly < daily || newer < 0 || older < newer {
		t.Errorf("want both digests in name order, each newest edition first:\n%s", body)
	}
	if strings.Contains(body, "Not out yet") {
		t.Error("an edition scheduled in the future is listed")
	}
	if !strings.Contains(body, `type="application/atom+xml" title="Example News, daily (archive)" href="https://news.example.org/archive/daily/atom.xml"`) {
		t.Error("no feed autodiscovery link")
	}

	code, _, body = get(t, h, "/archive/weekly")
	if code != http.StatusOK || !strings.Contains(body, "Die Woche") || strings.Contains(body, "/archive/daily/42") {
		t.Errorf("GET /archive/weekly: %d, want only the weekly editions:\n%s", code, body)
	}
}

func TestArchive_Edition(t *testing.T) {
	_, h := newTestArchive(t)
	code, _, body := get(t, h, "/archive/daily/42")
	if code != http.StatusOK {
		t.Fatalf("GET /archive/daily/42: %d\n%s", code, body)
	}
	for _, want := range []string{
		"<title>Example News, daily: 東京の桜が満開に: Ελλάδα και Ιαπωνία (and 2 more) · Example News</title>",
		`<a href="https://news.example.org/articles/budget">Ministers say &#34;no deal&#34; on the &lt;budget&gt; &amp; taxes</a>`,
		"Editor &lt;e@x.org&gt; · 2 March 2025",
		`href="https://news.example.org/subscribe"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("edition page lacks %s", want)
		}
	}
	// Nothing of any subscriber: no greeting, no tokens, no placeholders.
	for _, bad := range []string{"token=", "Hello", "Ana", "tidings-", "unsubscribe"} {
		if strings.Contains(body, bad) {
			t.Errorf("edition page carries %q", bad)
		}
	}
}

func TestArchive_NotFound(t *testing.T) {
	_, h := newTestArchive(t)
	for _, path := range []string{
		"/archive/nope",
		"/archive/nope/42",
		"/archive/daily/999", // no such edition
		"/archive/weekly/42", // another digest's edition
		"/archive/daily/44",  // not out yet
		"/archive/daily/abc", // not an id
		"/archive/daily/-1",  // not an id
		"/archive/nope/atom.xml",
	} {
		if code, _, _ := get(t, h, path); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, code)
		}
	}
}

func TestArchive_LedgerError(t *testing.T) {
	l, h := newTestArchive(t)
	l.err = errors.New("database is locked")
	for _, path := range []string{"/archive", "/archive/daily/42", "/archive/daily/atom.xml"} {
		code, _, body := get(t, h, path)
		if code != http.StatusInternalServerError || strings.Contains(body, "locked") {
			t.Errorf("GET %s: %d, want 500 without the error's text", path, code)
		}
	}
}

type atomDoc struct {
	XMLName xml.Name `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Links   []struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	} `xml:"link"`
	Entries []struct {
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Updated string `xml:"updated"`
		Link    struct {
			Href string `xml:"href,attr"`
		} `xml:"link"`
		Content struct {
			Type string `xml:"type,attr"`
			Body string `xml:",chardata"`
		} `xml:"content"`
	} `xml:"entry"`
}

func TestArchive_Atom(t *testing.T) {
	_, h := newTestArchive(t)
	code, hd, body := get(t, h, "/archive/daily/atom.xml")
	if code != http.StatusOK || hd.Get("Content-Type") != "application/atom+xml; charset=utf-8" {
		t.Fatalf("GET atom.xml: %d %s", code, hd.Get("Content-Type"))
	}
	// Well-formed: every token reads.
	dec := xml.NewDecoder(strings.NewReader(body))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("feed is not well-formed XML: %v", err)
		}
	}
	var f atomDoc
	if err := xml.Unmarshal([]byte(body), &f); err != nil {
		t.Fatal(err)
	}
	self := "https://news.example.org/archive/daily/atom.xml"
	if !slices.ContainsFunc(f.Links, func(l struct {
		Rel  string `xml:"rel,attr"`
		Href string `xml:"href,attr"`
	}) bool {
		return l.Rel == "self" && l.Href == self
	}) {
		t.Errorf("no self link to %s: %+v", self, f.Links)
	}
	if f.ID != "urn:uuid:"+uuid.NewSHA1(uuid.NameSpaceURL, []byte(self)).String() || f.Updated != "2025-03-03T07:00:00Z" {
		t.Errorf("feed id %s, updated %s", f.ID, f.Updated)
	}
	if len(f.Entries) != 2 {
		t.Fatalf("%d entries, want the 2 daily editions out", len(f.Entries))
	}
	e := f.Entries[0]
	u := "https://news.example.org/archive/daily/42"
	if e.ID != "urn:uuid:"+uuid.NewSHA1(uuid.NameSpaceURL, []byte(u)).String() || e.Link.Href != u {
		t.Errorf("first entry: id %s, link %s; want edition 42's", e.ID, e.Link.Href)
	}
	if e.Content.Type != "html" || !strings.Contains(e.Content.Body, `<a href="https://news.example.org/articles/budget">Ministers say &#34;no deal&#34; on the &lt;budget&gt;`) {
		t.Errorf("entry content: %s", e.Content.Body)
	}
	// Ids stay the same from one request to the next.
	_, _, again := get(t, h, "/archive/daily/atom.xml")
	if again != body {
		t.Error("a second request gives another feed")
	}
	// Written by the site feeds' writer: a feed reader's parser reads the
	// language, the subjects as written and when each edition went out.
	pf, err := gofeed.NewParser().ParseString(body)
	if err != nil {
		t.Fatal(err)
	}
	if pf.FeedType != "atom" || pf.Language != "en" || pf.FeedLink != self || len(pf.Authors) != 1 {
		t.Errorf("feed: type %s language %q self %q authors %v", pf.FeedType, pf.Language, pf.FeedLink, pf.Authors)
	}
	if got := html.UnescapeString(pf.Items[0].Title); !strings.HasPrefix(got, "Example News, daily: 東京の桜が満開に") ||
		pf.Items[0].PublishedParsed == nil || pf.Items[0].PublishedParsed.Format(time.RFC3339) != "2025-03-03T07:00:00Z" {
		t.Errorf("first entry: title %q published %v", got, pf.Items[0].PublishedParsed)
	}
}

// The archive's failures on the server's side go to its Logger, set after
// NewArchive as cmd sets it; a missing edition is not logged.
func TestArchive_LogsServerErrors(t *testing.T) {
	var logged strings.Builder
	l, h := newTestArchiveLog(t, slog.New(slog.NewTextHandler(&logged, nil)))
	if code, _, _ := get(t, h, "/archive/daily/999"); code != http.StatusNotFound || logged.Len() != 0 {
		t.Errorf("missing edition: %d, logged %q", code, logged.String())
	}
	l.err = errors.New("database is locked")
	if code, _, _ := get(t, h, "/archive/daily/atom.xml"); code != http.StatusInternalServerError ||
		!strings.Contains(logged.String(), "database is locked") || !strings.Contains(logged.String(), "path=/archive/daily/atom.xml") {
		t.Errorf("ledger error: %d, logged %q", code, logged.String())
	}
}

// A broadcast is in its digest's archive like an edition, with its own
// content.
func TestArchive_Broadcast(t *testing.T) {
	l, h := newTestArchive(t)
	l.editions = append(l.editions, &tmail.Edition{ID: 50, Digest: "daily", Kind: tmail.EditionBroadcast, Subject: "We are moving",
		BodyHTML: "<p>Our office moves to <strong>Pier 4</strong>.</p>", BodyText: "Our office moves to Pier 4.",
		ScheduledAt: testNow.Add(-time.Minute), CreatedAt: testNow.Add(-time.Minute), State: tmail.EditionDone})
	code, _, body := get(t, h, "/archive/daily/50")
	if code != http.StatusOK || !strings.Contains(body, "<strong>Pier 4</strong>") || !strings.Contains(body, "We are moving") {
		t.Errorf("GET /archive/daily/50: %d\n%s", code, body)
	}
	if _, _, index := get(t, h, "/archive/daily"); !strings.Contains(index, "We are moving") {
		t.Errorf("the digest's archive does not list the broadcast:\n%s", index)
	}
}
