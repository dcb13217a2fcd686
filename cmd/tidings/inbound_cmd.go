package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

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
			opts := inbound.Options{}
			if to != "" {
				opts.Envelope = []string{to}
			}
			res, err := inbound.Classify(bufio.NewReader(r), opts)
			if errors.Is(err, inbound.ErrTooLarge) || errors.Is(err, inbound.ErrTooComplex) || errors.Is(err, inbound.ErrMalformed) {
				// Retrying will not change it: taken, and said why.
				fmt.Fprintf(e.stdout, "%s: ignored: %v\n", name, err)
				return nil
			}
			if err != nil {
				fmt.Fprintf(e.stderr, "tidings inbound process: read %s: %v\n", name, err)
				return errPending
			}
			app, err := e.openApp(ctx)
			if err != nil {
				fmt.Fprintf(e.stderr, "tidings inbound process: %v\n", err)
				return errPending
			}
			defer app.Close()
			h, err := app.Ledger.Hear(ctx, res, app.Subscribers, app.Tokens, app.Config.Subscribers.BounceLimit)
			if err != nil {
				app.Logger.Error("inbound message not recorded; the MTA will try again", "kind", res.Kind, "error", err)
				fmt.Fprintf(e.stderr, "tidings inbound process: %v\n", err)
				return errPending
			}
			app.Logger.Info("inbound message", "kind", h.Kind, "action", h.Action, "delivery", h.Delivery,
				"subscriber", h.Subscriber, "provider", res.Provider, "status", res.Status, "reason", h.Reason)
			fmt.Fprintf(e.stdout, "%s: %s: %s\n", name, h.Kind, h.Action)
			return nil
		},
	}
}
