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
	"strconv"
	"text/tabwriter"

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
		h := mail.Heard{Kind: inbound.KindUnmatched, Action: "ignored", Reason: err.Error()}
		return h, a.record(ctx, source, inbound.Result{Kind: h.Kind, Reason: h.Reason}, h)
	}
	if err != nil {
		return mail.Heard{}, fmt.Errorf("read: %w", err)
	}
	return a.act(ctx, res, source)
}

// act does what one classified inbound message calls for, whichever way
// it came in (source: "pipe", "smtp", "imap", or a webhook's provider),
// and logs it, in the inbound log and in /metrics. Every way in ends
// here.
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
	return h, a.record(ctx, source, res, h)
}

// record writes what one inbound message did to the inbound log and
// counts it. An error is the database's: the caller leaves the message to
// come again, and Hear will find it already recorded.
func (a *App) record(ctx context.Context, source string, res inbound.Result, h mail.Heard) error {
	if err := a.Ledger.LogInbound(ctx, source, res, h, a.Config.Inbound.LogRetention.Duration); err != nil {
		a.Logger.Error("inbound message acted on but not logged; it will come again", "component", "inbound", "source", source, "error", err)
		return err
	}
	a.Metrics.Add("tidings_inbound_total", "Inbound messages this process took in, by the way they came, the parser that matched, their kind and what was done.",
		fmt.Sprintf("source=%q,provider=%q,kind=%q,action=%q", source, res.Provider, h.Kind, h.Action), 1)
	return nil
}

func inboundListCommand() *command {
	var unmatched bool
	var limit int
	return &command{
		name: "inbound list", summary: "list the mail that came back, newest first, and what tidings did with it",
		detail: "Every inbound message acted on, by any way in (pipe, smtp, imap, webhooks): its kind, what was done,\n" +
			"the delivery and subscriber it was matched to, the status code and the remote server's text. Entries\n" +
			"older than inbound.log_retention are pruned. --unmatched shows what matched no delivery or token,\n" +
			"or could not be read: mail to look at by hand.",
		example: "tidings inbound list --unmatched --limit 50",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&unmatched, "unmatched", false, "only what matched no delivery or token, or could not be classified")
			fs.IntVar(&limit, "limit", 50, "at most this many; 0 for all")
		},
		nargs: 0,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			if limit < 0 {
				return fmt.Errorf("--limit %d: must be 0 (all) or more", limit)
			}
			es, err := app.Ledger.InboundLog(ctx, unmatched, limit)
			if err != nil {
				return err
			}
			if len(es) == 0 {
				fmt.Fprintln(e.stdout, "nothing came in")
				return nil
			}
			loc := app.Config.Location()
			id := func(n int64) string {
				if n == 0 {
					return "-"
				}
				return strconv.FormatInt(n, 10)
			}
			dash := func(s string) string {
				if s == "" {
					return "-"
				}
				return s
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RECEIVED\tSOURCE\tKIND\tACTION\tRECIPIENT\tDELIVERY\tSUBSCRIBER\tSTATUS\tPROVIDER\tDETAIL")
			for _, x := range es {
				detail := x.Diagnostic
				if detail == "" {
					detail = x.Reason
				}
				if r := []rune(detail); len(r) > 80 {
					detail = string(r[:79]) + "…"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.At.In(loc).Format("2006-01-02 15:04:05"), x.Source, x.Kind,
					x.Action, dash(x.Recipient), id(x.Delivery), id(x.Subscriber), dash(x.Status), dash(x.Provider), dash(detail))
			}
			return tw.Flush()
		},
	}
}
