package mail

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tidings/tidings/feed"
)

// editionArticles loads the articles of an edition, in its order, from
// the articles table. The Articles interface lists what is published now;
// an edition must show what it carried even after an article was taken
// down, so the rows are read here by id.
func (l *Ledger) editionArticles(ctx context.Context, editionID int64) ([]*feed.Article, error) {
	rows, err := l.DB.Read.QueryContext(ctx, `SELECT a.id, a.slug, a.source, a.path, a.title, a.author, a.summary,
		a.content_html, a.content_text, a.image, a.draft, a.published_at, a.updated_at, a.first_seen_at, a.removed_at,
		a.content_hash
		FROM edition_articles ea JOIN articles a ON a.id = ea.article_id
		WHERE ea.edition_id = ? ORDER BY ea.position`, editionID)
	if err != nil {
		return nil, fmt.Errorf("load articles: %w", err)
	}
	defer rows.Close()
	var out []*feed.Article
	byID := map[string]*feed.Article{}
	for rows.Next() {
		var a feed.Article
		var draft int
		var pub, upd, seen int64
		var removed sql.NullInt64
		if err := rows.Scan(&a.ID, &a.Slug, &a.Source, &a.Path, &a.Title, &a.Author, &a.Summary, &a.ContentHTML,
			&a.ContentText, &a.Image, &draft, &pub, &upd, &seen, &removed, &a.ContentHash); err != nil {
			return nil, fmt.Errorf("load articles: %w", err)
		}
		a.Draft = draft != 0
		a.Published, a.Updated, a.FirstSeen = fromNanos(pub), fromNanos(upd), fromNanos(seen)
		if removed.Valid {
			t := fromNanos(removed.Int64)
			a.Removed = &t
		}
		a.Tags = []string{}
		out = append(out, &a)
		byID[a.ID] = &a
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load articles: %w", err)
	}
	rows.Close()

	tags, err := l.DB.Read.QueryContext(ctx, `SELECT t.article_id, t.tag FROM edition_articles ea
		JOIN article_tags t ON t.article_id = ea.article_id
		WHERE ea.edition_id = ? ORDER BY t.article_id, t.position`, editionID)
	if err != nil {
		return nil, fmt.Errorf("load tags: %w", err)
	}
	defer tags.Close()
	for tags.Next() {
		var id, tag string
		if err := tags.Scan(&id, &tag); err != nil {
			return nil, fmt.Errorf("load tags: %w", err)
		}
		if a := byID[id]; a != nil {
			a.Tags = append(a.Tags, tag)
		}
	}
	if err := tags.Err(); err != nil {
		return nil, fmt.Errorf("load tags: %w", err)
	}
	return out, nil
}
