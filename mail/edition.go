package mail

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/subscribers"
)

// Edition is one run of a digest: the articles it froze, its subject and
// the schedule moment it belongs to.
type Edition struct {
	ID           int64
	Digest       string
	ScheduledAt  time.Time
	CreatedAt    time.Time
	Subject      string
	ArticleCount int
	Articles     []*feed.Article // newest first; nil in lists (Editions)
	State        string          // EditionSending or EditionDone
}

// Plan makes the edition of digest d for the schedule moment scheduledAt,
// with one queued delivery per confirmed subscriber of d, all in one
// transaction. If that edition exists already (a second run at the same
// moment) it is returned with created false. The edition carries the
// articles published by now that no earlier edition of d carried, newest
// first, at most d.MaxArticles. With none and d.SkipEmpty no edition is
// made: nil, false, nil.
func (l *Ledger) Plan(ctx context.Context, d Digest, scheduledAt time.Time) (ed *Edition, created bool, err error) {
	if d.Name == "" {
		return nil, false, errors.New("plan edition: digest has no name")
	}
	if !strings.Contains(d.From.Address, "@") {
		return nil, false, fmt.Errorf("plan edition of %s: from address %q has no domain", d.Name, d.From.Address)
	}
	if id, err := l.editionAt(ctx, l.DB.Read, d.Name, scheduledAt); err != nil || id != 0 {
		return l.planned(ctx, id, err)
	}

	// Read what the other stores hold before the transaction, which holds
	// the only write connection: they read through their own pools.
	now := l.now()
	candidates, full, err := l.candidates(ctx, l.DB.Read, d, now)
	if err != nil {
		return nil, false, fmt.Errorf("plan edition of %s: %w", d.Name, err)
	}
	subs, err := l.Recipients.ConfirmedFor(ctx, d.Name)
	if err != nil {
		return nil, false, fmt.Errorf("plan edition of %s: %w", d.Name, err)
	}

	var existing int64
	err = l.inTx(ctx, func(tx *sql.Tx) error {
		// Checked again in the transaction, which is what counts: another
		// Plan may have committed since the reads above.
		id, err := l.editionAt(ctx, tx, d.Name, scheduledAt)
		if err != nil || id != 0 {
			existing = id
			return err
		}
		articles, err := notCarried(ctx, tx, d.Name, candidates)
		if err != nil {
			return err
		}
		if full && len(articles) < d.MaxArticles {
			// A Plan committed since the list was read carried some of
			// it, and there may be more further down. Read again: with
			// the write lock held, what the read pool sees is final.
			if candidates, _, err = l.candidates(ctx, tx, d, now); err != nil {
				return err
			}
			if articles, err = notCarried(ctx, tx, d.Name, candidates); err != nil {
				return err
			}
		}
		if d.MaxArticles > 0 && len(articles) > d.MaxArticles {
			articles = articles[:d.MaxArticles]
		}
		if len(articles) == 0 && d.SkipEmpty {
			return nil
		}
		subject, err := d.RenderSubject(articles, scheduledAt)
		if err != nil {
			return err
		}
		ed = &Edition{Digest: d.Name, ScheduledAt: scheduledAt.UTC(), CreatedAt: now.UTC(), Subject: subject,
			ArticleCount: len(articles), Articles: articles, State: EditionSending}
		if len(subs) == 0 {
			ed.State = EditionDone
		}
		return insertEdition(ctx, tx, ed, subs, domainOf(d.From.Address), now)
	})
	if err != nil {
		return nil, false, fmt.Errorf("plan edition of %s: %w", d.Name, err)
	}
	if existing != 0 {
		return l.planned(ctx, existing, nil)
	}
	if ed == nil {
		l.log().Info("edition skipped: no new articles", "digest", d.Name, "scheduled_at", scheduledAt)
		return nil, false, nil
	}
	l.log().Info("edition planned", "digest", d.Name, "edition", ed.ID, "articles", ed.ArticleCount, "deliveries", len(subs))
	return ed, true, nil
}

