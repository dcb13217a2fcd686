package mail

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Progress is where an edition that is still going out stands.
type Progress struct {
	Edition int64
	Digest  string
	Subject string
	Total   int // deliveries
	Done    int // no longer queued or sending: sent, failed, skipped ...
	Sent    int
	// Rate is messages accepted per second since the first, 0 before two;
	// ETA is how long the rest takes at that rate, 0 when unknown.
	Rate float64
	ETA  time.Duration
	// Paused is set while the reputation guard holds the edition;
	// Bounced and Complained count its returns.
	Paused              bool
	Bounced, Complained int
}

// Percent is Done of Total, 0 to 100.
func (p Progress) Percent() float64 {
	if p.Total == 0 {
		return 100
	}
	return 100 * float64(p.Done) / float64(p.Total)
}

// Progress returns every edition that is planned and not done, oldest first, with
// its counts and its sending rate so far (measured from the sent times
// the ledger keeps, so any process can ask, and a restart loses nothing).
func (l *Ledger) Progress(ctx context.Context) ([]Progress, error) {
	rows, err := l.DB.Read.QueryContext(ctx, `SELECT e.id, e.digest, e.subject, COUNT(d.id),
		COUNT(*) FILTER (WHERE d.state NOT IN ('queued', 'sending')), COUNT(*) FILTER (WHERE d.state = 'sent'),
		MIN(d.sent_at), MAX(d.sent_at), e.paused_at != 0,
		COUNT(*) FILTER (WHERE d.returned = 'bounce'), COUNT(*) FILTER (WHERE d.returned = 'complaint')
		FROM editions e JOIN deliveries d ON d.edition_id = e.id
		WHERE e.state != 'done' AND e.planning = 0 GROUP BY e.id ORDER BY e.id`)
	if err != nil {
		return nil, fmt.Errorf("edition progress: %w", err)
	}
	defer rows.Close()
	now := l.now()
	var out []Progress
	for rows.Next() {
		var p Progress
		var first, last sql.NullInt64
		if err := rows.Scan(&p.Edition, &p.Digest, &p.Subject, &p.Total, &p.Done, &p.Sent, &first, &last, &p.Paused,
			&p.Bounced, &p.Complained); err != nil {
			return nil, fmt.Errorf("edition progress: %w", err)
		}
		p.rate(first, last, now)
		out = append(out, p)
	}
	return out, rows.Err()
}

// rate sets Rate and ETA from the first and last sent times.
func (p *Progress) rate(first, last sql.NullInt64, now time.Time) {
	if first.Valid && last.Valid && p.Sent > 1 {
		// Up to now if sending goes on, so a stall shows as a falling
		// rate rather than the last good one.
		end := fromNanos(last.Int64)
		if now.Sub(end) < time.Minute {
			end = now
		}
		if span := end.Sub(fromNanos(first.Int64)).Seconds(); span > 0 {
			p.Rate = float64(p.Sent-1) / span
		}
	}
	if p.Rate > 0 {
		p.ETA = time.Duration(float64(p.Total-p.Done) / p.Rate * float64(time.Second))
	}
}
