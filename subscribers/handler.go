package subscribers

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/internal/web"
)

// SiteInfo is what the pages and the confirmation mail say about the site.
type SiteInfo struct {
	Title, Description, Language, BaseURL, PostalAddress string
	TimeZone                                             string // site.timezone: the zone of subscribers without one
}

// URL returns the absolute URL of a path below the site.
func (s SiteInfo) URL(p string) string {
	return strings.TrimSuffix(s.BaseURL, "/") + "/" + strings.TrimPrefix(p, "/")
}

// DigestInfo describes one digest a subscriber can choose.
type DigestInfo struct {
	Name, Title, Description string
}

// Options configure the handlers.
type Options struct {
	Site        SiteInfo
	Digests     []DigestInfo
	DoubleOptIn bool
	// Welcome sends a welcome mail after a confirmation (and after a
	// sign-up that confirms at once, with DoubleOptIn off).
	Welcome     bool
	ConfirmTTL  time.Duration
	TemplateDir string
	AdminToken  string // empty: the admin API answers 404
	Logger      *slog.Logger
	// AnswerFloor is the least time a sign-up takes to answer, so that
	// its timing, like its words, is the same for a new, a pending and a
	// subscribed address (0: none).
	AnswerFloor time.Duration
	Now         func() time.Time
}

// Handler serves sign-up, confirmation, unsubscribe and preferences pages,
// and the admin API.
type Handler struct {
	store  *Store
	tokens *Tokens
	links  *Links
	mailer Mailer
	opt    Options
	web    *web.Renderer
	perIP  *limiter
}

// resendAfter is how soon a pending address may be sent another
// confirmation mail.
const resendAfter = 10 * time.Minute

// maxBody bounds every form and JSON body.
const maxBody = 16 << 10

// NewHandler parses the templates and returns the handler.
func NewHandler(store *Store, tokens *Tokens, mailer Mailer, opt Options) (*Handler, error) {
	rd, err := web.NewRenderer(web.Options{
		TemplateDir: opt.TemplateDir,
		Pages:       []string{"subscribe.html", "message.html", "preferences.html"},
		Shell:       shell(opt.Site, ""),
		Logger:      opt.Logger,
	})
	if err != nil {
		return nil, err
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	return &Handler{
		store: store, tokens: tokens, links: NewLinks(tokens, opt.Site), mailer: mailer, opt: opt, web: rd,
		// A person signs up once; a few retries are fine, a script is not.
		// (What a sign-up may mail is capped in the store, silently.)
		perIP: newLimiter(10, time.Minute, opt.Now),
	}, nil
}

// Routes registers every route on mux.
func (h *Handler) Routes(mux *http.ServeMux) {
	mux.Handle("GET /subscribe", private(h.subscribeForm))
	mux.Handle("POST /subscribe", private(h.subscribe))
	mux.Handle("GET /confirm", private(h.confirmPage))
	mux.Handle("POST /confirm", private(h.confirmPost))
	mux.Handle("GET /unsubscribe", private(h.unsubscribePage))
	mux.Handle("POST /unsubscribe", private(h.unsubscribePost))
	mux.Handle("GET /preferences", private(h.preferencesPage))
	mux.Handle("POST /preferences", private(h.preferencesPost))
	h.apiRoutes(mux)
}

// private marks a page as one person's, never to be cached (it may show
// an address, and its URL a token), and bounds its body. The security
// headers, no-referrer for URLs with a token among them, are web.Secure's.
func private(f http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		f(w, r)
	})
}

// page is the data of every page of this package.
type page struct {
	web.Shell

	// message.html
	Paragraphs []string
	Action     string // a form with one button posts here
	Button     string
	Link       *link

	// subscribe.html and preferences.html
	Intro   string
	Email   string
	Name    string
	Digests []digestChoice
	Errors  map[string]string
	Saved   string
	// TimeZone is the subscriber's zone on preferences.html; Script is
	// web.TimeZoneScript on subscribe.html, which fills the hidden zone
	// field from the browser.
	TimeZone string
	SiteZone string
	Script   template.JS
}

type link struct{ URL, Text string }

type digestChoice struct {
	DigestInfo
	Checked bool
}

// shell is the layout of this package's pages: they name no feed (the
// footer links the site's), and but for the sign-up form they are one
// person's, answers to a link with a token or to a post: not for search
// engines.
func shell(site SiteInfo, title string) web.Shell {
	return web.Shell{Site: site, Home: site.URL(""), Subscribe: site.URL("subscribe"), Title: title,
		NoIndex: true}
}

func (h *Handler) newPage(title string) *page {
	return &page{Shell: shell(h.opt.Site, title), Errors: map[string]string{}}
}

// message renders a page of a few paragraphs.
func (h *Handler) message(w http.ResponseWriter, r *http.Request, title string, paragraphs ...string) {
	p := h.newPage(title)
	p.Paragraphs = paragraphs
	h.web.Render(w, r, http.StatusOK, "message.html", p)
}

// problem gives this package's errors their kind of web answer, with the
// field at fault; any other error is internal. It is the one place here
// where sentinels meet status codes, for the pages and the API alike.
func problem(err error) error {
	var fe *FieldError
	switch {
	case errors.As(err, &fe) && errors.Is(err, ErrExists):
		return &web.Problem{Kind: web.Conflict, Field: fe.Field, Message: fe.Error(), Err: err}
	case errors.As(err, &fe):
		return &web.Problem{Kind: web.Invalid, Field: fe.Field, Message: fe.Error(), Err: err}
	case errors.Is(err, ErrTokenExpired):
		return &web.Problem{Kind: web.Gone, Err: err}
	case errors.Is(err, ErrTokenInvalid):
		return &web.Problem{Kind: web.BadRequest, Err: err}
	case errors.Is(err, ErrNotFound):
		return &web.Problem{Kind: web.NotFound, Err: err}
	case errors.Is(err, ErrNotPending):
		return &web.Problem{Kind: web.Conflict, Err: err}
	}
	return err
}

// explain is problem(err) in the words of one page: a title and a
// message for whoever followed the link. Either may be left empty.
func explain(err error, title, message string) *web.Problem {
	p := *web.ProblemOf(problem(err))
	p.Title, p.Message = title, message
	if p.Err == nil {
		p.Err = err
	}
	return &p
}

// holder returns the subscriber a token for purpose p belongs to, as
// loaded to check it: the one it names, while its nonce is still the
// token's. A link that does not check gives ErrTokenInvalid or
// ErrTokenExpired (see isTokenError); anything else is the store's error.
func (h *Handler) holder(ctx context.Context, p Purpose, token string) (*Subscriber, error) {
	var s *Subscriber
	_, err := h.tokens.Check(p, token, func(id int64) (uint64, error) {
		var err error
		if s, err = h.store.Get(ctx, id); err != nil {
			return 0, err
		}
		return s.Nonce, nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// isTokenError reports whether err says a link does not check, rather
// than that the store failed.
func isTokenError(err error) bool {
	return errors.Is(err, ErrTokenInvalid) || errors.Is(err, ErrTokenExpired)
}

// meta records who asked, for the consent events.
func meta(r *http.Request, route string) Meta {
	ip := r.RemoteAddr
	if i := strings.LastIndexByte(ip, ':'); i > 0 {
		ip = strings.Trim(ip[:i], "[]")
	}
	ua := r.UserAgent()
	if len(ua) > 512 {
		ua = ua[:512]
	}
	return Meta{IP: ip, UserAgent: ua, Route: route}
}

// tooLarge reports whether err comes from the body limit.
func tooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

func itoa(n int) string { return strconv.Itoa(n) }
