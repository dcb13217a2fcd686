package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/tidings/tidings/mail"
	"github.com/tidings/tidings/mail/inbound"
)

func inboundProcessCommand() *command {
	var to string
	return &command{
		name:    "inbound process",
		args:    "[FILE|-]",
		summary: "act on one message that came back: a bounce, a complaint or a mailto unsubscribe",
		detail: "Reads one raw message (a file, or standard input for a Postfix pipe, procmail or .forward) and\n" +
			"acts on it: a bounce or complaint to bounces+TOKEN@ (or naming a Message-ID tidings sent) is counted\n" +
			"against its subscriber once, a mail to a signed unsubscribe+TOKEN@ address unsubscribes. Auto-replies,\n" +
			"delay reports and mail that matches nothing change nobody. Exit 0 when handled or deliberately ignored,\n" +
			"75 (EX_TEMPFAIL) when the database could not take it, so that the MTA tries again.",
		example: "tidings inbound process --to \"$RECIPIENT\" -   (Postfix: pipe flags=Rq user=tidings argv=/usr/local/bin/tidings inbound process --to ${recipient} -)",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&to, "to", "", "the envelope recipient, when the MTA passes it (bounces+TOKEN@ or unsubscribe+TOKEN@)")
		},
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			if fs.NArg() > 1 {
				return errUsage
			}
			var r io.Reader = os.Stdin
			name := "standard input"
			if fs.NArg() == 1 && fs.Arg(0) != "-" {
				f, err := os.Open(fs.Arg(0))
				if err != nil {
					return err // a file that is not there: nothing to retry
				}
				defer f.Close()
				r, name = f, fs.Arg(0)
			}
			app, err := e.openApp(ctx)
			if err != nil {
				fmt.Fprintf(e.stderr, "tidings inbound process: %v\n", err)
				return errPending
			}
			defer app.Close()
			var envelope []string
			if to != "" {
				envelope = []string{to}
			}
			h, err := app.hear(ctx, bufio.NewReader(r), envelope, "pipe")
			if err != nil {
				fmt.Fprintf(e.stderr, "tidings inbound process: %s: %v\n", name, err)
				return errPending
			}
			fmt.Fprintf(e.stdout, "%s: %s: %s\n", name, h.Kind, h.Action)
			return nil
		},
	}
}

// hear classifies one raw message that came in by source ("pipe",
// "smtp", "imap") and acts on it. A message that can never be read (too
// large, too complex, not mail) is taken and ignored, said so: retrying
// would not change it. The error is for what a retry may cure: reading
// the input, the database.
func (a *App) hear(ctx context.Context, r io.Reader, envelope []string, source string) (mail.Heard, error) {
	res, err := inbound.Classify(r, inbound.Options{Envelope: envelope, MaxBytes: a.Config.Inbound.MaxBytes})
	if errors.Is(err, inbound.ErrTooLarge) || errors.Is(err, inbound.ErrTooComplex) || errors.Is(err, inbound.ErrMalformed) {
		a.Logger.Warn("inbound message ignored", "component", "inbound", "source", source, "error", err)
		return mail.Heard{Kind: inbound.KindUnmatched, Action: "ignored", Reason: err.Error()}, nil
	}
	if err != nil {
		return mail.Heard{}, fmt.Errorf("read: %w", err)
	}
	return a.act(ctx, res, source)
}

// act does what one classified inbound message calls for, whichever way
// it came in (source: "pipe", "smtp", "imap", or a webhook's provider),
// and logs it. Every way in ends here.
func (a *App) act(ctx context.Context, res inbound.Result, source string) (mail.Heard, error) {
	log := a.Logger.With("component", "inbound", "source", source)
	c := a.Config.Subscribers
	h, err := a.Ledger.Hear(ctx, res, a.Subscribers, a.Tokens,
		mail.BounceLimits{Hard: c.BounceLimit, Soft: c.SoftBounceLimit, SoftWindow: c.SoftBounceWindow.Duration})
	if err != nil {
		log.Error("inbound message not recorded; it will come again", "kind", res.Kind, "error", err)
		return h, err
	}
	level := slog.LevelInfo
	if h.Action == "unmatched" {
		level = slog.LevelWarn
	}
	log.Log(ctx, level, "inbound message", "kind", h.Kind, "action", h.Action, "delivery", h.Delivery,
		"subscriber", h.Subscriber, "provider", res.Provider, "status", res.Status, "reason", h.Reason)
	return h, nil
}
