package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tidings/tidings/feed"
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
	State        string          // EditionPlanning, EditionSending or EditionDone

	// A broadcast (Kind EditionBroadcast) carries its own content instead
	// of articles, rendered once from its file.
	Kind      string // EditionDigest or EditionBroadcast
	BodyHTML  string // sanitised
	BodyText  string
	Preheader string
	SourceKey string // the file and the target it was sent to

	// Paused is set while the reputation guard holds the edition (see
	// Ledger.guard); PausedReason says why. Resumed is when an operator
	// let it go on, which turns the guard off for it.
	Paused       time.Time
	PausedReason string
	Resumed      time.Time
}

// The kinds of edition.
const (
	EditionDigest    = "digest"
	EditionBroadcast = "broadcast"
)

const editionColumns = `id, digest, scheduled_at, created_at, subject, article_count, state, kind, body_html, body_text,
	preheader, source_key, paused_at, paused_reason, resumed_at, planning`

func scanEdition(row interface{ Scan(...any) error }) (*Edition, error) {
	var e Edition
	var sched, created, paused, resumed int64
	var planning bool
	if err := row.Scan(&e.ID, &e.Digest, &sched, &created, &e.Subject, &e.ArticleCount, &e.State, &e.Kind, &e.BodyHTML,
		&e.BodyText, &e.Preheader, &e.SourceKey, &paused, &e.PausedReason, &resumed, &planning); err != nil {
		return nil, err
	}
	if planning { // stored as sending, with its plan unfinished
		e.State = EditionPlanning
	}
	e.ScheduledAt, e.CreatedAt = fromNanos(sched), fromNanos(created)
	if paused != 0 {
		e.Paused = fromNanos(paused)
	}
	if resumed != 0 {
		e.Resumed = fromNanos(resumed)
	}
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
