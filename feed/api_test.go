package feed

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const testToken = "s3cret-token"

type apiEnv struct {
	*ingestEnv
	mux *http.ServeMux
}

func newAPIEnv(t testing.TB, token string) *apiEnv {
	t.Helper()
	e := &apiEnv{ingestEnv: newIngestEnv(t), mux: http.NewServeMux()}
	api, err := NewAPI(e.store, "https://news.example.org/", token, time.UTC, e.clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	api.Routes(e.mux)
	return e
}

// do sends one request with the test token and decodes a JSON answer.
func (e *apiEnv) do(t testing.TB, method, path, body string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	rec := httptest.NewRecorder()
	e.mux.ServeHTTP(rec, req)
	var out map[string]any
	if rec.Body.Len() > 0 {
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %q", method, path, rec.Body.String())
		}
	}
	return rec.Code, out
}

func TestAPI_CreateShowUpdateDelete(t *testing.T) {
	e := newAPIEnv(t, testToken)
	code, got := e.do(t, "POST", "/api/v1/articles", `{"title": "Hello\r\nWorld", "content": "Some *text* with [a link](/about).\n\nMore.",
		"tags": ["News", "news", " Launch "], "date": "2026-11-20 09:30", "author": "Ann"}`)
	if code != http.StatusCreated {
		t.Fatalf("POST: %d %v", code, got)
	}
	if got["id"] != "api/hello-world" || got["slug"] != "hello-world" || got["source"] != "api" {
		t.Errorf("POST: id %v slug %v source %v, want api/hello-world, hello-world, api", got["id"], got["slug"], got["source"])
	}
	if got["title"] != "Hello World" {
		t.Errorf("title %q, want the line break repaired to %q", got["title"], "Hello World")
	}
	if html := got["content_html"].(string); !strings.Contains(html, `href="https://news.example.org/about"`) {
		t.Errorf("relative link not made absolute: %s", html)
	}
	if got["summary"] != "Some text with a link." {
		t.Errorf("derived summary %q", got["summary"])
	}
	if tags := got["tags"].([]any); len(tags) != 2 || tags[0] != "News" || tags[1] != "Launch" {
		t.Errorf("tags %v, want [News Launch]", tags)
	}
	if got["url"] != "https://news.example.org/articles/hello-world" || got["published"] != "2026-11-20T09:30:00Z" {
		t.Errorf("url %v published %v", got["url"], got["published"])
	}
	firstUpdated := got["updated"]

	// The same title again gets its own id and slug.
	code, got2 := e.do(t, "POST", "/api/v1/articles", `{"title": "Hello World", "content": "Other."}`)
	if code != http.StatusCreated || got2["id"] != "api/hello-world-2" || got2["slug"] != "hello-world-2" {
		t.Errorf("second POST: %d id %v slug %v, want api/hello-world-2", code, got2["id"], got2["slug"])
	}

	// A PUT with the same content changes nothing, not even updated.
	e.clock.t = e.clock.t.Add(time.Hour)
	same := `{"title": "Hello World", "content": "Some *text* with [a link](/about).\n\nMore.", "tags": ["News", "Launch"], "author": "Ann"}`
	code, got = e.do(t, "PUT", "/api/v1/articles/api/hello-world", same)
	if code != http.StatusOK || got["updated"] != firstUpdated {
		t.Errorf("unchanged PUT: %d, updated %v, want %v kept", code, got["updated"], firstUpdated)
	}
	// An edit keeps id, slug and published, and moves updated.
	code, got = e.do(t, "PUT", "/api/v1/articles/api/hello-world", `{"title": "Hello, new world", "content": "Edited."}`)
	if code != http.StatusOK {
		t.Fatalf("PUT: %d %v", code, got)
	}
	if got["id"] != "api/hello-world" || got["slug"] != "hello-world" || got["published"] != "2026-11-20T09:30:00Z" {
		t.Errorf("edit moved identity: id %v slug %v published %v", got["id"], got["slug"], got["published"])
	}
	if got["updated"] != e.clock.t.Format(time.RFC3339) || got["title"] != "Hello, new world" {
		t.Errorf("edit: updated %v title %v, want %v and the new title", got["updated"], got["title"], e.clock.t)
	}

	code, _ = e.do(t, "DELETE", "/api/v1/articles/api/hello-world", "")
	if code != http.StatusNoContent {
		t.Errorf("DELETE: %d", code)
	}
	code, got = e.do(t, "GET", "/api/v1/articles/api/hello-world", "")
	if code != http.StatusOK || got["removed"] != true || got["is_published"] != false {
		t.Errorf("GET after DELETE: %d removed %v is_published %v, want the row kept and removed", code, got["removed"], got["is_published"])
	}
	if _, err := e.store.GetBySlug(context.Background(), "hello-world", e.clock.Now()); err == nil {
		t.Error("a deleted article is still published")
	}

	code, got = e.do(t, "GET", "/api/v1/articles?limit=10", "")
	list, _ := got["articles"].([]any)
	if code != http.StatusOK || len(list) != 2 {
		t.Fatalf("list: %d, %d articles, want 2", code, len(list))
	}
	if first := list[0].(map[string]any); first["id"] != "api/hello-world-2" {
		t.Errorf("list starts with %v, want the newest, api/hello-world-2", first["id"])
	}
	code, got = e.do(t, "GET", "/api/v1/articles?tag=launch", "")
	if list, _ := got["articles"].([]any); code != http.StatusOK || len(list) != 0 {
		t.Errorf("list by tag launch after the edit dropped it: %d, %d articles, want 0", code, len(list))
	}
	if code, got = e.do(t, "GET", "/api/v1/articles?limit=0", ""); code != http.StatusBadRequest || got["field"] != "limit" {
		t.Errorf("limit=0: %d %v", code, got)
	}
}

