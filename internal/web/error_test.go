package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testSite stands for a handler's own site value.
type testSite struct{ Title, Description, Language string }

// recordLog keeps the records logged through it.
type recordLog struct {
	mu      sync.Mutex
	records []slog.Record
}

func (l *recordLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *recordLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r)
	return nil
}
func (l *recordLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *recordLog) WithGroup(string) slog.Handler      { return l }

func (l *recordLog) take() []slog.Record {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.records
	l.records = nil
	return r
}

func newTestRenderer(t *testing.T, log *recordLog) *Renderer {
	t.Helper()
	rd, err := NewRenderer(Options{
		Pages: []string{"message.html"},
		Shell: Shell{Site: testSite{Title: "The Harbour Gazette", Language: "en"}, Home: "https://news.example.org/",
			Subscribe: "https://news.example.org/subscribe"},
		Logger: slog.New(log),
	})
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

func serve(rd *Renderer, method, path string, err error, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	rd.Error(w, r, err)
	return w
}

func TestError_StatusTable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"plain error", errors.New("disk full"), 500},
		{"nil kind", &Problem{Message: "x"}, 500},
		{"unknown kind", &Problem{Kind: "teapot"}, 500},
		{"bad request", &Problem{Kind: BadRequest}, 400},
		{"invalid", &Problem{Kind: Invalid, Field: "email"}, 422},
		{"not found", &Problem{Kind: NotFound}, 404},
		{"gone", &Problem{Kind: Gone}, 410},
		{"conflict", &Problem{Kind: Conflict}, 409},
		{"unauthorized", &Problem{Kind: Unauthorized}, 401},
		{"too large", &Problem{Kind: TooLarge}, 413},
		{"too many", &Problem{Kind: TooManyRequests}, 429},
		{"method", &Problem{Kind: MethodNotAllowed}, 405},
		{"unavailable", &Problem{Kind: Unavailable}, 503},
		{"wrapped", fmt.Errorf("get article: %w", &Problem{Kind: NotFound}), 404},
	}
	rd := newTestRenderer(t, &recordLog{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, accept := range []string{"text/html", "application/json"} {
				if w := serve(rd, "GET", "/x", tt.err, "Accept", accept); w.Code != tt.want {
					t.Errorf("Accept %s: %d, want %d", accept, w.Code, tt.want)
				}
			}
			if got := Status(tt.err); got != tt.want {
				t.Errorf("Status: %d, want %d", got, tt.want)
			}
		})
	}
}

func TestError_JSONOrHTMLByAccept(t *testing.T) {
	tests := []struct {
		name, path, accept, contentType string
		json                            bool
	}{
		{"browser", "/articles/x", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "", false},
		{"no Accept", "/articles/x", "", "", false},
		{"any", "/articles/x", "*/*", "", false},
		{"asks JSON", "/articles/x", "application/json", "", true},
		{"JSON first", "/subscribe", "application/json, text/html", "", true},
		{"HTML preferred by q", "/subscribe", "application/json;q=0.5, text/html", "", false},
		{"JSON preferred by q", "/subscribe", "text/html;q=0.1, application/json", "", true},
		{"JSON body, no Accept", "/subscribe", "", "application/json; charset=utf-8", true},
		{"JSON body, asks HTML", "/subscribe", "text/html", "application/json", false},
		{"API path, asks HTML", "/api/v1/subscribers", "text/html", "", true},
		{"API path, no Accept", "/api/v1/articles/x", "", "", true},
	}
	rd := newTestRenderer(t, &recordLog{})
	err := FieldErrorf(Invalid, "email", "This is not an email address: it has no @.")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := serve(rd, "POST", tt.path, err, "Accept", tt.accept, "Content-Type", tt.contentType)
			if w.Code != 422 {
				t.Fatalf("status %d", w.Code)
			}
			if !strings.Contains(w.Header().Get("Vary"), "Accept") {
				t.Errorf("Vary %q: a cache would serve one answer to both", w.Header().Get("Vary"))
			}
			ct := w.Header().Get("Content-Type")
			if tt.json {
				var body map[string]string
				if ct != "application/json; charset=utf-8" || json.Unmarshal(w.Body.Bytes(), &body) != nil {
					t.Fatalf("want JSON, got %s:\n%s", ct, w.Body)
				}
				if body["error"] != "This is not an email address: it has no @." || body["field"] != "email" || len(body) != 2 {
					t.Errorf("JSON body %v", body)
				}
				return
			}
			page := w.Body.String()
			if ct != "text/html; charset=utf-8" || !strings.HasPrefix(page, "<!doctype html>") {
				t.Fatalf("want the error page, got %s:\n%s", ct, page)
			}
			for _, want := range []string{
				"<title>Not accepted · The Harbour Gazette</title>",
				"<h1>Not accepted</h1>",
				"<p>This is not an email address: it has no @.</p>",
				`<a href="https://news.example.org/subscribe">Subscribe by mail</a>`,
			} {
				if !strings.Contains(page, want) {
					t.Errorf("error page lacks %s:\n%s", want, page)
				}
			}
		})
	}
}

