package feed

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tidings/tidings/feed/content"
	"github.com/tidings/tidings/internal/web"
)

// maxAPIBody is the largest request body the authoring API reads.
const maxAPIBody = 5 << 20

// API is the authoring API: articles written over HTTP, with source
// "api", validated, sanitized and identified as content files are.
type API struct {
	store *Store
	site  Site
	r     *content.Renderer
	token string
	loc   *time.Location
	now   func() time.Time
	log   *slog.Logger
	web   *web.Renderer // answers errors, in JSON
}

// NewAPI returns the authoring API. Without an adminToken every route
// answers 404. baseURL is the site's; relative links in articles are made
// absolute against it. loc is the zone of dates written without one. log
// is the caller's, its component already named.
func NewAPI(store *Store, baseURL, adminToken string, loc *time.Location, now func() time.Time, log *slog.Logger) (*API, error) {
	r, err := content.NewRenderer(baseURL)
	if err != nil {
		return nil, fmt.Errorf("authoring api: %w", err)
	}
	if loc == nil {
		loc = time.UTC
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &API{store: store, site: Site{BaseURL: baseURL}, r: r, token: adminToken, loc: loc, now: now,
		log: log, web: web.NewJSON(log)}, nil
}

// Routes registers the API's routes. Ids may hold slashes ("api/hello",
// a file's "2026/launch"), hence the {id...} wildcard.
func (a *API) Routes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/articles", a.admin(a.list))
	mux.Handle("POST /api/v1/articles", a.admin(a.create))
	mux.Handle("GET /api/v1/articles/{id...}", a.admin(a.show))
	mux.Handle("PUT /api/v1/articles/{id...}", a.admin(a.update))
	mux.Handle("DELETE /api/v1/articles/{id...}", a.admin(a.remove))
}

// admin guards an API route with the admin token.
func (a *API) admin(f http.HandlerFunc) http.Handler {
	return web.Admin(a.token, maxAPIBody, "authoring API", f)
}

// apiArticle is an article as the API shows it.
type apiArticle struct {
	ID          string     `json:"id"`
	Slug        string     `json:"slug"`
	URL         string     `json:"url"`
	Source      string     `json:"source"`
	Title       string     `json:"title"`
	Author      string     `json:"author"`
	Tags        []string   `json:"tags"`
	Summary     string     `json:"summary"`
	Image       string     `json:"image,omitempty"`
	ContentHTML string     `json:"content_html"`
	ContentText string     `json:"content_text"`
	Published   time.Time  `json:"published"`
	Updated     time.Time  `json:"updated"`
	IsPublished bool       `json:"is_published"` // visible in feeds now: not removed, not dated ahead
	Removed     bool       `json:"removed"`
	RemovedAt   *time.Time `json:"removed_at,omitempty"`
}

func (a *API) toAPI(ar *Article) apiArticle {
	tags := ar.Tags
	if tags == nil {
		tags = []string{}
	}
	return apiArticle{ID: ar.ID, Slug: ar.Slug, URL: a.site.ArticleURL(ar), Source: ar.Source, Title: ar.Title,
		Author: content.JoinAuthor(ar.Author, ar.AuthorEmail), Tags: tags, Summary: ar.Summary, Image: ar.Image, ContentHTML: ar.ContentHTML,
		ContentText: ar.ContentText, Published: ar.Published, Updated: ar.Updated,
		IsPublished: ar.IsPublished(a.now()), Removed: ar.Removed != nil, RemovedAt: ar.Removed}
}

func (a *API) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 1000 {
			a.web.Error(w, r, web.FieldErrorf(web.BadRequest, "limit", "limit must be a number from 1 to 1000"))
			return
		}
		limit = n
	}
	as, err := a.store.listAPI(r.Context(), strings.TrimSpace(q.Get("tag")), limit)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	out := struct {
		Articles []apiArticle `json:"articles"`
	}{Articles: make([]apiArticle, 0, len(as))}
	for _, ar := range as {
		out.Articles = append(out.Articles, a.toAPI(ar))
	}
	web.JSON(w, http.StatusOK, out)
}

func (a *API) show(w http.ResponseWriter, r *http.Request) {
	ar, err := a.store.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, a.toAPI(ar))
}

func (a *API) create(w http.ResponseWriter, r *http.Request) {
	p, ok := a.readArticle(w, r, true)
	if !ok {
		return
	}
	id, err := a.store.createAPI(r.Context(), p, a.now())
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	ar, err := a.store.Get(r.Context(), id)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	segs := strings.Split(ar.ID, "/")
	for i, seg := range segs {
		segs[i] = url.PathEscape(seg)
	}
	w.Header().Set("Location", "/api/v1/articles/"+strings.Join(segs, "/"))
	web.JSON(w, http.StatusCreated, a.toAPI(ar))
}

func (a *API) update(w http.ResponseWriter, r *http.Request) {
	p, ok := a.readArticle(w, r, false)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if err := a.store.updateAPI(r.Context(), id, p, a.now()); err != nil {
		a.storeError(w, r, err)
		return
	}
	ar, err := a.store.Get(r.Context(), id)
	if err != nil {
		a.storeError(w, r, err)
		return
	}
	web.JSON(w, http.StatusOK, a.toAPI(ar))
}

