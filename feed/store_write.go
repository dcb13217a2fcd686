package feed

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/tidings/tidings/feed/content"
)

// stored is what writing an article needs to know of the row already
// under its id.
type stored struct {
	id, source  string
	file        fileKey // dir and path: a file's folder and name, an item's link
	size, mtime int64   // of the file, when it was last read
	removed     bool
	hash, slug  string
	pub, upd    time.Time
}

// storedColumns are read into a stored by scanStored. They are all in the
// index articles_file_scan, so that a scan's index query is answered from
// it alone, without the rows' overflow pages of HTML and text.
const storedColumns = `id, source, dir, path, file_size, file_mtime, removed_at IS NOT NULL,
	content_hash, slug, published_at, updated_at`

func scanStored(row interface{ Scan(...any) error }) (stored, error) {
	var st stored
	var pub, upd int64
	err := row.Scan(&st.id, &st.source, &st.file.dir, &st.file.rel, &st.size, &st.mtime, &st.removed,
		&st.hash, &st.slug, &pub, &upd)
	st.pub, st.upd = fromNanos(pub), fromNanos(upd)
	return st, err
}

// entry is a document on its way into the store, with what the store
// keeps of where it came from.
type entry struct {
	doc         *content.Doc
	dir         string // a file's content folder
	size, mtime int64  // a file's, for the next scan to compare against
	backfill    bool   // an upstream's back catalogue: stored, kept out of digests
}

func (e entry) file() fileKey { return fileKey{e.dir, e.doc.Path} }

// outcome is what put did with a document.
type outcome int

const (
	unchanged outcome = iota
	added
	updated
)

// writer writes articles in one transaction, so that a failure leaves the
// store as it was. Files, upstream items and the API all write through
// it: put is the one way from a content.Doc to a stored article. It
// begins the transaction at the first statement, so that it holds the
// write lock only while there is something to write, and prepares its
// statements once for the thousands of articles a first scan brings.
type writer struct {
	db   *sql.DB
	now  time.Time
	tick int

	ctx context.Context // for statements; the transaction watches the caller's own
	tx  *sql.Tx
	// Prepared on the transaction, closed with it.
	lookup, insert, update, touch, slugOwner, deleteTags, insertTag, unpublish *sql.Stmt
}

func (s *Store) newWriter(now time.Time) *writer {
	return &writer{db: s.db.Write, now: now}
}

