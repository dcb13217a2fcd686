package main

import (
	"context"
	"regexp"
	"time"

	"github.com/tidings/tidings/feed"
)

// defaultSourceInterval is how often an upstream is fetched when its
// [[sources]] table names no interval.
const defaultSourceInterval = 15 * time.Minute

// sources returns the configured upstream feeds; Validate has checked
// their URLs and expressions.
func (a *App) sources() []feed.Source {
	var out []feed.Source
	for _, s := range a.Config.Sources {
		src := feed.Source{Name: s.Name, URL: s.URL, Interval: s.Interval.Duration, Tags: s.Tags,
			Backfill: s.Backfill.Duration, AllowPrivate: s.AllowPrivate}
		if src.Interval <= 0 {
			src.Interval = defaultSourceInterval
		}
		if s.Include != "" {
			src.Include = regexp.MustCompile(s.Include)
		}
		if s.Exclude != "" {
			src.Exclude = regexp.MustCompile(s.Exclude)
		}
		out = append(out, src)
	}
	return out
}

// fetcher fetches upstream feeds into the article store.
func (a *App) fetcher() *feed.Fetcher {
	ver, _ := buildInfo()
	return &feed.Fetcher{
		Store: a.Articles, BaseURL: a.Config.Site.BaseURL, Location: a.Config.Location(),
		UserAgent: "tidings/" + ver + " (+" + a.Config.Site.BaseURL + ")",
		MaxBytes:  a.Config.Content.MaxBytes,
		Logger:    a.Logger.With("component", "sources"),
		Now:       func() time.Time { return a.Now() },
	}
}

// fetchSource fetches one upstream and logs what became of it; the feeds
// are rebuilt when it brought anything.
func (a *App) fetchSource(ctx context.Context, f *feed.Fetcher, src feed.Source) (feed.FetchResult, error) {
	res, err := f.Fetch(ctx, src)
	if err == nil {
		err = res.Err
	}
	a.Metrics.Job("source "+src.Name, err)
	log := a.Logger.With("component", "sources", "source", src.Name)
	switch {
	case err != nil && ctx.Err() == nil:
		log.Warn("source not fetched", "error", err)
	case res.Added+res.Updated > 0:
		log.Info("source fetched", "added", res.Added, "updated", res.Updated, "skipped", res.Skipped)
	}
	return res, err
}

// fetchDueSources fetches every source whose interval has passed since its
// last fetch. It returns how many articles came in (added or updated) and
// the first error.
func (a *App) fetchDueSources(ctx context.Context) (changed int, first error) {
	states, err := a.Articles.Sources(ctx)
	if err != nil {
		return 0, err
	}
	last := map[string]time.Time{}
	for _, st := range states {
		last[st.Name] = st.LastFetch
	}
	f := a.fetcher()
	for _, src := range a.sources() {
		if t := last[src.Name]; !t.IsZero() && a.Now().Sub(t) < src.Interval {
			continue
		}
		res, err := a.fetchSource(ctx, f, src)
		if err != nil && first == nil {
			first = err
		}
		changed += res.Added + res.Updated
	}
	return changed, first
}

// sourcePoller fetches the configured upstreams for the pass.
type sourcePoller struct{ a *App }

func (p *sourcePoller) FetchDue(ctx context.Context) (int, error) { return p.a.fetchDueSources(ctx) }

// Run fetches due upstreams every minute, or at the shortest interval.
func (p *sourcePoller) Run(ctx context.Context, changed func()) error {
	every := time.Minute
	for _, s := range p.a.sources() {
		every = min(every, s.Interval)
	}
	for {
		if n, _ := p.a.fetchDueSources(ctx); n > 0 {
			changed()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(every):
		}
	}
}
