package feed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tidings/tidings/feed/content"
)

// apiSource is the source of articles written through the authoring API.
const apiSource = "api"

// ErrIDTaken is returned when an API write names an id that another
// article holds: a file's, an upstream item's, or (for a create) an API
// article already there. An IDTakenError carries the owner.
var ErrIDTaken = errors.New("id is taken")

// IDTakenError names the id asked for and the source that holds it.
type IDTakenError struct {
	ID, Source string
}

func (e *IDTakenError) Error() string {
	if e.Source == apiSource {
		return fmt.Sprintf("id %q is taken by an article written through the API; update it with PUT", e.ID)
	}
	return fmt.Sprintf("id %q is taken by an article from source %q; the API may only write its own articles", e.ID, e.Source)
}

func (e *IDTakenError) Unwrap() error { return ErrIDTaken }

// apiPrefix namespaces the ids the API makes up, so that they never meet
// a file's id (a path without extension) by chance.
const apiPrefix = "api/"

// createAPI stores a new API article. With no id given, it takes apiPrefix
// plus the slug base, with -2, -3 ... on a clash. An article dated nowhere
// is published now.
func (s *Store) createAPI(ctx context.Context, p content.Doc, now time.Time) (string, error) {
	w := s.newScanWriter(now, nil, &ScanResult{})
	defer w.rollback()
	if err := w.begin(ctx); err != nil {
		return "", fmt.Errorf("create article: %w", err)
	}
	owner := func(id string) (string, error) {
		var src string
		err := w.tx.QueryRowContext(w.ctx, `SELECT source FROM articles WHERE id = ?`, id).Scan(&src)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		}
		return src, err
	}
	if p.ID != "" {
		src, err := owner(p.ID)
		if err != nil {
			return "", fmt.Errorf("create article: %w", err)
		}
		if src != "" {
			return "", &IDTakenError{ID: p.ID, Source: src}
		}
	} else {
		base := apiPrefix + p.SlugBase
		for n := 1; ; n++ {
			id := base
			if n > 1 {
				id = base + "-" + strconv.Itoa(n)
			}
			src, err := owner(id)
			if err != nil {
				return "", fmt.Errorf("create article: %w", err)
			}
			if src == "" {
				p.ID = id
				break
			}
		}
	}
	if p.Date.IsZero() {
		p.SetDate(now)
	}
	slug, err := w.freeSlug(p.SlugBase, p.ID)
	if err != nil {
		return "", fmt.Errorf("create article %s: %w", p.ID, err)
	}
	_, err = w.tx.ExecContext(w.ctx, `INSERT INTO articles (id, slug, source, title, author, summary, content_html,
		content_text, image, published_at, updated_at, first_seen_at, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, slug, apiSource, p.Title, p.Author, p.Summary, p.HTML, p.Text, p.Image,
		p.Date.UnixNano(), p.Date.UnixNano(), now.UnixNano(), p.Hash)
	if err == nil {
		err = w.addTags(p.ID, p.Tags)
	}
	if err != nil {
		return "", fmt.Errorf("create article %s: %w", p.ID, err)
	}
	if err := w.finish(ctx, nil); err != nil {
		return "", fmt.Errorf("create article %s: %w", p.ID, err)
	}
	return p.ID, nil
}

// updateAPI rewrites the API article id. Its id, slug and first-seen time
// stay; its published time moves only when p names a date, its updated
// time only when the content hash changes. An unpublished article is
// published again: writing it is asking for it to be seen.
func (s *Store) updateAPI(ctx context.Context, id string, p content.Doc, now time.Time) error {
	w := s.newScanWriter(now, nil, &ScanResult{})
	defer w.rollback()
	if err := w.begin(ctx); err != nil {
		return fmt.Errorf("update article: %w", err)
	}
	var src, hash string
	var pub, upd int64
	err := w.tx.QueryRowContext(w.ctx, `SELECT source, content_hash, published_at, updated_at FROM articles WHERE id = ?`,
		id).Scan(&src, &hash, &pub, &upd)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%q: %w", id, ErrNotFound)
	case err != nil:
		return fmt.Errorf("update article %s: %w", id, err)
	case src != apiSource:
		return &IDTakenError{ID: id, Source: src}
	}
	p.ID = id
	if p.Date.IsZero() {
		p.SetDate(fromNanos(pub))
	}
	updated := fromNanos(upd)
	if p.Hash != hash {
		updated = now
	}
	if updated.Before(p.Date) {
		updated = p.Date
	}
	_, err = w.tx.ExecContext(w.ctx, `UPDATE articles SET title = ?, author = ?, summary = ?, content_html = ?,
		content_text = ?, image = ?, published_at = ?, updated_at = ?, removed_at = NULL, content_hash = ? WHERE id = ?`,
		p.Title, p.Author, p.Summary, p.HTML, p.Text, p.Image, p.Date.UnixNano(), updated.UnixNano(), p.Hash, id)
	if err == nil {
		_, err = w.deleteTags.ExecContext(w.ctx, id)
	}
	if err == nil {
		err = w.addTags(id, p.Tags)
	}
	if err != nil {
		return fmt.Errorf("update article %s: %w", id, err)
	}
	if err := w.finish(ctx, nil); err != nil {
		return fmt.Errorf("update article %s: %w", id, err)
	}
	return nil
}

// unpublishAPI marks the API article id removed; the row stays, so that
// its id and slug are never given to another article. Unpublishing twice
// keeps the first time.
func (s *Store) unpublishAPI(ctx context.Context, id string, now time.Time) error {
	var src string
	err := s.db.Read.QueryRowContext(ctx, `SELECT source FROM articles WHERE id = ?`, id).Scan(&src)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%q: %w", id, ErrNotFound)
	case err != nil:
		return fmt.Errorf("unpublish article %s: %w", id, err)
	case src != apiSource:
		return &IDTakenError{ID: id, Source: src}
	}
	// The source is checked again in the statement: a read and a write are
	// not one transaction.
	_, err = s.db.Write.ExecContext(ctx, `UPDATE articles SET removed_at = ? WHERE id = ? AND source = ?
		AND removed_at IS NULL`, now.UnixNano(), id, apiSource)
	if err != nil {
		return fmt.Errorf("unpublish article %s: %w", id, err)
	}
	return nil
}

// listAPI returns articles of every source, removed and future ones too
// but no drafts, newest first.
func (s *Store) listAPI(ctx context.Context, tag string, limit int) ([]*Article, error) {
	q := `SELECT ` + strings.ReplaceAll(articleColumns, "\n\t", " ") + ` FROM articles a WHERE a.draft = 0`
	var args []any
	if tag != "" {
		q += ` AND EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = a.id AND t.tag = ? COLLATE NOCASE)`
		args = append(args, tag)
	}
	q += ` ORDER BY a.published_at DESC, a.id LIMIT ?`
	args = append(args, limit)
	out, err := s.queryArticles(ctx, q, args...)
	if out == nil && err == nil {
		out = []*Article{} // the API lists [] rather than null
	}
	return out, err
}
