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

// SignUpResult is the outcome of a sign-up. The page shown to the person
// must not depend on it: whether an address is already on the list is no
// business of whoever typed it.
type SignUpResult struct {
	Subscriber *Subscriber
	Created    bool // a new row
	// Notice is the kind of mail to queue for the subscriber now
	// (NoticeConfirm, NoticeSubscribed), or "" for none: the resend window
	// has not passed, a cap was reached, or nothing is to be confirmed.
	// The window and the caps are already counted for it.
	Notice string
}

// The kinds of mail this package asks to be sent to one subscriber; the
// mail package sends them through its ledger (see Notices).
const (
	NoticeConfirm    = "confirm"    // the link that confirms a sign-up
	NoticeSubscribed = "subscribed" // to a subscribed address that signed up again: how to change what it gets
	NoticeWelcome    = "welcome"    // after confirming
)

// SignUp records a person's own request to receive digests (empty: all of
// them). A new address becomes pending, or confirmed at once with
// confirmNow (double opt-in off). A pending one gets its name (when given)
// and digests replaced, and a new confirmation mail only once resendAfter
// has passed since the last. A confirmed one is left exactly as it was, so
// nobody can change another's settings by typing their address; it is
// sent a note saying it is subscribed already, under the same window, so
// that every sign-up does the same work whoever the address belongs to.
// Every such mail counts against the caps (see Caps); over one, none is
// asked for, and nothing else changes in the answer. An
// unsubscribed, bounced or complained one starts over as pending with a
// new token nonce, so the links mailed for its earlier subscription stop
// working (as does a confirmation link still out when confirmNow
// confirms). An address erased on request may sign up again: its
// suppression is lifted.
//
// The time zone the browser reported (m.TimeZone, checked by the caller
// with ParseTimeZone) is stored on a new or pending subscriber, never on
// a confirmed one; an empty one keeps what was stored.
//
// Bad input gives a *FieldError for "email", "name" or "digests".
func (s *Store) SignUp(ctx context.Context, email, name string, digests []string, confirmNow bool, resendAfter time.Duration, m Meta) (SignUpResult, error) {
	addr, err := NormalizeAddress(email)
	if err != nil {
		return SignUpResult{}, err
	}
	if name, err = validateName(name); err != nil {
		return SignUpResult{}, err
	}
	if digests, err = s.checkDigests(digests, true); err != nil {
		return SignUpResult{}, err
	}
	var res SignUpResult
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		detail := "digests: " + digestList(digests)
		if n, err := tx.ExecContext(ctx, `DELETE FROM suppressions WHERE email_hash = ?`, addressHash(addr)); err != nil {
			return fmt.Errorf("lift suppression: %w", err)
		} else if k, _ := n.RowsAffected(); k > 0 {
			detail += "; erasure suppression lifted"
		}
		sub, err := s.getSubscriber(ctx, tx, `s.email = ?`, addr)
		var id int64
		renew := false // end the links of an earlier sign-up
		switch {
		case errors.Is(err, ErrNotFound):
			if id, err = insertSubscriber(ctx, tx, addr, name, StatusPending, m, now); err != nil {
				return err
			}
			res.Created, res.Notice = true, NoticeConfirm
		case err != nil:
			return err
		case sub.Status == StatusConfirmed:
			res.Subscriber = sub
			if sub.ConfirmSentAt == nil || now.Sub(*sub.ConfirmSentAt) >= resendAfter {
				res.Notice = NoticeSubscribed
			}
			return s.claimNotice(ctx, tx, &res, sub.ID, addr, m, now)
		case sub.Status == StatusPending:
			id = sub.ID
			if name == "" {
				name = sub.Name
			}
			if sub.ConfirmSentAt == nil || now.Sub(*sub.ConfirmSentAt) >= resendAfter {
				res.Notice = NoticeConfirm
			}
			detail += "; again while pending"
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET name = ? WHERE id = ?`, name, id); err != nil {
				return fmt.Errorf("update subscriber: %w", err)
			}
		default: // unsubscribed, bounced, complained: their own new request
			id = sub.ID
			if name == "" {
				name = sub.Name
			}
			res.Notice = NoticeConfirm
			renew = true
			detail += "; was " + string(sub.Status)
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET name = ?, status = 'pending', confirmed_at = NULL,
				unsubscribed_at = NULL, confirm_sent_at = NULL, bounce_count = 0 WHERE id = ?`, name, id); err != nil {
				return fmt.Errorf("update subscriber: %w", err)
			}
		}
		if err := setDigests(ctx, tx, id, digests); err != nil {
			return err
		}
		if m.TimeZone != "" {
			detail += "; time zone " + m.TimeZone
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET timezone = ? WHERE id = ?`, m.TimeZone, id); err != nil {
				return fmt.Errorf("update subscriber: %w", err)
			}
		}
		if err := addEvent(ctx, tx, id, EventSubscribed, now, m, detail); err != nil {
			return err
		}
		if confirmNow {
			res.Notice = NoticeWelcome
			renew = renew || sub != nil // a confirmation link may be out
			if err := confirm(ctx, tx, id, now, m, "double opt-in off"); err != nil {
				return err
			}
		}
		if renew {
			if err := renewNonce(ctx, tx, id, sub.Nonce); err != nil {
				return err
			}
		}
		if err := s.claimNotice(ctx, tx, &res, id, addr, m, now); err != nil {
			return err
		}
		res.Subscriber, err = s.getSubscriber(ctx, tx, `s.id = ?`, id)
		return err
	})
	if err != nil {
		return SignUpResult{}, fmt.Errorf("sign up: %w", err)
	}
	return res, nil
}

// claimNotice takes the resend window and the caps for res.Notice, in
// the sign-up's transaction, so that two requests at the same moment ask
// for one mail, not two. Over a cap the notice is dropped.
func (s *Store) claimNotice(ctx context.Context, tx *sql.Tx, res *SignUpResult, id int64, addr string, m Meta, now time.Time) error {
	if res.Notice == "" {
		return nil
	}
	ok, err := underCaps(ctx, tx, s.caps, addr, m.IP, now)
	if err != nil {
		return err
	}
	if !ok {
		res.Notice = ""
		return addEvent(ctx, tx, id, EventConfirmationSent, now, m, "not sent: over the sign-up mail caps")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET confirm_sent_at = ? WHERE id = ?`, now.UnixNano(), id); err != nil {
		return fmt.Errorf("record notice: %w", err)
	}
	return addEvent(ctx, tx, id, EventConfirmationSent, now, m, res.Notice+" mail queued")
}

