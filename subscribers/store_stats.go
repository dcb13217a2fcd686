package subscribers

import (
	"context"
	"fmt"
	"time"
)

// CountByStatus returns how many subscribers have each status; every
// status is present, zero or not.
func (s *Store) CountByStatus(ctx context.Context) (map[Status]int, error) {
	out := map[Status]int{StatusPending: 0, StatusConfirmed: 0, StatusUnsubscribed: 0, StatusBounced: 0, StatusComplained: 0}
	rows, err := s.db.Read.QueryContext(ctx, `SELECT status, count(*) FROM subscribers GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count subscribers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st Status
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count subscribers: %w", err)
		}
		out[st] = n
	}
	return out, rows.Err()
}

// Week is one week's sign-ups and unsubscribes; it starts on Monday at
// 00:00 UTC.
type Week struct {
	Start        time.Time
	SignUps      int // subscribers created that week (by any route), still on the list or not
	Unsubscribes int // subscribers whose last unsubscribe fell in that week
}

// weekNanos is a week; mondayNanos is the first Monday after the epoch
// (1970-01-05), which weeks are counted from.
const (
	weekNanos   = int64(7 * 24 * time.Hour)
	mondayNanos = int64(4 * 24 * time.Hour)
)

// Weekly counts sign-ups and unsubscribes per week, oldest first, from
// the first week with either up to the week of now, weeks with none
// included. Erased subscribers are not counted. Both counts come from
// indexes (created_at, unsubscribed_at).
func (s *Store) Weekly(ctx context.Context) ([]Week, error) {
	counts := map[int64][2]int{}
	now := s.now().UnixNano()
	first, last := int64(-1), (now-mondayNanos)/weekNanos
	for i, col := range []string{"created_at", "unsubscribed_at"} {
		// A time after now (a clock that was wrong) counts in this week.
		rows, err := s.db.Read.QueryContext(ctx, fmt.Sprintf(`SELECT (CASE WHEN %[1]s < ? THEN %[1]s ELSE ? END - ?) / ?, count(*) FROM subscribers
			WHERE %[1]s >= ? GROUP BY 1`, col), now, now, mondayNanos, weekNanos, mondayNanos)
		if err != nil {
			return nil, fmt.Errorf("weekly counts: %w", err)
		}
		for rows.Next() {
			var w int64
			var n int
			if err := rows.Scan(&w, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("weekly counts: %w", err)
			}
			c := counts[w]
			c[i] = n
			counts[w] = c
			if first < 0 || w < first {
				first = w
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("weekly counts: %w", err)
		}
	}
	if first < 0 {
		return nil, nil
	}
	out := make([]Week, 0, last-first+1)
	for w := first; w <= last; w++ {
		c := counts[w]
		out = append(out, Week{Start: time.Unix(0, mondayNanos+w*weekNanos).UTC(), SignUps: c[0], Unsubscribes: c[1]})
	}
	return out, nil
}

// UnsubscribedBetween counts the subscribers whose last unsubscribe fell
// in [from, to).
func (s *Store) UnsubscribedBetween(ctx context.Context, from, to time.Time) (int, error) {
	var n int
	err := s.db.Read.QueryRowContext(ctx, `SELECT count(*) FROM subscribers WHERE unsubscribed_at >= ? AND unsubscribed_at < ?`,
		from.UnixNano(), to.UnixNano()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count unsubscribes: %w", err)
	}
	return n, nil
}
