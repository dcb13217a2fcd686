package admin

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/internal/web"
)

// articlesPageSize is how many articles the articles page shows at once.
const articlesPageSize = 50

// articleRow is an article with its state.
type articleRow struct {
	*feed.Article
	State string // published, draft, scheduled or removed
}

// articleState is what a reader sees of an article now: removed (its
// source no longer has it), draft, scheduled (dated in the future) or
// published.
func articleState(a *feed.Article, now time.Time) string {
	switch {
	case a.Removed != nil:
		return "removed"
	case a.Draft:
		return "draft"
	case a.Published.After(now):
		return "scheduled"
	default:
		return "published"
	}
}

// sourceRow is a configured upstream with what its last fetch did.
type sourceRow struct {
	Source
	feed.SourceStatus
}

// Interval is how often the source is fetched, written short ("1h",
// "30m", "1h30m").
func (r sourceRow) Interval() string {
	s := r.Every.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// articlesData is the data of articles.html.
type articlesData struct {
	Sources     []sourceRow
	CanCheck    bool
	Rejections  []feed.Rejection
	Articles    []articleRow
	Page        int // 1-based
	Prev, Next  int // 0: none
	HasArticles bool
}

// articles shows the upstream sources with their last fetch, the
// content files the last scan rejected, and every article with its
// state, newest first, a page at a time.
func (a *Admin) articles(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	d := articlesData{CanCheck: a.o.Data.Actions.CheckSource != nil, Page: 1}
	if n, err := strconv.Atoi(r.URL.Query().Get("page")); err == nil && n > 1 {
		d.Page = n
	}
	store := a.o.Data.Articles
	if store != nil && len(a.o.Data.Sources) > 0 {
		states, err := store.Sources(ctx)
		if err != nil {
			return err
		}
		byName := map[string]feed.SourceStatus{}
		for _, st := range states {
			byName[st.Name] = st
		}
		for _, src := range a.o.Data.Sources {
			st, ok := byName[src.Name]
			if !ok {
				st = feed.SourceStatus{Name: src.Name}
			}
			d.Sources = append(d.Sources, sourceRow{Source: src, SourceStatus: st})
		}
	}
	if a.o.Data.Rejections != nil {
		d.Rejections = a.o.Data.Rejections()
	}
	if store != nil {
		now := a.o.Now()
		as, err := store.List(ctx, feed.ListOptions{All: true, NoContent: true, Now: now,
			Limit: articlesPageSize + 1, Offset: (d.Page - 1) * articlesPageSize})
		if err != nil {
			return err
		}
		if len(as) > articlesPageSize {
			as, d.Next = as[:articlesPageSize], d.Page+1
		}
		if d.Page > 1 {
			d.Prev = d.Page - 1
		}
		for _, x := range as {
			d.Articles = append(d.Articles, articleRow{Article: x, State: articleState(x, now)})
		}
		d.HasArticles = len(as) > 0 || d.Page > 1
	}
	return a.render(w, r, "articles.html", "Articles and sources", d)
}

// sourceCheck fetches one upstream feed now, as its poll would.
func (a *Admin) sourceCheck(w http.ResponseWriter, r *http.Request) error {
	if a.o.Data.Actions.CheckSource == nil {
		return web.Errorf(web.NotFound, "Checking sources is not available here.")
	}
	name := r.PostFormValue("source")
	known := false
	for _, s := range a.o.Data.Sources {
		known = known || s.Name == name
	}
	if !known {
		return web.Errorf(web.NotFound, "No source is named %q in the config.", name)
	}
	err := a.o.Data.Actions.CheckSource(r.Context(), name)
	if err != nil {
		setAudit(r, "source.check", name+": "+err.Error())
		return a.redirect(w, r, "/admin/articles", "Fetched "+name+": it failed: "+err.Error())
	}
	setAudit(r, "source.check", name)
	return a.redirect(w, r, "/admin/articles", "Fetched "+name+".")
}
