package feed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/mmcdole/gofeed"
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

// Source is one upstream feed, as configured in [[sources]].
type Source struct {
	Name         string
	URL          string
	Interval     time.Duration // how often the scheduler fetches it; Fetch itself does not wait
	Include      *regexp.Regexp
	Exclude      *regexp.Regexp
	Tags         []string
	Backfill     time.Duration // 0: 7 days
	AllowPrivate bool
}

// Fetcher fetches upstream feeds and stores their items as articles.
type Fetcher struct {
	Store     *Store
	BaseURL   string         // the site's URL, the last resort for relative links
	Location  *time.Location // reserved for dates without a zone; gofeed reads those as UTC
	UserAgent string         // "" : "tidings"
	MaxBytes  int64          // 0: 10 MiB
	Timeout   time.Duration  // the whole request, body included; 0: 30s
	Logger    *slog.Logger
	Now       func() time.Time
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

const (
	defaultBackfill = 7 * 24 * time.Hour
	maxRedirects    = 5
	connectTimeout  = 10 * time.Second
)

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
func (f *Fetcher) Fetch(ctx context.Context, src Source) (FetchResult, error) {
	now := f.now()
	st, err := f.Store.sourceState(ctx, src.Name)
	if err != nil {
		return FetchResult{}, err
	}
	if st.retryAfter.After(now) {
		return FetchResult{Err: fmt.Errorf("%w: not before %s", ErrRetryLater, st.retryAfter.UTC().Format(time.RFC3339))}, nil
	}
	if st.url != src.URL {
		// Validators of another URL say nothing about this one.
		st.etag, st.lastModified = "", ""
	}
	st.url = src.URL
	st.lastFetch = now
	res := f.fetch(ctx, src, &st, now)
	st.status = res.Status
	st.lastError = ""
	if res.Err != nil {
		st.lastError = res.Err.Error()
		f.log().Warn("upstream fetch failed", "source", src.Name, "url", src.URL, slog.Any("error", res.Err))
	}
	if err := f.Store.saveSourceState(ctx, src.Name, st); err != nil {
		return res, err
	}
	return res, nil
}

// fetch does the request and the parse; it updates st's validators, item
// count and first fetch, and stores the items.
func (f *Fetcher) fetch(ctx context.Context, src Source, st *sourceState, now time.Time) FetchResult {
	var res FetchResult
	body, resp, err := f.get(ctx, src, st)
	if resp != nil {
		res.Status = resp.StatusCode
	}
	if err != nil {
		res.Err = err
		if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
			st.retryAfter = retryAfter(resp.Header.Get("Retry-After"), now)
		}
		return res
	}
	st.retryAfter = time.Time{}
	if resp.StatusCode == http.StatusNotModified {
		res.NotModified = true
		return res
	}
	parsedFeed, err := gofeed.NewParser().Parse(bytes.NewReader(body))
	if err != nil {
		res.Err = fmt.Errorf("%w: %w", ErrNotAFeed, err)
		return res
	}
	first := st.firstFetch.IsZero()
	docs, skipped := f.mapItems(src, parsedFeed, now)
	res.Skipped = skipped
	backfill := src.Backfill
	if backfill <= 0 {
		backfill = defaultBackfill
	}
	items := make([]Item, len(docs))
	for i, d := range docs {
		// On a source's first fetch, items older than its backfill (or
		// undated, whose age cannot be told) are its back catalogue.
		items[i] = Item{Doc: d, Backfill: first && (d.Date.IsZero() || d.Date.Before(now.Add(-backfill)))}
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
	st.etag, st.lastModified = resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	st.itemCount = len(parsedFeed.Items)
	if first && len(items) > 0 {
		st.firstFetch = now
	}
	return res
}

// get requests src.URL and reads the whole body, so that a body cut short
// or too large fails the fetch instead of being parsed in part.
func (f *Fetcher) get(ctx context.Context, src Source, st *sourceState) ([]byte, *http.Response, error) {
	u, err := url.Parse(src.URL)
	if err != nil {
		return nil, nil, fmt.Errorf("url %q: %w", src.URL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, nil, fmt.Errorf("url %q: %w", src.URL, ErrBadScheme)
	}
	client := f.client(src.AllowPrivate)
	defer client.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src.URL, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("request %q: %w", src.URL, err)
	}
	ua := f.UserAgent
	if ua == "" {
		ua = "tidings"
	}
	req.Header.Set("User-Agent", ua)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
	if st.etag != "" {
		req.Header.Set("If-None-Match", st.etag)
	}
	if st.lastModified != "" {
		req.Header.Set("If-Modified-Since", st.lastModified)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return nil, resp, nil
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, resp, fmt.Errorf("%w: %s", ErrHTTPStatus, resp.Status)
	}
	limit := f.MaxBytes
	if limit <= 0 {
		limit = 10 << 20
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, resp, fmt.Errorf("read body: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, resp, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, limit)
	}
	return body, resp, nil
}

// client builds an HTTP client for one source. The address check runs in
// the dialer's Control, after DNS resolution and for every connection, so
// a redirect or a DNS answer cannot lead it to a private address. No
// proxy: the check would then see the proxy's address only.
func (f *Fetcher) client(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: connectTimeout, Control: func(network, address string, _ syscall.RawConn) error {
		if allowPrivate {
			return nil
		}
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("dial %s: %w", address, err)
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("dial %s: %w", address, err)
		}
		if !publicAddr(ip) {
			return fmt.Errorf("dial %s: %w", address, ErrPrivateAddress)
		}
		return nil
	}}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	return &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			TLSHandshakeTimeout: connectTimeout,
			ForceAttemptHTTP2:   true,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return fmt.Errorf("more than %d redirects", maxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to %q: %w", req.URL, ErrBadScheme)
			}
			return nil
		},
	}
}

// publicAddr reports whether ip may be fetched without allow_private.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() &&
		!ip.IsLinkLocalMulticast() && !ip.IsInterfaceLocalMulticast() && !ip.IsMulticast() && !ip.IsUnspecified()
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
