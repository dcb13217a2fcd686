package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/internal/web"
	"github.com/tidings/tidings/mail"
	"github.com/tidings/tidings/mail/inbound"
)

func serveCommand() *command {
	return &command{
		name:    "serve",
		summary: "the daemon: HTTP server and scheduler",
		detail: "Serves the site on http.listen, rescans the content folders within a second of a change (content.watch)\n" +
			"and every content.poll, fetches upstream feeds, plans each digest at its scheduled moments and sends\n" +
			"what is due. It takes mail that comes back on inbound.smtp_listen and polls the [inbound.imap] mailbox. SIGINT or SIGTERM stops it gracefully within http.shutdown_timeout; a second signal exits\n" +
			"at once. It exits non-zero, naming the cause, when a part of it cannot go on (the port is taken, the\n" +
			"database file is removed or made read-only).",
		example: "tidings serve --config /etc/tidings.toml",
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if fs.NArg() != 0 {
				return errUsage
			}
			cfg, err := e.loadConfig()
			if err != nil {
				return err
			}
			m := &Main{Config: cfg, ConfigPath: configPath(e.configFlag, e.getenv), Logs: e.stderr}
			defer m.Close()
			return m.Run(ctx)
		},
	}
}

// Main is tidings serve: the wired app and the lifetime of its parts.
// main and the tests boot it the same way: Open, then Run until ctx ends,
// then Close.
type Main struct {
	Config     Config
	ConfigPath string    // the file Config was read from, for its warnings; "" for the defaults
	Logs       io.Writer // where the log goes
	// Listener, when set, is served instead of listening on http.listen
	// (tests pass one on 127.0.0.1:0).
	Listener net.Listener

	// MetricsListener, when set, serves /metrics instead of
	// http.metrics_listen.
	MetricsListener net.Listener
	// InboundListener takes mail for the inbound domain over SMTP; nil
	// opens inbound.smtp_listen when it is set.
	InboundListener net.Listener

	// SNSClient, when set, is the App's SNSClient (tests: a fake SNS).
	SNSClient *http.Client

	App  *App // set by Open
	lock *instanceLock
}

// dbWatchEvery is how often serve checks that its database file is still
// there and writable.
const dbWatchEvery = 2 * time.Second

// Open opens the database, takes the single-instance lock and listens.
// Run calls it when it has not been called.
func (m *Main) Open(ctx context.Context) error {
	if m.App != nil {
		return nil
	}
	logs := m.Logs
	if logs == nil {
		logs = io.Discard
	}
	app, err := NewApp(ctx, m.Config, logs)
	if err != nil {
		return err
	}
	m.App = app
	if m.lock, err = lockInstance(m.Config.Database, "serve"); err != nil {
		return err
	}
	if m.Listener == nil {
		if m.Listener, err = net.Listen("tcp", m.Config.HTTP.Listen); err != nil {
			return fmt.Errorf("listen on %s (http.listen): %w", m.Config.HTTP.Listen, err)
		}
	}
	if m.InboundListener == nil && m.Config.Inbound.SMTPListen != "" {
		if m.InboundListener, err = net.Listen("tcp", m.Config.Inbound.SMTPListen); err != nil {
			return fmt.Errorf("listen on %s (inbound.smtp_listen): %w", m.Config.Inbound.SMTPListen, err)
		}
	}
	if m.MetricsListener == nil && m.Config.HTTP.MetricsListen != "" {
		if m.MetricsListener, err = net.Listen("tcp", m.Config.HTTP.MetricsListen); err != nil {
			return fmt.Errorf("listen on %s (http.metrics_listen): %w", m.Config.HTTP.MetricsListen, err)
		}
	}
	return nil
}

