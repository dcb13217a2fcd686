package mail

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tidings/tidings/mail/inbound"
	"github.com/tidings/tidings/subscribers"
)

// Returns are what the mail that comes back to tidings may change, and
// how its tokens are checked: *subscribers.Store and *subscribers.Tokens
// with the store's nonces provide them.
type Returns interface {
	RecordBounce(ctx context.Context, id int64, permanent bool, detail string, bounceLimit int) error
	RecordSoftBounce(ctx context.Context, id int64, streak, limit int, detail string) error
	RecordComplaint(ctx context.Context, id int64, detail string) error
	Unsubscribe(ctx context.Context, id int64, m subscribers.Meta) (*subscribers.Subscriber, error)
	TokenNonce(ctx context.Context, id int64) (uint64, error)
}

// AddressTokens checks the tokens in bounces+TOKEN@ and unsubscribe+TOKEN@;
// *subscribers.Tokens is one.
type AddressTokens interface {
	CheckAddress(p subscribers.Purpose, token string, nonceOf subscribers.NonceFunc) (int64, error)
}

// Heard is what one inbound message did.
type Heard struct {
	Kind inbound.Kind
	// Delivery is the delivery it was matched to, 0 for none; for a
	// mailto unsubscribe, the latest one sent to the reader.
	Delivery   int64
	Subscriber int64 // whom it changed or would have, 0 for none
	// Action says what was done, for the log and the operator:
	// "bounced", "soft bounce counted", "complained", "unsubscribed",
	// "already recorded", "ignored", "unmatched".
	Action string
	Reason string
	// Paused is the reputation guard's reason when this return paused
	// the delivery's edition.
	Paused string
}

// Hear acts on a classified inbound message. A bounce or a complaint is
// matched to the delivery it is about by the VERP token of the address
// it came back to (checked with tokens), else by the returned original's
// Message-ID; an unsubscribe request by its signed unsubscribe+TOKEN@
// address. Nothing changes without one of them: a report about mail
// tidings never sent, or a forged token, is unmatched. Each delivery
// takes one return: the same report twice counts once. Auto-replies,
// delay and success reports are ignored.
func (l *Ledger) Hear(ctx context.Context, res inbound.Result, r Returns, tokens AddressTokens, lim BounceLimits) (Heard, error) {
	h := Heard{Kind: res.Kind, Reason: res.Reason}
	switch res.Kind {
	case inbound.KindUnsubscribe:
		id, ok := l.addressToken(ctx, res.To, "unsubscribe", subscribers.PurposeUnsubscribe, tokens, r.TokenNonce)
		route := "mailto"
		if !ok && res.Verified {
			// A provider's signed report names the delivery, as for a
			// bounce; the reader asked the provider to stop.
			d, err := l.returnedDelivery(ctx, res, r, tokens)
			if err != nil {
				return h, err
			}
			if d != nil {
				id, ok, route = d.SubscriberID, true, res.Provider
			}
		}
		if !ok {
			h.Action, h.Reason = "unmatched", "no valid unsubscribe+TOKEN@ address: "+res.Reason
			if res.Verified {
				h.Reason = "names no delivery tidings made (no valid bounces+TOKEN@, no known Message-ID): " + res.Reason
			}
			return h, nil
		}
		h.Subscriber = id
		if _, err := r.Unsubscribe(ctx, id, subscribers.Meta{Route: route}); err != nil {
			return h, fmt.Errorf("unsubscribe by mail: %w", err)
		}
		var err error
		if h.Delivery, err = l.markUnsubscribed(ctx, id); err != nil {
			return h, err
		}
		h.Action = "unsubscribed"
		return h, nil
	case inbound.KindBounce, inbound.KindComplaint:
	default:
		h.Action = "ignored"
		return h, nil
	}

	d, err := l.returnedDelivery(ctx, res, r, tokens)
	if err != nil {
		return h, err
	}
	if d == nil {
		h.Action, h.Reason = "unmatched", "names no delivery tidings made (no valid bounces+TOKEN@, no known Message-ID): "+res.Reason
		return h, nil
	}
	h.Delivery, h.Subscriber = d.ID, d.SubscriberID
	mark := "soft"
	switch {
	case res.Kind == inbound.KindComplaint:
		mark = "complaint"
	case res.Permanent:
		mark = "bounce"
	}
	first, err := l.markReturned(ctx, d.ID, mark, res)
	if err != nil {
		return h, err
	}
	if !first {
		h.Action = "already recorded"
		return h, nil
	}
	detail := strings.TrimSpace(res.Provider + " " + res.Status + " " + res.Diagnostic)
	switch {
	case res.Kind == inbound.KindComplaint:
		err, h.Action = r.RecordComplaint(ctx, d.SubscriberID, detail), "complained"
	case res.Permanent:
		err, h.Action = r.RecordBounce(ctx, d.SubscriberID, true, detail, lim.Hard), "bounced"
	default:
		var streak int
		if streak, err = l.softStreak(ctx, d, lim.SoftWindow); err == nil {
			err, h.Action = r.RecordSoftBounce(ctx, d.SubscriberID, streak, lim.Soft, detail), "soft bounce counted"
		}
	}
	if errors.Is(err, subscribers.ErrNotFound) {
		h.Action = "subscriber erased"
	} else if err != nil {
		return h, err
	}
	if d.EditionID != 0 && mark != "soft" {
		if h.Paused, err = l.guard(ctx, d.EditionID); err != nil {
			return h, err
		}
	}
	return h, nil
}

