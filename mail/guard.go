package mail

import (
	"context"
	"errors"
	"fmt"
)

// The reputation guard's ceilings, per edition, once it has been
// delivered to guardMinSent readers (below that a rate says little): a
// warning at warnComplaints, a pause at pauseComplaints (Gmail's
// published ceiling for spam reports) or pauseBounces of hard bounces.
const (
	guardMinSent    = 1000
	warnComplaints  = 0.001
	pauseComplaints = 0.003
	pauseBounces    = 0.05
)

// ErrNotPaused is Resume's answer for an edition the guard does not hold.
var ErrNotPaused = errors.New("edition is not paused")

// guard looks at edition id's complaints and hard bounces after a new
// one and pauses it when either passes its ceiling, unless an operator
// resumed it before. It returns the reason when it paused it now.
func (l *Ledger) guard(ctx context.Context, id int64) (string, error) {
	var sent, complaints, bounces, paused, resumed int64
	err := l.DB.Read.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM deliveries WHERE edition_id = ? AND state = 'sent'),
		(SELECT COUNT(*) FROM deliveries WHERE edition_id = ? AND returned = 'complaint'),
		(SELECT COUNT(*) FROM deliveries WHERE edition_id = ? AND returned = 'bounce'),
		paused_at, resumed_at FROM editions WHERE id = ?`, id, id, id, id).Scan(&sent, &complaints, &bounces, &paused, &resumed)
	if err != nil {
		return "", fmt.Errorf("reputation guard: %w", err)
	}
	if sent < guardMinSent || paused != 0 || resumed != 0 {
		return "", nil
	}
	cr, br := float64(complaints)/float64(sent), float64(bounces)/float64(sent)
	var reason string
	switch {
	case cr >= pauseComplaints:
		reason = fmt.Sprintf("complaints at %.2f%% of %d delivered (ceiling %.1f%%)", 100*cr, sent, 100*pauseComplaints)
	case br >= pauseBounces:
		reason = fmt.Sprintf("hard bounces at %.1f%% of %d delivered (ceiling %.0f%%)", 100*br, sent, 100*pauseBounces)
	case cr >= warnComplaints:
		l.log().Warn("edition draws complaints", "edition", id, "complaints", complaints, "delivered", sent,
			"rate", fmt.Sprintf("%.2f%%", 100*cr))
		return "", nil
	default:
		return "", nil
	}
	r, err := l.DB.Write.ExecContext(ctx, `UPDATE editions SET paused_at = ?, paused_reason = ? WHERE id = ? AND paused_at = 0 AND resumed_at = 0`,
		l.now().UnixNano(), reason, id)
	if err != nil {
		return "", fmt.Errorf("pause edition %d: %w", id, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return "", nil
	}
	l.log().Error("edition paused by the reputation guard; tidings editions resume goes on", "edition", id, "reason", reason)
	return reason, nil
}

// Resume lets a paused edition's deliveries go on and turns the guard
// off for it: the operator has looked.
func (l *Ledger) Resume(ctx context.Context, id int64) error {
	r, err := l.DB.Write.ExecContext(ctx, `UPDATE editions SET paused_at = 0, resumed_at = ? WHERE id = ? AND paused_at != 0`,
		l.now().UnixNano(), id)
	if err != nil {
		return fmt.Errorf("resume edition %d: %w", id, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		if _, err := l.Edition(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("edition %d: %w", id, ErrNotPaused)
	}
	l.log().Info("edition resumed", "edition", id)
	return nil
}

// Returns counts what came back for edition id after it was sent: "bounce"
// (hard), "soft" and "complaint", and "unsubscribe": the readers who
// unsubscribed by mail after it was their latest.
func (l *Ledger) Returns(ctx context.Context, id int64) (map[string]int, error) {
	out := map[string]int{"bounce": 0, "soft": 0, "complaint": 0, "unsubscribe": 0}
	rows, err := l.DB.Read.QueryContext(ctx, `SELECT returned, COUNT(*) FROM deliveries WHERE edition_id = ? AND returned != '' GROUP BY returned
		UNION ALL SELECT 'unsubscribe', COUNT(*) FROM deliveries WHERE edition_id = ? AND unsubscribed_at != 0`, id, id)
	if err != nil {
		return nil, fmt.Errorf("count returns: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var n int
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, fmt.Errorf("count returns: %w", err)
		}
		out[kind] = n
	}
	return out, rows.Err()
}
