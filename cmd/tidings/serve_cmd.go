package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/tidings/tidings/feed"
)

func serveCommand() *command {
	return &command{
		name:    "serve",
		summary: "the daemon: HTTP server and scheduler",
		detail: "Serves the site on http.listen and rescans the content folders every content.poll.\n" +
			"SIGINT or SIGTERM stops it gracefully within http.shutdown_timeout; a second signal exits at once.",
		example: "tidings serve --config /etc/tidings.toml",
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			app, err := e.openApp(ctx)
			if err != nil {
				return err
			}
			defer app.Close()
			ln, err := net.Listen("tcp", app.Config.HTTP.Listen)
			if err != nil {
				return fmt.Errorf("listen on %s (http.listen): %w", app.Config.HTTP.Listen, err)
			}
			return app.Serve(ctx, ln)
		},
	}
}

// Serve runs the HTTP server on ln and the background jobs until ctx ends,
// then shuts down within http.shutdown_timeout.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	log := a.Logger.With("component", "serve")
	handler, err := a.Handler()
	if err != nil {
		return err
	}
	waitWebSub := a.announceFeeds(ctx)
	defer waitWebSub()
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	// The first pass runs before the server answers, so that the feeds it
	// serves are never empty for want of a scan.
	a.ingest(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { a.pollContent(ctx) })
	log.Info("serving", "url", "http://"+ln.Addr().String(), "site", a.Config.Site.BaseURL)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.Config.HTTP.ShutdownTimeout.Duration)
		defer cancel()
		err = srv.Shutdown(shutCtx)
	}
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	log.Info("stopped")
	return err
}

// pollContent scans the content folders every content.poll until ctx ends.
func (a *App) pollContent(ctx context.Context) {
	t := time.NewTicker(a.Config.Content.Poll.Duration)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.ingest(ctx)
		}
	}
}

// ingest runs one scan, logs its outcome (rejected files were logged by the
// ingester itself) and rebuilds the feeds. The feeds are built on every
// poll, not only after a change, so that an article dated in the future
// appears when its time comes; unchanged feeds are not rewritten.
func (a *App) ingest(ctx context.Context) {
	res, err := a.Ingester.Scan(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.Logger.Error("content scan failed", "component", "ingest", "error", err)
		}
	} else if res.Changed() {
		a.Logger.Info("content scanned", "component", "ingest", "added", res.Added, "updated", res.Updated,
			"removed", res.Removed, "rejected", len(res.Rejected))
	}
	fr, err := a.Feeds.Build(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.Logger.Error("feed build failed", "component", "feeds", "error", err)
		}
		return
	}
	if fr.Written+fr.Removed > 0 {
		a.Logger.Info("feeds built", "component", "feeds", "written", fr.Written, "removed", fr.Removed)
	}
}

// Handler routes every HTTP request tidings answers.
func (a *App) Handler() (http.Handler, error) {
	mux := http.NewServeMux()
	fh, err := feed.NewHandler(a.Feeds, a.Config.Templates.Dir, a.Logger.With("component", "http"))
	if err != nil {
		return nil, err
	}
	fh.Routes(mux)
	sh, err := a.subscriberHandler()
	if err != nil {
		return nil, err
	}
	sh.Routes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	return mux, nil
}
