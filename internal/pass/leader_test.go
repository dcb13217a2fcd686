package pass

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// fakeLeaders leads the roles in lead; others are held elsewhere.
type fakeLeaders struct {
	mu   sync.Mutex
	lead map[string]bool
}

func (f *fakeLeaders) Lead(_ context.Context, role string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lead[role], nil
}

func (f *fakeLeaders) set(role string, v bool) {
	f.mu.Lock()
	f.lead[role] = v
	f.mu.Unlock()
}

// fakeNotices is one process's view of a cluster's notices.
type fakeNotices struct {
	sent  chan string
	heard chan string
}

func (f *fakeNotices) Notify(_ context.Context, _, payload string) error {
	f.sent <- payload
	return nil
}

func (f *fakeNotices) Listen(ctx context.Context, _ string, fn func(string)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case p := <-f.heard:
			fn(p)
		}
	}
}

// An instance that does not lead the scan only builds; when the leader is gone it
// takes the scan over at the next poll and tells the others of what its
// scan changed, under its own name.
func TestServe_FollowerBuildsLeaderScans(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	st := &steps{built: make(chan struct{}, 10)}
	leaders := &fakeLeaders{lead: map[string]bool{}}
	notices := &fakeNotices{sent: make(chan string, 10), heard: make(chan string, 1)}
	p := &Pass{Content: st, Feeds: st, Poll: 20 * time.Millisecond, Leaders: leaders, Notices: notices, Instance: "b"}

	p.Refresh(context.Background())
	if got := st.calls; !slices.Equal(got, []string{"build"}) {
		t.Fatalf("a follower's first refresh: %v, want a build and no scan", got)
	}
	if got := p.Leading(); len(got) != 0 {
		t.Errorf("Leading = %v, want none", got)
	}
	err := p.Serve(context.Background(), func(ctx context.Context) error {
		deadline := time.After(5 * time.Second)
		leaders.set(RoleScan, true)
		select {
		case from := <-notices.sent:
			if from != "b" {
				return errors.New("notice named " + from)
			}
		case <-deadline:
			return errors.New("the follower never took the scan over")
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatal(err)
	}
	if got := p.Leading(); !slices.Equal(got, []string{RoleScan}) {
		t.Errorf("Leading = %v, want [scan]", got)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if !slices.Contains(st.calls, "scan") {
		t.Errorf("steps %v: no scan after taking the lead", st.calls)
	}
}

// While another instance leads the fetch, upstream feeds are left to it;
// this instance fetches from the poll after the role came to it, and
// stops when it is lost.
func TestServe_FetchOnlyWhileLeading(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	leaders := &fakeLeaders{lead: map[string]bool{}}
	runs := make(chan string, 10)
	src := &runningSource{runs: runs}
	st := &steps{}
	p := &Pass{Content: st, Feeds: st, Sources: src, Poll: 20 * time.Millisecond, Leaders: leaders}
	err := p.Serve(context.Background(), func(ctx context.Context) error {
		select {
		case r := <-runs:
			return errors.New("fetched without leading: " + r)
		case <-time.After(100 * time.Millisecond):
		}
		leaders.set(RoleFetch, true)
		if r := <-runs; r != "start" {
			return errors.New("want start, got " + r)
		}
		leaders.set(RoleFetch, false)
		select {
		case r := <-runs:
			if r != "stop" {
				return errors.New("want stop, got " + r)
			}
		case <-time.After(5 * time.Second):
			return errors.New("fetching went on after the role was lost")
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatal(err)
	}
}

type runningSource struct {
	steps
	runs chan string
}

func (r *runningSource) Run(ctx context.Context, changed func()) error {
	r.runs <- "start"
	<-ctx.Done()
	r.runs <- "stop"
	return nil
}

// A notice from another instance rebuilds the feeds at once, long before
// the poll; this instance's own notice does not.
func TestServe_NoticeFromAnotherInstanceRebuilds(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	st := &steps{built: make(chan struct{}, 1)}
	notices := &fakeNotices{sent: make(chan string, 10), heard: make(chan string)}
	p := &Pass{Content: st, Feeds: st, Poll: time.Hour, Leaders: &fakeLeaders{lead: map[string]bool{}}, Notices: notices, Instance: "b"}
	err := p.Serve(context.Background(), func(ctx context.Context) error {
		notices.heard <- "b"
		select {
		case <-st.built:
			return errors.New("rebuilt on its own notice")
		case <-time.After(100 * time.Millisecond):
		}
		notices.heard <- "a"
		select {
		case <-st.built:
		case <-time.After(5 * time.Second):
			return errors.New("no rebuild after another instance's notice")
		}
		return errStop
	})
	if !errors.Is(err, errStop) {
		t.Fatal(err)
	}
}
