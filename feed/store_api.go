package feed

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
// is dated now.
func (s *Store) createAPI(ctx context.Context, d content.Doc, now time.Time) (string, error) {
	w := s.newWriter(now)
	defer w.rollback()
	if d.ID != "" {
		prev, err := w.find(ctx, d.ID)
		if err != nil {
			return "", fmt.Errorf("create article: %w", err)
		}
		if prev != nil {
			return "", &IDTakenError{ID: d.ID, Source: prev.source}
		}
	} else {
		base := apiPrefix + d.SlugBase
		for n := 1; d.ID == ""; n++ {
			id := base
			if n > 1 {
				id = base + "-" + strconv.Itoa(n)
			}
			prev, err := w.find(ctx, id)
			if err != nil {
				return "", fmt.Errorf("create article: %w", err)
			}
			if prev == nil {
				d.ID = id
			}
		}
	}
	if d.Date.IsZero() {
		d.SetDate(now)
	}
	if _, err := w.put(ctx, entry{doc: &d}, nil); err != nil {
		return "", fmt.Errorf("create article %s: %w", d.ID, err)
	}
	if err := w.commit(); err != nil {
		return "", fmt.Errorf("create article %s: %w", d.ID, err)
	}
	return d.ID, nil
}

// apiArticle finds the API article id for a change: ErrNotFound when
// there is none, an IDTakenError when another source holds the id.
func (w *writer) apiArticle(ctx context.Context, id string) (*stored, error) {
	prev, err := w.find(ctx, id)
	switch {
	case err != nil:
		return nil, fmt.Errorf("article %s: %w", id, err)
	case prev == nil:
		return nil, fmt.Errorf("%q: %w", id, ErrNotFound)
	case prev.source != apiSource:
		return nil, &IDTakenError{ID: id, Source: prev.source}
	}
	return prev, nil
}

// updateAPI rewrites the API article id. Its id, slug and first-seen time
// stay; its published time moves only when d names a date, its updated
// time only when the content hash changes. An unpublished article is
// published again: writing it is asking for it to be seen.
func (s *Store) updateAPI(ctx context.Context, id string, d content.Doc, now time.Time) error {
	w := s.newWriter(now)
	defer w.rollback()
	prev, err := w.apiArticle(ctx, id)
	if err != nil {
		return err
	}
	d.ID = id
	if d.Date.IsZero() {
		d.SetDate(prev.pub)
	}
	if _, err := w.put(ctx, entry{doc: &d}, prev); err != nil {
		return fmt.Errorf("update article %s: %w", id, err)
	}
	if err := w.commit(); err != nil {
		return fmt.Errorf("update article %s: %w", id, err)
	}
	return nil
}

// unpublishAPI marks the API article id removed; the row stays, so that
// its id and slug are never given to another article. Unpublishing twice
// keeps the first time.
func (s *Store) unpublishAPI(ctx context.Context, id string, now time.Time) error {
	w := s.newWriter(now)
	defer w.rollback()
	if _, err := w.apiArticle(ctx, id); err != nil {
		return err
	}
	if _, err := w.remove(ctx, id); err != nil {
		return fmt.Errorf("unpublish article %s: %w", id, err)
	}
	if err := w.commit(); err != nil {
		return fmt.Errorf("unpublish article %s: %w", id, err)
	}
	return nil
}

// listAPI returns articles of every source, removed and future ones too
// but no drafts, newest first.
func (s *Store) listAPI(ctx context.Context, tag string, limit int) ([]*Article, error) {
	q := `SELECT ` + articleColumns + ` FROM articles a WHERE a.draft = 0`
	var args []any
	if tag != "" {
		q += ` AND EXISTS (SELECT 1 FROM article_tags t WHERE t.article_id = a.id AND ` + s.nocase("t.tag") + ` = ?)`
		args = append(args, asciiLower(tag))
	}
	q += ` ORDER BY a.published_at DESC, a.id LIMIT ?`
	args = append(args, limit)
	out, err := s.queryArticles(ctx, q, args...)
	if out == nil && err == nil {
		out = []*Article{} // the API lists [] rather than null
	}
	return out, err
}
