package main

import (
	"context"
	"time"

	"github.com/tidings/tidings/mail/inbound"
	"github.com/tidings/tidings/mail/inbound/webhook"
)

// webhooks is the handler of /webhooks/{provider}: each verified event
// is acted on as mail that came back is, its provider named as its
// source.
func (a *App) webhooks() (*webhook.Handler, error) {
	w := a.Config.Inbound.Webhooks
	return webhook.New(webhook.Options{
		MaxBytes: w.MaxBytes,
		MaxAge:   w.MaxAge.Duration,
		SES:      webhook.SES{TopicARNs: w.SESTopicARNs, Client: a.SNSClient},
		Postmark: webhook.Postmark{Username: w.PostmarkUsername, Password: w.PostmarkPassword},
		Mailgun:  webhook.Mailgun{SigningKey: w.MailgunSigningKey},
		SendGrid: webhook.SendGrid{PublicKey: w.SendGridPublicKey},
		Handle: func(ctx context.Context, res inbound.Result) error {
			_, err := a.act(ctx, res, res.Provider)
			return err
		},
		Logger: a.Logger.With("component", "webhooks"),
		Now:    func() time.Time { return a.Now() },
	})
}
