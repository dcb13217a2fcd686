package subscribers

import (
	"context"
	"encoding/json"
	"fmt"
)

// DeliverableAll is Deliverable for many subscribers in one query, for a
// sender that checks a claimed batch at once: the map holds a subscriber
// that still receives digest ("" for any), nil for one that exists but
// does not, and no entry for one erased.
func (s *Store) DeliverableAll(ctx context.Context, ids []int64, digest string) (map[int64]*Subscriber, error) {
	out := make(map[int64]*Subscriber, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.Read.QueryContext(ctx, `SELECT s.id, s.email, s.name, s.token_nonce, s.status = 'confirmed' AND EXISTS
		(SELECT 1 FROM subscriber_digests g WHERE g.subscriber_id = s.id AND (? = '' OR g.digest = ?))
		FROM subscribers s WHERE s.id IN (`+s.db.Dialect.Ints("?")+`)`, digest, digest, string(b))
	if err != nil {
		return nil, fmt.Errorf("check subscribers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sub Subscriber
		var nonce int64
		var ok bool
		if err := rows.Scan(&sub.ID, &sub.Email, &sub.Name, &nonce, &ok); err != nil {
			return nil, fmt.Errorf("check subscribers: %w", err)
		}
		if !ok {
			out[sub.ID] = nil
			continue
		}
		sub.Status, sub.Nonce = StatusConfirmed, uint64(nonce)
		out[sub.ID] = &sub
	}
	return out, rows.Err()
}
