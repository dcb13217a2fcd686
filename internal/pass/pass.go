// Package pass is the order of tidings' work and the daemon's loops: one
// pass (scan the content folders, fetch due upstream feeds, build the
// feeds, plan due digests, deliver) that tidings run makes once, and the
// same steps as long-lived loops that tidings serve runs side by side.
//
// It holds no policy of its own: which files changed is the ingester's
// business, which sources and digests are due is the poller's and the
// scheduler's, what is sent is the ledger's. It only says what follows
// what, and that every loop stops when the others do; and, with several
// instances on one database, which instance scans and fetches (the one
// leading that work) and that the others rebuild when told of a change.
package pass

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/feed/upstream"
	"github.com/tidings/tidings/internal/metrics"
	"github.com/tidings/tidings/mail"
)

// Scanner scans the content folders; *feed.Ingester satisfies it.
type Scanner interface {
	Scan(ctx context.Context) (feed.ScanResult, error)
}

// Builder builds and writes the feeds; *feed.Publisher satisfies it.
type Builder interface {
	Build(ctx context.Context) (feed.BuildResult, error)
}

// Sources fetches upstream feeds; *upstream.Poller satisfies it.
type Sources interface {
	// FetchDue fetches every source that is due.
	FetchDue(ctx context.Context) (upstream.Result, error)
	// Run fetches each source when it is due until ctx ends, calling
	// changed after a fetch that brought articles.
	Run(ctx context.Context, changed func()) error
}

// Watcher tells of changes in the content folders; *watch.Watcher
// satisfies it.
type Watcher interface {
	// Run calls changed after each burst of changes until ctx ends, and
	// returns nil then. It returns an error when the folders cannot be
	// watched (then the poll alone finds changes).
	Run(ctx context.Context, changed func()) error
}

// Leader says whether this instance leads a kind of work among the
// instances on one database; *database.Leaders satisfies it.
type Leader interface {
	Lead(ctx context.Context, name string) (bool, error)
}

// Notices carries change notices between the instances on one database;
// *database.DB satisfies it (on SQLite both do nothing).
type Notices interface {
	Notify(ctx context.Context, channel, payload string) error
	Listen(ctx context.Context, channel string, fn func(payload string)) error
}

// The leader roles: one instance of a cluster scans the content folders,
// one fetches the upstream feeds.
const (
	RoleScan  = "scan"
	RoleFetch = "fetch"
)

// ContentChannel is the notice an instance sends when its ingest changed
// articles; the payload is its Instance. Every other instance rebuilds
// its feeds and pages from the database when it hears it.
const ContentChannel = "tidings_content"

// MailChannel is the notice sent when an edition was planned: every
// instance's sender wakes and joins in, rather than finding the work on
// its next idle check.
const MailChannel = "tidings_mail"

// Pass is every step of tidings' work, wired.
type Pass struct {
	Content   Scanner
	Feeds     Builder
	Sources   Sources // nil: no upstream feeds
	Scheduler *mail.Scheduler
	Sender    *mail.Sender
	// Poll is how often Serve rescans the content folders.
	Poll time.Duration
	// Watch, when set, makes Serve rescan as soon as the content folders
	// change, besides every Poll; nil: the poll alone.
	Watch Watcher
	// WakeSender, when set, wakes Serve's sender: whoever queues mail
	// (a sign-up) sends on it. Without, Serve makes its own.
	WakeSender chan struct{}
	Metrics    *metrics.Registry // nil: none kept
	Logger     *slog.Logger

	// Leaders, when set, decides whether this instance scans (RoleScan)
	// and fetches (RoleFetch); the others only build from the database.
	// nil: this instance does both.
	Leaders Leader
	// Notices, when set, carries ContentChannel between instances.
	Notices Notices
	// Instance names this instance in its notices.
	Instance string

	mu      sync.Mutex
	leading map[string]bool
	rebuild chan struct{} // Serve's; made by the first to need it
}

