package main

import (
	"bytes"
	"context"
	"net"
	"strconv"

	"github.com/tidings/tidings/mail/inbound"
	"github.com/tidings/tidings/mail/inbound/mailbox"
)

// imapPoller is [inbound.imap]'s mailbox, each message heard as "imap":
// unmatched mail is kept there for a person, the rest filed away. nil
// when no host is set.
func (a *App) imapPoller() *mailbox.Poller {
	c := a.Config.Inbound.IMAP
	if c.Host == "" {
		return nil
	}
	return &mailbox.Poller{
		Addr: net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), TLS: c.TLS, Username: c.Username, Password: c.Password,
		Folder: c.Folder, ProcessedFolder: c.ProcessedFolder, MaxBytes: a.Config.Inbound.MaxBytes, Every: c.Every.Duration,
		Logger: a.Logger.With("component", "inbound", "source", "imap"),
		Handle: func(ctx context.Context, raw []byte) (mailbox.Verdict, error) {
			h, err := a.hear(ctx, bytes.NewReader(raw), nil, "imap")
			if err != nil {
				return mailbox.Kept, err
			}
			if h.Kind == inbound.KindUnmatched || h.Action == "unmatched" {
				return mailbox.Kept, nil
			}
			return mailbox.Handled, nil
		},
		Polled:     func(_ mailbox.Report, err error) { a.Metrics.Job("imap", err) },
		NoPassword: "set " + c.PasswordEnv + " (inbound.imap.password_env) to its password",
	}
}
