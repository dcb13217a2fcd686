package upstream

import (
	"cmp"
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/tidings/tidings/feed"
)

// retryDelay is how long Run waits after the store could not say which
// sources are due.
const retryDelay = time.Minute

// Poller owns the schedule of the upstream feeds: which sources are due,
// when the next one is, fetching them. A source is due when it was never
// fetched, when its interval has passed since its last fetch, or when the
// wait its server asked for (Retry-After) has passed; never before that
// wait is over. What it knows of past fetches is in the store, so that
// `tidings run` from cron and `tidings serve` keep one schedule.
type Poller struct {
	Fetcher *Fetcher
	Sources []Source
	Now     func() time.Time
	Logger  *slog.Logger // one line per failed fetch and per fetch that brought articles; nil: none
	// After waits for Run; nil: time.After. Tests give a fake clock.
	After func(d time.Duration) <-chan time.Time
	// Observe, if set, is told of every fetch as it ends (for metrics).
	Observe func(src Source, res FetchResult, err error)

	mu    sync.Mutex
	tried map[string]time.Time // by source name: the last attempt, even one the store could not record
}

// Result counts what a FetchDue did, over every source it fetched.
type Result struct {
	Fetched        int // sources requested, whatever came of it
	Added, Updated int // articles
	Skipped        int // items filtered out, repeated or held by another source
}

// FetchDue fetches every source that is due, one after the other. Each
// fetch's failure is logged and the others go on; the first one is
// returned too, so that a command can say that something failed. When
// the store cannot say what was fetched when, nothing is fetched and its
// error is returned.
func (p *Poller) FetchDue(ctx context.Context) (Result, error) {
	var res Result
	states, err := p.states(ctx)
	if err != nil {
		return res, err
	}
	now := p.now()
	var first error
	for _, src := range p.Sources {
		if err := ctx.Err(); err != nil {
			return res, cmp.Or(first, err)
		}
		if p.dueAt(src, states[src.Name]).After(now) {
			continue
		}
		fr, err := p.fetch(ctx, src)
		res.Fetched++
		res.Added += fr.Added
		res.Updated += fr.Updated
		res.Skipped += fr.Skipped
		first = cmp.Or(first, err, fr.Err)
	}
	return res, first
}

// Run fetches each source when it is due, sleeping until the soonest one
// is, and calls changed (which may be nil) after a round of fetches that
// added or updated articles. Failures are logged, and the store asked
// again a minute later when it failed. Run returns nil when ctx is done,
// having started no goroutine that outlives it.
func (p *Poller) Run(ctx context.Context, changed func()) error {
	if len(p.Sources) == 0 {
		<-ctx.Done()
		return nil
	}
	for {
		// Each fetch's failure is logged as it happens; one of the store
		// shows again below.
		res, _ := p.FetchDue(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if res.Added+res.Updated > 0 && changed != nil {
			changed()
		}
		wait := retryDelay
		if states, err := p.states(ctx); err != nil {
			if ctx.Err() == nil {
				p.log().Error("sources not loaded; trying again later", "wait", wait, slog.Any("error", err))
			}
		} else {
			wait = p.untilNext(states)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.after(wait):
		}
	}
}

// untilNext returns how long until the soonest source is due.
func (p *Poller) untilNext(states map[string]feed.SourceStatus) time.Duration {
	now := p.now()
	var wait time.Duration
	for i, src := range p.Sources {
		d := p.dueAt(src, states[src.Name]).Sub(now)
		if i == 0 || d < wait {
			wait = d
		}
	}
	return max(wait, 0)
}

// dueAt returns when src is next due, st being what the store holds of it.
func (p *Poller) dueAt(src Source, st feed.SourceStatus) time.Time {
	last := st.LastFetch
	p.mu.Lock()
	if t := p.tried[src.Name]; t.After(last) {
		last = t // a fetch whose outcome the store did not keep waits its interval too
	}
	p.mu.Unlock()
	switch {
	case st.RetryAfter.After(last):
		return st.RetryAfter // the server named its time
	case last.IsZero():
		return last // never fetched: due now
	}
	return last.Add(src.Every())
}

// states loads what the store holds of every source, by name.
func (p *Poller) states(ctx context.Context) (map[string]feed.SourceStatus, error) {
	list, err := p.Fetcher.Store.Sources(ctx)
	if err != nil {
		return nil, err
	}
	states := make(map[string]feed.SourceStatus, len(list))
	for _, st := range list {
		states[st.Name] = st
	}
	return states, nil
}

// fetch fetches one source and logs what became of it.
func (p *Poller) fetch(ctx context.Context, src Source) (FetchResult, error) {
	p.mu.Lock()
	if p.tried == nil {
		p.tried = map[string]time.Time{}
	}
	p.tried[src.Name] = p.now()
	p.mu.Unlock()
	res, err := p.Fetcher.Fetch(ctx, src)
	if p.Observe != nil {
		p.Observe(src, res, err)
	}
	log := p.log().With("source", src.Name)
	switch {
	case ctx.Err() != nil:
	case err != nil:
		log.Error("source not fetched", "url", src.URL, slog.Any("error", err))
	case res.Err != nil:
		log.Warn("source not fetched", "url", src.URL, slog.Any("error", res.Err))
	case res.Added+res.Updated > 0:
		log.Info("source fetched", "added", res.Added, "updated", res.Updated, "skipped", res.Skipped)
	}
	return res, err
}

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Poller) after(d time.Duration) <-chan time.Time {
	if p.After != nil {
		return p.After(d)
	}
	return time.After(d)
}

func (p *Poller) log() *slog.Logger {
	if p.Logger != nil {
		return p.Logger
	}
	return slog.New(slog.DiscardHandler)
}
