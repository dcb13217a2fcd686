package main

import (
	"regexp"
	"time"

	"github.com/tidings/tidings/feed/upstream"
)

// sources returns the configured upstream feeds; Validate has checked
// their URLs and expressions.
func (a *App) sources() []upstream.Source {
	var out []upstream.Source
	for _, s := range a.Config.Sources {
		src := upstream.Source{Name: s.Name, URL: s.URL, Interval: s.Interval.Duration, Tags: s.Tags,
			Backfill: s.Backfill.Duration, AllowPrivate: s.AllowPrivate}
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
func (a *App) fetcher() *upstream.Fetcher {
	ver, _ := buildInfo()
	return &upstream.Fetcher{
		Store: a.Articles, BaseURL: a.Config.Site.BaseURL,
		UserAgent: "tidings/" + ver + " (+" + a.Config.Site.BaseURL + ")",
		MaxBytes:  a.Config.Content.MaxBytes,
		Logger:    a.Logger.With("component", "sources"),
		Now:       func() time.Time { return a.Now() },
	}
}

// poller fetches the upstream feeds that are due.
func (a *App) poller() *upstream.Poller {
	return &upstream.Poller{
		Fetcher: a.fetcher(), Sources: a.sources(),
		Now:    func() time.Time { return a.Now() },
		Logger: a.Logger.With("component", "sources"),
		Observe: func(src upstream.Source, res upstream.FetchResult, err error) {
			if err == nil {
				err = res.Err
			}
			a.Metrics.Job("source "+src.Name, err)
		},
	}
}
