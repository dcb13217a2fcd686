package mail

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/tidings/tidings/subscribers"
)

// defaultPlanChunk is how many subscribers one planning transaction
// queues. A chunk of this size holds the writer for a few tens of
// milliseconds on a small machine (see BenchmarkPlanMillion), so a
// sign-up or an unsubscribe waits at most that long behind planning.
const defaultPlanChunk = 2000

// plan is what queuing an edition's deliveries needs beyond the edition
// itself. It is kept on the edition's row, so that whichever process
// finds the plan unfinished can finish it alike.
type plan struct {
	// due is when every delivery is due; with deliverAt set, the moment
	// from which each subscriber's next deliverAt in their zone counts.
	due       time.Time
	deliverAt LocalTime
	domain    string // of the Message-IDs: the From address's
}

// insertEdition writes ed and its articles, with its deliveries still to
// plan (ed.State EditionPlanning), and sets ed.ID. planDeliveries queues
// them after the transaction.
func insertEdition(ctx context.Context, tx *sql.Tx, ed *Edition, p plan) error {
	if ed.Kind == "" {
		ed.Kind = EditionDigest
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO editions (digest, scheduled_at, created_at, subject, article_count, state,
		kind, body_html, body_text, preheader, source_key, planning, plan_after, plan_due, plan_deliver_at, plan_domain)
		VALUES (?, ?, ?, ?, ?, 'sending', ?, ?, ?, ?, ?, 1, 0, ?, ?, ?)`,
		ed.Digest, ed.ScheduledAt.UnixNano(), ed.CreatedAt.UnixNano(), ed.Subject, ed.ArticleCount,
		ed.Kind, ed.BodyHTML, ed.BodyText, ed.Preheader, ed.SourceKey, p.due.UnixNano(), p.deliverAt.String(), p.domain)
	if err != nil {
		return fmt.Errorf("insert edition: %w", err)
	}
	if ed.ID, err = r.LastInsertId(); err != nil {
		return fmt.Errorf("insert edition: %w", err)
	}
	ed.State = EditionPlanning
	for i, a := range ed.Articles {
		if _, err := tx.ExecContext(ctx, `INSERT INTO edition_articles (edition_id, digest, article_id, position) VALUES (?, ?, ?, ?)`,
			ed.ID, ed.Digest, a.ID, i); err != nil {
			return fmt.Errorf("insert edition article: %w", err)
		}
	}
	return nil
}

// planDeliveries queues ed's deliveries (see finishPlan) and sets
// ed.State to what it is then: sending, or done when nobody was queued.
func (l *Ledger) planDeliveries(ctx context.Context, ed *Edition) (queued int, err error) {
	if queued, err = l.finishPlan(ctx, ed.ID); err != nil {
		return queued, err
	}
	if err := l.DB.Read.QueryRowContext(ctx, `SELECT state FROM editions WHERE id = ?`, ed.ID).Scan(&ed.State); err != nil {
		return queued, fmt.Errorf("plan deliveries: %w", err)
	}
	return queued, nil
}

// finishPlans finishes the plan of every edition left planning, oldest
// first: one whose planner died or failed between chunks.
func (l *Ledger) finishPlans(ctx context.Context) error {
	rows, err := l.DB.Read.QueryContext(ctx, `SELECT id FROM editions WHERE planning != 0 ORDER BY id`)
	if err != nil {
		return fmt.Errorf("find unfinished plans: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return fmt.Errorf("find unfinished plans: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("find unfinished plans: %w", err)
	}
	for _, id := range ids {
		n, err := l.finishPlan(ctx, id)
		if err != nil {
			return err
		}
		l.log().Info("unfinished plan finished", "edition", id, "deliveries", n)
	}
	return nil
}

// finishPlan queues the deliveries of edition id still to plan, one
// chunk of subscribers by id per transaction, from the cursor the last
// chunk left on the edition: a plan cut short at any point goes on where
// it stopped, and two planners of one edition (two processes) take turns
// rather than queue anyone twice (each chunk reads the cursor under the
// write lock; the unique key on edition and subscriber stands behind it).
// It returns how many deliveries it queued; an edition planned already
// is left alone.
//
// Who is on the list: each chunk reads the confirmed subscribers of the
// digest above the cursor under the write lock, so that chunk is final
// (nobody on it erased, nobody confirmed meanwhile missed). A subscriber
// is in the edition when they are confirmed as planning reaches their
// id. Ids only grow, so whoever signs up and confirms while planning goes
// on is in it if they confirmed before the last chunk; one whose id the
// cursor has passed (a pending address confirming late) is not, as with
// confirming after the edition was made. One who leaves after their
// chunk is skipped by the sender, as after any edition was made.
func (l *Ledger) finishPlan(ctx context.Context, id int64) (queued int, err error) {
	var digest, kind, deliverAt string
	var planning bool
	var p plan
	var due int64
	err = l.DB.Read.QueryRowContext(ctx, `SELECT digest, kind, planning, plan_due, plan_deliver_at, plan_domain
		FROM editions WHERE id = ?`, id).Scan(&digest, &kind, &planning, &due, &deliverAt, &p.domain)
	if err != nil {
		return 0, fmt.Errorf("plan deliveries of edition %d: %w", id, err)
	}
	if !planning {
		return 0, nil
	}
	if p.deliverAt, err = ParseDeliverAt(deliverAt); err != nil {
		return 0, fmt.Errorf("plan deliveries of edition %d: %w", id, err)
	}
	p.due = fromNanos(due)
	target := digest
	if kind == EditionBroadcast && digest == AllDigests {
		target = ""
	}
	size := l.planChunk
	if size <= 0 {
		size = defaultPlanChunk
	}
	dueOf := l.dueOf(digest, p)
	for chunk := 1; ; chunk++ {
		n, done, held, err := l.planChunkTx(ctx, id, target, size, p, dueOf)
		queued += n
		if err != nil {
			return queued, fmt.Errorf("plan deliveries of edition %d: %w", id, err)
		}
		if l.chunkPlanned != nil {
			if err := l.chunkPlanned(chunk, n, held); err != nil {
				return queued, fmt.Errorf("plan deliveries of edition %d: %w", id, err)
			}
		}
		if done {
			return queued, nil
		}
	}
}

// planChunkTx is one chunk of finishPlan in one write transaction: up to
// size deliveries queued, the cursor moved past them, and, when fewer
// were left, the plan marked finished (and the edition done when it has
// no delivery at all). held is how long it held the writer.
func (l *Ledger) planChunkTx(ctx context.Context, id int64, target string, size int, p plan,
	due func(*subscribers.Subscriber) time.Time) (n int, done bool, held time.Duration, err error) {
	tx, err := l.DB.Write.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock from here
	if err != nil {
		return 0, false, 0, err
	}
	defer tx.Rollback()
	began := time.Now()
	var planning bool
	var after int64
	if err := tx.QueryRowContext(ctx, `SELECT planning, plan_after FROM editions WHERE id = ?`, id).Scan(&planning, &after); err != nil {
		return 0, false, 0, err
	}
	if !planning { // another planner finished it
		return 0, true, time.Since(began), nil
	}
	// Read through the read pool: the write lock held, what it sees is
	// final until the commit.
	subs, err := l.Recipients.ConfirmedAfter(ctx, target, after, size)
	if err != nil {
		return 0, false, 0, err
	}
	if len(subs) > 0 {
		if err := insertDeliveries(ctx, tx, id, subs, p, due, l.now()); err != nil {
			return 0, false, 0, err
		}
		after = subs[len(subs)-1].ID
	}
	done = len(subs) < size
	if _, err := tx.ExecContext(ctx, `UPDATE editions SET plan_after = ?, planning = ? WHERE id = ?`, after, !done, id); err != nil {
		return 0, false, 0, fmt.Errorf("move plan cursor: %w", err)
	}
	if done {
		if err := markDone(ctx, tx, id); err != nil {
			return 0, false, 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, false, 0, err
	}
	return len(subs), done, time.Since(began), nil
}

// insertDeliveries queues one delivery of edition id per subscriber, due
// at due(subscriber), or with due nil at p.due, each with a Message-ID of
// its own that no one can guess (a returned message is matched by it).
func insertDeliveries(ctx context.Context, tx *sql.Tx, id int64, subs []*subscribers.Subscriber, p plan,
	due func(*subscribers.Subscriber) time.Time, now time.Time) error {
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (edition_id, subscriber_id, email, state, attempts,
		next_attempt_at, message_id, updated_at) VALUES (?, ?, ?, 'queued', 0, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("insert deliveries: %w", err)
	}
	defer stmt.Close()
	rnd := make([]byte, 8*len(subs))
	rand.Read(rnd) // never fails (crypto/rand)
	prefix := "<e" + strconv.FormatInt(id, 10) + ".s"
	buf := make([]byte, 0, 64)
	for i, s := range subs {
		buf = append(buf[:0], prefix...)
		buf = strconv.AppendInt(buf, s.ID, 10)
		buf = append(buf, '.')
		buf = hex.AppendEncode(buf, rnd[8*i:8*i+8])
		buf = append(buf, '@')
		buf = append(buf, p.domain...)
		buf = append(buf, '>')
		at := p.due
		if due != nil {
			at = due(s)
		}
		if _, err := stmt.ExecContext(ctx, id, s.ID, s.Email, at.UnixNano(), string(buf), now.UnixNano()); err != nil {
			return fmt.Errorf("insert delivery for subscriber %d: %w", s.ID, err)
		}
	}
	return nil
}

// dueOf says when each subscriber's delivery under p is due, or is nil
// when every one is due at p.due.
func (l *Ledger) dueOf(digest string, p plan) func(*subscribers.Subscriber) time.Time {
	if !p.deliverAt.Set {
		return nil
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
					"digest", digest, "subscriber", s.ID, "timezone", s.TimeZone, slog.Any("error", err))
				loc = site
			}
			zones[s.TimeZone] = loc
		}
		return p.deliverAt.Next(p.due, loc)
	}
}
