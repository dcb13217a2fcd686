package mail

import (
	"context"
	"database/sql"
	"fmt"
)

// Next returns the edition that planning digest d now would make, without
// making it: the articles selectArticles chooses, as Plan does, and the
// subject. It returns nil when there is nothing new and d skips empty
// editions.
func (l *Ledger) Next(ctx context.Context, d Digest) (*Edition, error) {
	now := l.now()
	if d.Mode == ModeEach {
		d.MaxArticles = 1 // the newest article's own mail
	}
	// One read transaction: the count of carried articles and the check
	// of the candidates see the same snapshot of edition_articles.
	tx, err := l.DB.Read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("preview %s: %w", d.Name, err)
	}
	defer tx.Rollback()
	articles, err := l.selectArticles(ctx, tx, d, now, nil)
	if err != nil {
		return nil, fmt.Errorf("preview %s: %w", d.Name, err)
	}
	ed, err := newEdition(d, articles, now, now)
	if err != nil {
		return nil, fmt.Errorf("preview %s: %w", d.Name, err)
	}
	return ed, nil
}
