package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tidings/tidings/feed"
)

// pollerEnv serves two feeds, /a and /b, counting the requests for each.
type pollerEnv struct {
	*upstreamEnv
	mu     sync.Mutex
	calls  map[string]int
	status map[string]int // answer this status instead of the feed
}

func newPollerEnv(t *testing.T) (*pollerEnv, *Poller) {
	e := &pollerEnv{upstreamEnv: newUpstreamEnv(t), calls: map[string]int{}, status: map[string]int{}}
	e.serve(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.calls[r.URL.Path]++
		status := e.status[r.URL.Path]
		e.mu.Unlock()
		if status != 0 {
			w.Header().Set("Retry-After", "120")
			w.WriteHeader(status)
			return
		}
		fmt.Fprint(w, upRSS(upItem(r.URL.Path, "", "Item "+r.URL.Path, recent, "body")))
	})
	p := &Poller{Fetcher: e.f, Now: e.clock.Now, Sources: []Source{
		{Name: "a", URL: e.srv.URL + "/a", Interval: 10 * time.Minute, AllowPrivate: true},
		{Name: "b", URL: e.srv.URL + "/b", Interval: time.Hour, AllowPrivate: true},
	}}
	return e, p
}

func (e *pollerEnv) counts() [2]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return [2]int{e.calls["/a"], e.calls["/b"]}
}

func TestPoller_FetchDue(t *testing.T) {
	e, p := newPollerEnv(t)
	t0 := e.clock.Now()
	steps := []struct {
		name    string
		at      time.Duration // after t0
		status  int           // b's answer from then on; 0: its feed
		fetched int
		calls   [2]int // requests so far to a and b
		wantErr error
	}{
		{"never fetched: both due", 0, 0, 2, [2]int{1, 1}, nil},
		{"within both intervals", 5 * time.Minute, 0, 0, [2]int{1, 1}, nil},
		{"a's interval passed", 10 * time.Minute, 0, 1, [2]int{2, 1}, nil},
		{"b asks to wait; a goes on", time.Hour, http.StatusTooManyRequests, 2, [2]int{3, 2}, ErrHTTPStatus},
		{"within b's Retry-After", time.Hour + time.Minute, 0, 0, [2]int{3, 2}, nil},
		{"b's Retry-After passed, long before its interval", time.Hour + 2*time.Minute, 0, 1, [2]int{3, 3}, nil},
		{"then b keeps its interval again", time.Hour + 30*time.Minute, 0, 1, [2]int{4, 3}, nil},
	}
	for _, st := range steps {
		e.clock.t = t0.Add(st.at)
		e.mu.Lock()
		e.status["/b"] = st.status
		e.mu.Unlock()
		res, err := p.FetchDue(context.Background())
		if !errors.Is(err, st.wantErr) || (err == nil) != (st.wantErr == nil) {
			t.Errorf("%s: error %v, want %v", st.name, err, st.wantErr)
		}
		if res.Fetched != st.fetched || e.counts() != st.calls {
			t.Errorf("%s: fetched %d, requests %v; want %d, %v", st.name, res.Fetched, e.counts(), st.fetched, st.calls)
		}
	}
}

func TestPoller_FetchDueCounts(t *testing.T) {
	e, p := newPollerEnv(t)
	res, err := p.FetchDue(context.Background())
	if err != nil || res != (Result{Fetched: 2, Added: 2}) {
		t.Fatalf("first round: %+v, %v; want both fetched and one article each", res, err)
	}
	e.clock.t = e.clock.t.Add(2 * time.Hour)
	if res, err := p.FetchDue(context.Background()); err != nil || res != (Result{Fetched: 2}) {
		t.Errorf("unchanged feeds: %+v, %v; want both fetched and nothing new", res, err)
	}
}

// fakeTimer is Run's clock: each wait moves the test clock on at once and
// is recorded; past the end, the context is canceled.
type fakeTimer struct {
	clock  *testClock
	end    time.Time
	cancel context.CancelFunc
	waits  []time.Duration
}

func (f *fakeTimer) After(d time.Duration) <-chan time.Time {
	f.waits = append(f.waits, d)
	f.clock.t = f.clock.t.Add(d)
	if f.clock.t.After(f.end) || len(f.waits) > 100 { // a loop that does not wait ends too
		f.cancel()
		return nil // never fires: Run returns for ctx
	}
	c := make(chan time.Time, 1)
	c <- f.clock.t
	return c
}

func TestPoller_Run(t *testing.T) {
	e, p := newPollerEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timer := &fakeTimer{clock: e.clock, end: e.clock.Now().Add(55 * time.Minute), cancel: cancel}
	p.After = timer.After
	changed := 0
	if err := p.Run(ctx, func() { changed++ }); err != nil {
		t.Fatalf("Run: %v", err)
	}
	// a at 0, 10, ... 50 minutes; b at 0 only (its hour is not up).
	if got := e.counts(); got != [2]int{6, 1} {
		t.Errorf("requests %v, want a 6 times and b once", got)
	}
	for i, w := range timer.waits {
		if w != 10*time.Minute {
			t.Errorf("wait %d was %v, want 10m each: sleep until the soonest source is due", i, w)
		}
	}
	if changed != 1 {
		t.Errorf("changed called %d times, want once: only the first round brought articles", changed)
	}
}

func TestPoller_RunWithoutSourcesWaitsForTheEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (&Poller{}).Run(ctx, nil); err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
}

// forgetfulStore cannot record what a fetch did.
type forgetfulStore struct{ *feed.Store }

func (forgetfulStore) SaveSource(context.Context, feed.SourceStatus) error {
	return errors.New("disk full")
}

// A fetch whose outcome the store could not keep waits its interval as
// any other, instead of being retried at once in a loop.
func TestPoller_RunWhenTheStoreForgets(t *testing.T) {
	e, p := newPollerEnv(t)
	e.f.Store = forgetfulStore{e.store}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timer := &fakeTimer{clock: e.clock, end: e.clock.Now().Add(25 * time.Minute), cancel: cancel}
	p.After = timer.After
	if err := p.Run(ctx, nil); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := e.counts(); got != [2]int{3, 1} {
		t.Errorf("requests %v, want a at 0, 10 and 20 minutes and b once", got)
	}
}
