package mail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/internal/web"
)

// EditionLister is what the archive needs of the ledger.
type EditionLister interface {
	// Editions returns up to limit editions of the named digest, newest
	// first; their Articles may be nil (ArticleCount says how many).
	Editions(ctx context.Context, digest string, limit int) ([]*Edition, error)
	// Edition returns one edition with its articles. For an id it does
	// not know it returns an error wrapping ErrEditionNotFound.
	Edition(ctx context.Context, id int64) (*Edition, error)
}

var _ EditionLister = (*Ledger)(nil)

// archiveLimit is how many editions of a digest the archive lists, and
// its Atom feed carries.
const archiveLimit = 50

// Archive serves past editions on the web: a list by digest, each edition
// as a page, and an Atom feed per digest. Nothing on them belongs to a
// subscriber: no name, no address, no token.
type Archive struct {
	ledger EditionLister
	r      *Renderer
	site   *feed.Site
	pages  *web.Renderer
	// Logger records requests that fail on the server's side; nil means
	// slog.Default().
	Logger *slog.Logger
}

// NewArchive parses the archive pages (templateDir overrides them file by
// file) and returns the handler; register it with Routes. The digests
// shown are r's.
func NewArchive(ledger EditionLister, r *Renderer, site *feed.Site, templateDir string) (*Archive, error) {
	a := &Archive{ledger: ledger, r: r, site: site}
	pages, err := web.NewRenderer(web.Options{
		TemplateDir: templateDir,
		Funcs:       template.FuncMap{"date": formatDate},
		Pages:       []string{"archive.html", "edition.html"},
		Shell:       a.shell(""),
	})
	if err != nil {
		return nil, err
	}
	a.pages = pages
	return a, nil
}

// Routes registers the archive's routes on mux.
func (a *Archive) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /archive", a.serveIndex)
	mux.HandleFunc("GET /archive/{digest}", a.serveIndex)
	mux.HandleFunc("GET /archive/{digest}/{edition}", a.serveEdition)
	mux.HandleFunc("GET /archive/{digest}/atom.xml", a.serveAtom)
}

// archivePage is the data of the archive's pages.
type archivePage struct {
	web.Shell
	Digests []archiveDigest // archive.html
	Edition *editionData    // edition.html
	Archive string          // edition.html: the digest's list of editions
}

type archiveDigest struct {
	Name, Title, Description string
	URL, FeedURL             string
	Editions                 []archiveEdition
}

type archiveEdition struct {
	URL, Subject string
	Date         time.Time
	Articles     int
}

// shell is the layout of the archive's pages; each adds the feeds of the
// digests it shows.
func (a *Archive) shell(title string) web.Shell {
	return web.Shell{Site: a.site, Home: a.site.URL(""), Subscribe: a.site.URL("subscribe"), Title: title, Section: "archive"}
}

func (a *Archive) newPage(title string) *archivePage {
	return &archivePage{Shell: a.shell(title)}
}

func (a *Archive) feedLink(d Digest) web.FeedLink {
	return web.NewFeedLink(cmp.Or(d.Title, d.Name), cmp.Or(d.Title, d.Name)+" (archive)", a.digestURL(d.Name)+"/atom.xml", "application/atom+xml")
}

func (a *Archive) digestURL(name string) string {
	return a.site.URL("archive/" + url.PathEscape(name))
}

// serveIndex lists the editions of every digest, or of the one named.
func (a *Archive) serveIndex(w http.ResponseWriter, r *http.Request) {
	var names []string
	if name := r.PathValue("digest"); name != "" {
		if _, ok := a.r.opt.Digests[name]; !ok {
			a.notFound(w, r, nil)
			return
		}
		names = []string{name}
	} else {
		for name := range a.r.opt.Digests {
			names = append(names, name)
		}
		slices.Sort(names)
	}
	p := a.newPage("Archive")
	for _, name := range names {
		d := a.r.opt.Digests[name]
		es, err := a.editions(r.Context(), name)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		ad := archiveDigest{Name: name, Title: cmp.Or(d.Title, name), Description: d.Description,
			URL: a.digestURL(name), FeedURL: a.digestURL(name) + "/atom.xml"}
		for _, e := range es {
			ad.Editions = append(ad.Editions, archiveEdition{URL: a.r.editionURL(name, e.ID),
				Subject: a.subject(e, d), Date: editionDate(e), Articles: articleCount(e)})
		}
		p.Digests = append(p.Digests, ad)
		p.Feeds = append(p.Feeds, a.feedLink(d))
	}
	p.Canonical = a.site.URL("archive")
	if len(names) == 1 && r.PathValue("digest") != "" {
		p.Title = p.Digests[0].Title + " archive"
		p.Canonical = a.digestURL(names[0])
	}
	a.render(w, r, "archive.html", p)
}