func TestAPI_Auth(t *testing.T) {
	routes := []struct{ method, path string }{
		{"GET", "/api/v1/articles"}, {"POST", "/api/v1/articles"}, {"GET", "/api/v1/articles/a"},
		{"PUT", "/api/v1/articles/a"}, {"DELETE", "/api/v1/articles/a"},
	}
	off := newAPIEnv(t, "")
	on := newAPIEnv(t, testToken)
	for _, rt := range routes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			for _, tc := range []struct {
				name, auth string
				e          *apiEnv
				want       int
			}{
				{"no token configured", "Bearer ", off, http.StatusNotFound},
				{"no header", "", on, http.StatusUnauthorized},
				{"wrong token", "Bearer nope", on, http.StatusUnauthorized},
				{"basic scheme", "Basic " + testToken, on, http.StatusUnauthorized},
			} {
				req := httptest.NewRequest(rt.method, rt.path, strings.NewReader(`{"title":"t","content":"c"}`))
				if tc.auth != "" {
					req.Header.Set("Authorization", tc.auth)
				}
				rec := httptest.NewRecorder()
				tc.e.mux.ServeHTTP(rec, req)
				if rec.Code != tc.want {
					t.Errorf("%s: %d, want %d", tc.name, rec.Code, tc.want)
				}
			}
		})
	}
}

func TestAPI_ValidationNamesField(t *testing.T) {
	e := newAPIEnv(t, testToken)
	tests := []struct {
		name, body, field string
		want              int
	}{
		{"no title", `{"content": "x"}`, "title", 422},
		{"blank title", `{"title": " \n\t", "content": "x"}`, "title", 422},
		{"no content", `{"title": "t"}`, "content", 422},
		{"only a script", `{"title": "t", "content": "<script>alert(1)</script>", "format": "html"}`, "content", 422},
		{"NUL", `{"title": "t", "content": "a\u0000b"}`, "content", 422},
		{"format", `{"title": "t", "content": "x", "format": "rtf"}`, "format", 422},
		{"not a date", `{"title": "t", "content": "x", "date": "yesterday"}`, "date", 422},
		{"impossible date", `{"title": "t", "content": "x", "date": "2026-02-30"}`, "date", 422},
		{"year out of range", `{"title": "t", "content": "x", "date": "9999-01-01"}`, "date", 422},
		{"image scheme", `{"title": "t", "content": "x", "image": "javascript:alert(1)"}`, "image", 422},
		{"bad id", `{"title": "t", "content": "x", "id": " spaced "}`, "id", 422},
		{"id as URL", `{"title": "t", "content": "x", "id": "https://evil.example/"}`, "id", 422},
		{"tags type", `{"title": "t", "content": "x", "tags": "news"}`, "tags", 422},
		{"title type", `{"title": 3, "content": "x"}`, "title", 422},
		{"unknown field", `{"title": "t", "content": "x", "draft": true}`, "", 400},
		{"not JSON", `title=t`, "", 400},
		{"two values", `{"title": "t", "content": "x"} {}`, "", 400},
		{"too large", `{"title": "t", "content": "` + strings.Repeat("a", maxAPIBody) + `"}`, "", 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, got := e.do(t, "POST", "/api/v1/articles", tt.body)
			if code != tt.want || (tt.field != "" && got["field"] != tt.field) || got["error"] == "" {
				t.Errorf("%d %v, want %d naming field %q", code, got, tt.want, tt.field)
			}
		})
	}
	var n int
	if err := e.store.db.Read.QueryRow(`SELECT COUNT(*) FROM articles`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d articles stored from refused requests (%v)", n, err)
	}
}

