package mail

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tidings/tidings/feed"
)

// candidateList is what one List call found for a digest, newest first,
// and whether it was cut at its limit.
type candidateList struct {
	articles []*feed.Article
	full     bool
}

// selectArticles chooses the articles the next edition of d carries: the
// newest published by now that no edition of d carried, at most
// d.MaxArticles. Plan runs it in its write transaction, Next in a
// read-only one, so that a preview shows what planning would freeze.
//
// first, when not nil, is a candidate list read earlier (before Plan's
// transaction, to keep it short). If another Plan committed since and
// carried some of it, there may be more further down: the list is read
// again. Under Plan's write lock what the read pool sees is final.
func (l *Ledger) selectArticles(ctx context.Context, q queryer, d Digest, now time.Time, first *candidateList) ([]*feed.Article, error) {
	var cands candidateList
	if first != nil {
		cands = *first
	} else {
		var err error
		if cands, err = l.candidates(ctx, q, d, now); err != nil {
			return nil, err
		}
	}
	articles, err := l.notCarried(ctx, q, d.Name, cands.articles)
	if err != nil {
		return nil, err
	}
	if first != nil && cands.full && len(articles) < d.MaxArticles {
		if cands, err = l.candidates(ctx, q, d, now); err != nil {
			return nil, err
		}
		if articles, err = l.notCarried(ctx, q, d.Name, cands.articles); err != nil {
			return nil, err
		}
	}
	if d.MaxArticles > 0 && len(articles) > d.MaxArticles {
		articles = articles[:d.MaxArticles]
	}
	return articles, nil
}

// newEdition is the edition of d carrying articles for the schedule moment
// at, made at now; nil when it carries none and d skips empty editions.
func newEdition(d Digest, articles []*feed.Article, at, now time.Time) (*Edition, error) {
	if len(articles) == 0 && d.SkipEmpty {
		return nil, nil
	}
	subject, err := d.RenderSubject(articles, at)
	if err != nil {
		return nil, err
	}
	return &Edition{Digest: d.Name, ScheduledAt: at.UTC(), CreatedAt: now.UTC(), Subject: subject,
		ArticleCount: len(articles), Articles: articles, State: EditionSending}, nil
}

// candidates lists the articles an edition of d could carry, newest
// first. How many articles d carried already bounds how far down the
// newest MaxArticles new ones can be, so one List call finds them.
func (l *Ledger) candidates(ctx context.Context, q queryer, d Digest, now time.Time) (candidateList, error) {
	opts := feed.ListOptions{Tags: d.Tags, Now: now, ExcludeBackfill: true}
	if d.MaxArticles > 0 {
		var carried int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM edition_articles WHERE digest = ?`, d.Name).Scan(&carried); err != nil {
			return candidateList{}, fmt.Errorf("count carried articles: %w", err)
		}
		opts.Limit = d.MaxArticles + carried
	}
	as, err := l.Articles.List(ctx, opts)
	if err != nil {
		return candidateList{}, err
	}
	return candidateList{articles: as, full: opts.Limit > 0 && len(as) == opts.Limit}, nil
}

// notCarried keeps, in order, the candidates no edition of digest carried.
func (l *Ledger) notCarried(ctx context.Context, q queryer, digest string, candidates []*feed.Article) ([]*feed.Article, error) {
	if len(candidates) == 0 {
		return nil, nil
	}
	// One placeholder per candidate: a digest's candidates are a few
	// hundred at most, and the list reads the same on both dialects.
	args := make([]any, 0, len(candidates)+1)
	args = append(args, digest)
	for _, a := range candidates {
		args = append(args, a.ID)
	}
	rows, err := q.QueryContext(ctx, `SELECT article_id FROM edition_articles
		WHERE digest = ? AND article_id IN (?`+strings.Repeat(", ?", len(candidates)-1)+`)`, args...)
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
