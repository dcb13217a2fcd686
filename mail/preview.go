package mail

import (
	"context"
	"database/sql"
	"fmt"
)

// Next returns the edition that planning digest d now would make, without
// making it: the articles no earlier edition of d carried and the subject.
// It returns nil when there is nothing new and d skips empty editions.
func (l *Ledger) Next(ctx context.Context, d Digest) (*Edition, error) {
	now := l.now()
	candidates, _, err := l.candidates(ctx, l.DB.Read, d, now)
	if err != nil {
		return nil, fmt.Errorf("preview %s: %w", d.Name, err)
	}
	tx, err := l.DB.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("preview %s: %w", d.Name, err)
	}
	defer tx.Rollback()
	articles, err := notCarried(ctx, tx, d.Name, candidates)
	if err != nil {
		return nil, fmt.Errorf("preview %s: %w", d.Name, err)
	}
	if d.MaxArticles > 0 && len(articles) > d.MaxArticles {
		articles = articles[:d.MaxArticles]
	}
	if len(articles) == 0 && d.SkipEmpty {
		return nil, nil
	}
	subject, err := d.RenderSubject(articles, now)
	if err != nil {
		return nil, err
	}
	return &Edition{Digest: d.Name, ScheduledAt: now.UTC(), CreatedAt: now.UTC(), Subject: subject,
		ArticleCount: len(articles), Articles: articles, State: EditionSending}, nil
}
