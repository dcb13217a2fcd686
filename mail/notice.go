package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/mail"
	"time"

	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// Notices composes the mail to one subscriber that belongs to no edition
// (a confirmation link, a welcome); *subscribers.Notices satisfies it.
type Notices interface {
	// ComposeNotice returns the notice of kind for subscriber id as it
	// reads now, or nil when it is no longer to be sent (a confirmation
	// for someone who confirmed, left or was erased meanwhile).
	ComposeNotice(ctx context.Context, kind string, id int64) (*subscribers.Mail, error)
}

// QueueNotice queues a notice of kind to subscriber id at email, sent by
// the sender like every other delivery: off the request that asked for
// it, retried when the server is busy, recorded. It returns the
// delivery's id. domain names the Message-ID.
func (l *Ledger) QueueNotice(ctx context.Context, kind string, subscriberID int64, email, domain string) (int64, error) {
	if kind == KindEdition || kind == "" {
		return 0, fmt.Errorf("queue notice: %q is not a notice", kind)
	}
	var rnd [8]byte
	rand.Read(rnd[:]) // never fails (crypto/rand)
	now := l.now().UnixNano()
	var id int64
	err := l.DB.Write.QueryRowContext(ctx, `INSERT INTO deliveries (kind, subscriber_id, email, state, attempts,
		next_attempt_at, message_id, updated_at) VALUES (?, ?, ?, 'queued', 0, ?, ?, ?) RETURNING id`,
		kind, subscriberID, email, now, fmt.Sprintf("<n.%s.s%d.%s@%s>", kind, subscriberID, hex.EncodeToString(rnd[:]), domain), now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("queue %s notice: %w", kind, err)
	}
	return id, nil
}

// noticeMessage turns a composed notice into the message sent: from the
// site's address, marked as mail no one should answer automatically.
func noticeMessage(n *subscribers.Mail, from mail.Address, at time.Time) *transport.Message {
	return &transport.Message{
		From:    from,
		To:      mail.Address{Name: n.ToName, Address: n.ToEmail},
		Subject: n.Subject,
		Text:    n.Text,
		HTML:    n.HTML,
		Date:    at,
		// RFC 3834: an out-of-office reply to a confirmation would only
		// bounce around.
		Headers: [][2]string{{"Auto-Submitted", "auto-generated"}},
	}
}
