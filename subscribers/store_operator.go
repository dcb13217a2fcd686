package subscribers

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Add puts an address on the list for the operator (CLI or admin API) with
// the given status, confirmed when empty: the operator vouches for the
// consent. An address already on the list gives a *FieldError for "email"
// wrapping ErrExists, one erased on request ErrSuppressed.
func (s *Store) Add(ctx context.Context, email, name string, digests []string, status Status, m Meta) (*Subscriber, error) {
	addr, err := NormalizeAddress(email)
	if err != nil {
		return nil, err
	}
	if name, err = validateName(name); err != nil {
		return nil, err
	}
	if digests, err = s.checkDigests(digests, true); err != nil {
		return nil, err
	}
	if status == "" {
		status = StatusConfirmed
	}
	if status, err = ParseStatus(string(status)); err != nil {
		return nil, err
	}
	var sub *Subscriber
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := s.getSubscriber(ctx, tx, `s.email = ?`, addr); err == nil {
			return &FieldError{Field: "email", Err: ErrExists}
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if sup, err := isSuppressed(ctx, tx, addr); err != nil {
			return err
		} else if sup {
			return &FieldError{Field: "email", Err: ErrSuppressed}
		}
		detail := "added by operator"
		if status != StatusConfirmed {
			detail += " as " + string(status)
		}
		id, err := insertSubscriber(ctx, tx, addr, name, status, m, s.now())
		if err != nil {
			return err
		}
		if err := setDigests(ctx, tx, id, digests); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, id, EventImported, s.now(), m, detail); err != nil {
			return err
		}
		sub, err = s.getSubscriber(ctx, tx, `s.id = ?`, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("add subscriber: %w", err)
	}
	return sub, nil
}

// insertSubscriber writes a new row with the times its status implies, a
// new id and a new token nonce.
func insertSubscriber(ctx context.Context, tx *sql.Tx, addr, name string, status Status, m Meta, now time.Time) (int64, error) {
	id, err := nextID(ctx, tx)
	if err != nil {
		return 0, err
	}
	confirmed, unsubscribed := statusTimes(status, now)
	if _, err := tx.ExecContext(ctx, `INSERT INTO subscribers (id, email, name, status, route, created_at, confirmed_at, unsubscribed_at, token_nonce)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, addr, name, status, clip(m.Route, 32), now.UnixNano(), confirmed, unsubscribed,
		int64(newNonce(0))); err != nil {
		return 0, fmt.Errorf("insert subscriber: %w", err)
	}
	return id, nil
}

// statusTimes gives confirmed_at and unsubscribed_at for a row that takes
// status now.
func statusTimes(status Status, now time.Time) (confirmed, unsubscribed any) {
	switch status {
	case StatusConfirmed:
		return now.UnixNano(), nil
	case StatusUnsubscribed:
		return nil, now.UnixNano()
	}
	return nil, nil
}

// Update changes what the operator gives: name and status when not nil,
// digests when not nil (an empty, non-nil slice means none). The event
// lists the changes; nothing changed records nothing.
func (s *Store) Update(ctx context.Context, id int64, name *string, digests []string, status *Status, m Meta) (*Subscriber, error) {
	var newName string
	var newStatus Status
	var err error
	if name != nil {
		if newName, err = validateName(*name); err != nil {
			return nil, err
		}
	}
	if digests != nil {
		if digests, err = s.checkDigests(digests, false); err != nil {
			return nil, err
		}
	}
	if status != nil {
		if newStatus, err = ParseStatus(string(*status)); err != nil {
			return nil, err
		}
	}
	return s.change(ctx, "update subscriber", id, func(tx *sql.Tx, sub *Subscriber, now time.Time) error {
		var changes []string
		if name != nil && newName != sub.Name {
			changes = append(changes, fmt.Sprintf("name %q -> %q", sub.Name, newName))
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET name = ? WHERE id = ?`, newName, id); err != nil {
				return fmt.Errorf("update subscriber: %w", err)
			}
		}
		if digests != nil && !slices.Equal(digests, sub.Digests) {
			changes = append(changes, fmt.Sprintf("digests %s -> %s", digestList(sub.Digests), digestList(digests)))
			if err := setDigests(ctx, tx, id, digests); err != nil {
				return err
			}
		}
		if status != nil && newStatus != sub.Status {
			changes = append(changes, fmt.Sprintf("status %s -> %s", sub.Status, newStatus))
			if err := setStatus(ctx, tx, id, newStatus, now); err != nil {
				return err
			}
		}
		if len(changes) == 0 {
			return nil
		}
		return addEvent(ctx, tx, id, EventUpdated, now, m, strings.Join(changes, "; "))
	})
}

// setStatus moves a subscriber to status, setting the time it took that
// status; the other times stay as history.
func setStatus(ctx context.Context, tx *sql.Tx, id int64, status Status, now time.Time) error {
	var err error
	switch status {
	case StatusConfirmed:
		_, err = tx.ExecContext(ctx, `UPDATE subscribers SET status = ?, confirmed_at = COALESCE(confirmed_at, ?),
			unsubscribed_at = NULL WHERE id = ?`, status, now.UnixNano(), id)
	case StatusUnsubscribed:
		_, err = tx.ExecContext(ctx, `UPDATE subscribers SET status = ?, unsubscribed_at = ? WHERE id = ?`, status, now.UnixNano(), id)
	case StatusPending:
		_, err = tx.ExecContext(ctx, `UPDATE subscribers SET status = ?, confirmed_at = NULL, unsubscribed_at = NULL WHERE id = ?`, status, id)
	default:
		_, err = tx.ExecContext(ctx, `UPDATE subscribers SET status = ? WHERE id = ?`, status, id)
	}
	if err != nil {
		return fmt.Errorf("set status: %w", err)
	}
	return nil
}

