package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestFetch_Faults: each broken upstream gives a clear error, recorded in
// the sources table, and loses nothing stored before.
func TestFetch_Faults(t *testing.T) {
	tests := []struct {
		name    string
		handler func(e *upstreamEnv) http.HandlerFunc
		want    error  // nil: any error
		msg     string // and a text the error must name
	}{
		{"html", func(*upstreamEnv) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "<!doctype html><html><p>hi</p></html>") }
		}, ErrNotAFeed, ""},
		{"invalid xml", func(*upstreamEnv) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `<rss version="2.0"><channel><item><title>x</titl`)
			}
		}, ErrNotAFeed, ""},
		{"20 MB", func(*upstreamEnv) http.HandlerFunc {
			big := []byte(upRSS(upItem("g", "", "T", recent, strings.Repeat("x", 20<<20))))
			return func(w http.ResponseWriter, r *http.Request) { w.Write(big) }
		}, ErrBodyTooLarge, ""},
		{"500", func(*upstreamEnv) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) }
		}, ErrHTTPStatus, ""},
		{"redirect loop", func(e *upstreamEnv) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/feed?again", http.StatusFound) }
		}, nil, "redirects"},
		{"redirect to file", func(e *upstreamEnv) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
			}
		}, ErrBadScheme, ""},
		{"trickle", func(*upstreamEnv) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				for range 100 {
					if _, err := fmt.Fprint(w, " "); err != nil {
						return
					}
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						return
					case <-time.After(50 * time.Millisecond):
					}
				}
			}
		}, nil, "Timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newUpstreamEnv(t)
			e.f.Timeout = 500 * time.Millisecond
			e.serveBody("application/rss+xml", upRSS(upItem("keep", "", "Keep", recent, "k")))
			e.fetchOK(t, e.source(), 1)
			e.serve(tt.handler(e))
			res := e.fetch(t, e.source())
			if res.Err == nil || (tt.want != nil && !errors.Is(res.Err, tt.want)) || !strings.Contains(res.Err.Error(), tt.msg) {
				t.Fatalf("Err = %v, want %v", res.Err, tt.want)
			}
			st, err := e.store.Sources(context.Background())
			if err != nil || len(st) != 1 || st[0].LastError == "" {
				t.Errorf("last_error not recorded: %+v, %v", st, err)
			}
			if a := e.get(t, "partner:keep"); a.Removed != nil {
				t.Error("an article stored earlier was lost")
			}
		})
	}
}

func TestFetch_RefusesPrivateAddresses(t *testing.T) {
	e := newUpstreamEnv(t)
	e.serveBody("application/rss+xml", upRSS())
	src := e.source()
	src.AllowPrivate = false
	res := e.fetch(t, src)
	if !errors.Is(res.Err, ErrPrivateAddress) || e.requests() != 0 {
		t.Fatalf("loopback fetch = %+v, %d requests", res, e.requests())
	}
	src.URL = "ftp://partner.example/feed"
	if res := e.fetch(t, src); !errors.Is(res.Err, ErrBadScheme) {
		t.Errorf("ftp = %+v", res)
	}
}

func TestFetch_RedirectLimit(t *testing.T) {
	for _, tt := range []struct {
		hops int
		ok   bool
	}{{5, true}, {6, false}} {
		t.Run(fmt.Sprint(tt.hops), func(t *testing.T) {
			e := newUpstreamEnv(t)
			e.serve(func(w http.ResponseWriter, r *http.Request) {
				n := len(r.URL.Query().Get("h"))
				if n < tt.hops {
					http.Redirect(w, r, "/feed?h="+strings.Repeat("x", n+1), http.StatusFound)
					return
				}
				fmt.Fprint(w, upRSS(upItem("g", "", "T", recent, "b")))
			})
			res := e.fetch(t, e.source())
			if (res.Err == nil) != tt.ok {
				t.Fatalf("%d redirects: %+v", tt.hops, res)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		header string
		want   time.Duration
	}{
		{"120", 2 * time.Minute},
		{"Thu, 26 Nov 2026 12:30:00 GMT", 30 * time.Minute},
		{"", time.Hour},
		{"soon", time.Hour},
		{"99999999", 24 * time.Hour},
		{"Thu, 26 Nov 2026 11:00:00 GMT", 0},
	} {
		if got := retryAfter(tt.header, now).Sub(now); got != tt.want {
			t.Errorf("Retry-After %q: wait %v, want %v", tt.header, got, tt.want)
		}
	}
}
