package feed

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var (
	relNext  = regexp.MustCompile(`<a rel="next" href="([^"]+)">`)
	relPrev  = regexp.MustCompile(`<a rel="prev" href="([^"]+)">`)
	articleH = regexp.MustCompile(`<h2><a href="[^"]+">([^<]+)</a></h2>`)
)

// get fetches path from the server as a browser would.
func get(t *testing.T, srv *httptest.Server, path string) (int, string) {
	t.Helper()
	resp, err := srv.Client().Get(srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// The front page and a tag page list feeds.items articles a page; a
// reader who follows "Older" from the first page to the last sees every
// article once, newest first, and "Newer" leads back.
func TestPages_PagedOverHTTP(t *testing.T) {
	const n, per = 23, 5
	e := newArchiveEnv(t, n, per)
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	base := e.pub.Site.BaseURL
	for _, start := range []string{"/", "/tags/harbour/"} {
		t.Run(start, func(t *testing.T) {
			var seen []string
			path, prevPath := start, ""
			for page := 1; path != ""; page++ {
				code, body := get(t, srv, path)
				if code != http.StatusOK {
					t.Fatalf("GET %s: %d", path, code)
				}
				titles := articleH.FindAllStringSubmatch(body, -1)
				if want := min(per, n-(page-1)*per); len(titles) != want {
					t.Errorf("%s: %d articles, want %d", path, len(titles), want)
				}
				for _, m := range titles {
					seen = append(seen, m[1])
				}
				if m := relPrev.FindStringSubmatch(body); (m == nil) != (prevPath == "") ||
					m != nil && strings.TrimPrefix(html.UnescapeString(m[1]), base) != prevPath {
					t.Errorf("%s: rel=prev %v, want %q", path, m, prevPath)
				}
				prevPath, path = path, ""
				if m := relNext.FindStringSubmatch(body); m != nil {
					path = strings.TrimPrefix(html.UnescapeString(m[1]), base)
				}
				if page > n {
					t.Fatal("rel=next goes round")
				}
			}
			if len(seen) != n {
				t.Fatalf("saw %d articles, want %d: %v", len(seen), n, seen)
			}
			for i, title := range seen {
				if want := "Article " + strconv.Itoa(n-1-i); title != want {
					t.Errorf("article %d is %q, want %q (newest first, each once)", i, title, want)
				}
			}
		})
	}
	for _, tt := range []struct {
		path string
		code int
	}{
		{"/?page=0", http.StatusBadRequest},
		{"/?page=-1", http.StatusBadRequest},
		{"/?page=two", http.StatusBadRequest},
		{"/?page=02", http.StatusBadRequest},
		{"/?page=5", http.StatusOK},
		{"/?page=6", http.StatusNotFound},
		{"/tags/harbour/?page=99", http.StatusNotFound},
		{"/tags/nothing/?page=2", http.StatusNotFound},
	} {
		if code, body := get(t, srv, tt.path); code != tt.code {
			t.Errorf("GET %s: %d, want %d\n%s", tt.path, code, tt.code, body)
		}
	}
}

// FuzzPageNumber: whatever ?page= holds, a number is taken only when it
// is written plainly and is at least 1.
func FuzzPageNumber(f *testing.F) {
	for _, s := range []string{"", "1", "2", "0", "-1", "02", "+3", "two", "1e3", "999999999999999999999", " 4"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		n, ok := pageNumber(v)
		if !ok {
			return
		}
		if n < 1 || (v != "" && strconv.Itoa(n) != v) || (v == "" && n != 1) {
			t.Errorf("pageNumber(%q) = %d", v, n)
		}
	})
}
