package upstream

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"syscall"
	"time"
)

const (
	maxRedirects   = 5
	connectTimeout = 10 * time.Second
)

// get requests src.URL, conditionally when etag or lastModified are
// given, and reads the whole body, so that a body cut short or too large
// fails the fetch instead of being parsed in part.
func (f *Fetcher) get(ctx context.Context, src Source, etag, lastModified string) ([]byte, *http.Response, error) {
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
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lastModified != "" {
		req.Header.Set("If-Modified-Since", lastModified)
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("fetch: %w", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return nil, resp, nil
	case !success(resp.StatusCode):
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
	dialer := &net.Dialer{Timeout: connectTimeout}
	if !allowPrivate {
		allow := f.allow
		if allow == nil {
			allow = publicAddr
		}
		dialer.Control = guard(allow)
	}
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

// success reports whether an HTTP status is a 2xx: one a feed is read from.
func success(code int) bool { return code >= 200 && code <= 299 }

// guard is the dialer's Control: it runs after DNS resolution, for every
// address a connection is tried on (a redirect's too), before the connect,
// and refuses an address allowed does not accept.
func guard(allowed func(netip.Addr) bool) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return fmt.Errorf("dial %s: %w", address, err)
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return fmt.Errorf("dial %s: %w", address, err)
		}
		if !allowed(ip) {
			return fmt.Errorf("dial %s: %w", address, ErrPrivateAddress)
		}
		return nil
	}
}