// Run serves HTTP and runs every background loop until ctx ends (nil
// after a graceful shutdown) or one of them fails (its error, after the
// others stopped). The first content scan runs before the server answers,
// so that the feeds it serves are never empty for want of one.
func (m *Main) Run(ctx context.Context) error {
	if err := m.Open(ctx); err != nil {
		return err
	}
	a := m.App
	log := a.Logger.With("component", "serve")
	for _, w := range m.Config.Warnings(m.ConfigPath) {
		log.Warn(w)
	}
	for _, p := range a.DB.Tightened {
		log.Warn("database file was readable by others; made 0600", "path", p)
	}
	if m.SNSClient != nil {
		a.SNSClient = m.SNSClient
	}
	handler, err := a.Handler()
	if err != nil {
		return err
	}
	closeWebSub := a.announceFeeds(true)
	defer closeWebSub()
	p := a.pass()
	a.running.Store(p)
	p.Refresh(ctx)
	a.ready.Store(true)
	log.Info("serving", "url", "http://"+m.Listener.Addr().String(), "site", a.Config.Site.BaseURL,
		"instance", a.Instance, "database", a.DB.Dialect.String(), "leading", strings.Join(p.Leading(), ","))
	loops := []func(context.Context) error{
		m.serveHTTP(m.Listener, handler),
		func(ctx context.Context) error { return a.DB.Watch(ctx, dbWatchEvery) },
		a.admin.Run,
	}
	if m.InboundListener != nil {
		rcv := &inbound.Receiver{Domain: a.Config.InboundDomain(), MaxBytes: a.Config.Inbound.MaxBytes, PerClient: a.Config.Inbound.ClientRate,
			Logger: a.Logger.With("component", "inbound"),
			Handle: func(ctx context.Context, envelope []string, raw []byte) error {
				_, err := a.hear(ctx, bytes.NewReader(raw), envelope, "smtp")
				return err
			}}
		log.Info("taking mail over smtp", "addr", m.InboundListener.Addr().String(), "domain", rcv.Domain)
		loops = append(loops, func(ctx context.Context) error { return rcv.Serve(ctx, m.InboundListener) })
	}
	if poller := a.imapPoller(); poller != nil {
		log.Info("polling an imap mailbox", "addr", poller.Addr, "folder", poller.Folder, "every", poller.Every.String())
		loops = append(loops, poller.Run)
	}
	if m.MetricsListener != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", a.metrics())
		loops = append(loops, m.serveHTTP(m.MetricsListener, web.Secure(mux, a.Config.Site.BaseURL)))
	}
	err = p.Serve(ctx, loops...)
	a.ready.Store(false)
	if err != nil {
		return err
	}
	log.Info("stopped")
	return nil
}

// serveHTTP serves handler on ln until ctx ends, then shuts down within
// http.shutdown_timeout. Every connection is bounded by the http.*_timeout
// settings, so a client that stalls (slowloris, a body that never comes,
// an idle keep-alive) is closed rather than held.
func (m *Main) serveHTTP(ln net.Listener, handler http.Handler) func(ctx context.Context) error {
	h := m.Config.HTTP
	return func(ctx context.Context) error {
		srv := &http.Server{
			Handler:           handler,
			ReadHeaderTimeout: h.ReadHeaderTimeout.Duration,
			ReadTimeout:       h.ReadTimeout.Duration,
			WriteTimeout:      h.WriteTimeout.Duration,
			IdleTimeout:       h.IdleTimeout.Duration,
			MaxHeaderBytes:    h.MaxHeaderBytes,
			BaseContext:       func(net.Listener) context.Context { return ctx },
		}
		errc := make(chan error, 1)
		go func() { errc <- srv.Serve(ln) }()
		select {
		case err := <-errc:
			return fmt.Errorf("http server on %s: %w", ln.Addr(), err)
		case <-ctx.Done():
		}
		shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.Config.HTTP.ShutdownTimeout.Duration)
		defer cancel()
		err := srv.Shutdown(shutCtx)
		<-errc
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("http server shutdown: %w", err)
		}
		return nil
	}
}

