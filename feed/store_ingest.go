package feed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// indexQuery reads only columns the index articles_file_scan holds, so that
// SQLite answers it from that index without reading the rows' overflow
// pages of HTML and text.
const indexQuery = `SELECT id, source, dir, path, file_size, file_mtime, removed_at IS NOT NULL,
	content_hash, slug, published_at, updated_at FROM articles`

// index loads what a scan compares files against, in one query.
func (s *Store) index(ctx context.Context) (byFile map[fileKey]stored, byID map[string]stored, err error) {
	rows, err := s.db.Read.QueryContext(ctx, indexQuery)
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

// scanWriter writes one scan's outcome in a single transaction, so that a
// failure leaves the store as it was. It begins the transaction at the
// first write, so that it holds the write lock only while there is
// something to write, and prepares its statements once for the thousands
// of articles a first scan brings.
type scanWriter struct {
	db   *sql.DB
	now  time.Time
	byID map[string]stored
	res  *ScanResult
	tick int

	ctx context.Context // for statements; the transaction watches the scan's own
	tx  *sql.Tx
	// Prepared on the transaction, closed with it.
	insert, update, touch, slugOwner, deleteTags, insertTag, unpublish *sql.Stmt
}

func (s *Store) newScanWriter(now time.Time, byID map[string]stored, res *ScanResult) *scanWriter {
	return &scanWriter{db: s.db.Write, now: now, byID: byID, res: res}
}

func (w *scanWriter) begin(ctx context.Context) error {
	if w.tx != nil {
		return nil
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	w.tx = tx
	// The transaction ends, and so stops every statement, when ctx is done;
	// a statement watching ctx as well would cost a goroutine per row.
	w.ctx = context.WithoutCancel(ctx)
	for _, st := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&w.insert, `INSERT INTO articles (id, slug, source, path, dir, title, author, summary, content_html,
			content_text, image, draft, published_at, updated_at, first_seen_at, content_hash, file_size, file_mtime)
			VALUES (?, ?, 'content', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.update, `UPDATE articles SET slug = ?, source = 'content', path = ?, dir = ?, title = ?, author = ?,
			summary = ?, content_html = ?, content_text = ?, image = ?, draft = ?, published_at = ?, updated_at = ?,
			removed_at = NULL, content_hash = ?, file_size = ?, file_mtime = ? WHERE id = ?`},
		{&w.touch, `UPDATE articles SET file_size = ?, file_mtime = ? WHERE id = ?`},
		{&w.slugOwner, `SELECT id FROM articles WHERE slug = ?`},
		{&w.deleteTags, `DELETE FROM article_tags WHERE article_id = ?`},
		{&w.insertTag, `INSERT INTO article_tags (article_id, tag, position) VALUES (?, ?, ?)`},
		{&w.unpublish, `UPDATE articles SET removed_at = ? WHERE id = ? AND removed_at IS NULL`},
	} {
		if *st.stmt, err = tx.PrepareContext(w.ctx, st.query); err != nil {
			return err
		}
	}
	return nil
}

// at returns the time for the next article first seen or changed. They get
// times a millisecond apart, counting back from now (never into the
// future, which would hide them): no two entries then share an updated
// time, which feed validators warn about.
func (w *scanWriter) at() time.Time {
	w.tick++
	return w.now.Add(-time.Duration(w.tick-1) * time.Millisecond)
}

// put writes one accepted article.
func (w *scanWriter) put(ctx context.Context, pr parseResult) error {
	if err := w.begin(ctx); err != nil {
		return fmt.Errorf("save articles: %w", err)
	}
	var err error
	st, exists := w.byID[pr.p.ID]
	switch {
	case !exists:
		err = w.insertArticle(w.at(), pr)
		w.res.Added++
	case st.hash == pr.p.Hash && !st.removed && st.file == pr.c.key():
		// Touched but not changed: remember the new size and mtime so
		// the next scan skips it without reading.
		_, err = w.touch.ExecContext(w.ctx, pr.c.size, pr.c.mtime, st.id)
		w.res.Unchanged++
	default:
		err = w.updateArticle(w.at(), st, pr)
		w.res.Updated++
	}
	if err != nil {
		return fmt.Errorf("save article %s: %w", pr.c.path(), err)
	}
	return nil
}

// finish unpublishes the articles whose files are gone and commits.
func (w *scanWriter) finish(ctx context.Context, gone []string) error {
	if len(gone) > 0 {
		if err := w.begin(ctx); err != nil {
			return fmt.Errorf("save articles: %w", err)
		}
	}
	if w.tx == nil {
		return nil // nothing changed
	}
	for _, id := range gone {
		if _, err := w.unpublish.ExecContext(w.ctx, w.now.UnixNano(), id); err != nil {
			return fmt.Errorf("unpublish article %s: %w", id, err)
		}
		w.res.Removed++
	}
	err := w.tx.Commit()
	w.tx = nil
	if err != nil {
		return fmt.Errorf("save articles: %w", err)
	}
	return nil
}

// rollback undoes what was written unless finish committed it.
func (w *scanWriter) rollback() {
	if w.tx != nil {
		w.tx.Rollback()
		w.tx = nil
	}
}

func (w *scanWriter) insertArticle(now time.Time, pr parseResult) error {
	p := pr.p
	slug, err := w.freeSlug(p.SlugBase, p.ID)
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
	_, err = w.insert.ExecContext(w.ctx,
		p.ID, slug, pr.c.rel, pr.c.dir, p.Title, p.Author, p.Summary, p.HTML, p.Text, p.Image, p.Draft,
		pub.UnixNano(), upd.UnixNano(), now.UnixNano(), p.Hash, pr.c.size, pr.c.mtime)
	if err != nil {
		return err
	}
	// A new article has no tags to replace: they go with their article.
	return w.addTags(p.ID, p.Tags)
}

// updateArticle rewrites a changed (or restored) article. Its id, first
// seen time and slug stay; its published time moves only when the file
// names one, and its updated time only when the content changed.
func (w *scanWriter) updateArticle(now time.Time, st stored, pr parseResult) error {
	p := pr.p
	slug := st.slug
	if p.SlugSet && p.SlugBase != st.slug {
		var err error
		if slug, err = w.freeSlug(p.SlugBase, p.ID); err != nil {
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
	_, err := w.update.ExecContext(w.ctx,
		slug, pr.c.rel, pr.c.dir, p.Title, p.Author, p.Summary, p.HTML, p.Text, p.Image, p.Draft,
		pub.UnixNano(), upd.UnixNano(), p.Hash, pr.c.size, pr.c.mtime, p.ID)
	if err != nil {
		return err
	}
	if _, err := w.deleteTags.ExecContext(w.ctx, p.ID); err != nil {
		return err
	}
	return w.addTags(p.ID, p.Tags)
}

func (w *scanWriter) addTags(id string, tags []string) error {
	for i, t := range tags {
		if _, err := w.insertTag.ExecContext(w.ctx, id, t, i); err != nil {
			return err
		}
	}
	return nil
}

// freeSlug returns base, or base-2, base-3 ... whichever no other article
// uses: two articles with one title get two URLs.
func (w *scanWriter) freeSlug(base, id string) (string, error) {
	if base == "" {
		base = "article"
	}
	for n := 1; ; n++ {
		slug := base
		if n > 1 {
			slug = base + "-" + strconv.Itoa(n)
		}
		var owner string
		err := w.slugOwner.QueryRowContext(w.ctx, slug).Scan(&owner)
		if errors.Is(err, sql.ErrNoRows) || owner == id {
			return slug, nil
		}
		if err != nil {
			return "", err
		}
	}
}
