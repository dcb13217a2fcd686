package feed

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tidings/tidings/feed/content"
	"github.com/tidings/tidings/internal/database"
)

// ErrNotFound is returned when no article has the id asked for.
var ErrNotFound = errors.New("article not found")

// Store is the articles table.
type Store struct {
	db *database.DB
}

// NewStore returns a Store on an open database.
func NewStore(db *database.DB) *Store { return &Store{db: db} }

var articleColumns = columns(0, false, false)

// columns is the article columns scanArticle reads. With max > 0, an
// article whose HTML and text are together longer than max bytes comes
// without them, marked cut: a list of many never holds them all. With
// none, no article's content comes; with noText, its HTML without its
// text.
func columns(max int, none, noText bool) string {
	html, text, cut := "content_html", "content_text", "0"
	if max > 0 {
		cut = fmt.Sprintf("octet_length(content_html) + octet_length(content_text) > %d", max)
		html = fmt.Sprintf("CASE WHEN %s THEN '' ELSE content_html END", cut)
		text = fmt.Sprintf("CASE WHEN %s THEN '' ELSE content_text END", cut)
	}
	if none || noText {
		text = "''"
	}
	if none {
		html = "''"
	}
	content := html + ", " + text
	return "id, slug, source, path, title, author, summary, " + content +
		", image, draft, published_at, updated_at, first_seen_at, removed_at, content_hash, " + cut
}

func scanArticle(row interface{ Scan(...any) error }) (*Article, error) {
	var a Article
	var draft int
	var pub, upd, seen int64
	var removed sql.NullInt64
	err := row.Scan(&a.ID, &a.Slug, &a.Source, &a.Path, &a.Title, &a.Author, &a.Summary, &a.ContentHTML, &a.ContentText,
		&a.Image, &draft, &pub, &upd, &seen, &removed, &a.ContentHash, &a.ContentCut)
	if err != nil {
		return nil, err
	}
	a.Author, a.AuthorEmail = content.SplitAuthor(a.Author)
	a.Draft = draft != 0
	a.Published, a.Updated, a.FirstSeen = fromNanos(pub), fromNanos(upd), fromNanos(seen)
	if removed.Valid {
		t := fromNanos(removed.Int64)
		a.Removed = &t
	}
	return &a, nil
}

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// Get returns one article by id, published or not.
func (s *Store) Get(ctx context.Context, id string) (*Article, error) {
	a, err := scanArticle(s.db.Read.QueryRowContext(ctx, `SELECT `+articleColumns+` FROM articles WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get article: %w", err)
	}
	if err := s.loadTags(ctx, []*Article{a}); err != nil {
		return nil, err
	}
	return a, nil
}

// GetBySlug returns the published article with the given slug.
func (s *Store) GetBySlug(ctx context.Context, slug string, now time.Time) (*Article, error) {
	a, err := scanArticle(s.db.Read.QueryRowContext(ctx, `SELECT `+articleColumns+` FROM articles
		WHERE slug = ? AND draft = 0 AND removed_at IS NULL AND published_at <= ?`, slug, now.UnixNano()))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get article: %w", err)
	}
	if err := s.loadTags(ctx, []*Article{a}); err != nil {
		return nil, err
	}
	return a, nil
}

// ListOptions selects articles.
type ListOptions struct {
	Tags  []string  // only articles with one of these tags (case-insensitive)
	Limit int       // 0: no limit
	All   bool      // include drafts, future and removed articles
	Now   time.Time // what "published" is measured against
	// MaxContent > 0 leaves out the content of articles with more bytes
	// of it (HTML and text together), marking them ContentCut.
	MaxContent int
	// NoContent leaves out every article's content (an index of them);
	// with MaxContent, ContentCut still says which are too long.
	NoContent bool
	// Offset skips that many of the newest.
	Offset int
	// ExcludeBackfill leaves out the back catalogue an upstream carried
	// when it was first fetched: stored and in feeds, but not new.
	ExcludeBackfill bool
	// Since, when set, keeps the articles published or first seen at or
	// after it: those that became visible since.
	Since time.Time
}

// List returns articles, newest first.
func (s *Store) List(ctx context.Context, o ListOptions) ([]*Article, error) {
	var where []string
	var args []any
	if !o.All {
		where = append(where, "a.draft = 0", "a.removed_at IS NULL", "a.published_at <= ?")
		args = append(args, o.Now.UnixNano())
	}
	if o.ExcludeBackfill {
		where = append(where, "a.in_digests = 1")
	}
	if !o.Since.IsZero() {
		where = append(where, "(a.published_at >= ? OR a.first_seen_at >= ?)")
		args = append(args, o.Since.UnixNano(), o.Since.UnixNano())
	}
	if len(o.Tags) > 0 {
		where = append(where, `EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = a.id
			AND `+s.nocase("t.tag")+` IN (`+s.db.Dialect.Texts("?")+`))`)
		lower := make([]string, len(o.Tags))
		for i, t := range o.Tags {
			lower[i] = asciiLower(t)
		}
		args = append(args, jsonStrings(lower))
	}
	q := `SELECT ` + columns(o.MaxContent, o.NoContent, false) + ` FROM articles a`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY a.published_at DESC, a.id"
	if o.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", o.Limit)
	} else if o.Offset > 0 {
		q += s.db.Dialect.Pick(" LIMIT -1", "") // SQLite takes no OFFSET without a LIMIT, PostgreSQL no LIMIT -1
	}
	if o.Offset > 0 {
		q += fmt.Sprintf(" OFFSET %d", o.Offset)
	}
	return s.queryArticles(ctx, q, args...)
}

// ByIDs returns the articles with the given ids in that order, whatever
// their state (drafts, removed ones too); ids no article has are left out.
func (s *Store) ByIDs(ctx context.Context, ids []string) ([]*Article, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	found, err := s.queryArticles(ctx, `SELECT `+articleColumns+` FROM articles
		WHERE id IN (`+s.db.Dialect.Texts("?")+`)`, jsonStrings(ids))
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*Article, len(found))
	for _, a := range found {
		byID[a.ID] = a
	}
	out := make([]*Article, 0, len(found))
	for _, id := range ids {
		if a := byID[id]; a != nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// feedIndex returns every published article, newest first, with only
// what a build needs to cut feeds and tell what changed: id, slug,
// source, path, dates, content hash, tags, and whether its content is
// past max bytes (ContentCut). Title, author, summary and image are left
// out: the content hash covers them. It is read from the articles_feed
// index alone.
func (s *Store) feedIndex(ctx context.Context, now time.Time, max int) ([]*Article, error) {
	rows, err := s.db.Read.QueryContext(ctx, feedIndexQuery(max), now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("list articles: %w", err)
	}
	defer rows.Close()
	var out []*Article
	for rows.Next() {
		var a Article
		var pub, upd int64
		if err := rows.Scan(&a.ID, &a.Slug, &a.Source, &a.Path, &pub, &upd, &a.ContentHash, &a.ContentCut); err != nil {
			return nil, fmt.Errorf("list articles: %w", err)
		}
		a.Published, a.Updated = fromNanos(pub), fromNanos(upd)
		out = append(out, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list articles: %w", err)
	}
	return out, s.loadTags(ctx, out)
}

func feedIndexQuery(max int) string {
	cut := "0"
	if max > 0 {
		cut = fmt.Sprintf("octet_length(content_html) + octet_length(content_text) > %d", max)
	}
	return `SELECT id, slug, source, path, published_at, updated_at, content_hash, ` + cut + `
		FROM articles WHERE draft = 0 AND removed_at IS NULL AND published_at <= ? ORDER BY published_at DESC, id`
}

// contents returns the articles with the given ids, without their tags,
// in no particular order, their content cut as List's MaxContent does:
// what a build reads to render items whose other fields it has.
func (s *Store) contents(ctx context.Context, ids []string, max int, text bool) ([]*Article, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT `+columns(max, false, !text)+` FROM articles
		WHERE id IN (`+s.db.Dialect.Texts("?")+`)`, jsonStrings(ids))
	if err != nil {
		return nil, fmt.Errorf("load article content: %w", err)
	}
	defer rows.Close()
	out := make([]*Article, 0, len(ids))
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, fmt.Errorf("load article content: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load article content: %w", err)
	}
	return out, nil
}