// serveEdition shows one edition as a web page.
func (a *Archive) serveEdition(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("digest")
	d, ok := a.r.opt.Digests[name]
	id, err := strconv.ParseInt(r.PathValue("edition"), 10, 64)
	if !ok || err != nil || id <= 0 {
		a.notFound(w, r, nil)
		return
	}
	e, err := a.ledger.Edition(r.Context(), id)
	switch {
	case errors.Is(err, ErrEditionNotFound) || (err == nil && !a.visible(e, name)):
		a.notFound(w, r, err)
		return
	case err != nil:
		a.fail(w, r, fmt.Errorf("archive edition %d: %w", id, err))
		return
	}
	data := a.r.editionData(e, d) // Reader stays empty: no subscriber's data
	p := a.newPage(data.Subject)
	p.Edition, p.Archive = data, a.digestURL(name)
	p.Canonical, p.Kind = a.r.editionURL(name, e.ID), "article"
	p.Feeds = []web.FeedLink{a.feedLink(d)}
	a.render(w, r, "edition.html", p)
}

// editions returns a digest's visible editions, newest first.
func (a *Archive) editions(ctx context.Context, digest string) ([]*Edition, error) {
	es, err := a.ledger.Editions(ctx, digest, archiveLimit)
	if err != nil {
		return nil, fmt.Errorf("archive list %s: %w", digest, err)
	}
	out := make([]*Edition, 0, len(es))
	for _, e := range es {
		if a.visible(e, digest) {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(x, y *Edition) int {
		return cmp.Or(editionDate(y).Compare(editionDate(x)), cmp.Compare(y.ID, x.ID))
	})
	return out, nil
}

// visible reports whether e belongs on digest's archive: it is that
// digest's, and its time has come (an edition planned ahead is not shown
// before readers get it).
func (a *Archive) visible(e *Edition, digest string) bool {
	return e != nil && e.Digest == digest && !editionDate(e).After(a.r.opt.Now())
}

// subject is an edition's subject as its mail had it.
func (a *Archive) subject(e *Edition, d Digest) string {
	if s := oneLine(e.Subject); s != "" {
		return s
	}
	return a.r.Subject(d, e.Articles)
}

// articleCount is how many articles e carries, whether or not they were
// read with it.
func articleCount(e *Edition) int {
	if e.Articles != nil {
		return len(e.Articles)
	}
	return e.ArticleCount
}

// editionDate is when an edition went out, or was made.
func editionDate(e *Edition) time.Time {
	if e.ScheduledAt.IsZero() {
		return e.CreatedAt
	}
	return e.ScheduledAt
}

func (a *Archive) render(w http.ResponseWriter, r *http.Request, name string, p *archivePage) {
	w.Header().Set("Cache-Control", "public, max-age=300")
	a.pages.Render(w, r, http.StatusOK, name, p)
}

// notFound answers an address that names no digest or edition of it.
func (a *Archive) notFound(w http.ResponseWriter, r *http.Request, err error) {
	a.fail(w, r, &web.Problem{Kind: web.NotFound, Err: err,
		Message: "There is no such edition in the archive. The list of all editions is at " + a.site.URL("archive") + "."})
}

// fail answers err through the archive's pages, logging a 5xx to Logger.
func (a *Archive) fail(w http.ResponseWriter, r *http.Request, err error) {
	a.pages.WithLogger(a.logger()).Error(w, r, err)
}

func (a *Archive) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default().With("component", "mail")
}