// candidates lists the articles an edition of d could carry, newest
// first, and reports whether the list was cut at its limit. How many
// articles d carried already bounds how far down the newest MaxArticles
// new ones can be, so one List call finds them.
func (l *Ledger) candidates(ctx context.Context, q queryer, d Digest, now time.Time) ([]*feed.Article, bool, error) {
	opts := feed.ListOptions{Tags: d.Tags, Now: now, ExcludeBackfill: true}
	if d.MaxArticles > 0 {
		var carried int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM edition_articles WHERE digest = ?`, d.Name).Scan(&carried); err != nil {
			return nil, false, fmt.Errorf("count carried articles: %w", err)
		}
		opts.Limit = d.MaxArticles + carried
	}
	as, err := l.Articles.List(ctx, opts)
	if err != nil {
		return nil, false, err
	}
	return as, opts.Limit > 0 && len(as) == opts.Limit, nil
}

// planned returns the edition a Plan found already made.
func (l *Ledger) planned(ctx context.Context, id int64, err error) (*Edition, bool, error) {
	if err != nil {
		return nil, false, fmt.Errorf("plan edition: %w", err)
	}
	ed, err := l.Edition(ctx, id)
	if err != nil {
		return nil, false, fmt.Errorf("plan edition: %w", err)
	}
	return ed, false, nil
}

// queryer is the read pool or a write transaction.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// editionAt returns the id of digest's edition for the moment at, or 0.
func (l *Ledger) editionAt(ctx context.Context, q queryer, digest string, at time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM editions WHERE digest = ? AND scheduled_at = ?`, digest, at.UnixNano()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// notCarried keeps, in order, the candidates no edition of digest carried.
func notCarried(ctx context.Context, tx *sql.Tx, digest string, candidates []*feed.Article) ([]*feed.Article, error) {
	if len(candidates) == 0 {
		return nil, nil
	}
	ids := make([]string, len(candidates))
	for i, a := range candidates {
		ids[i] = a.ID
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT article_id FROM edition_articles
		WHERE digest = ? AND article_id IN (SELECT value FROM json_each(?))`, digest, string(b))
	if err != nil {
		return nil, fmt.Errorf("check carried articles: %w", err)
	}
	defer rows.Close()
	carried := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("check carried articles: %w", err)
		}
		carried[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check carried articles: %w", err)
	}
	var out []*feed.Article
	for _, a := range candidates {
		if !carried[a.ID] {
			out = append(out, a)
		}
	}
	return out, nil
}

// insertEdition writes ed, its articles and one queued delivery per
// subscriber, and sets ed.ID.
func insertEdition(ctx context.Context, tx *sql.Tx, ed *Edition, subs []*subscribers.Subscriber, domain string, now time.Time) error {
	r, err := tx.ExecContext(ctx, `INSERT INTO editions (digest, scheduled_at, created_at, subject, article_count, state)
		VALUES (?, ?, ?, ?, ?, ?)`, ed.Digest, ed.ScheduledAt.UnixNano(), ed.CreatedAt.UnixNano(), ed.Subject, ed.ArticleCount, ed.State)
	if err != nil {
		return fmt.Errorf("insert edition: %w", err)
	}
	if ed.ID, err = r.LastInsertId(); err != nil {
		return fmt.Errorf("insert edition: %w", err)
	}
	for i, a := range ed.Articles {
		if _, err := tx.ExecContext(ctx, `INSERT INTO edition_articles (edition_id, digest, article_id, position) VALUES (?, ?, ?, ?)`,
			ed.ID, ed.Digest, a.ID, i); err != nil {
			return fmt.Errorf("insert edition article: %w", err)
		}
	}
	// A subscriber erased since ConfirmedFor read it is left out rather
	// than failing the whole edition on its foreign key.
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (edition_id, subscriber_id, email, state, attempts,
		next_attempt_at, message_id, updated_at)
		SELECT ?, ?, ?, 'queued', 0, ?, ?, ? WHERE EXISTS (SELECT 1 FROM subscribers WHERE id = ?)`)
	if err != nil {
		return fmt.Errorf("insert deliveries: %w", err)
	}
	defer stmt.Close()
	at := now.UnixNano()
	var rnd [8]byte
	for _, s := range subs {
		rand.Read(rnd[:]) // never fails (crypto/rand)
		id := fmt.Sprintf("<e%d.s%d.%s@%s>", ed.ID, s.ID, hex.EncodeToString(rnd[:]), domain)
		if _, err := stmt.ExecContext(ctx, ed.ID, s.ID, s.Email, at, id, at, s.ID); err != nil {
			return fmt.Errorf("insert delivery: %w", err)
		}
	}
	return nil
}

const editionColumns = `id, digest, scheduled_at, created_at, subject, article_count, state`

func scanEdition(row interface{ Scan(...any) error }) (*Edition, error) {
	var e Edition
	var sched, created int64
	if err := row.Scan(&e.ID, &e.Digest, &sched, &created, &e.Subject, &e.ArticleCount, &e.State); err != nil {
		return nil, err
	}
	e.ScheduledAt, e.CreatedAt = fromNanos(sched), fromNanos(created)
	return &e, nil
}

// Editions returns the latest editions of digest (of every digest when
// digest is ""), newest first, without their articles; limit 0 means all.
func (l *Ledger) Editions(ctx context.Context, digest string, limit int) ([]*Edition, error) {
	q := `SELECT ` + editionColumns + ` FROM editions WHERE (? = '' OR digest = ?) ORDER BY scheduled_at DESC, id DESC`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := l.DB.Read.QueryContext(ctx, q, digest, digest)
	if err != nil {
		return nil, fmt.Errorf("list editions: %w", err)
	}
	defer rows.Close()
	var out []*Edition
	for rows.Next() {
		e, err := scanEdition(rows)
		if err != nil {
			return nil, fmt.Errorf("list editions: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list editions: %w", err)
	}
	return out, nil
}

// Edition returns one edition with its articles, as they read now, in the
// edition's order. An article deleted from the articles table since is
// left out. Returns an error wrapping ErrEditionNotFound for an unknown id.
func (l *Ledger) Edition(ctx context.Context, id int64) (*Edition, error) {
	e, err := scanEdition(l.DB.Read.QueryRowContext(ctx, `SELECT `+editionColumns+` FROM editions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%d: %w", id, ErrEditionNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get edition: %w", err)
	}
	if e.Articles, err = l.editionArticles(ctx, id); err != nil {
		return nil, fmt.Errorf("get edition %d: %w", id, err)
	}
	return e, nil
}

// editionArticles loads the articles of an edition in its order: the ids
// from edition_articles, the articles from the article store, whatever
// their state now, so that an edition shows what it carried even after an
// article was taken down.
func (l *Ledger) editionArticles(ctx context.Context, editionID int64) ([]*feed.Article, error) {
	rows, err := l.DB.Read.QueryContext(ctx, `SELECT article_id FROM edition_articles WHERE edition_id = ? ORDER BY position`, editionID)
	if err != nil {
		return nil, fmt.Errorf("load articles: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("load articles: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load articles: %w", err)
	}
	as, err := l.Articles.ByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("load articles: %w", err)
	}
	return as, nil
}