// Forget erases an address on its owner's request: the subscriber, its
// digests and its events go, and a hash of the address is kept so that no
// import or operator brings it back (the person can still sign up again).
// One erased event records the request, with the hash and no subscriber;
// m should describe the operator, not the person. Forgetting an address
// that is not on the list still records the suppression.
func (s *Store) Forget(ctx context.Context, email string, m Meta) error {
	addr, err := NormalizeAddress(email)
	if err != nil {
		return err
	}
	hash := addressHash(addr)
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		detail := "subscriber deleted"
		sub, err := s.getSubscriber(ctx, tx, `s.email = ?`, addr)
		switch {
		case errors.Is(err, ErrNotFound):
			detail = "not on the list"
		case err != nil:
			return err
		default:
			// The foreign keys cascade too; saying it here keeps the
			// erasure complete should they ever be off.
			for _, q := range []string{`DELETE FROM subscriber_events WHERE subscriber_id = ?`,
				`DELETE FROM subscriber_digests WHERE subscriber_id = ?`, `DELETE FROM subscribers WHERE id = ?`} {
				if _, err := tx.ExecContext(ctx, q, sub.ID); err != nil {
					return fmt.Errorf("delete subscriber: %w", err)
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO suppressions (email_hash, at, reason) VALUES (?, ?, 'erased on request')
			ON CONFLICT (email_hash) DO NOTHING`, hash, now.UnixNano()); err != nil {
			return fmt.Errorf("suppress address: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO subscriber_events (subscriber_id, email_hash, kind, at, ip, user_agent, route, detail)
			VALUES (NULL, ?, ?, ?, ?, ?, ?, ?)`, hash, EventErased, now.UnixNano(), clip(m.IP, 64), clip(m.UserAgent, 512), clip(m.Route, 32), detail)
		if err != nil {
			return fmt.Errorf("record erased event: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("forget subscriber: %w", err)
	}
	return nil
}

// RecordBounce notes a bounce of mail to subscriber id. Permanent bounces
// count; at bounceLimit of them (1 when less) a pending or confirmed
// subscriber becomes bounced and gets no more mail. Every bounce is
// recorded as an event; detail is the remote server's reply.
func (s *Store) RecordBounce(ctx context.Context, id int64, permanent bool, detail string, bounceLimit int) error {
	bounceLimit = max(bounceLimit, 1)
	_, err := s.change(ctx, "record bounce", id, func(tx *sql.Tx, sub *Subscriber, now time.Time) error {
		detail = clip(detail, 512)
		if !permanent {
			return addEvent(ctx, tx, id, EventBounced, now, Meta{Route: "mail"}, "temporary: "+detail)
		}
		count := sub.BounceCount + 1
		if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET bounce_count = ? WHERE id = ?`, count, id); err != nil {
			return fmt.Errorf("count bounce: %w", err)
		}
		detail = fmt.Sprintf("permanent (%d of %d): %s", count, bounceLimit, detail)
		if count >= bounceLimit && (sub.Status == StatusConfirmed || sub.Status == StatusPending) {
			if err := setStatus(ctx, tx, id, StatusBounced, now); err != nil {
				return err
			}
			detail += "; status bounced"
		}
		return addEvent(ctx, tx, id, EventBounced, now, Meta{Route: "mail"}, detail)
	})
	return err
}

// RecordSoftBounce notes a soft bounce (a full mailbox, a policy refusal,
// a 4xx reported later) of mail to subscriber id: the streak-th in a row
// with none of the mail between them come through. At limit of them a
// pending or confirmed subscriber becomes bounced.
func (s *Store) RecordSoftBounce(ctx context.Context, id int64, streak, limit int, detail string) error {
	limit = max(limit, 1)
	_, err := s.change(ctx, "record soft bounce", id, func(tx *sql.Tx, sub *Subscriber, now time.Time) error {
		detail = fmt.Sprintf("temporary (%d in a row of %d): %s", streak, limit, clip(detail, 512))
		if streak >= limit && (sub.Status == StatusConfirmed || sub.Status == StatusPending) {
			if err := setStatus(ctx, tx, id, StatusBounced, now); err != nil {
				return err
			}
			detail += "; status bounced"
		}
		return addEvent(ctx, tx, id, EventBounced, now, Meta{Route: "mail"}, detail)
	})
	return err
}

// RecordComplaint notes that a subscriber marked a mail as spam (a
// feedback-loop report): it gets no more mail until it signs up again.
func (s *Store) RecordComplaint(ctx context.Context, id int64, detail string) error {
	_, err := s.change(ctx, "record complaint", id, func(tx *sql.Tx, sub *Subscriber, now time.Time) error {
		if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET complaint_count = complaint_count + 1 WHERE id = ?`, id); err != nil {
			return fmt.Errorf("count complaint: %w", err)
		}
		if err := setStatus(ctx, tx, id, StatusComplained, now); err != nil {
			return err
		}
		return addEvent(ctx, tx, id, EventComplained, now, Meta{Route: "mail"}, clip(detail, 512))
	})
	return err
}