func confirm(ctx context.Context, tx *sql.Tx, id int64, now time.Time, m Meta, detail string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = 'confirmed', confirmed_at = ?, unsubscribed_at = NULL
		WHERE id = ?`, now.UnixNano(), id); err != nil {
		return fmt.Errorf("confirm subscriber: %w", err)
	}
	return addEvent(ctx, tx, id, EventConfirmed, now, m, detail)
}

// Confirm makes a pending subscriber confirmed, on a confirmation link
// made with nonce (the Subscriber.Nonce the link was checked against). It
// renews the nonce, so that the link works once: a nonce that is no longer
// the subscriber's (the link was used, or the person signed up anew since)
// gives ErrTokenInvalid and changes nothing. A subscriber confirmed
// another way since is left as it is; one that left, bounced or complained
// gives ErrNotPending (it must sign up again), an unknown id ErrNotFound.
func (s *Store) Confirm(ctx context.Context, id int64, nonce uint64, m Meta) (*Subscriber, error) {
	return s.change(ctx, "confirm", id, func(tx *sql.Tx, sub *Subscriber, now time.Time) error {
		if sub.Nonce != nonce {
			return ErrTokenInvalid
		}
		switch sub.Status {
		case StatusConfirmed:
			return nil
		case StatusPending:
			if err := renewNonce(ctx, tx, id, sub.Nonce); err != nil {
				return err
			}
			return confirm(ctx, tx, id, now, m, "")
		}
		return ErrNotPending
	})
}

// Unsubscribe stops all mail to a subscriber, whatever its status.
// Unsubscribing again changes nothing and records nothing.
func (s *Store) Unsubscribe(ctx context.Context, id int64, m Meta) (*Subscriber, error) {
	return s.change(ctx, "unsubscribe", id, func(tx *sql.Tx, sub *Subscriber, now time.Time) error {
		if sub.Status == StatusUnsubscribed {
			return nil
		}
		return unsubscribe(ctx, tx, id, now, m, "was "+string(sub.Status))
	})
}

func unsubscribe(ctx context.Context, tx *sql.Tx, id int64, now time.Time, m Meta, detail string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = ? WHERE id = ?`,
		now.UnixNano(), id); err != nil {
		return fmt.Errorf("unsubscribe: %w", err)
	}
	return addEvent(ctx, tx, id, EventUnsubscribed, now, m, detail)
}