// Close releases the listener, the lock and the app.
func (m *Main) Close() error {
	var errs []error
	for _, ln := range []net.Listener{m.Listener, m.MetricsListener, m.InboundListener} {
		if ln == nil {
			continue
		}
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	if m.lock != nil {
		m.lock.release()
		m.lock = nil
	}
	if m.App != nil {
		errs = append(errs, m.App.Close())
		m.App = nil
	}
	return errors.Join(errs...)
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
	assets, err := web.LoadAssets(a.Config.Templates.Dir)
	if err != nil {
		return nil, err
	}
	assets.Routes(mux)
	api, err := feed.NewAPI(a.Articles, a.Config.Site.BaseURL, a.Config.HTTP.AdminToken, a.Config.Location(),
		func() time.Time { return a.Now() }, a.Logger.With("component", "api"))
	if err != nil {
		return nil, err
	}
	// A write through the API rebuilds the feeds here and on every other
	// instance at once, as a scan that changed articles does.
	apiMux := http.NewServeMux()
	api.Routes(apiMux)
	changes := a.contentChanges(apiMux)
	mux.Handle("/api/v1/articles", changes)
	mux.Handle("/api/v1/articles/", changes)
	adm, err := a.webAdmin()
	if err != nil {
		return nil, err
	}
	adm.Routes(mux)
	a.admin = adm
	wh, err := a.webhooks()
	if err != nil {
		return nil, err
	}
	wh.Routes(mux)
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	if a.Config.HTTP.MetricsListen == "" {
		mux.Handle("GET /metrics", a.metrics())
	}
	return web.Secure(web.Fallback(mux, fh.Pages()), a.Config.Site.BaseURL), nil
}

// contentChanges passes requests to h and, after a write that succeeded,
// has the running pass rebuild the feeds and tell the other instances.
func (a *App) contentChanges(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, r)
		if r.Method == http.MethodGet || r.Method == http.MethodHead || rec.status >= 300 {
			return
		}
		if p := a.running.Load(); p != nil {
			p.ContentChanged(context.WithoutCancel(r.Context()))
		}
	})
}

// statusRecorder notes the status a handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// healthz answers 200 while the process runs, with what this instance
// is: its id, its database and whether that answers, the leader roles it
// holds.
func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	st := a.health(r)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
	st.write(w)
}

// readyz answers 200 once the schedules are loaded and while the database
// answers, 503 otherwise, with the same report as healthz.
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	st := a.health(r)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch {
	case !a.ready.Load():
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "starting: schedules not loaded yet")
	case st.dbErr != nil:
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "database not reachable")
	default:
		fmt.Fprintln(w, "ready")
	}
	st.write(w)
}

// instanceHealth is what /healthz and /readyz say of this instance.
// Where the database is and why it does not answer stay in the log: the
// endpoints are public.
type instanceHealth struct {
	instance, dialect string
	dbErr             error
	leading           []string
}

func (a *App) health(r *http.Request) instanceHealth {
	ctx := r.Context()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st := instanceHealth{instance: a.Instance, dialect: a.DB.Dialect.String()}
	var one int
	if st.dbErr = a.DB.Read.QueryRowContext(ctx, "SELECT 1").Scan(&one); st.dbErr != nil && r.Context().Err() == nil {
		a.Logger.Warn("health check: database not reachable", "component", "http", "database", a.DB.String(), slog.Any("error", st.dbErr))
	}
	if p := a.running.Load(); p != nil {
		st.leading = p.Leading()
	}
	return st
}

func (st instanceHealth) write(w io.Writer) {
	fmt.Fprintf(w, "instance: %s\n", st.instance)
	reach := "reachable"
	if st.dbErr != nil {
		reach = "not reachable"
	}
	fmt.Fprintf(w, "database: %s, %s\n", st.dialect, reach)
	leading := strings.Join(st.leading, " ")
	if leading == "" {
		leading = "none"
	}
	fmt.Fprintf(w, "leading: %s\n", leading)
}
