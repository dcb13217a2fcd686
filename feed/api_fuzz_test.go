package feed

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// FuzzAPIArticle posts arbitrary bodies: the API must answer every one
// without a server error and never store a script.
func FuzzAPIArticle(f *testing.F) {
	for _, s := range []string{
		`{"title": "t", "content": "x"}`,
		`{"title": "t", "content": "<script>alert(1)</script><p>x</p>", "format": "html"}`,
		`{"title": "t", "content": "<scr<script>ipt>alert(1)</script>", "format": "markdown", "tags": ["a"]}`,
		`{"title": "a\u0000b", "content": "x", "date": "2026-11-20", "image": "/i.png", "id": "x/y"}`,
		`{"title": "t", "content": "x", "date": "0000-01-01T00:00:00Z"}`,
		`{"title": 1}`, `[]`, `null`, ``,
	} {
		f.Add(s)
	}
	e := newAPIEnv(f, testToken)
	f.Fuzz(func(t *testing.T, body string) {
		code, got := e.do(t, "POST", "/api/v1/articles", body)
		if code >= 500 {
			t.Fatalf("%d %v for %q", code, got, body)
		}
		if code == http.StatusCreated {
			a, err := e.store.Get(context.Background(), got["id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(strings.ToLower(a.ContentHTML), "<script") {
				t.Fatalf("stored a script from %q: %s", body, a.ContentHTML)
			}
		}
	})
}
