package mail

import (
	"context"
	"fmt"
	"time"
)

// Waiting is how many queued deliveries of an edition are due within one
// hour: an edition with deliver_at waits for each subscriber's hour.
type Waiting struct {
	Hour  time.Time // the start of the hour (UTC) the deliveries are due in
	Count int
}

// Waiting groups edition editionID's queued deliveries by the hour they
// are due in, earliest first; those due already are in the hour they
// became due.
func (l *Ledger) Waiting(ctx context.Context, editionID int64) ([]Waiting, error) {
	const hour = int64(time.Hour)
	rows, err := l.DB.Read.QueryContext(ctx, `SELECT next_attempt_at / ? AS h, COUNT(*) FROM deliveries
		WHERE edition_id = ? AND state = 'queued' GROUP BY h ORDER BY h`, hour, editionID)
	if err != nil {
		return nil, fmt.Errorf("count waiting deliveries: %w", err)
	}
	defer rows.Close()
	var out []Waiting
	for rows.Next() {
		var h int64
		var w Waiting
		if err := rows.Scan(&h, &w.Count); err != nil {
			return nil, fmt.Errorf("count waiting deliveries: %w", err)
		}
		w.Hour = time.Unix(0, h*hour).UTC()
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count waiting deliveries: %w", err)
	}
	return out, nil
}
