package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	netmail "net/mail"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/feed/content"
	"github.com/tidings/tidings/internal/admin"
	"github.com/tidings/tidings/internal/database"
	"github.com/tidings/tidings/internal/metrics"
	"github.com/tidings/tidings/internal/pass"
	"github.com/tidings/tidings/internal/watch"
	"github.com/tidings/tidings/mail"
	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// App is tidings wired together: config, logger, database and the parts
// built on them. Commands and tests build one with NewApp and Close it.
type App struct {
	Config   Config
	Logger   *slog.Logger
	DB       *database.DB
	Articles *feed.Store
	Ingester *feed.Ingester
	Feeds    *feed.Publisher

	Subscribers *subscribers.Store
	Tokens      *subscribers.Tokens
	Links       *subscribers.Links
	Transport   transport.Transport

	Ledger    *mail.Ledger
	Renderer  *mail.Renderer
	Digests   map[string]mail.Digest
	Scheduler *mail.Scheduler

	Now func() time.Time
	// SNSClient fetches SNS signing certificates and confirms SNS
	// subscriptions for the SES webhook; nil: a plain client. Tests
	// point it at a fake SNS on 127.0.0.1.
	SNSClient *http.Client

	Notices *subscribers.Notices // composes the sign-up mail the sender sends

	Metrics *metrics.Registry
	// admin is the web admin Handler built: serve runs its loop, Close
	// stops its imports.
	admin *admin.Admin
	ready atomic.Bool // serve's loops started; /readyz also pings the database

	// wakeSender tells serve's sender that mail was queued.
	wakeSender chan struct{}

	// Instance names this process among the instances on one database:
	// host, pid and a random part, in logs, change notices and /healthz.
	Instance string
	// Leaders holds the leader locks this instance took (scan, fetch).
	Leaders *database.Leaders
	// running is the pass serve runs, whose leader roles /healthz shows.
	running atomic.Pointer[pass.Pass]
}

