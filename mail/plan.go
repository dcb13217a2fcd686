package mail

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tidings/tidings/subscribers"
)

// Plan makes the edition of digest d for the schedule moment scheduledAt,
// with one queued delivery per confirmed subscriber of d, all in one
// transaction. If that edition exists already (a second run at the same
// moment) it is returned with created false. The edition carries the
// articles published by now that no earlier edition of d carried, newest
// first, at most d.MaxArticles (see selectArticles, which Next shares).
// With none and d.SkipEmpty no edition is made: nil, false, nil.
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
	var subs []*subscribers.Subscriber
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
		// The recipients are read here, not before the transaction: the
		// subscribers' tables are theirs, so mail asks Recipients, which
		// reads through the read pool. The write transaction began with
		// BEGIN IMMEDIATE and holds the database's one write lock (other
		// processes' writers wait for it too), so no change to a
		// subscriber can commit between this read and our commit: the
		// list is final. Nobody on it was erased (the foreign key from
		// deliveries would refuse the row), nobody confirmed since was
		// left out. A list read earlier would need the insert to check
		// the subscribers table itself.
		if subs, err = l.Recipients.ConfirmedFor(ctx, d.Name); err != nil {
			return err
		}
		if len(subs) == 0 {
			ed.State = EditionDone
		}
		return insertEdition(ctx, tx, ed, subs, domainOf(d.From.Address), now, l.dueLocal(d, scheduledAt, now))
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

// editionAt returns the id of digest's edition for the moment at, or 0.
func (l *Ledger) editionAt(ctx context.Context, q queryer, digest string, at time.Time) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM editions WHERE digest = ? AND scheduled_at = ?`, digest, at.UnixNano()).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// dueLocal says when each subscriber's delivery of an edition of d at
// scheduledAt, planned now, is due under d.DeliverAt, or is nil when d
// delivers at once. An edition planned on time (within onTime of its
// moment, as a timer fires) counts from its moment, so that a schedule of
// "0 7 * * *" with deliver_at "local 07:00" mails the site's zone at once
// rather than a day later; one planned later counts from now, so that
// nobody gets it at an hour that is not theirs.
func (l *Ledger) dueLocal(d Digest, scheduledAt, now time.Time) func(*subscribers.Subscriber) time.Time {
	if !d.DeliverAt.Set {
		return nil
	}
	from := scheduledAt
	if now.Sub(scheduledAt) > onTime {
		from = now
	}
	site := l.Zone
	if site == nil {
		site = time.UTC
	}
	zones := map[string]*time.Location{"": site} // a few zones for many subscribers
	return func(s *subscribers.Subscriber) time.Time {
		loc, ok := zones[s.TimeZone]
		if !ok {
			var err error
			if loc, err = time.LoadLocation(s.TimeZone); err != nil {
				l.log().Warn("subscriber's time zone is not in this machine's zone database: the site's zone is used",
					"digest", d.Name, "subscriber", s.ID, "timezone", s.TimeZone, slog.Any("error", err))
				loc = site
			}
			zones[s.TimeZone] = loc
		}
		return d.DeliverAt.Next(from, loc)
	}
}

// insertEdition writes ed, its articles and one queued delivery per
// subscriber, and sets ed.ID. Each delivery is due at due(subscriber), or
// with due nil at once (a broadcast planned for later: then).
func insertEdition(ctx context.Context, tx *sql.Tx, ed *Edition, subs []*subscribers.Subscriber, domain string, now time.Time,
	due func(*subscribers.Subscriber) time.Time) error {
	kind := ed.Kind
	if kind == "" {
		kind = EditionDigest
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO editions (digest, scheduled_at, created_at, subject, article_count, state,
		kind, body_html, body_text, preheader, source_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ed.Digest, ed.ScheduledAt.UnixNano(), ed.CreatedAt.UnixNano(), ed.Subject, ed.ArticleCount, ed.State,
		kind, ed.BodyHTML, ed.BodyText, ed.Preheader, ed.SourceKey)
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
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (edition_id, subscriber_id, email, state, attempts,
		next_attempt_at, message_id, updated_at) VALUES (?, ?, ?, 'queued', 0, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("insert deliveries: %w", err)
	}
	defer stmt.Close()
	// A broadcast may be planned for later (--at): its deliveries are due
	// then. A digest's are due at once.
	at := now.UnixNano()
	if ed.Kind == EditionBroadcast {
		at = max(at, ed.ScheduledAt.UnixNano())
	}
	var rnd [8]byte
	for _, s := range subs {
		rand.Read(rnd[:]) // never fails (crypto/rand)
		id := fmt.Sprintf("<e%d.s%d.%s@%s>", ed.ID, s.ID, hex.EncodeToString(rnd[:]), domain)
		at := at
		if due != nil {
			at = due(s).UnixNano()
		}
		if _, err := stmt.ExecContext(ctx, ed.ID, s.ID, s.Email, at, id, now.UnixNano()); err != nil {
			return fmt.Errorf("insert delivery for subscriber %d: %w", s.ID, err)
		}
	}
	return nil
}