func (a *API) remove(w http.ResponseWriter, r *http.Request) {
	if err := a.store.unpublishAPI(r.Context(), r.PathValue("id"), a.now()); err != nil {
		a.storeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// storeError answers a store error: its kind from kindOf, with the id at
// fault; web.Error logs only the 5xx.
func (a *API) storeError(w http.ResponseWriter, r *http.Request, err error) {
	p := &web.Problem{Kind: kindOf(err), Err: err}
	var taken *IDTakenError
	switch {
	case errors.As(err, &taken):
		p.Field, p.Message = "id", taken.Error()
	case p.Kind == web.NotFound:
		p.Field, p.Message = "id", "no article has id "+strconv.Quote(r.PathValue("id"))
	}
	a.web.Error(w, r, p)
}

// validID reports whether id can name an article in a URL path and a log
// line: printable, no white space at either end, no query or fragment.
func validID(id string) bool {
	if id == "" || len(id) > 200 || strings.TrimSpace(id) != id || strings.ContainsAny(id, "?#\\") {
		return false
	}
	if u, err := url.Parse(id); err != nil || u.IsAbs() {
		return false
	}
	for _, r := range id {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return false
		}
	}
	return !strings.HasPrefix(id, "/") && !strings.Contains(id, "//")
}

// articleInput is the JSON body of a POST or PUT.
type articleInput struct {
	ID      *string  `json:"id"`
	Title   string   `json:"title"`
	Content string   `json:"content"`
	Format  string   `json:"format"`
	Summary string   `json:"summary"`
	Tags    []string `json:"tags"`
	Date    string   `json:"date"`
	Author  string   `json:"author"`
	Image   string   `json:"image"`
}

// fieldError is a request the API refuses, and the field at fault.
type fieldError struct {
	status int
	field  string
	msg    string
}

// readArticle decodes and validates a body and normalises it as a file
// is: the same title repair, sanitizing, link resolution, slug and
// summary. On failure it has written the error.
func (a *API) readArticle(w http.ResponseWriter, r *http.Request, create bool) (content.Doc, bool) {
	var in articleInput
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(&in)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &tooBig):
			a.web.Error(w, r, web.Errorf(web.TooLarge, "the body is larger than %d bytes", maxAPIBody))
		case errors.As(err, &typeErr) && typeErr.Field != "":
			a.web.Error(w, r, web.FieldErrorf(web.Invalid, typeErr.Field, "%s must be a JSON %s", typeErr.Field, wantType(typeErr.Field)))
		default:
			a.web.Error(w, r, web.Errorf(web.BadRequest, "the body must be one JSON object with title, content, format, summary, tags, date, author, image and id: %s", err.Error()))
		}
		return content.Doc{}, false
	}
	d, fe := a.render(in, create, r.PathValue("id"))
	if fe != nil {
		a.web.Error(w, r, &web.Problem{Kind: fieldKind(fe.status), Field: fe.field, Message: fe.msg})
		return content.Doc{}, false
	}
	for _, warning := range d.Warnings {
		a.log.Info("api article repaired", "id", d.ID, "title", d.Title, "warning", warning)
	}
	return d, true
}

// fieldKind is the kind of a refused field's status: render refuses
// with 422.
func fieldKind(status int) web.Kind {
	if status == http.StatusBadRequest {
		return web.BadRequest
	}
	return web.Invalid
}

func wantType(field string) string {
	if field == "tags" {
		return "array of strings"
	}
	return "string"
}

// render validates in and turns it into a document. pathID is the id of
// the article a PUT writes; a body naming another id is refused.
func (a *API) render(in articleInput, create bool, pathID string) (content.Doc, *fieldError) {
	bad := func(field, msg string) (content.Doc, *fieldError) {
		return content.Doc{}, &fieldError{status: http.StatusUnprocessableEntity, field: field, msg: msg}
	}
	d := content.Doc{Source: apiSource, Title: in.Title, Author: in.Author, Tags: in.Tags, Summary: in.Summary,
		Image: in.Image}
	if in.ID != nil {
		id := *in.ID
		switch {
		case !create && id != pathID:
			return bad("id", "an article's id cannot change; leave id out of a PUT or give the id in its URL")
		case create && !validID(id):
			return bad("id", "id must be up to 200 printable characters, not a URL, without ?, #, \\, //, a leading / or white space at either end")
		}
		d.ID = id
	}
	if strings.TrimSpace(in.Content) == "" {
		return bad("content", "content is required")
	}
	if strings.ContainsRune(in.Content, 0) {
		return bad("content", "content holds NUL characters; send text")
	}
	body := strings.ReplaceAll(strings.ReplaceAll(in.Content, "\r\n", "\n"), "\r", "\n")
	switch in.Format {
	case "", "markdown":
		var err error
		if d.HTML, err = a.r.Markdown(body); err != nil {
			return bad("content", "content could not be rendered as Markdown: "+err.Error())
		}
	case "html":
		d.HTML = body
	default:
		return bad("format", `format must be "markdown" (the default) or "html"`)
	}
	if in.Date != "" {
		t, err := content.ParseDate(in.Date, a.loc)
		if err != nil {
			return bad("date", fmt.Sprintf("date %q is not a date: use RFC 3339 (2006-01-02T15:04:05Z), 2006-01-02 or 2006-01-02 15:04", in.Date))
		}
		if t.Year() < 1970 || t.Year() > 2200 {
			return bad("date", fmt.Sprintf("date %q is out of range: give a year from 1970 to 2200", in.Date))
		}
		d.Date = t.UTC()
	}
	if _, ok := a.r.ImageURL(in.Image); !ok {
		return bad("image", fmt.Sprintf("image %q must be an http or https URL, or a path below the site", in.Image))
	}
	d, err := a.r.Normalize(d)
	if err == content.ErrNoTitle {
		return bad("title", "title is required")
	}
	if errors.Is(err, content.ErrNoTitle) {
		return bad("title", err.Error()) // why: a title of markup alone
	}
	if err != nil {
		return bad("content", err.Error())
	}
	if strings.TrimSpace(d.HTML) == "" {
		return bad("content", "nothing is left of content once unsafe HTML is removed")
	}
	// The store dates it, and hashes it again, once it knows the date.
	return d, nil
}