// Report is what one pass did.
type Report struct {
	Scan     feed.ScanResult
	Upstream upstream.Result // what the due upstream feeds brought
	Feeds    feed.BuildResult
	Editions int
	Sent     mail.SendReport
	Waiting  int // deliveries left for a later try
	// Errors are the failures that did not stop the pass: an upstream
	// feed or a digest that failed. Each was logged where it happened.
	Errors []error
}

// Failed reports whether anything in the pass failed: a rejected file, a
// source or digest that failed, a delivery refused for good.
func (r Report) Failed() bool {
	return len(r.Scan.Rejected) > 0 || len(r.Errors) > 0 || r.Sent.Failed > 0
}

// Once makes one pass: scan, fetch due sources, build the feeds, plan due
// digests, send what is due. A failing source or digest does not stop the
// later steps (it is in Report.Errors). A scan, build or send that cannot
// run at all (the database is gone) ends the pass with its error.
func (p *Pass) Once(ctx context.Context) (Report, error) {
	rep, err := p.Ingest(ctx)
	if err != nil {
		return rep, err
	}
	soft := &rep.Errors
	if rep.Feeds, err = p.build(ctx); err != nil {
		return rep, err
	}
	if p.Scheduler != nil {
		eds, err := p.Scheduler.PlanDue(ctx)
		p.planned(eds)
		rep.Editions = len(eds)
		if err != nil {
			*soft = append(*soft, err)
		}
	}
	if p.Sender != nil {
		if rep.Sent, err = p.Sender.SendDue(ctx); err != nil {
			return rep, err
		}
		if rep.Waiting, err = p.Sender.Ledger.QueueDepth(ctx); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// Ingest is the first step of a pass: scan the content folders, then
// fetch the upstream feeds that are due. A failing source is in
// Report.Errors; a scan that cannot run at all is the error.
func (p *Pass) Ingest(ctx context.Context) (Report, error) {
	var rep Report
	var err error
	if rep.Scan, err = p.scan(ctx); err != nil {
		return rep, err
	}
	if p.Sources != nil {
		if rep.Upstream, err = p.Sources.FetchDue(ctx); err != nil {
			rep.Errors = append(rep.Errors, fmt.Errorf("upstream feeds: %w", err))
		}
	}
	if rep.Scan.Changed() || rep.Upstream.Added+rep.Upstream.Updated > 0 {
		p.notify(ctx)
	}
	return rep, nil
}

// Refresh scans the content folders and builds the feeds: the first step
// of serve, before it answers, so its feeds are never empty for want of a
// scan. Errors are logged. On an instance that does not lead the scan, it
// only builds.
func (p *Pass) Refresh(ctx context.Context) {
	p.rescan(ctx, true)
}

// rescan scans when this instance leads the scan, tells the others when
// that changed articles, and builds the feeds after a change or, with
// always, in any case (what time alone publishes). It reports whether it
// scanned.
func (p *Pass) rescan(ctx context.Context, always bool) bool {
	if !p.lead(ctx, RoleScan) {
		if always {
			p.build(ctx)
		}
		return false
	}
	res, err := p.scan(ctx)
	if err != nil {
		return true
	}
	if res.Changed() {
		p.notify(ctx)
	}
	if always || res.Changed() {
		p.build(ctx)
	}
	return true
}

// lead reports whether this instance leads role now, and remembers it for
// Leading. A leader lock that cannot be asked for (the database is away)
// is not held.
func (p *Pass) lead(ctx context.Context, role string) bool {
	ok := true
	if p.Leaders != nil {
		var err error
		if ok, err = p.Leaders.Lead(ctx, role); err != nil {
			if ctx.Err() == nil {
				p.log().Warn("leader lock not reachable; leaving the work to another instance", "role", role, slog.Any("error", err))
			}
			ok = false
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.leading == nil {
		p.leading = map[string]bool{}
	}
	if ok != p.leading[role] && p.Leaders != nil {
		p.log().Info("leader role changed", "role", role, "leading", ok, "instance", p.Instance)
	}
	p.leading[role] = ok
	return ok
}

// Leading lists the leader roles this instance held when it last asked.
func (p *Pass) Leading() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var roles []string
	for r, ok := range p.leading {
		if ok {
			roles = append(roles, r)
		}
	}
	sort.Strings(roles)
	return roles
}

func (p *Pass) rebuildChan() chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.rebuild == nil {
		p.rebuild = make(chan struct{}, 1)
	}
	return p.rebuild
}

// ContentChanged is for a change of articles made outside the pass (the
// authoring API): Serve rebuilds the feeds at once, and the other
// instances are told to.
func (p *Pass) ContentChanged(ctx context.Context) {
	poke(p.rebuildChan())
	p.notify(ctx)
}

// notify tells the other instances that articles changed.
func (p *Pass) notify(ctx context.Context) {
	if p.Notices == nil {
		return
	}
	if err := p.Notices.Notify(ctx, ContentChannel, p.Instance); err != nil && ctx.Err() == nil {
		p.log().Warn("other instances not told of changed articles; they rebuild on their next poll", slog.Any("error", err))
	}
}

// led runs work while this instance leads role: it asks every Poll, runs
// work when it takes the role, and stops it when the role is lost (its
// lock went with its connection). It returns work's error, or nil when
// ctx ends.
func (p *Pass) led(ctx context.Context, role string, work func(ctx context.Context) error) error {
	t := time.NewTicker(p.every())
	defer t.Stop()
	for {
		if p.lead(ctx, role) {
			wctx, stop := context.WithCancel(ctx)
			errc := make(chan error, 1)
			go func() { errc <- work(wctx) }()
		held:
			for {
				select {
				case err := <-errc:
					stop()
					if ctx.Err() != nil {
						return nil
					}
					return err
				case <-t.C:
					if !p.lead(ctx, role) {
						stop()
						<-errc
						break held
					}
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Serve runs every loop until ctx ends or one of them fails: the content
// scan every Poll and whenever the watcher saw a change (and a feed build
// whenever an upstream brought articles), the watcher, the upstream
// poller, the digest scheduler and the sender,
// which the scheduler wakes when it plans an edition. More loops (the
// HTTP server, the database watch) may be given and run in the same
// group. Serve returns when every loop has returned: nil when ctx ended,
// else the first failure.
func (p *Pass) Serve(ctx context.Context, more ...func(ctx context.Context) error) error {
	g, ctx := errgroup.WithContext(ctx)
	rebuild := p.rebuildChan()
	rescan := make(chan struct{}, 1)
	wakeSender := p.WakeSender
	if wakeSender == nil {
		wakeSender = make(chan struct{}, 1)
	}
	g.Go(func() error { return p.contentLoop(ctx, rescan, rebuild) })
	if p.Watch != nil {
		g.Go(func() error {
			// Serve goes on without it: the poll finds the changes.
			if err := p.Watch.Run(ctx, func() { poke(rescan) }); err != nil && ctx.Err() == nil {
				p.log().Warn("content folders not watched; changes are found every content.poll", "component", "ingest",
					"poll", p.every(), slog.Any("error", err))
			}
			return nil
		})
	}
	if p.Sources != nil {
		g.Go(func() error {
			return p.led(ctx, RoleFetch, func(ctx context.Context) error {
				return p.Sources.Run(ctx, func() {
					p.notify(ctx)
					poke(rebuild)
				})
			})
		})
	}
	if p.Notices != nil {
		g.Go(func() error {
			return p.Notices.Listen(ctx, ContentChannel, func(from string) {
				// "" after a lost connection: something may have been missed.
				if from != p.Instance || from == "" {
					poke(rebuild)
				}
			})
		})
	}
	if p.Scheduler != nil {
		g.Go(func() error {
			return p.Scheduler.Run(ctx, func(eds []*mail.Edition) {
				p.planned(eds)
				poke(wakeSender)
				if p.Notices != nil && len(eds) > 0 {
					if err := p.Notices.Notify(ctx, MailChannel, p.Instance); err != nil && ctx.Err() == nil {
						p.log().Warn("other instances not told of the planned edition; they find it on their next check", slog.Any("error", err))
					}
				}
			})
		})
	}
	if p.Sender != nil {
		g.Go(func() error { return p.Sender.Run(ctx, wakeSender) })
		if p.Notices != nil {
			g.Go(func() error {
				return p.Notices.Listen(ctx, MailChannel, func(string) { poke(wakeSender) })
			})
		}
	}
	for _, f := range more {
		g.Go(func() error { return f(ctx) })
	}
	return g.Wait()
}

// contentLoop rescans every Poll and when the watcher pokes rescan, and
// rebuilds when poked. The feeds are built on every poll, not only after
// a change, so that an article dated in the future appears when its time
// comes (unchanged feeds are not rewritten); after the watcher's rescan
// only when it changed something.
func (p *Pass) contentLoop(ctx context.Context, rescan, rebuild <-chan struct{}) error {
	t := time.NewTicker(p.every())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if p.rescan(ctx, true) {
				p.rescanned("poll")
			}
		case <-rescan:
			// Only a change needs a build here; what time alone
			// publishes, the poll builds.
			if p.rescan(ctx, false) {
				p.rescanned("watch")
			}
		case <-rebuild:
			p.build(ctx)
		}
	}
}

func (p *Pass) every() time.Duration {
	if p.Poll <= 0 {
		return time.Minute
	}
	return p.Poll
}

// rescanned counts a rescan of serve's, once done, by what asked for it.
func (p *Pass) rescanned(trigger string) {
	if p.Metrics != nil {
		p.Metrics.Add("tidings_content_rescans_total", "Content rescans made by serve, by what asked for them: the poll or the watcher.",
			`trigger="`+trigger+`"`, 1)
	}
}

// planned counts the editions a scheduler pass made.
func (p *Pass) planned(eds []*mail.Edition) {
	if p.Metrics == nil {
		return
	}
	for _, ed := range eds {
		p.Metrics.Add("tidings_editions_planned_total", "Editions planned by this process.", `digest="`+ed.Digest+`"`, 1)
	}
}

func poke(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (p *Pass) log() *slog.Logger {
	if p.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Logger
}

// scan runs one content scan and counts it; rejected files were logged
// by the ingester.
func (p *Pass) scan(ctx context.Context) (feed.ScanResult, error) {
	res, err := p.Content.Scan(ctx)
	if m := p.Metrics; m != nil {
		m.Job("ingest", err)
		const h = "Articles added, updated or removed by content scans."
		m.Add("tidings_articles_ingested_total", h, `kind="added"`, float64(res.Added))
		m.Add("tidings_articles_ingested_total", h, `kind="updated"`, float64(res.Updated))
		m.Add("tidings_articles_ingested_total", h, `kind="removed"`, float64(res.Removed))
		m.Add("tidings_articles_rejected_total", "Content files rejected by a scan (counted on every scan).", "", float64(len(res.Rejected)))
	}
	switch {
	case err != nil && ctx.Err() == nil:
		p.log().Error("content scan failed", "component", "ingest", slog.Any("error", err))
	case err == nil && res.Changed():
		p.log().Info("content scanned", "component", "ingest", "added", res.Added, "updated", res.Updated,
			"removed", res.Removed, "rejected", len(res.Rejected))
	}
	return res, err
}

// build builds the feeds and counts it.
func (p *Pass) build(ctx context.Context) (feed.BuildResult, error) {
	res, err := p.Feeds.Build(ctx)
	if m := p.Metrics; m != nil {
		m.Job("feeds", err)
		m.Add("tidings_feed_builds_total", "Feed builds, by outcome.", metrics.Outcome(err), 1)
		m.Add("tidings_feeds_written_total", "Feed files written because their bytes changed.", "", float64(res.Written))
	}
	switch {
	case err != nil && ctx.Err() == nil:
		p.log().Error("feed build failed", "component", "feeds", slog.Any("error", err))
	case err == nil && res.Written+res.Removed > 0:
		p.log().Info("feeds built", "component", "feeds", "written", res.Written, "removed", res.Removed)
	}
	return res, err
}