// SetPreferences sets the name (empty clears it) and digests a subscriber
// chose on the preferences page. Choosing no digest at all unsubscribes.
// Choosing digests after leaving (or bouncing, or complaining) brings the
// subscriber back as confirmed: the page is reached only through a link
// mailed to the address, which is the proof a confirmation asks for. Bad
// input gives a *FieldError.
func (s *Store) SetPreferences(ctx context.Context, id int64, name string, digests []string, m Meta) (*Subscriber, error) {
	name, err := validateName(name)
	if err != nil {
		return nil, err
	}
	if digests, err = s.checkDigests(digests, false); err != nil {
		return nil, err
	}
	return s.change(ctx, "set preferences", id, func(tx *sql.Tx, sub *Subscriber, now time.Time) error {
		var changes []string
		if name != sub.Name {
			changes = append(changes, fmt.Sprintf("name %q -> %q", sub.Name, name))
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET name = ? WHERE id = ?`, name, id); err != nil {
				return fmt.Errorf("update subscriber: %w", err)
			}
		}
		if !slices.Equal(digests, sub.Digests) {
			changes = append(changes, fmt.Sprintf("digests %s -> %s", digestList(sub.Digests), digestList(digests)))
			if err := setDigests(ctx, tx, id, digests); err != nil {
				return err
			}
		}
		if len(changes) > 0 {
			if err := addEvent(ctx, tx, id, EventPreferences, now, m, strings.Join(changes, "; ")); err != nil {
				return err
			}
		}
		switch {
		case len(digests) == 0 && sub.Status != StatusUnsubscribed:
			return unsubscribe(ctx, tx, id, now, m, "no digest chosen")
		case len(digests) > 0 && sub.Status != StatusPending && sub.Status != StatusConfirmed:
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET bounce_count = 0 WHERE id = ?`, id); err != nil {
				return fmt.Errorf("update subscriber: %w", err)
			}
			return confirm(ctx, tx, id, now, m, "came back on the preferences page, was "+string(sub.Status))
		}
		return nil
	})
}

// SetTimeZone sets subscriber id's time zone (an IANA name, "" for the
// site's zone), from the preferences page (m.Route "link") or an
// operator. A name ParseTimeZone refuses gives a *FieldError for
// "timezone" and changes nothing; the same zone again records nothing.
func (s *Store) SetTimeZone(ctx context.Context, id int64, zone string, m Meta) (*Subscriber, error) {
	zone, err := ParseTimeZone(zone)
	if err != nil {
		return nil, err
	}
	return s.change(ctx, "set time zone", id, func(tx *sql.Tx, sub *Subscriber, now time.Time) error {
		if zone == sub.TimeZone {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET timezone = ? WHERE id = ?`, zone, id); err != nil {
			return fmt.Errorf("update subscriber: %w", err)
		}
		kind := EventUpdated
		if m.Route == "link" {
			kind = EventPreferences
		}
		return addEvent(ctx, tx, id, kind, now, m, fmt.Sprintf("time zone %q -> %q", sub.TimeZone, zone))
	})
}

// change runs fn on the current state of subscriber id in one transaction
// and returns the subscriber as fn left it.
func (s *Store) change(ctx context.Context, what string, id int64, fn func(tx *sql.Tx, sub *Subscriber, now time.Time) error) (*Subscriber, error) {
	var out *Subscriber
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		sub, err := s.getSubscriber(ctx, tx, `s.id = ?`, id)
		if err != nil {
			return err
		}
		if err := fn(tx, sub, s.now()); err != nil {
			return err
		}
		out, err = s.getSubscriber(ctx, tx, `s.id = ?`, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
