package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// EditionSummary is an edition with what became of its deliveries, for
// lists: the admin's editions page.
type EditionSummary struct {
	*Edition
	Total, Sent, Queued, Failed, Skipped int // Queued counts queued and sending
	Bounced, Complained                  int // hard bounces and complaints that came back
	// Unsubscribed counts the recipients sent this edition who
	// unsubscribed after it and before the digest's next edition: the
	// unsubscribes it is taken to have caused.
	Unsubscribed int
}

// Summaries returns up to limit editions (every digest), newest first,
// with their counts, starting below id before (0: the newest). Paging on
// the id keeps a page as fast at the thousandth edition as at the first.
func (l *Ledger) Summaries(ctx context.Context, before int64, limit int) ([]EditionSummary, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := l.DB.Read.QueryContext(ctx, `SELECT `+editionColumns+` FROM editions
		WHERE (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?`, before, before, limit)
	if err != nil {
		return nil, fmt.Errorf("list editions: %w", err)
	}
	var eds []*Edition
	for rows.Next() {
		e, err := scanEdition(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("list editions: %w", err)
		}
		eds = append(eds, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list editions: %w", err)
	}
	return l.summarize(ctx, eds)
}

// Summary is one edition's summary, with its articles; an error wrapping
// ErrEditionNotFound for an unknown id.
func (l *Ledger) Summary(ctx context.Context, id int64) (EditionSummary, error) {
	e, err := l.Edition(ctx, id)
	if err != nil {
		return EditionSummary{}, err
	}
	s, err := l.summarize(ctx, []*Edition{e})
	if err != nil {
		return EditionSummary{}, err
	}
	return s[0], nil
}

// summarize counts the deliveries of eds in a few grouped queries, none
// reading every delivery of a large done edition: a done edition's counts
// are frozen in edition_totals (migration 0020), what came back is in a
// partial index, and unsubscribes are matched from the few subscribers
// who left to the one edition of each digest they left after.
func (l *Ledger) summarize(ctx context.Context, eds []*Edition) ([]EditionSummary, error) {
	out := make([]EditionSummary, len(eds))
	at := make(map[int64]*EditionSummary, len(eds))
	ids := make([]string, len(eds))
	for i, e := range eds {
		out[i].Edition = e
		at[e.ID] = &out[i]
		ids[i] = fmt.Sprint(e.ID)
	}
	if len(eds) == 0 {
		return out, nil
	}
	list := "[" + strings.Join(ids, ",") + "]"
	count := func(q, list string, add func(s *EditionSummary, key string, n int)) error {
		rows, err := l.DB.Read.QueryContext(ctx, q, list)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var key string
			var n int
			if err := rows.Scan(&id, &key, &n); err != nil {
				return err
			}
			if s := at[id]; s != nil {
				add(s, key, n)
			}
		}
		return rows.Err()
	}
	add := func(s *EditionSummary, state string, n int) {
		switch state {
		case DeliverySent:
			s.Sent += n
		case DeliveryQueued, DeliverySending:
			s.Queued += n
		case DeliveryFailed:
			s.Failed += n
		case DeliverySkipped:
			s.Skipped += n
		}
		s.Total += n
	}
	frozen := map[int64]bool{}
	inIDs := l.DB.Dialect.Ints("?")
	err := count(`SELECT t.edition_id, s.state, CASE s.state WHEN 'sent' THEN t.sent WHEN 'failed' THEN t.failed ELSE t.skipped END
		FROM edition_totals t CROSS JOIN (SELECT 'sent' AS state UNION ALL SELECT 'failed' UNION ALL SELECT 'skipped') s
		WHERE t.edition_id IN (`+inIDs+`)`, list,
		func(s *EditionSummary, state string, n int) { frozen[s.ID] = true; add(s, state, n) })
	if err == nil {
		var live []string
		for _, e := range eds {
			if !frozen[e.ID] {
				live = append(live, fmt.Sprint(e.ID))
			}
		}
		if len(live) > 0 {
			err = count(`SELECT edition_id, state, COUNT(*) FROM deliveries
				WHERE edition_id IN (`+inIDs+`) GROUP BY edition_id, state`, "["+strings.Join(live, ",")+"]", add)
		}
	}
	if err == nil {
		err = count(`SELECT edition_id, returned, COUNT(*) FROM deliveries
			WHERE edition_id IN (`+inIDs+`) AND returned != '' GROUP BY edition_id, returned`, list,
			func(s *EditionSummary, kind string, n int) {
				switch kind {
				case "bounce":
					s.Bounced += n
				case "complaint":
					s.Complained += n
				}
			})
	}
	if err == nil {
		// The one read of the subscribers table here (the unsubscribe
		// link names the subscriber, not the edition): those who left
		// since the oldest edition listed, each matched to the edition of
		// the list whose window [created, the digest's next edition) holds
		// the moment they left, then checked to have been sent it. (The
		// next edition is the next by schedule: scheduled_at is indexed.)
		err = count(`WITH page AS MATERIALIZED (
				SELECT e.id, e.created_at AS since,
					COALESCE((SELECT n.created_at FROM editions n WHERE n.digest = e.digest AND n.scheduled_at > e.scheduled_at
						ORDER BY n.scheduled_at LIMIT 1), 9e18) AS until
				FROM editions e WHERE e.id IN (`+inIDs+`)),
			gone AS MATERIALIZED (
				SELECT id, unsubscribed_at AS at FROM subscribers
				WHERE status = 'unsubscribed' AND unsubscribed_at >= (SELECT MIN(since) FROM page)
					AND unsubscribed_at < (SELECT MAX(until) FROM page))
			SELECT p.id, '', COUNT(*) FROM gone g CROSS JOIN page p CROSS JOIN deliveries d
			WHERE g.at >= p.since AND g.at < p.until
				AND d.edition_id = p.id AND d.subscriber_id = g.id AND d.state = 'sent' AND d.sent_at <= g.at
			GROUP BY p.id`, list,
			func(s *EditionSummary, _ string, n int) { s.Unsubscribed += n })
	}
	if err != nil {
		return nil, fmt.Errorf("count edition deliveries: %w", err)
	}
	return out, nil
}

