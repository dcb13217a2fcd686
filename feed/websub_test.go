package feed

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// backoffClock records the waits asked of it and ends each one at once.
type backoffClock struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (c *backoffClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	ch := make(chan time.Time, 1)
	ch <- time.Time{}
	return ch
}

func TestWebSub_AnnouncesAndRetries(t *testing.T) {
	var mu sync.Mutex
	var got []url.Values
	release := make(chan struct{})
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release // Announce must return while the hub has not answered
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("hub got %s %s", r.Method, r.Header.Get("Content-Type"))
		}
		if err := r.ParseForm(); err != nil {
			t.Errorf("hub got a form it cannot read: %v", err)
		}
		mu.Lock()
		got = append(got, r.PostForm)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer good.Close()
	var flakyCalls atomic.Int32
	flaky := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if flakyCalls.Add(1) <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer flaky.Close()
	var failingCalls atomic.Int32
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		failingCalls.Add(1)
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer failing.Close()

	var logs strings.Builder
	ws := NewWebSub([]string{good.URL, flaky.URL, failing.URL}, nil, newTestLogger(&syncWriter{w: &logs}))
	clock := &backoffClock{}
	ws.Tries, ws.Backoff, ws.After = 4, time.Second, clock.After
	ws.Announce([]string{"https://news.example.org/feed.xml"})
	close(release)
	ws.Wait()
	ws.Close()
	if len(got) != 1 || got[0].Get("hub.mode") != "publish" || got[0].Get("hub.url") != "https://news.example.org/feed.xml" {
		t.Errorf("good hub got %v", got)
	}
	if n := flakyCalls.Load(); n != 3 {
		t.Errorf("flaky hub called %d times, want 3 (two failures, one success)", n)
	}
	if n := failingCalls.Load(); n != 4 {
		t.Errorf("failing hub called %d times, want %d tries then give up", n, 4)
	}
	// The flaky hub waited 1s and 2s; the failing one 1s, 2s and 4s.
	slices.Sort(clock.waits)
	if want := []time.Duration{time.Second, time.Second, 2 * time.Second, 2 * time.Second, 4 * time.Second}; !slices.Equal(clock.waits, want) {
		t.Errorf("backoff waits %v, want %v", clock.waits, want)
	}
	if n := strings.Count(logs.String(), "websub hub not notified"); n != 1 || !strings.Contains(logs.String(), failing.URL) {
		t.Errorf("want one line giving up the failing hub, got:\n%s", logs.String())
	}
}

// A hub that accepts connections and never answers, and one whose port is
// closed: a one-shot command's Close gives each up after one request
// timeout, without a request per feed and without retries.
func TestWebSub_DeadHubCostsOneTimeout(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	var accepted atomic.Int32
	var held sync.WaitGroup
	conns := make(chan net.Conn, 100)
	held.Go(func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conns <- c // held open, never answered
		}
	})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String() + "/"
	closed.Close()

	var feeds []string
	for i := range 40 {
		feeds = append(feeds, fmt.Sprintf("https://news.example.org/tags/t%d/feed.xml", i))
	}
	var logs strings.Builder
	ws := NewWebSub([]string{"http://" + silent.Addr().String() + "/", closedURL}, nil, newTestLogger(&syncWriter{w: &logs}))
	ws.Timeout = 50 * time.Millisecond
	ws.After = func(time.Duration) <-chan time.Time {
		t.Error("a one-shot WebSub waited for a retry")
		return nil
	}
	start := time.Now()
	ws.Announce(feeds)
	ws.Close()
	// The only wall-clock bound here, and a generous one: 40 feeds one
	// timeout after the other would be 2s, the old five tries with backoff
	// 75s; one timeout per hub is 50ms.
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("Close took %v with a 50ms request timeout", d)
	}
	if n := accepted.Load(); n > int32(ws.Workers) {
		t.Errorf("the silent hub got %d connections for 40 feeds, want at most %d: one round of workers, then given up", n, ws.Workers)
	}
	if n := strings.Count(logs.String(), "websub hub not notified"); n != 2 || !strings.Contains(logs.String(), "feeds=40") {
		t.Errorf("want one line per dead hub, each giving up 40 feeds, got:\n%s", logs.String())
	}
	silent.Close()
	held.Wait()
	close(conns)
	for c := range conns {
		c.Close()
	}
}

// Close during a backoff ends it: a long-lived process stops at once.
func TestWebSub_CloseEndsTheBackoff(t *testing.T) {
	var calls atomic.Int32
	first := make(chan struct{}, 1)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer failing.Close()
	ws := NewWebSub([]string{failing.URL}, nil, newTestLogger(io.Discard))
	ws.Tries = 5
	ws.After = func(time.Duration) <-chan time.Time {
		first <- struct{}{}
		return nil // an hour: never over
	}
	ws.Announce([]string{"https://news.example.org/feed.xml"})
	<-first // waiting for the second try
	ws.Close()
	ws.Announce([]string{"https://news.example.org/atom.xml"}) // after Close: nothing
	if n := calls.Load(); n != 1 {
		t.Errorf("hub called %d times, want once: Close ends the backoff and sends nothing more", n)
	}
}

// syncWriter lets the hubs' goroutines log into one builder.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