// newInstanceID names this process: host, pid and a random part, so that
// a restarted process with a reused pid is another instance.
func newInstanceID() string {
	host, _ := os.Hostname()
	var b [3]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
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
	db, err := database.Open(ctx, cfg.Database.Where())
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Logger: logger, DB: db, Now: time.Now, Metrics: metrics.New(), wakeSender: make(chan struct{}, 1),
		Instance: newInstanceID(), Leaders: database.NewLeaders(db)}
	a.Articles = feed.NewStore(db)
	a.Ingester = &feed.Ingester{
		Store:          a.Articles,
		Dirs:           cfg.Content.Dirs,
		MaxBytes:       cfg.Content.MaxBytes,
		FollowSymlinks: cfg.Content.FollowSymlinks,
		Private:        []string{cfg.File, cfg.Database.Path, cfg.Database.Path + "-wal", cfg.Database.Path + "-shm", cfg.DKIM.KeyFile, cfg.DKIM.SecondKeyFile},
		AssetDir:       feed.AssetDir(cfg.Feeds.OutputDir),
		BaseURL:        cfg.Site.BaseURL,
		Location:       cfg.Location(),
		Logger:         logger.With("component", "ingest"),
		Now:            func() time.Time { return a.Now() },
	}
	ver, _ := buildInfo()
	a.Feeds = &feed.Publisher{
		Store: a.Articles,
		Site: feed.Site{
			Title:        cfg.Site.Title,
			Description:  cfg.Site.Description,
			Language:     cfg.Site.Language,
			Author:       cfg.Site.Author,
			Email:        cfg.Site.Email,
			BaseURL:      cfg.Site.BaseURL,
			Hubs:         cfg.Feeds.WebSubHubs,
			FullContent:  cfg.Feeds.FullContent,
			Items:        cfg.Feeds.Items,
			MaxItemBytes: cfg.Feeds.MaxItemBytes,
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
	oldMax, err := subscribers.OldUnsubscribeMax(ctx, a.DB)
	if err != nil {
		return err
	}
	a.Tokens.AcceptOldUnsubscribe(oldMax)
	a.Links = subscribers.NewLinks(a.Tokens, a.siteInfo())
	if a.Notices, err = subscribers.NewNotices(a.Subscribers, a.Tokens, a.subscriberOptions()); err != nil {
		return err
	}
	if a.Transport, err = newTransport(a.Config, a.Logger.With("component", "smtp")); err != nil {
		return err
	}
	return a.wireDigests()
}

func (a *App) siteInfo() subscribers.SiteInfo {
	cfg := a.Config
	return subscribers.SiteInfo{Title: cfg.Site.Title, Description: cfg.Site.Description, Language: cfg.Site.Language,
		BaseURL: cfg.Site.BaseURL, PostalAddress: cfg.Site.PostalAddress, TimeZone: cfg.Site.Timezone}
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
			MaxArticles: d.MaxArticles, SkipEmpty: d.SkipEmpty == nil || *d.SkipEmpty, CatchUp: d.CatchUp == nil || *d.CatchUp,
			FullContent: d.FullContent, Subject: d.Subject, From: from, Delay: d.Delay.Duration}
		if d.Mode == "each" {
			md.Mode = mail.ModeEach
		}
		var err error
		if md.DeliverAt, err = mail.ParseDeliverAt(d.DeliverAt); err != nil {
			return fmt.Errorf("config: digests %s: deliver_at %w", d.Name, err)
		}
		if md.Title == "" {
			md.Title = cfg.Site.Title
		}
		if err := md.CheckSubject(); err != nil {
			return fmt.Errorf("config: digests %s: subject: %w", d.Name, err)
		}
		a.Digests[d.Name] = md
	}
	a.Ledger = &mail.Ledger{DB: a.DB, Articles: a.Articles, Recipients: a.Subscribers,
		Now: func() time.Time { return a.Now() }, Logger: a.Logger.With("component", "ledger"), Zone: cfg.Location()}
	var digests []mail.Digest
	for _, name := range sortedKeys(a.Digests) {
		digests = append(digests, a.Digests[name])
	}
	var err error
	if a.Scheduler, err = mail.NewScheduler(a.Ledger, digests, cfg.Location(), a.Logger.With("component", "schedule")); err != nil {
		return err
	}
	a.Renderer, err = mail.NewRenderer(mail.RenderOptions{
		SiteTitle: cfg.Site.Title, SiteAuthor: cfg.Site.Author, SiteURL: cfg.Site.BaseURL, PostalAddress: cfg.Site.PostalAddress,
		Language: cfg.Site.Language, FullContent: false, TemplateDir: cfg.Templates.Dir, Links: a.Links,
		InboundDomain: cfg.InboundDomain(),
		Digests:       a.renderDigests(), Now: func() time.Time { return a.Now() },
	})
	return err
}

// allDigest is the target of a broadcast to every subscriber: a digest of
// its own for the renderer and the archive, from the site's address.
func (a *App) allDigest() mail.Digest {
	cfg := a.Config
	return mail.Digest{Name: mail.AllDigests, Title: cfg.Site.Title, Description: "Announcements to every subscriber",
		From: netmail.Address{Name: cfg.Site.Title, Address: cfg.Site.Email}}
}

// renderDigests are the configured digests and the broadcast target "all".
func (a *App) renderDigests() map[string]mail.Digest {
	m := make(map[string]mail.Digest, len(a.Digests)+1)
	for k, v := range a.Digests {
		m[k] = v
	}
	m[mail.AllDigests] = a.allDigest()
	return m
}

