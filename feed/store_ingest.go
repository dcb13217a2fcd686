package feed

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"
)

// index loads what a scan compares files against, in one query.
func (s *Store) index(ctx context.Context) (byFile map[fileKey]stored, byID map[string]stored, err error) {
	rows, err := s.db.Read.QueryContext(ctx, `SELECT id, source, dir, path, file_size, file_mtime, removed_at IS NOT NULL,
		content_hash, slug, published_at, updated_at FROM articles`)
	if err != nil {
		return nil, nil, fmt.Errorf("load article index: %w", err)
	}
	defer rows.Close()
	byFile = map[fileKey]stored{}
	byID = map[string]stored{}
	for rows.Next() {
		var st stored
		if err := rows.Scan(&st.id, &st.source, &st.file.dir, &st.file.rel, &st.size, &st.mtime, &st.removed,
			&st.hash, &st.slug, &st.pub, &st.updated); err != nil {
			return nil, nil, fmt.Errorf("load article index: %w", err)
		}
		byID[st.id] = st
		if st.source != "content" {
			continue
		}
		// A file that changed its id has an old, removed row too; the live
		// row speaks for the file.
		if old, ok := byFile[st.file]; !ok || old.removed {
			byFile[st.file] = st
		}
	}
	return byFile, byID, rows.Err()
}

// apply writes one scan's outcome in a single transaction: a failure
// leaves the store as it was.
func (s *Store) apply(ctx context.Context, now time.Time, accepted []parseResult, byID map[string]stored, gone []string, res *ScanResult) error {
	tx, err := s.db.Write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save articles: %w", err)
	}
	defer tx.Rollback()
	// Articles first seen or changed in one scan get times a millisecond
	// apart, counting back from now (never into the future, which would
	// hide them): no two entries then share an updated time, which feed
	// validators warn about.
	tick := 0
	at := func() time.Time {
		tick++
		return now.Add(-time.Duration(tick-1) * time.Millisecond)
	}
	for _, pr := range accepted {
		st, exists := byID[pr.p.ID]
		switch {
		case !exists:
			err = insertArticle(ctx, tx, at(), pr)
			res.Added++
		case st.hash == pr.p.Hash && !st.removed && st.file == pr.c.key():
			// Touched but not changed: remember the new size and mtime so
			// the next scan skips it without reading.
			_, err = tx.ExecContext(ctx, `UPDATE articles SET file_size = ?, file_mtime = ? WHERE id = ?`, pr.c.size, pr.c.mtime, st.id)
			res.Unchanged++
		default:
			err = updateArticle(ctx, tx, at(), st, pr)
			res.Updated++
		}
		if err != nil {
			return fmt.Errorf("save article %s: %w", pr.c.path(), err)
		}
	}
	for _, id := range gone {
		if _, err := tx.ExecContext(ctx, `UPDATE articles SET removed_at = ? WHERE id = ? AND removed_at IS NULL`, now.UnixNano(), id); err != nil {
			return fmt.Errorf("unpublish article %s: %w", id, err)
		}
		res.Removed++
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save articles: %w", err)
	}
	return nil
}

func insertArticle(ctx context.Context, tx *sql.Tx, now time.Time, pr parseResult) error {
	p := pr.p
	slug, err := freeSlug(ctx, tx, p.SlugBase, p.ID)
	if err != nil {
		return err
	}
	pub := p.Date
	if pub.IsZero() {
		pub = now // the time the file was first seen, kept from now on
	}
	upd := p.Updated
	if upd.Before(pub) {
		upd = pub
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO articles (id, slug, source, path, dir, title, author, summary, content_html,
		content_text, image, draft, published_at, updated_at, first_seen_at, content_hash, file_size, file_mtime)
		VALUES (?, ?, 'content', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, slug, pr.c.rel, pr.c.dir, p.Title, p.Author, p.Summary, p.HTML, p.Text, p.Image, p.Draft,
		pub.UnixNano(), upd.UnixNano(), now.UnixNano(), p.Hash, pr.c.size, pr.c.mtime)
	if err != nil {
		return err
	}
	return writeTags(ctx, tx, p.ID, p.Tags)
}

// updateArticle rewrites a changed (or restored) article. Its id, first
// seen time and slug stay; its published time moves only when the file
// names one, and its updated time only when the content changed.
func updateArticle(ctx context.Context, tx *sql.Tx, now time.Time, st stored, pr parseResult) error {
	p := pr.p
	slug := st.slug
	if p.SlugSet && p.SlugBase != st.slug {
		var err error
		if slug, err = freeSlug(ctx, tx, p.SlugBase, p.ID); err != nil {
			return err
		}
	}
	pub := time.Unix(0, st.pub)
	if !p.Date.IsZero() {
		pub = p.Date
	}
	upd := time.Unix(0, st.updated)
	if st.hash != p.Hash {
		upd = now
	}
	if !p.Updated.IsZero() {
		upd = p.Updated
	}
	if upd.Before(pub) {
		upd = pub
	}
	_, err := tx.ExecContext(ctx, `UPDATE articles SET slug = ?, source = 'content', path = ?, dir = ?, title = ?, author = ?,
		summary = ?, content_html = ?, content_text = ?, image = ?, draft = ?, published_at = ?, updated_at = ?,
		removed_at = NULL, content_hash = ?, file_size = ?, file_mtime = ? WHERE id = ?`,
		slug, pr.c.rel, pr.c.dir, p.Title, p.Author, p.Summary, p.HTML, p.Text, p.Image, p.Draft,
		pub.UnixNano(), upd.UnixNano(), p.Hash, pr.c.size, pr.c.mtime, p.ID)
	if err != nil {
		return err
	}
	return writeTags(ctx, tx, p.ID, p.Tags)
}

func writeTags(ctx context.Context, tx *sql.Tx, id string, tags []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM article_tags WHERE article_id = ?`, id); err != nil {
		return err
	}
	for i, t := range tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO article_tags (article_id, tag, position) VALUES (?, ?, ?)`, id, t, i); err != nil {
			return err
		}
	}
	return nil
}

// freeSlug returns base, or base-2, base-3 ... whichever no other article
// uses: two articles with one title get two URLs.
func freeSlug(ctx context.Context, tx *sql.Tx, base, id string) (string, error) {
	if base == "" {
		base = "article"
	}
	for n := 1; ; n++ {
		slug := base
		if n > 1 {
			slug = base + "-" + strconv.Itoa(n)
		}
		var owner string
		err := tx.QueryRowContext(ctx, `SELECT id FROM articles WHERE slug = ?`, slug).Scan(&owner)
		if err == sql.ErrNoRows || owner == id {
			return slug, nil
		}
		if err != nil {
			return "", err
		}
	}
}
