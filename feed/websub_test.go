package feed

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestWebSub_AnnouncesAndRetries(t *testing.T) {
	var mu sync.Mutex
	var got []url.Values
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			t.Errorf("hub got %s %s", r.Method, r.Header.Get("Content-Type"))
		}
		r.ParseForm()
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
	var deadCalls atomic.Int32
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deadCalls.Add(1)
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer dead.Close()

	ws := NewWebSub(context.Background(), []string{good.URL, flaky.URL, dead.URL}, newTestLogger(io.Discard))
	ws.Backoff = time.Millisecond
	ws.Tries = 4
	start := time.Now()
	ws.Announce([]string{"https://news.example.org/feed.xml"})
	if time.Since(start) > 100*time.Millisecond {
		t.Error("Announce blocked")
	}
	ws.Wait()
	if len(got) != 1 || got[0].Get("hub.mode") != "publish" || got[0].Get("hub.url") != "https://news.example.org/feed.xml" {
		t.Errorf("good hub got %v", got)
	}
	if n := flakyCalls.Load(); n != 3 {
		t.Errorf("flaky hub called %d times, want 3 (two failures, one success)", n)
	}
	if n := deadCalls.Load(); n != 4 {
		t.Errorf("failing hub called %d times, want %d tries then give up", n, 4)
	}
}

func TestWebSub_StopsWithContext(t *testing.T) {
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusInternalServerError)
	}))
	defer dead.Close()
	ctx, cancel := context.WithCancel(context.Background())
	ws := NewWebSub(ctx, []string{dead.URL}, newTestLogger(io.Discard))
	ws.Backoff = time.Hour
	ws.Announce([]string{"https://news.example.org/feed.xml"})
	time.AfterFunc(50*time.Millisecond, cancel)
	done := make(chan struct{})
	go func() { ws.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a retry waiting an hour did not stop at shutdown")
	}
}