// sender returns the delivery workers over the transport; what each run
// did is counted in the metrics.
func (a *App) sender() *mail.Sender {
	m := a.Metrics
	// With DKIM on, as many more workers as there are CPUs sign the next
	// messages while the others hold the connections: sending never
	// waits for a signature. Only those with a connection are in an
	// SMTP transaction, so no more mail is in doubt after a crash.
	workers := a.Config.SMTP.Connections
	if a.Config.DKIM.Domain != "" {
		workers += runtime.GOMAXPROCS(0)
	}
	return &mail.Sender{
		Ledger: a.Ledger, Transport: a.Transport, Composer: a.Renderer,
		Notices: a.Notices, From: netmail.Address{Name: a.Config.Site.Title, Address: a.Config.Site.Email},
		Workers: workers, MaxAttempts: a.Config.SMTP.MaxAttempts,
		Backoff: a.Config.SMTP.RetryBackoff.Duration, BounceLimit: a.Config.Subscribers.BounceLimit,
		DomainLimits: a.Config.SMTP.domainLimits(), DailyLimit: a.Config.SMTP.DailyLimit, Location: a.Config.Location(),
		ReturnPath: func(d mail.Delivery, s *subscribers.Subscriber) string {
			return "bounces+" + a.Tokens.AddressToken(subscribers.PurposeReturn, d.ID, s.Nonce) + "@" + a.Config.InboundDomain()
		},
		ReturnPathHeader: a.returnPathHeader(),
		Observe: func(rep mail.SendReport, took time.Duration, err error) {
			m.Job("deliver", err)
			for state, n := range map[string]int{"sent": rep.Sent, "failed": rep.Failed, "retried": rep.Retried, "skipped": rep.Skipped} {
				m.Add("tidings_delivery_attempts_total", "Delivery attempts by outcome.", `outcome="`+state+`"`, float64(n))
			}
			if rep.Sent+rep.Failed+rep.Retried > 0 {
				m.Add("tidings_send_seconds_total", "Time spent in delivery runs that sent something; divide by attempts for the mean latency.", "", took.Seconds())
			}
		},
	}
}

// returnPathHeader names the header that carries the return path for a
// relay whose webhook echoes metadata headers but neither the envelope
// nor the Message-ID: Postmark, when its webhook is on. Postmark strips
// X-PM-* headers before delivery.
func (a *App) returnPathHeader() string {
	if a.Config.Inbound.Webhooks.PostmarkPassword != "" {
		return "X-PM-Metadata-tidings-return"
	}
	return ""
}

// pass returns every step of tidings' work, wired: what run makes once
// and serve runs as loops.
func (a *App) pass() *pass.Pass {
	var sources pass.Sources
	if len(a.Config.Sources) > 0 {
		sources = a.poller()
	}
	p := &pass.Pass{
		Content: a.Ingester, Feeds: a.Feeds, Sources: sources, Scheduler: a.Scheduler, Sender: a.sender(),
		Poll: a.Config.Content.Poll.Duration, Metrics: a.Metrics, Logger: a.Logger, WakeSender: a.wakeSender,
		Leaders: a.Leaders, Notices: a.DB, Instance: a.Instance,
	}
	if a.Config.Content.Watch {
		p.Watch = &watch.Watcher{Dirs: a.Config.Content.Dirs, Logger: a.Logger.With("component", "watch"),
			Match: func(name string) bool { return content.FormatOf(name) != content.Unknown || feed.IsAsset(name) }}
	}
	return p
}

// signUpAnswerFloor is the least time a sign-up takes to answer: longer
// than the work for any address takes, so that the timing tells no one
// whether it was new or subscribed.
const signUpAnswerFloor = 25 * time.Millisecond

// subscriberOptions are the subscribers package's options from the config.
func (a *App) subscriberOptions() subscribers.Options {
	cfg := a.Config
	var digests []subscribers.DigestInfo
	for _, d := range cfg.Digests {
		digests = append(digests, subscribers.DigestInfo{Name: d.Name, Title: d.Title, Description: d.Description})
	}
	return subscribers.Options{
		Site:        a.siteInfo(),
		Digests:     digests,
		DoubleOptIn: cfg.Subscribers.DoubleOptIn,
		Welcome:     cfg.Subscribers.Welcome,
		ConfirmTTL:  cfg.Subscribers.ConfirmTTL.Duration,
		TemplateDir: cfg.Templates.Dir,
		AdminToken:  cfg.HTTP.AdminToken,
		AnswerFloor: signUpAnswerFloor,
		Logger:      a.Logger.With("component", "subscribers"),
		Now:         func() time.Time { return a.Now() },
	}
}

// subscriberHandler builds the sign-up, confirm, unsubscribe, preferences
// and admin API handler; the mail it asks for goes into the ledger and
// wakes the sender.
func (a *App) subscriberHandler() (*subscribers.Handler, error) {
	return subscribers.NewHandler(a.Subscribers, a.Tokens, &noticeQueue{app: a}, a.subscriberOptions())
}

