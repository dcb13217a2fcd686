package main

import (
	"context"
	"log/slog"
	netmail "net/mail"
	"time"

	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// newTransport returns the SMTP transport, or the outbox of .eml files
// when no SMTP host is configured (the embedded default).
func newTransport(cfg Config, logger *slog.Logger) (transport.Transport, error) {
	var dkim *transport.DKIM
	if cfg.DKIM.Domain != "" {
		var err error
		if dkim, err = transport.LoadDKIM(cfg.DKIM.Domain, cfg.DKIM.Selector, cfg.DKIM.KeyFile); err != nil {
			return nil, err
		}
	}
	if cfg.SMTP.Host == "" {
		return &transport.Outbox{Dir: cfg.SMTP.OutboxDir, DKIM: dkim, Now: time.Now}, nil
	}
	return transport.NewSMTP(transport.SMTPConfig{
		Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
		TLS: cfg.SMTP.TLS, Connections: cfg.SMTP.Connections, Rate: cfg.SMTP.Rate, DKIM: dkim, Logger: logger,
		Timeout: cfg.SMTP.Timeout.Duration,
	})
}

// subscriberMailer sends the subscribers package's mail through the
// transport, from the site's address.
type subscriberMailer struct {
	transport transport.Transport
	from      netmail.Address
}

var _ subscribers.Mailer = (*subscriberMailer)(nil)

func (m *subscriberMailer) Send(ctx context.Context, sm subscribers.Mail) error {
	return m.transport.Send(ctx, &transport.Message{
		From:    m.from,
		To:      netmail.Address{Name: sm.ToName, Address: sm.ToEmail},
		Subject: sm.Subject,
		Text:    sm.Text,
		HTML:    sm.HTML,
		Date:    time.Now(),
	})
}
