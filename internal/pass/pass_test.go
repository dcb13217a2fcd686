package pass

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
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
	if rep.Scan.Added != 1 || rep.Upstream.Added+rep.Upstream.Updated != 2 || rep.Feeds.Written != 3 || len(rep.Errors) != 1 || !rep.Failed() {
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

// fakeWatch reports one change, or fails at once.
type fakeWatch struct{ err error }

func (w fakeWatch) Run(ctx context.Context, changed func()) error {
	if w.err != nil {
		return w.err
	}
	changed()
	<-ctx.Done()
	return nil
}

// A change the watcher sees is scanned and built at once, long before
// the poll; a watcher that cannot watch is logged and serve goes on,
// polling.
func TestServe_WatchRescansAndFallsBackToThePoll(t *testing.T) {
	for _, tt := range []struct {
		name  string
		watch fakeWatch
		poll  time.Duration
		warn  bool
	}{
		{"watching", fakeWatch{}, time.Hour, false},
		{"not watching", fakeWatch{err: errors.New("inotify watches used up")}, 20 * time.Millisecond, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
			st := &steps{built: make(chan struct{}, 1)}
			var logs strings.Builder
			var mu sync.Mutex
			p := &Pass{Content: st, Feeds: st, Watch: tt.watch, Poll: tt.poll,
				Logger: slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &logs}, nil))}
			err := p.Serve(context.Background(), func(ctx context.Context) error {
				select {
				case <-st.built:
				case <-time.After(5 * time.Second):
					return errors.New("no rescan")
				}
				return errStop
			})
			if !errors.Is(err, errStop) {
				t.Fatalf("Serve = %v", err)
			}
			st.mu.Lock()
			calls := st.calls
			st.mu.Unlock()
			if len(calls) < 2 || calls[0] != "scan" || calls[1] != "build" {
				t.Errorf("steps %v, want a scan and a build", calls)
			}
			mu.Lock()
			defer mu.Unlock()
			const warn = "content folders not watched; changes are found every content.poll"
			if got := logs.String(); strings.Contains(got, warn) != tt.warn || tt.warn && !strings.Contains(got, "inotify watches used up") {
				t.Errorf("log %q; want the warning: %v", got, tt.warn)
			}
		})
	}
}

var errStop = errors.New("stop")

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