// queryArticles runs a SELECT of articleColumns and loads the tags of what
// it found.
func (s *Store) queryArticles(ctx context.Context, q string, args ...any) ([]*Article, error) {
	rows, err := s.db.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list articles: %w", err)
	}
	defer rows.Close()
	var out []*Article
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, fmt.Errorf("list articles: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list articles: %w", err)
	}
	return out, s.loadTags(ctx, out)
}

// loadTags fills in the tags of the given articles with one query.
func (s *Store) loadTags(ctx context.Context, as []*Article) error {
	if len(as) == 0 {
		return nil
	}
	byID := make(map[string]*Article, len(as))
	ids := make([]string, 0, len(as))
	for _, a := range as {
		byID[a.ID] = a
		a.Tags = []string{}
		ids = append(ids, a.ID)
	}
	// One query with a JSON array of ids: no limit on the number of
	// parameters, and no statement per article. For many articles (a
	// build's index of all of them) every tag is read and the others'
	// dropped: cheaper than looking up thousands of ids.
	q, args := `SELECT article_id, tag FROM article_tags
		WHERE article_id IN (`+s.db.Dialect.Texts("?")+`) ORDER BY article_id, position`, []any{jsonStrings(ids)}
	if len(as) > 1000 {
		q, args = `SELECT article_id, tag FROM article_tags ORDER BY article_id, position`, nil
	}
	rows, err := s.db.Read.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("load tags: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return fmt.Errorf("load tags: %w", err)
		}
		if a := byID[id]; a != nil {
			a.Tags = append(a.Tags, tag)
		}
	}
	return rows.Err()
}

// Tags returns every tag of a published article, each spelled as it was
// first written, sorted case-insensitively.
func (s *Store) Tags(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT MIN(`+s.db.Dialect.Pick(`t.tag`, `t.tag COLLATE "C"`)+`)
		FROM article_tags t JOIN articles a ON a.id = t.article_id
		WHERE a.draft = 0 AND a.removed_at IS NULL AND a.published_at <= ?
		GROUP BY `+s.nocase("t.tag")+` ORDER BY `+s.nocase("t.tag"), now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	defer rows.Close()
	var tags []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("list tags: %w", err)
		}
		tags = append(tags, t)
	}
	return tags, rows.Err()
}

// nocase is expr for comparing, grouping and sorting tags: case-insensitive
// for ASCII letters only, as SQLite's NOCASE (and tagsOf). PostgreSQL's
// lower folds every letter and its collation may not compare bytes, so
// there the fold is spelled out and compared in "C". A value compared
// with it is folded by asciiLower first, which both dialects then match.
func (s *Store) nocase(expr string) string {
	return s.db.Dialect.Pick(expr+` COLLATE NOCASE`,
		`translate(`+expr+`, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') COLLATE "C"`)
}

// jsonStrings encodes ss as a JSON array, for Dialect.Texts.
func jsonStrings(ss []string) string {
	b, _ := json.Marshal(ss) // a []string always encodes
	return string(b)
}
