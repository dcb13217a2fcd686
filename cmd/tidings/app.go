package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	netmail "net/mail"
	"sync/atomic"
	"time"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/internal/sqlite"
	"github.com/tidings/tidings/mail"
	"github.com/tidings/tidings/subscribers"
)

// App is tidings wired together: config, logger, database and the parts
// built on them. Commands and tests build one with NewApp and Close it.
type App struct {
	Config   Config
	Logger   *slog.Logger
	DB       *sqlite.DB
	Articles *feed.Store
	Ingester *feed.Ingester
	Feeds    *feed.Publisher

	Subscribers *subscribers.Store
	Tokens      *subscribers.Tokens
	Links       *subscribers.Links
	Transport   mail.Transport

	Ledger   *mail.Ledger
	Renderer *mail.Renderer
	Digests  map[string]mail.Digest

	Now func() time.Time

	metrics *metrics
	ready   atomic.Bool // schedules loaded; /readyz also pings the database
}

// loadConfig reads the config the command line and environment point at.
func (e *env) loadConfig() (Config, error) {
	return LoadConfig(configPath(e.configFlag, e.getenv), e.getenv)
}

// newLogger builds the logger the config asks for, writing to w.
func newLogger(cfg LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level)) // Validate has checked it
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// NewApp opens the database and wires the parts of tidings.
func NewApp(ctx context.Context, cfg Config, logs io.Writer) (*App, error) {
	logger := newLogger(cfg.Log, logs)
	db, err := sqlite.Open(ctx, cfg.Database.Path)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Logger: logger, DB: db, Now: time.Now, metrics: newMetrics()}
	a.Articles = feed.NewStore(db)
	a.Ingester = &feed.Ingester{
		Store:    a.Articles,
		Dirs:     cfg.Content.Dirs,
		MaxBytes: cfg.Content.MaxBytes,
		BaseURL:  cfg.Site.BaseURL,
		Location: cfg.Location(),
		Logger:   logger.With("component", "ingest"),
		Now:      func() time.Time { return a.Now() },
	}
	ver, _ := buildInfo()
	a.Feeds = &feed.Publisher{
		Store: a.Articles,
		Site: feed.Site{
			Title:       cfg.Site.Title,
			Description: cfg.Site.Description,
			Language:    cfg.Site.Language,
			Author:      cfg.Site.Author,
			Email:       cfg.Site.Email,
			BaseURL:     cfg.Site.BaseURL,
			Hubs:        cfg.Feeds.WebSubHubs,
			FullContent: cfg.Feeds.FullContent,
			Items:       cfg.Feeds.Items,
		},
		OutputDir: cfg.Feeds.OutputDir,
		Generator: "tidings " + ver,
		Logger:    logger.With("component", "feeds"),
		Now:       func() time.Time { return a.Now() },
	}
	if err := a.wireSubscribers(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// announceFeeds sends changed feeds to the WebSub hubs, if any are
// configured; closeWebSub waits until those announcements end.
// Only a long-lived process retries a hub that failed.
func (a *App) announceFeeds(retry bool) (closeWebSub func()) {
	if len(a.Config.Feeds.WebSubHubs) == 0 {
		return func() {}
	}
	ws := feed.NewWebSub(a.Config.Feeds.WebSubHubs, nil, a.Logger.With("component", "websub"))
	if retry {
		ws.Tries = 5
	}
	a.Feeds.Changed = ws.Announce
	return ws.Close
}

// wireSubscribers builds the subscriber store, the token signer and the
// mail transport.
func (a *App) wireSubscribers(ctx context.Context) error {
	var names []string
	for _, d := range a.Config.Digests {
		names = append(names, d.Name)
	}
	a.Subscribers = subscribers.NewStore(a.DB, names, func() time.Time { return a.Now() })
	secret, err := subscribers.LoadSecret(ctx, a.DB, a.Config.Secret)
	if err != nil {
		return err
	}
	a.Tokens = subscribers.NewTokens(secret, func() time.Time { return a.Now() })
	a.Links = subscribers.NewLinks(a.Tokens, a.siteInfo())
	if a.Transport, err = newTransport(a.Config); err != nil {
		return err
	}
	return a.wireDigests()
}

func (a *App) siteInfo() subscribers.SiteInfo {
	cfg := a.Config
	return subscribers.SiteInfo{Title: cfg.Site.Title, Description: cfg.Site.Description, Language: cfg.Site.Language,
		BaseURL: cfg.Site.BaseURL, PostalAddress: cfg.Site.PostalAddress}
}

// wireDigests builds the digests, the delivery ledger and the renderer. A
// digest template that fails to parse stops start-up here, naming the file
// and line.
func (a *App) wireDigests() error {
	cfg := a.Config
	a.Digests = map[string]mail.Digest{}
	for _, d := range cfg.Digests {
		from := netmail.Address{Name: cfg.Site.Title, Address: cfg.Site.Email}
		if d.From != "" {
			addr, err := netmail.ParseAddress(d.From)
			if err != nil {
				return fmt.Errorf("config: digests %s: from %q is not an address", d.Name, d.From)
			}
			from = *addr
		}
		md := mail.Digest{Name: d.Name, Title: d.Title, Description: d.Description, Schedule: d.Schedule, Tags: d.Tags,
			MaxArticles: d.MaxArticles, SkipEmpty: d.SkipEmpty == nil || *d.SkipEmpty, FullContent: d.FullContent,
			Subject: d.Subject, From: from}
		if md.Title == "" {
			md.Title = cfg.Site.Title
		}
		if err := md.CheckSubject(); err != nil {
			return fmt.Errorf("config: digests %s: subject: %w", d.Name, err)
		}
		a.Digests[d.Name] = md
	}
	a.Ledger = &mail.Ledger{DB: a.DB, Articles: a.Articles, Recipients: a.Subscribers,
		Now: func() time.Time { return a.Now() }, Logger: a.Logger.With("component", "ledger")}
	var err error
	a.Renderer, err = mail.NewRenderer(mail.RenderOptions{
		SiteTitle: cfg.Site.Title, SiteURL: cfg.Site.BaseURL, PostalAddress: cfg.Site.PostalAddress,
		Language: cfg.Site.Language, FullContent: false, TemplateDir: cfg.Templates.Dir, Links: a.Links,
		Digests: a.Digests, Now: func() time.Time { return a.Now() },
	})
	return err
}

// sender returns the delivery workers over the transport.
func (a *App) sender() *mail.Sender {
	return &mail.Sender{
		Ledger: a.Ledger, Transport: a.Transport, Composer: a.Renderer,
		Workers: a.Config.SMTP.Connections, MaxAttempts: a.Config.SMTP.MaxAttempts,
		Backoff: a.Config.SMTP.RetryBackoff.Duration, BounceLimit: a.Config.Subscribers.BounceLimit,
	}
}

// subscriberHandler builds the sign-up, confirm, unsubscribe, preferences
// and admin API handler.
func (a *App) subscriberHandler() (*subscribers.Handler, error) {
	cfg := a.Config
	var digests []subscribers.DigestInfo
	for _, d := range cfg.Digests {
		digests = append(digests, subscribers.DigestInfo{Name: d.Name, Title: d.Title, Description: d.Description})
	}
	from := netmail.Address{Name: cfg.Site.Title, Address: cfg.Site.Email}
	return subscribers.NewHandler(a.Subscribers, a.Tokens, &subscriberMailer{transport: a.Transport, from: from}, subscribers.Options{
		Site:        a.siteInfo(),
		Digests:     digests,
		DoubleOptIn: cfg.Subscribers.DoubleOptIn,
		ConfirmTTL:  cfg.Subscribers.ConfirmTTL.Duration,
		TemplateDir: cfg.Templates.Dir,
		AdminToken:  cfg.HTTP.AdminToken,
		Logger:      a.Logger.With("component", "subscribers"),
		Now:         func() time.Time { return a.Now() },
	})
}

// Close releases the mail transport and the database.
func (a *App) Close() error {
	var errs []error
	if a.Transport != nil {
		errs = append(errs, a.Transport.Close())
	}
	errs = append(errs, a.DB.Close())
	return errors.Join(errs...)
}

// openApp loads the config and opens the app for a command.
func (e *env) openApp(ctx context.Context) (*App, error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	return NewApp(ctx, cfg, e.stderr)
}

// sendDue sends every due delivery once and prints what happened. It
// returns errFailed when a delivery failed for good.
func (a *App) sendDue(ctx context.Context, w io.Writer, prefix string) error {
	rep, err := a.sender().Run(ctx)
	fmt.Fprintf(w, "%ssent %d, failed %d, retrying later %d, skipped %d\n", prefix, rep.Sent, rep.Failed, rep.Retried, rep.Skipped)
	if err != nil {
		return err
	}
	// Deliveries not yet due (retries, or claims of a sender that was
	// killed, which lapse after their lease) are worth a word: "sent 0"
	// alone would read as if nothing were left.
	if n, err := a.Ledger.QueueDepth(ctx); err == nil && n > 0 {
		fmt.Fprintf(w, "%s%d deliveries wait for a later try or for a crashed sender's claim to lapse; tidings serve or the next run sends them\n", prefix, n)
	}
	if rep.Failed > 0 {
		return errFailed
	}
	return nil
}
