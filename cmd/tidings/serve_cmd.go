package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/mail"
)

func serveCommand() *command {
	return &command{
		name:    "serve",
		summary: "the daemon: HTTP server and scheduler",
		detail: "Serves the site on http.listen and rescans the content folders every content.poll.\n" +
			"SIGINT or SIGTERM stops it gracefully within http.shutdown_timeout; a second signal exits at once.",
		example: "tidings serve --config /etc/tidings.toml",
		nargs:   0,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			lock, err := lockInstance(app.Config.Database.Path, "serve")
			if err != nil {
				return err
			}
			defer lock.release()
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
	closeWebSub := a.announceFeeds(true)
	defer closeWebSub()
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	// The first pass runs before the server answers, so that the feeds it
	// serves are never empty for want of a scan.
	a.ingest(ctx)
	poke := make(chan struct{}, 1)
	sched, err := a.startSchedules(ctx, poke)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Go(func() { a.deliverLoop(ctx, poke) })
	wg.Go(func() {
		// Upstreams due since the last fetch (or never fetched) go first,
		// then each when its interval has passed.
		a.poller().Run(ctx, func() { a.ingest(ctx) })
	})
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
	<-sched.Stop().Done() // digest jobs in flight finish
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	log.Info("stopped")
	return err
}

// ingest runs one scan, logs its outcome (rejected files were logged by the
// ingester itself) and rebuilds the feeds. The feeds are built on every
// poll, not only after a change, so that an article dated in the future
// appears when its time comes; unchanged feeds are not rewritten.
func (a *App) ingest(ctx context.Context) {
	res, err := a.Ingester.Scan(ctx)
	a.metrics.job("ingest", err)
	a.metrics.add("tidings_articles_ingested_total", "Articles added or updated from content files.", `kind="added"`, float64(res.Added))
	a.metrics.add("tidings_articles_ingested_total", "Articles added or updated from content files.", `kind="updated"`, float64(res.Updated))
	a.metrics.add("tidings_articles_ingested_total", "Articles added or updated from content files.", `kind="removed"`, float64(res.Removed))
	a.metrics.add("tidings_articles_rejected_total", "Content files rejected by a scan (counted on every scan).", "", float64(len(res.Rejected)))
	if err != nil {
		if ctx.Err() == nil {
			a.Logger.Error("content scan failed", "component", "ingest", "error", err)
		}
	} else if res.Changed() {
		a.Logger.Info("content scanned", "component", "ingest", "added", res.Added, "updated", res.Updated,
			"removed", res.Removed, "rejected", len(res.Rejected))
	}
	fr, err := a.Feeds.Build(ctx)
	a.metrics.job("feeds", err)
	a.metrics.add("tidings_feed_builds_total", "Feed builds, by outcome.", outcomeLabel(err), 1)
	a.metrics.add("tidings_feeds_written_total", "Feed files written because their bytes changed.", "", float64(fr.Written))
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
	archive, err := mail.NewArchive(a.Ledger, a.Renderer, &a.Feeds.Site, a.Config.Templates.Dir)
	if err != nil {
		return nil, err
	}
	archive.Logger = a.Logger.With("component", "archive")
	archive.Routes(mux)
	api, err := feed.NewAPI(a.Articles, a.Config.Site.BaseURL, a.Config.HTTP.AdminToken, a.Config.Location(),
		func() time.Time { return a.Now() }, a.Logger.With("component", "api"))
	if err != nil {
		return nil, err
	}
	api.Routes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.HandleFunc("GET /metrics", a.metricsHandler)
	return mux, nil
}

// startSchedules runs the content scan every content.poll and each digest
// on its schedule with robfig/cron: a job never overlaps itself and a panic
// in one is logged with its stack. A digest whose moment passed while
// tidings was down runs once now. An edition planned pokes the delivery
// loop.
func (a *App) startSchedules(ctx context.Context, poke chan<- struct{}) (*cron.Cron, error) {
	log := a.Logger.With("component", "schedule")
	logger := cron.PrintfLogger(slogPrintf{log})
	c := cron.New(cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)), cron.WithLogger(cron.DiscardLogger))
	c.Schedule(cron.Every(a.Config.Content.Poll.Duration), cron.FuncJob(func() {
		if ctx.Err() == nil {
			a.ingest(ctx)
		}
	}))
	for _, name := range sortedKeys(a.Digests) {
		d := a.Digests[name]
		s, err := a.schedule(d.Schedule)
		if err != nil {
			return nil, fmt.Errorf("digest %s: schedule %w", name, err)
		}
		c.Schedule(s, cron.FuncJob(func() {
			if ctx.Err() != nil {
				return
			}
			ok, err := a.planDue(ctx, d, true)
			a.metrics.job("digest "+name, err)
			if ok {
				a.metrics.add("tidings_editions_planned_total", "Editions planned by this process.", `digest="`+name+`"`, 1)
			}
			if err != nil {
				log.Error("digest not planned", "digest", name, "error", err)
			}
			if ok {
				pokeNow(poke)
			}
		}))
		log.Info("digest scheduled", "digest", name, "schedule", d.Schedule, "next", s.Next(a.Now()))
	}
	if planned, _ := a.planDigests(ctx); planned > 0 {
		pokeNow(poke)
	}
	c.Start()
	a.ready.Store(true)
	return c, nil
}

func pokeNow(poke chan<- struct{}) {
	select {
	case poke <- struct{}{}:
	default:
	}
}

// deliverLoop sends due deliveries: when poked, and every few seconds for
// retries whose time has come, until ctx ends. Sends in flight at shutdown
// finish and are recorded before it returns.
func (a *App) deliverLoop(ctx context.Context, poke <-chan struct{}) {
	s := a.sender()
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		start := time.Now()
		rep, err := s.Run(ctx)
		a.metrics.job("deliver", err)
		for state, n := range map[string]int{"sent": rep.Sent, "failed": rep.Failed, "retried": rep.Retried, "skipped": rep.Skipped} {
			a.metrics.add("tidings_delivery_attempts_total", "Delivery attempts by outcome.", `outcome="`+state+`"`, float64(n))
		}
		if n := rep.Sent + rep.Failed + rep.Retried; n > 0 {
			a.metrics.add("tidings_send_seconds_total", "Time spent in delivery runs that sent something; divide by attempts for the mean latency.", "", time.Since(start).Seconds())
		}
		if err != nil && ctx.Err() == nil {
			a.Logger.Error("delivery run failed", "component", "deliver", "error", err)
		}
		if rep.Sent+rep.Failed+rep.Retried+rep.Skipped > 0 {
			a.Logger.Info("deliveries", "component", "deliver", "sent", rep.Sent, "failed", rep.Failed,
				"retried", rep.Retried, "skipped", rep.Skipped)
		}
		select {
		case <-ctx.Done():
			return
		case <-poke:
		case <-t.C:
		}
	}
}

// slogPrintf lets robfig/cron's Recover and SkipIfStillRunning log
// through slog.
type slogPrintf struct{ log *slog.Logger }

func (s slogPrintf) Printf(format string, args ...any) { s.log.Error(fmt.Sprintf(format, args...)) }

// readyz answers 200 once the schedules are loaded and while the database
// answers, 503 otherwise.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	if !a.ready.Load() {
		http.Error(w, "starting: schedules not loaded yet", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var one int
	if err := a.DB.Read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		http.Error(w, "database not reachable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ready")
}

func outcomeLabel(err error) string {
	if err != nil {
		return `outcome="error"`
	}
	return `outcome="ok"`
}
