package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tidings/tidings/feed"
)

// The modes of a digest: an edition per scheduled moment carrying what is
// new, or an edition per article.
const (
	ModeDigest = ""
	ModeEach   = "each"
)

// ErrEachMode is Plan's answer for a digest in ModeEach: it has no
// editions to plan on demand.
var ErrEachMode = errors.New(`mode "each" mails every article on its own, within its delay of publication, from run and serve: there is no edition to plan now`)

// DefaultDelay is how long a digest in ModeEach waits after an article is
// published before it mails it, so that a quick fix of a typo is in the
// one mail rather than in a second.
const DefaultDelay = 10 * time.Minute

// EachSubject is the subject of an article's own mail when its digest
// sets none: the article's title.
const EachSubject = `{{.First}}`

// visibleAt is when an article became something to mail: published, and
// seen by tidings (a file dated last week that arrives today is new today).
func visibleAt(a *feed.Article) time.Time {
	if a.FirstSeen.After(a.Published) {
		return a.FirstSeen
	}
	return a.Published
}

// dueArticles are the articles digest d (ModeEach) owes a mail by now:
// published, not backfill, matching its tags, visible since the digest
// first ran (never the back catalogue) and at least d.Delay ago, and
// carried by no edition of d yet; oldest first. wake is when the next of
// those not due yet will be, zero when there is none.
func (l *Ledger) dueArticles(ctx context.Context, d Digest, since, now time.Time) (due []*feed.Article, wake time.Time, err error) {
	as, err := l.Articles.List(ctx, feed.ListOptions{Tags: d.Tags, Now: now, ExcludeBackfill: true, Since: since, NoContent: true})
	if err != nil {
		return nil, time.Time{}, err
	}
	as, err = l.notCarried(ctx, l.DB.Read, d.Name, as)
	if err != nil {
		return nil, time.Time{}, err
	}
	for i := len(as) - 1; i >= 0; i-- { // List is newest first
		at := visibleAt(as[i]).Add(d.Delay)
		if !at.After(now) {
			due = append(due, as[i])
		} else if wake.IsZero() || at.Before(wake) {
			wake = at
		}
	}
	return due, wake, nil
}

// PlanArticle makes article a's own edition of digest d (ModeEach), with
// one queued delivery per confirmed subscriber, planned as Plan plans. Its
// schedule moment is at (the article's time plus the delay). An article d
// carried already gets no second edition: nil, false, nil.
func (l *Ledger) PlanArticle(ctx context.Context, d Digest, a *feed.Article, at time.Time) (ed *Edition, created bool, err error) {
	if !strings.Contains(d.From.Address, "@") {
		return nil, false, fmt.Errorf("plan mail of article %s: from address %q has no domain", a.ID, d.From.Address)
	}
	if err := l.finishPlans(ctx, d.Name); err != nil {
		return nil, false, fmt.Errorf("plan mail of article %s: %w", a.ID, err)
	}
	now := l.now()
	// The whole article, as the renderer will read it again by id.
	full, err := l.Articles.ByIDs(ctx, []string{a.ID})
	if err != nil || len(full) == 0 {
		return nil, false, fmt.Errorf("plan mail of article %s: %w", a.ID, errors.Join(err, errors.New("not found")))
	}
	key := "each|" + d.Name + "|" + a.ID
	err = l.inTx(ctx, func(tx *sql.Tx) error {
		left, err := l.notCarried(ctx, tx, d.Name, full)
		if err != nil || len(left) == 0 {
			return err
		}
		if ed, err = newEdition(d, left, at, now); err != nil {
			return err
		}
		ed.SourceKey = key
		// Two articles of one moment get moments a microsecond apart:
		// an edition is one per digest and moment.
		for {
			id, err := l.editionAt(ctx, tx, d.Name, ed.ScheduledAt)
			if err != nil {
				return err
			}
			if id == 0 {
				break
			}
			ed.ScheduledAt = ed.ScheduledAt.Add(time.Microsecond)
		}
		return insertEdition(ctx, tx, ed, plan{due: now, domain: domainOf(d.From.Address)})
	})
	if err != nil {
		return nil, false, fmt.Errorf("plan mail of article %s: %w", a.ID, err)
	}
	if ed == nil {
		return nil, false, nil
	}
	n, err := l.planDeliveries(ctx, ed)
	if err != nil {
		return nil, false, fmt.Errorf("plan mail of article %s: %w", a.ID, err)
	}
	l.log().Info("article mail planned", "digest", d.Name, "edition", ed.ID, "article", a.ID, "deliveries", n)
	return ed, true, nil
}