func TestError_OnlyServerErrorsLogged(t *testing.T) {
	log := &recordLog{}
	rd := newTestRenderer(t, log)
	cause := errors.New("database is locked")
	for kind, a := range kinds {
		err := &Problem{Kind: kind, Err: cause}
		w := serve(rd, "GET", "/archive", err, "Accept", "application/json")
		records := log.take()
		if a.status < 500 {
			if len(records) != 0 {
				t.Errorf("%d (%q) logged %d records: a refused request is not the server's fault", a.status, kind, len(records))
			}
			continue
		}
		if len(records) != 1 || records[0].Level != slog.LevelError {
			t.Fatalf("%d (%q): %d records, want one error", a.status, kind, len(records))
		}
		var logged string
		records[0].Attrs(func(at slog.Attr) bool {
			if at.Key == "error" {
				logged = at.Value.String()
			}
			return true
		})
		if !strings.Contains(logged, "database is locked") {
			t.Errorf("%d: logged error %q lacks the cause", a.status, logged)
		}
		if strings.Contains(w.Body.String(), "locked") {
			t.Errorf("%d: the cause is shown to the client: %s", a.status, w.Body)
		}
	}
	// A plain error is internal: logged, and shown as the table says.
	w := serve(rd, "GET", "/", fmt.Errorf("list articles: %w", cause))
	if w.Code != 500 || len(log.take()) != 1 || strings.Contains(w.Body.String(), "locked") ||
		!strings.Contains(w.Body.String(), "The error has been logged") {
		t.Errorf("plain error: %d\n%s", w.Code, w.Body)
	}
}

func TestError_RetryAfter(t *testing.T) {
	rd := newTestRenderer(t, &recordLog{})
	tests := []struct {
		err  *Problem
		want string
	}{
		{&Problem{Kind: TooManyRequests}, "60"},
		{&Problem{Kind: TooManyRequests, RetryAfter: 1500 * time.Millisecond}, "2"},
		{&Problem{Kind: Unavailable, RetryAfter: time.Minute}, "60"},
		{&Problem{Kind: Unavailable}, ""},
		{&Problem{Kind: NotFound}, ""},
	}
	for _, tt := range tests {
		if got := serve(rd, "POST", "/subscribe", tt.err).Header().Get("Retry-After"); got != tt.want {
			t.Errorf("%s (retry after %v): Retry-After %q, want %q", tt.err.Kind, tt.err.RetryAfter, got, tt.want)
		}
	}
}

func TestError_Head(t *testing.T) {
	rd := newTestRenderer(t, &recordLog{})
	w := serve(rd, "HEAD", "/articles/x", &Problem{Kind: NotFound})
	if w.Code != 404 || w.Body.Len() != 0 {
		t.Errorf("HEAD: %d with %d bytes", w.Code, w.Body.Len())
	}
}

