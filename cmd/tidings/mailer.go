package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// newTransport returns the SMTP transport, or the outbox of .eml files
// when no SMTP host is configured (the embedded default).
func newTransport(cfg Config, logger *slog.Logger) (transport.Transport, error) {
	dkim, err := loadDKIM(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.SMTP.Host == "" {
		return &transport.Outbox{Dir: cfg.SMTP.OutboxDir, DKIM: dkim, Now: time.Now, Logger: logger}, nil
	}
	return transport.NewSMTP(transport.SMTPConfig{
		Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
		TLS: cfg.SMTP.TLS, Connections: cfg.SMTP.Connections, Rate: cfg.SMTP.Rate, DKIM: dkim, Logger: logger,
		Timeout: cfg.SMTP.Timeout.Duration,
	})
}

// loadDKIM reads the [dkim] keys; nil when none is configured.
func loadDKIM(cfg Config) (*transport.DKIM, error) {
	if cfg.DKIM.Domain == "" {
		return nil, nil
	}
	dkim, err := transport.LoadDKIM(cfg.DKIM.Domain, cfg.DKIM.Selector, cfg.DKIM.KeyFile)
	if err != nil {
		return nil, err
	}
	if cfg.DKIM.SecondKeyFile != "" {
		if err := dkim.LoadKey(cfg.DKIM.SecondSelector, cfg.DKIM.SecondKeyFile); err != nil {
			return nil, err
		}
	}
	return dkim, nil
}

// noticeQueue puts the mail the subscribers package asks for into the
// ledger, and wakes serve's sender so that it goes within moments.
type noticeQueue struct{ app *App }

var _ subscribers.Mailer = (*noticeQueue)(nil)

func (q *noticeQueue) Queue(ctx context.Context, kind string, id int64, email string) error {
	if _, err := q.app.Ledger.QueueNotice(ctx, kind, id, email, domainOf(q.app.Config.Site.Email)); err != nil {
		return err
	}
	select {
	case q.app.wakeSender <- struct{}{}:
	default:
	}
	return nil
}
