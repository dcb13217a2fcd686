package admin

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/tidings/tidings/subscribers"
)

// BenchmarkSubscriberPages100k renders the Subscribers pages server-side
// (handler, store, template; no network) over a list of 100,000, seeded
// by one import. Goals: each page under 50 ms, a search under 100 ms.
func BenchmarkSubscriberPages100k(b *testing.B) {
	ta, br, st := subsAdmin(b)
	var data bytes.Buffer
	data.WriteString("email,name,digests,status\n")
	for i := range 100_000 {
		digests, status := "daily", "confirmed"
		if i%10 == 0 {
			digests = "weekly"
		}
		if i%7 == 0 {
			status = "unsubscribed"
		}
		fmt.Fprintf(&data, "reader%d@example%d.org,Reader %d,%s,%s\n", i, i%97, i, digests, status)
	}
	ctx := context.Background()
	if _, err := st.Import(ctx, &data, subscribers.ImportOptions{}, subscribers.Meta{Route: "import"}); err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(br.base + "/admin/")
	cookies := br.c.Jar.Cookies(u)
	for _, bc := range []struct{ name, path string }{
		{"list", "/admin/subscribers"},
		{"list-deep", "/admin/subscribers?after=90000"},
		{"list-back", "/admin/subscribers?before=60000"},
		{"status", "/admin/subscribers?status=unsubscribed&after=50000"},
		{"digest", "/admin/subscribers?digest=weekly&after=50000"},
		{"search-hit", "/admin/subscribers?q=example5.org"},
		{"search-miss", "/admin/subscribers?q=nobody%40nowhere"},
		{"search-status", "/admin/subscribers?q=Reader+9999&status=confirmed"},
		{"subscriber", "/admin/subscribers/54321"},
		{"forget", "/admin/subscribers/54321/forget"},
		{"import-form", "/admin/subscribers/import"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				r := httptest.NewRequest("GET", bc.path, nil)
				for _, c := range cookies {
					r.AddCookie(c)
				}
				w := httptest.NewRecorder()
				ta.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", bc.path, w.Code, w.Body)
				}
			}
		})
	}
}
