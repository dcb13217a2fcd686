package upstream

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/tidings/tidings/feed"
)

func TestCheck_StoresNothing(t *testing.T) {
	e := newUpstreamEnv(t)
	ctx := context.Background()
	feedBody := upRSS(
		upItem("g1", "https://partner.example/a", "First", "Tue, 24 Nov 2026 10:00:00 GMT", "<p>One <script>x()</script></p>"),
		upItem("g2", "https://partner.example/b", "Second", "Wed, 25 Nov 2026 10:00:00 GMT", `<p><a href="/rel">two</a></p>`),
	)
	e.serve(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "" {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Header().Set("ETag", `"v1"`)
		w.Header().Set("Last-Modified", "Wed, 25 Nov 2026 10:00:00 GMT")
		w.Write([]byte(feedBody))
	})

	as, res, err := e.f.Check(ctx, e.source())
	if err != nil || res.Err != nil {
		t.Fatalf("Check: %v / %v", err, res.Err)
	}
	if len(as) != 2 || res.Added != 2 {
		t.Fatalf("Check returned %d articles (added %d), want 2", len(as), res.Added)
	}
	if as[0].ID != "partner:g1" || as[0].Source != "partner" {
		t.Errorf("first article id %q source %q, want partner:g1 from partner", as[0].ID, as[0].Source)
	}
	if strings.Contains(as[0].ContentHTML, "<script") {
		t.Errorf("Check kept a script: %s", as[0].ContentHTML)
	}
	if !strings.Contains(as[1].ContentHTML, `href="https://partner.example/rel"`) {
		t.Errorf("relative link not resolved against the item link: %s", as[1].ContentHTML)
	}
	assertStoreEmpty(t, e)

	// A real fetch stores the validators; a check after it still asks
	// unconditionally and still stores nothing more.
	e.fetchOK(t, e.source(), 2)
	before, err := e.store.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	as, res, err = e.f.Check(ctx, e.source())
	if err != nil || res.Err != nil || res.NotModified || len(as) != 2 {
		t.Fatalf("Check after Fetch: %d articles, not modified %v, err %v / %v; want 2 unconditionally",
			len(as), res.NotModified, err, res.Err)
	}
	after, err := e.store.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(before) != 1 || len(after) != 1 || before[0] != after[0] {
		t.Errorf("source state changed by Check:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestCheck_FailureStoresNothing(t *testing.T) {
	e := newUpstreamEnv(t)
	e.serveBody("text/html", "<html><body>not a feed</body></html>")
	as, res, err := e.f.Check(context.Background(), e.source())
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res.Err, ErrNotAFeed) || len(as) != 0 {
		t.Errorf("Check of HTML: %d articles, err %v; want none and ErrNotAFeed", len(as), res.Err)
	}
	src := e.source()
	src.AllowPrivate = false
	if _, res, err := e.f.Check(context.Background(), src); err != nil || !errors.Is(res.Err, ErrPrivateAddress) {
		t.Errorf("Check of a loopback server without allow_private: err %v / %v, want ErrPrivateAddress", err, res.Err)
	}
	assertStoreEmpty(t, e)
}

// assertStoreEmpty fails unless no article and no source state is stored.
func assertStoreEmpty(t *testing.T, e *upstreamEnv) {
	t.Helper()
	ctx := context.Background()
	as, err := e.store.List(ctx, feed.ListOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	srcs, err := e.store.Sources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 0 || len(srcs) != 0 {
		t.Errorf("store holds %d articles and %d sources after Check, want none", len(as), len(srcs))
	}
}