// A Renderer without pages, as the JSON APIs have, answers in JSON even a
// client that asks for HTML, and logs to its logger.
func TestError_NoPages(t *testing.T) {
	log := &recordLog{}
	for _, rd := range []*Renderer{nil, NewJSON(slog.New(log))} {
		w := serve(rd, "GET", "/healthz", &Problem{Kind: Conflict, Message: "taken"}, "Accept", "text/html")
		if w.Code != 409 || w.Body.String() != `{"error":"taken"}`+"\n" {
			t.Errorf("%d %s", w.Code, w.Body)
		}
	}
	serve(NewJSON(slog.New(log)), "GET", "/api/v1/articles", errors.New("boom"))
	if n := len(log.take()); n != 1 {
		t.Errorf("%d records of a 500, want 1", n)
	}
}

func TestErrorPage_FormWithStatusOfKind(t *testing.T) {
	log := &recordLog{}
	rd := newTestRenderer(t, log)
	err := &Problem{Kind: Unavailable, Field: "form", Message: "The mail could not be sent just now.", Err: errors.New("smtp: 421")}
	p := ProblemOf(err)
	data := struct {
		Shell
		Paragraphs     []string
		Action, Button string
		Link           any
	}{Shell: Shell{Site: testSite{Title: "T"}, Title: "Subscribe"}, Paragraphs: []string{p.Message}}
	w := httptest.NewRecorder()
	rd.ErrorPage(w, httptest.NewRequest("POST", "/subscribe", nil), err, "message.html", data)
	if w.Code != 503 || !strings.Contains(w.Body.String(), "<p>The mail could not be sent just now.</p>") {
		t.Errorf("%d\n%s", w.Code, w.Body)
	}
	if n := len(log.take()); n != 1 {
		t.Errorf("a 503 shown in a form: %d records, want it logged once", n)
	}
	// The same error asked for in JSON gets the JSON answer.
	w = httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/subscribe", nil)
	r.Header.Set("Content-Type", "application/json")
	rd.ErrorPage(w, r, err, "message.html", data)
	if w.Code != 503 || w.Body.String() != `{"error":"The mail could not be sent just now.","field":"form"}`+"\n" {
		t.Errorf("JSON: %d %s", w.Code, w.Body)
	}
}

func TestProblem_ErrorAndUnwrap(t *testing.T) {
	sentinel := errors.New("subscriber not found")
	err := fmt.Errorf("confirm: %w", &Problem{Kind: NotFound, Field: "id", Message: "no such subscriber", Err: sentinel})
	if !errors.Is(err, sentinel) {
		t.Error("the cause is lost to errors.Is")
	}
	if got := err.Error(); got != "confirm: id: no such subscriber: subscriber not found" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&Problem{Kind: NotFound}).Error(); got != kinds[NotFound].message {
		t.Errorf("bare problem reads %q", got)
	}
	if got := Message(errors.New("secret")); got != kinds[Internal].message {
		t.Errorf("Message of a plain error: %q", got)
	}
}

func FuzzWantsJSON(f *testing.F) {
	f.Add("text/html,application/json;q=0.9", "application/json")
	for _, seed := range []string{"", ";", ",,,", "application/json;q=", "text/html;;q=0.5;", ";q=1", "\x00"} {
		f.Add(seed, "")
	}
	f.Fuzz(func(t *testing.T, accept, contentType string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", accept)
		r.Header.Set("Content-Type", contentType)
		got := WantsJSON(r)
		if strings.Contains(strings.ToLower(accept), "json") || strings.Contains(strings.ToLower(contentType), "json") {
			return
		}
		if got {
			t.Errorf("JSON for Accept %q, Content-Type %q, neither naming JSON", accept, contentType)
		}
	})
}

// A handler may have set caching for the page it meant to send; the
// error answer in its place is not to be cached.
func TestError_NotCached(t *testing.T) {
	rd := newTestRenderer(t, &recordLog{})
	w := httptest.NewRecorder()
	w.Header().Set("Cache-Control", "public, max-age=300")
	rd.Error(w, httptest.NewRequest("GET", "/archive/daily/9", nil), &Problem{Kind: NotFound})
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q", got)
	}
}
