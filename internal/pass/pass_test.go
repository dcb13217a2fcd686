package pass

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/feed/upstream"
)

// steps records the order the pass calls its steps in.
type steps struct {
	mu    sync.Mutex
	calls []string
	scan  error
	fetch error
	built chan struct{}
}

func (s *steps) add(c string) {
	s.mu.Lock()
	s.calls = append(s.calls, c)
	s.mu.Unlock()
}

func (s *steps) Scan(context.Context) (feed.ScanResult, error) {
	s.add("scan")
	return feed.ScanResult{Added: 1}, s.scan
}

func (s *steps) Build(context.Context) (feed.BuildResult, error) {
	s.add("build")
	if s.built != nil {
		select {
		case s.built <- struct{}{}:
		default:
		}
	}
	return feed.BuildResult{Written: 3}, nil
}

func (s *steps) FetchDue(context.Context) (upstream.Result, error) {
	s.add("fetch")
	return upstream.Result{Added: 1, Updated: 1}, s.fetch
}

func (s *steps) Run(ctx context.Context, changed func()) error {
	changed()
	<-ctx.Done()
	return nil
}

func TestOnce_OrderAndSoftFailures(t *testing.T) {
	st := &steps{fetch: errors.New("partner feed down")}
	p := &Pass{Content: st, Feeds: st, Sources: st}
	rep, err := p.Once(context.Background())
	if err != nil {
		t.Fatalf("Once = %v; a failing source must not stop the pass", err)
	}
	if got := st.calls; len(got) != 3 || got[0] != "scan" || got[1] != "fetch" || got[2] != "build" {
		t.Errorf("steps %v, want scan, fetch, build", got)
	}
	if rep.Scan.Added != 1 || rep.Upstream != 2 || rep.Feeds.Written != 3 || len(rep.Errors) != 1 || !rep.Failed() {
		t.Errorf("report %+v", rep)
	}

	// A scan that cannot run at all ends the pass with its error.
	st = &steps{scan: errors.New("database is gone")}
	p = &Pass{Content: st, Feeds: st, Sources: st}
	if _, err := p.Once(context.Background()); err == nil || len(st.calls) != 1 {
		t.Errorf("Once after a failed scan = %v, steps %v", err, st.calls)
	}
}

// Serve runs the loops together; the first that fails stops the others
// and is returned, and nothing is left running.
func TestServe_OneFailureStopsEveryLoop(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	st := &steps{built: make(chan struct{}, 1)}
	p := &Pass{Content: st, Feeds: st, Sources: st, Poll: time.Hour}
	boom := errors.New("port taken")
	err := p.Serve(context.Background(), func(ctx context.Context) error {
		<-st.built // the poller's change rebuilt the feeds
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("Serve = %v, want %v", err, boom)
	}
}