func TestAPI_XSSRemoved(t *testing.T) {
	e := newAPIEnv(t, testToken)
	for _, format := range []string{"html", "markdown"} {
		body, _ := json.Marshal(map[string]any{"title": "x " + format, "format": format,
			"content": `<p onclick="steal()">Hi <script>alert(1)</script><a href="javascript:alert(2)">l</a><img src=x onerror=alert(3)></p>`})
		code, got := e.do(t, "POST", "/api/v1/articles", string(body))
		if code != http.StatusCreated {
			t.Fatalf("%s: %d %v", format, code, got)
		}
		html := strings.ToLower(got["content_html"].(string))
		for _, bad := range []string{"<script", "onclick", "javascript:", "onerror"} {
			if strings.Contains(html, bad) {
				t.Errorf("%s: stored HTML holds %q: %s", format, bad, html)
			}
		}
	}
}

func TestAPI_IDOwnedElsewhereRefused(t *testing.T) {
	e := newAPIEnv(t, testToken)
	e.write(t, "launch.md", "---\ntitle: Launch\n---\nFrom a file.\n")
	if _, err := e.in.Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	code, got := e.do(t, "POST", "/api/v1/articles", `{"id": "launch", "title": "Mine", "content": "x"}`)
	if code != http.StatusConflict || got["field"] != "id" || !strings.Contains(got["error"].(string), `"content"`) {
		t.Errorf("POST with a file's id: %d %v, want 409 naming the content source", code, got)
	}
	for _, method := range []string{"PUT", "DELETE"} {
		code, got = e.do(t, method, "/api/v1/articles/launch", `{"title": "Mine", "content": "x"}`)
		if code != http.StatusConflict {
			t.Errorf("%s of a file's article: %d %v, want 409", method, code, got)
		}
	}
	a, err := e.store.Get(context.Background(), "launch")
	if err != nil || a.Title != "Launch" || a.Removed != nil {
		t.Errorf("file article after refused writes: %+v, %v", a, err)
	}
	// A given id that is free is kept as given; posting it twice clashes.
	if code, got = e.do(t, "POST", "/api/v1/articles", `{"id": "2026/launch", "title": "Launch", "content": "x"}`); code != http.StatusCreated ||
		got["id"] != "2026/launch" || got["slug"] != "launch-2" {
		t.Errorf("POST with a free id: %d id %v slug %v, want 2026/launch with slug launch-2", code, got["id"], got["slug"])
	}
	if code, _ = e.do(t, "POST", "/api/v1/articles", `{"id": "2026/launch", "title": "Again", "content": "x"}`); code != http.StatusConflict {
		t.Errorf("second POST of an id: %d, want 409", code)
	}
	if code, got = e.do(t, "PUT", "/api/v1/articles/nope", `{"title": "t", "content": "x"}`); code != http.StatusNotFound || got["field"] != "id" {
		t.Errorf("PUT of a missing id: %d %v, want 404", code, got)
	}
}

func TestAPI_LogsWithTheCallersComponentOnce(t *testing.T) {
	e := newAPIEnv(t, testToken)
	var logs strings.Builder
	api, err := NewAPI(e.store, "https://news.example.org/", testToken, time.UTC, e.clock.Now,
		newTestLogger(&logs).With("component", "api"))
	if err != nil {
		t.Fatal(err)
	}
	e.mux = http.NewServeMux()
	api.Routes(e.mux)
	if code, got := e.do(t, "POST", "/api/v1/articles", `{"title": "Two\nlines", "content": "x"}`); code != http.StatusCreated {
		t.Fatalf("POST: %d %v", code, got)
	}
	line := strings.TrimSpace(logs.String())
	if !strings.Contains(line, "api article repaired") || strings.Count(line, "component=") != 1 {
		t.Errorf("want one repair line naming its component once, got:\n%s", logs.String())
	}
}