// Close releases the mail transport and the database.
func (a *App) Close() error {
	var errs []error
	if a.admin != nil {
		errs = append(errs, a.admin.Close())
	}
	if a.Transport != nil {
		errs = append(errs, a.Transport.Close())
	}
	a.Leaders.Close()
	errs = append(errs, a.DB.Close())
	return errors.Join(errs...)
}

// commandDatabaseWait is how long a command waits for a PostgreSQL
// server that does not answer before it gives up with an error; serve
// waits as long as it runs.
const commandDatabaseWait = 10 * time.Second

// openApp loads the config and opens the app for a command.
func (e *env) openApp(ctx context.Context) (*App, error) {
	cfg, err := e.loadConfig()
	if err != nil {
		return nil, err
	}
	openCtx, cancel := context.WithTimeout(ctx, commandDatabaseWait)
	defer cancel()
	return NewApp(openCtx, cfg, e.stderr)
}

// sendDue sends every due delivery and prints what happened. With wait
// it goes on until nothing is queued, sleeping until each retry is due;
// without, it sends what is due now. It returns errFailed when a delivery
// failed for good, and errPending when deliveries are left waiting.
func (a *App) sendDue(ctx context.Context, w io.Writer, prefix string, wait bool) error {
	s := a.sender()
	var total mail.SendReport
	pause := time.Second
	stop := make(chan struct{})
	shown := make(chan struct{})
	go func() {
		defer close(shown)
		a.showProgress(w, stop)
	}()
	// Stopped before the summary is printed, so the two never interleave.
	stopShow := sync.OnceFunc(func() {
		close(stop)
		<-shown
	})
	defer stopShow()
	for {
		rep, err := s.SendDue(ctx)
		total.Sent += rep.Sent
		total.Failed += rep.Failed
		total.Retried += rep.Retried
		total.Skipped += rep.Skipped
		unreachable := errors.Is(err, transport.ErrUnreachable)
		if err != nil && !(unreachable && wait && ctx.Err() == nil) {
			stopShow()
			fmt.Fprintf(w, "%ssent %d, failed %d, retrying later %d, skipped %d\n", prefix, total.Sent, total.Failed, total.Retried, total.Skipped)
			if unreachable {
				fmt.Fprintf(w, "%sthe SMTP server could not be reached; nothing was counted against any delivery, and they wait for it\n", prefix)
			}
			return err
		}
		// Counted even after a signal: what is left is the answer.
		n, err := a.Ledger.QueueDepth(context.WithoutCancel(ctx))
		if err != nil {
			return err
		}
		if n == 0 || !wait || ctx.Err() != nil {
			stopShow()
			fmt.Fprintf(w, "%ssent %d, failed %d, retrying later %d, skipped %d\n", prefix, total.Sent, total.Failed, total.Retried, total.Skipped)
			if n > 0 {
				// "sent 0" alone would read as if nothing were left.
				fmt.Fprintf(w, "%s%s still to send%s; tidings serve, the next run, or --wait sends them\n",
					prefix, plural(n, "delivery"), a.whoHolds(context.WithoutCancel(ctx)))
			}
			switch {
			case total.Failed > 0:
				return errFailed
			case n > 0:
				return errPending
			}
			return nil
		}
		wake := 30 * time.Second
		if unreachable {
			wake, pause = pause, min(2*pause, 30*time.Second)
			a.Logger.Warn("SMTP server unreachable; trying again", "component", "deliver", "in", wake)
		} else if next, ok, err := a.Ledger.NextDue(ctx); err == nil && ok {
			wake = min(wake, max(time.Until(next), 100*time.Millisecond))
		}
		select {
		case <-ctx.Done():
		case <-time.After(wake):
		}
	}
}

// whoHolds says which other senders are sending the deliveries left, if
// any: " (12 are being sent by tidings pid 4242 on host x)".
func (a *App) whoHolds(ctx context.Context) string {
	cs, err := a.Ledger.Claimants(ctx)
	if err != nil || len(cs) == 0 {
		return " (retries not yet due)"
	}
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%d being sent by tidings pid %d on %s", c.Claimed, c.PID, c.Host))
	}
	return " (" + strings.Join(parts, "; ") + "; the rest wait for a retry)"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
