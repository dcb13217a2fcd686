package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Plan makes the edition of digest d for the schedule moment scheduledAt,
// with one queued delivery per confirmed subscriber of d. If that edition
// exists already (a second run at the same moment) it is returned with
// created false. The edition carries the articles published by now that
// no earlier edition of d carried, newest first, at most d.MaxArticles
// (see selectArticles, which Next shares). With none and d.SkipEmpty no
// edition is made: nil, false, nil.
//
// The edition is made in one short transaction and its deliveries are
// queued after it in chunks (see planDeliveries), so that a large list
// never holds the writer long; the sender leaves the edition alone until
// the last chunk. Planning cut short (an error, the process killed) is
// finished from where it stopped by the next Plan or PlanArticle of the
// digest, or the scheduler's next pass (which finishes every digest's).
//
// With d.DeliverAt set, each delivery is due at the first d.DeliverAt in
// its subscriber's zone (l.Zone for one without, or with a zone this
// machine's zone database lacks) at or after the edition's moment, or
// after now when the edition is planned late (a catch-up): the sender
// leaves it queued until then. Without, every delivery is due at once.
func (l *Ledger) Plan(ctx context.Context, d Digest, scheduledAt time.Time) (ed *Edition, created bool, err error) {
	if d.Name == "" {
		return nil, false, errors.New("plan edition: digest has no name")
	}
	if d.Mode == ModeEach {
		return nil, false, fmt.Errorf("plan edition of %s: %w", d.Name, ErrEachMode)
	}
	if !strings.Contains(d.From.Address, "@") {
		return nil, false, fmt.Errorf("plan edition of %s: from address %q has no domain", d.Name, d.From.Address)
	}
	if err := l.finishPlans(ctx, d.Name); err != nil {
		return nil, false, fmt.Errorf("plan edition of %s: %w", d.Name, err)
	}
	if id, err := l.editionAt(ctx, l.DB.Read, d.Name, scheduledAt); err != nil || id != 0 {
		return l.planned(ctx, id, err)
	}

	// The candidates are read before the transaction, which holds the
	// only write connection, to keep it short; selectArticles reads them
	// again inside it if another Plan took some meanwhile.
	now := l.now()
	first, err := l.candidates(ctx, l.DB.Read, d, now)
	if err != nil {
		return nil, false, fmt.Errorf("plan edition of %s: %w", d.Name, err)
	}

	var existing int64
	err = l.inTx(ctx, func(tx *sql.Tx) error {
		// Checked again in the transaction, which is what counts: another
		// Plan may have committed since the read above.
		id, err := l.editionAt(ctx, tx, d.Name, scheduledAt)
		if err != nil || id != 0 {
			existing = id
			return err
		}
		articles, err := l.selectArticles(ctx, tx, d, now, &first)
		if err != nil {
			return err
		}
		if ed, err = newEdition(d, articles, scheduledAt, now); err != nil || ed == nil {
			return err
		}
		return insertEdition(ctx, tx, ed, l.digestPlan(d, scheduledAt, now))
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
	n, err := l.planDeliveries(ctx, ed)
	if err != nil {
		return nil, false, fmt.Errorf("plan edition of %s: %w", d.Name, err)
	}
	l.log().Info("edition planned", "digest", d.Name, "edition", ed.ID, "articles", ed.ArticleCount, "deliveries", n)
	return ed, true, nil
}

// planned returns the edition a Plan found already made.
func (l *Ledger) planned(ctx context.Context, id int64, err error) (*Edition, bool, error) {
	if err != nil {
		return nil, false, fmt.Errorf("plan edition: %w", err)
	}
	if _, err := l.finishPlan(ctx, id); err != nil {
		return nil, false, fmt.Errorf("plan edition: %w", err)
	}
	ed, err := l.Edition(ctx, id)
	if err != nil {
		return nil, false, fmt.Errorf("plan edition: %w", err)
	}
	return ed, false, nil
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

// digestPlan is the plan of the deliveries of an edition of d at
// scheduledAt, planned now. Without d.DeliverAt they are due at once.
// With it, an edition planned on time (within onTime of its moment, as a
// timer fires) counts each subscriber's hour from its moment, so that a
// schedule of "0 7 * * *" with deliver_at "local 07:00" mails the site's
// zone at once rather than a day later; one planned later counts from
// now, so that nobody gets it at an hour that is not theirs.
func (l *Ledger) digestPlan(d Digest, scheduledAt, now time.Time) plan {
	p := plan{due: now, domain: domainOf(d.From.Address)}
	if d.DeliverAt.Set {
		p.deliverAt = d.DeliverAt
		if now.Sub(scheduledAt) <= onTime {
			p.due = scheduledAt
		}
	}
	return p
}