// EditionProgress is Progress for one edition from its summary: the
// rate from the first and last messages it sent (read from an index, not
// from every delivery). Nil for a done edition.
func (l *Ledger) EditionProgress(ctx context.Context, s EditionSummary) (*Progress, error) {
	if s.State == EditionDone {
		return nil, nil
	}
	p := &Progress{Edition: s.ID, Digest: s.Digest, Subject: s.Subject, Total: s.Total, Done: s.Total - s.Queued,
		Sent: s.Sent, Paused: !s.Paused.IsZero(), Bounced: s.Bounced, Complained: s.Complained}
	var first, last sql.NullInt64
	err := l.DB.Read.QueryRowContext(ctx, `SELECT
		(SELECT MIN(sent_at) FROM deliveries WHERE edition_id = ? AND state = 'sent'),
		(SELECT MAX(sent_at) FROM deliveries WHERE edition_id = ? AND state = 'sent')`, s.ID, s.ID).Scan(&first, &last)
	if err != nil {
		return nil, fmt.Errorf("edition progress: %w", err)
	}
	p.rate(first, last, l.now())
	return p, nil
}

// ErrDeliveryNotFound is returned when no delivery has the id asked for.
var ErrDeliveryNotFound = errors.New("delivery not found")

// Delivery returns one delivery by id; an error wrapping
// ErrDeliveryNotFound for an unknown one.
func (l *Ledger) Delivery(ctx context.Context, id int64) (Delivery, error) {
	d, err := scanDelivery(l.DB.Read.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("%d: %w", id, ErrDeliveryNotFound)
	}
	if err != nil {
		return d, fmt.Errorf("get delivery: %w", err)
	}
	return d, nil
}

// FailuresPage returns up to limit failed deliveries of an edition with
// ids above after, by id: Failures a page at a time.
func (l *Ledger) FailuresPage(ctx context.Context, editionID, after int64, limit int) ([]Delivery, error) {
	rows, err := l.DB.Read.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE edition_id = ? AND state = 'failed' AND id > ? ORDER BY id LIMIT ?`, editionID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list failures: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("list failures: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// ErrPaused is Pause's answer for an edition already paused, and
// ErrEditionDone for one with nothing left to send.
var (
	ErrPaused      = errors.New("edition is paused already")
	ErrEditionDone = errors.New("edition is done: nothing is left to send")
)

// Pause holds an edition's queued deliveries, as the reputation guard
// does, until Resume: the sender claims none of them meanwhile (those in
// flight finish). reason is shown with the edition.
func (l *Ledger) Pause(ctx context.Context, id int64, reason string) error {
	e, err := l.Edition(ctx, id)
	if err != nil {
		return err
	}
	if !e.Paused.IsZero() {
		return fmt.Errorf("edition %d: %w", id, ErrPaused)
	}
	if e.State == EditionDone {
		return fmt.Errorf("edition %d: %w", id, ErrEditionDone)
	}
	r, err := l.DB.Write.ExecContext(ctx, `UPDATE editions SET paused_at = ?, paused_reason = ? WHERE id = ? AND paused_at = 0`,
		l.now().UnixNano(), reason, id)
	if err != nil {
		return fmt.Errorf("pause edition %d: %w", id, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("edition %d: %w", id, ErrPaused)
	}
	l.log().Info("edition paused", "edition", id, "reason", reason)
	return nil
}
