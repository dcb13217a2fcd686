package upstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/feed/content"
)

// Errors a fetch can fail with; FetchResult.Err wraps one of them or a
// network error.
var (
	ErrPrivateAddress = errors.New("address is loopback, link-local or private (set allow_private to allow it)")
	ErrBodyTooLarge   = errors.New("response body too large")
	ErrNotAFeed       = errors.New("response is not an RSS, Atom or JSON feed")
	ErrHTTPStatus     = errors.New("unexpected HTTP status")
	ErrRetryLater     = errors.New("upstream asked to retry later")
	ErrBadScheme      = errors.New("only http and https URLs can be fetched")
)

// Fetcher fetches upstream feeds and stores their items as articles.
type Fetcher struct {
	Store     Store
	BaseURL   string        // the site's URL, the last resort for relative links
	UserAgent string        // "" : "tidings"
	MaxBytes  int64         // 0: 10 MiB
	Timeout   time.Duration // the whole request, body included; 0: 30s
	Logger    *slog.Logger  // items repaired or repeated; nil: none
	Now       func() time.Time

	allow func(netip.Addr) bool // the guard's decision without allow_private; nil: publicAddr
}

// FetchResult is what one fetch of one source did. Err is the per-source
// failure (also recorded in sources.last_error); Fetch's own error is kept
// for failures of the store.
type FetchResult struct {
	Status      int
	NotModified bool
	Added       int
	Updated     int
	Unchanged   int
	Skipped     int // duplicates within the feed, filtered out, or ids owned by another source
	Err         error
}

func (f *Fetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Fetcher) log() *slog.Logger {
	if f.Logger != nil {
		return f.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Fetch fetches src once, conditionally, and stores its items. A source
// that asked to be left alone (Retry-After) is not requested before then.
// The failure of a fetch is in FetchResult.Err, for the caller to report.
func (f *Fetcher) Fetch(ctx context.Context, src Source) (FetchResult, error) {
	now := f.now()
	st, err := f.Store.Source(ctx, src.Name)
	if err != nil {
		return FetchResult{}, err
	}
	if st.RetryAfter.After(now) {
		return FetchResult{Err: fmt.Errorf("%w: not before %s", ErrRetryLater, st.RetryAfter.UTC().Format(time.RFC3339))}, nil
	}
	if st.URL != src.URL {
		// Validators of another URL say nothing about this one.
		st.ETag, st.LastModified = "", ""
	}
	st.Name, st.URL, st.LastFetch = src.Name, src.URL, now
	res := f.fetch(ctx, src, &st, now)
	st.LastStatus = res.Status
	st.LastError = ""
	if res.Err != nil {
		st.LastError = res.Err.Error()
	}
	if err := f.Store.SaveSource(ctx, st); err != nil {
		return res, err
	}
	return res, nil
}

// fetch does the request and the parse; it updates st's validators, item
// count, first fetch and wait, and stores the items.
func (f *Fetcher) fetch(ctx context.Context, src Source, st *feed.SourceStatus, now time.Time) FetchResult {
	resp, parsed, docs, res := f.download(ctx, src, st.ETag, st.LastModified, now)
	if resp != nil {
		switch code := resp.StatusCode; {
		case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
			st.RetryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
		case code == http.StatusNotModified || success(code):
			st.RetryAfter = time.Time{}
		}
	}
	if res.Err != nil || res.NotModified {
		return res
	}
	first := st.FirstFetch.IsZero()
	items := make([]feed.Item, len(docs))
	for i, d := range docs {
		// On a source's first fetch, items older than its backfill (or
		// undated, whose age cannot be told) are its back catalogue.
		items[i] = feed.Item{Doc: d, Backfill: first && (d.Date.IsZero() || d.Date.Before(now.Add(-src.backfill())))}
	}
	saved, err := f.Store.SaveItems(ctx, items, now)
	if err != nil {
		res.Err = err
		return res
	}
	res.Added, res.Updated, res.Unchanged = saved.Added, saved.Updated, saved.Unchanged
	res.Skipped += saved.Skipped
	// The validators are kept only once the items are stored: a failed
	// write must not turn the next fetch into a 304 that skips them.
	st.ETag, st.LastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	st.ItemCount = len(parsed.Items)
	if first && len(items) > 0 {
		st.FirstFetch = now
	}
	return res
}

// download requests src (conditionally when etag or lastModified are
// given), parses the answer and maps its items to documents: what Fetch
// and Check share. resp is nil when no answer came; a failure is in
// res.Err, a 304 in res.NotModified, and then there are no documents.
func (f *Fetcher) download(ctx context.Context, src Source, etag, lastModified string, now time.Time) (
	resp *http.Response, parsed *gofeed.Feed, docs []content.Doc, res FetchResult) {
	body, resp, err := f.get(ctx, src, etag, lastModified)
	if resp != nil {
		res.Status = resp.StatusCode
	}
	if err != nil {
		res.Err = err
		return resp, nil, nil, res
	}
	if resp.StatusCode == http.StatusNotModified {
		res.NotModified = true
		return resp, nil, nil, res
	}
	parsed, err = gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		res.Err = fmt.Errorf("%w: %w", ErrNotAFeed, err)
		return resp, nil, nil, res
	}
	docs, res.Skipped = f.mapItems(src, parsed, now)
	return resp, parsed, docs, res
}

// retryAfter reads a Retry-After header (seconds or an HTTP date). Without
// one, or with nonsense, the source rests for an hour; never more than a
// day, so that a typo upstream cannot silence it for good.
func retryAfter(h string, now time.Time) time.Time {
	d := time.Hour
	if n, err := strconv.Atoi(h); err == nil && n >= 0 {
		d = time.Duration(n) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	}
	d = max(0, min(d, 24*time.Hour))
	return now.Add(d)
}