// BounceLimits say when returns stop the mail to an address: Hard hard
// bounces, or Soft soft bounces in a row within SoftWindow.
type BounceLimits struct {
	Hard, Soft int
	SoftWindow time.Duration
}

// softStreak counts the soft bounces in a row that end with delivery d:
// the subscriber's sent deliveries up to d's, newest first, within
// window of it, while each came back soft. One that came through (no
// return) ends the streak: the address took mail between them.
func (l *Ledger) softStreak(ctx context.Context, d *Delivery, window time.Duration) (int, error) {
	var at int64
	if err := l.DB.Read.QueryRowContext(ctx, `SELECT COALESCE(sent_at, updated_at) FROM deliveries WHERE id = ?`, d.ID).Scan(&at); err != nil {
		return 0, fmt.Errorf("soft bounce streak: %w", err)
	}
	rows, err := l.DB.Read.QueryContext(ctx, `SELECT returned FROM deliveries WHERE subscriber_id = ? AND state = 'sent'
		AND sent_at <= ? AND sent_at >= ? ORDER BY sent_at DESC, id DESC`, d.SubscriberID, at, at-window.Nanoseconds())
	if err != nil {
		return 0, fmt.Errorf("soft bounce streak: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return 0, fmt.Errorf("soft bounce streak: %w", err)
		}
		if r != "soft" {
			break
		}
		n++
	}
	return max(n, 1), rows.Err()
}

// addressToken finds local+TOKEN@ among addrs and checks it.
func (l *Ledger) addressToken(ctx context.Context, addrs []string, local string, p subscribers.Purpose, tokens AddressTokens,
	nonce func(context.Context, int64) (uint64, error)) (int64, bool) {
	if tokens == nil {
		return 0, false
	}
	for _, a := range addrs {
		lp, _, ok := strings.Cut(a, "@")
		tok, found := strings.CutPrefix(strings.ToLower(lp), local+"+")
		if !ok || !found {
			continue
		}
		id, err := tokens.CheckAddress(p, tok, func(id int64) (uint64, error) { return nonce(ctx, id) })
		if err == nil {
			return id, true
		}
	}
	return 0, false
}

// returnedDelivery is the delivery a bounce or complaint is about: by
// the VERP token (the token names the delivery and is bound to its
// subscriber's nonce), else by the original's Message-ID.
func (l *Ledger) returnedDelivery(ctx context.Context, res inbound.Result, r Returns, tokens AddressTokens) (*Delivery, error) {
	byID := func(q string, arg any) (*Delivery, error) {
		d, err := scanDelivery(l.DB.Read.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE `+q, arg))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("find returned delivery: %w", err)
		}
		return &d, nil
	}
	// The nonce a return token binds is its delivery's subscriber's.
	nonce := func(ctx context.Context, deliveryID int64) (uint64, error) {
		d, err := byID("id = ?", deliveryID)
		if err != nil {
			return 0, err
		}
		if d == nil {
			return 0, subscribers.ErrNotFound
		}
		return r.TokenNonce(ctx, d.SubscriberID)
	}
	if id, ok := l.addressToken(ctx, res.To, "bounces", subscribers.PurposeReturn, tokens, nonce); ok {
		return byID("id = ?", id)
	}
	if local := storedMessageID(res.MessageID); local != "" {
		if d, err := byID("message_id = ?", local); d != nil || err != nil { // as planning stores it
			return d, err
		}
	}
	if res.MessageID != "" {
		return byID("message_id = ?", res.MessageID)
	}
	return nil, nil
}

// markReturned records on delivery id that it came back (a bounce or a
// complaint) and reports whether this was the first return recorded.
func (l *Ledger) markReturned(ctx context.Context, id int64, kind string, res inbound.Result) (bool, error) {
	now := l.now().UnixNano()
	detail := clipReply(strings.TrimSpace(res.Status + " " + res.Diagnostic))
	r, err := l.DB.Write.ExecContext(ctx, `UPDATE deliveries SET returned = ?, returned_at = ?, last_reply = CASE WHEN ? != '' THEN ? ELSE last_reply END
		WHERE id = ? AND returned = ''`, kind, now, detail, detail, id)
	if err != nil {
		return false, fmt.Errorf("record return: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record return: %w", err)
	}
	return n == 1, nil
}