func (w *writer) begin(ctx context.Context) error {
	if w.tx != nil {
		return nil
	}
	tx, err := beginWrite(ctx, w.db)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	w.tx = tx
	// The transaction ends, and so stops every statement, when ctx is done;
	// a statement watching ctx as well would cost a goroutine per row.
	w.ctx = context.WithoutCancel(ctx)
	for _, st := range []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&w.lookup, `SELECT ` + storedColumns + ` FROM articles WHERE id = ?`},
		{&w.insert, `INSERT INTO articles (id, slug, source, path, dir, title, author, summary, content_html,
			content_text, image, draft, published_at, updated_at, first_seen_at, content_hash, file_size, file_mtime,
			in_digests) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.update, `UPDATE articles SET slug = ?, source = ?, path = ?, dir = ?, title = ?, author = ?,
			summary = ?, content_html = ?, content_text = ?, image = ?, draft = ?, published_at = ?, updated_at = ?,
			removed_at = NULL, content_hash = ?, file_size = ?, file_mtime = ? WHERE id = ?`},
		{&w.touch, `UPDATE articles SET file_size = ?, file_mtime = ? WHERE id = ?`},
		{&w.slugOwner, `SELECT id FROM articles WHERE slug = ?`},
		{&w.deleteTags, `DELETE FROM article_tags WHERE article_id = ?`},
		{&w.insertTag, `INSERT INTO article_tags (article_id, tag, position) VALUES (?, ?, ?)`},
		{&w.unpublish, `UPDATE articles SET removed_at = ? WHERE id = ? AND removed_at IS NULL`},
	} {
		if *st.stmt, err = tx.PrepareContext(w.ctx, st.query); err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
	}
	return nil
}

// busyWait is how long a write waits for another process's transaction,
// beyond the busy timeout SQLite waits by itself: a first scan of a large
// folder holds the write lock for as long as it parses.
const busyWait = 10 * time.Minute

// beginWrite begins a write transaction. Within a process writes queue
// for the one write connection; another process (tidings ingest beside
// tidings serve) holding the lock makes SQLite answer SQLITE_BUSY once
// its busy timeout has passed, and beginWrite asks again until busyWait
// has passed or ctx is done. On PostgreSQL, BeginTx itself waits for
// the cluster's writer lock (see database.DB) for as long as ctx lets it.
func beginWrite(ctx context.Context, db *sql.DB) (*sql.Tx, error) {
	deadline := time.Now().Add(busyWait)
	for {
		tx, err := db.BeginTx(ctx, nil)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return tx, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// isBusy reports whether err is SQLite's SQLITE_BUSY, in any of its
// extended forms.
func isBusy(err error) bool {
	var coded interface{ Code() int }
	return errors.As(err, &coded) && coded.Code()&0xff == 5
}

// find returns the row under id as the transaction sees it, or nil when
// there is none. It begins the transaction: what it returns stays true
// until the commit, whoever else writes to the database meanwhile.
func (w *writer) find(ctx context.Context, id string) (*stored, error) {
	if err := w.begin(ctx); err != nil {
		return nil, err
	}
	st, err := scanStored(w.lookup.QueryRowContext(w.ctx, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// at returns the time for the next article first seen or changed. They get
// times a millisecond apart, counting back from now (never into the
// future, which would hide them): no two entries then share an updated
// time, which feed validators warn about.
func (w *writer) at() time.Time {
	w.tick++
	return w.now.Add(-time.Duration(w.tick-1) * time.Millisecond)
}

// put writes one document over prev, the row find returned for its id: a
// new article, an update, or nothing when the content hash and the origin
// are unchanged (a file's new size and modification time are noted, so
// that the next scan does not read it again). Its dates come from stamp;
// its slug is kept, unless the document names another.
func (w *writer) put(ctx context.Context, e entry, prev *stored) (outcome, error) {
	if err := w.begin(ctx); err != nil {
		return unchanged, err
	}
	d := e.doc
	if prev != nil && prev.hash == d.Hash && !prev.removed && prev.source == d.Source && prev.file == e.file() {
		if prev.size != e.size || prev.mtime != e.mtime {
			if _, err := w.touch.ExecContext(w.ctx, e.size, e.mtime, d.ID); err != nil {
				return unchanged, err
			}
		}
		return unchanged, nil
	}
	at := w.at()
	pub, upd := stamp(d, prev, at, w.now)
	if prev == nil {
		slug, err := w.freeSlug(d.SlugBase, d.ID)
		if err != nil {
			return added, err
		}
		_, err = w.insert.ExecContext(w.ctx, d.ID, slug, d.Source, d.Path, e.dir, d.Title, content.JoinAuthor(d.Author, d.AuthorEmail), d.Summary,
			d.HTML, d.Text, d.Image, bit(d.Draft), pub.UnixNano(), upd.UnixNano(), at.UnixNano(), d.Hash, e.size, e.mtime,
			bit(!e.backfill))
		if err != nil {
			return added, err
		}
		// A new article has no tags to replace: they go with their article.
		return added, w.addTags(d.ID, d.Tags)
	}
	slug := prev.slug
	if d.SlugSet && d.SlugBase != prev.slug {
		var err error
		if slug, err = w.freeSlug(d.SlugBase, d.ID); err != nil {
			return updated, err
		}
	}
	_, err := w.update.ExecContext(w.ctx, slug, d.Source, d.Path, e.dir, d.Title, content.JoinAuthor(d.Author, d.AuthorEmail), d.Summary, d.HTML,
		d.Text, d.Image, bit(d.Draft), pub.UnixNano(), upd.UnixNano(), d.Hash, e.size, e.mtime, d.ID)
	if err != nil {
		return updated, err
	}
	if _, err := w.deleteTags.ExecContext(w.ctx, d.ID); err != nil {
		return updated, err
	}
	return updated, w.addTags(d.ID, d.Tags)
}

// bit is b as the 0 or 1 of an INTEGER flag column: PostgreSQL takes no
// bool for a BIGINT, where SQLite's driver writes one as 1 or 0.
func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (w *writer) addTags(id string, tags []string) error {
	for i, t := range tags {
		if _, err := w.insertTag.ExecContext(w.ctx, id, t, i); err != nil {
			return err
		}
	}
	return nil
}

// freeSlug returns base, or base-2, base-3 ... whichever no other article
// uses: two articles with one title get two URLs.
func (w *writer) freeSlug(base, id string) (string, error) {
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

// remove unpublishes the article id, keeping its row so that its id and
// slug are never given to another. It reports whether the article was
// published until now: removing it twice keeps the first time.
func (w *writer) remove(ctx context.Context, id string) (bool, error) {
	if err := w.begin(ctx); err != nil {
		return false, err
	}
	res, err := w.unpublish.ExecContext(w.ctx, w.now.UnixNano(), id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// commit makes the writes of this writer, if any, one change.
func (w *writer) commit() error {
	if w.tx == nil {
		return nil // nothing written
	}
	err := w.tx.Commit()
	w.tx = nil
	return err
}

// rollback undoes what was written unless commit went first.
func (w *writer) rollback() {
	if w.tx != nil {
		w.tx.Rollback()
		w.tx = nil
	}
}
