package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"sort"
	"strings"

	"github.com/tidings/tidings/internal/pass"
	"github.com/tidings/tidings/mail"
	"github.com/tidings/tidings/mail/transport"
	"github.com/tidings/tidings/subscribers"
)

// digestNamed returns the configured digest, or an error listing them.
func (a *App) digestNamed(name string) (mail.Digest, error) {
	d, ok := a.Digests[name]
	if !ok {
		var names []string
		for n := range a.Digests {
			names = append(names, n)
		}
		sort.Strings(names)
		return d, fmt.Errorf("no digest is named %q; the config has: %s", name, strings.Join(names, ", "))
	}
	return d, nil
}

// digestCommand is the shape digest subcommands share.
func digestCommand(name, summary, detail, example string, flags func(*flag.FlagSet),
	do func(ctx context.Context, e *env, app *App, d mail.Digest) error) *command {
	return &command{
		name: "digest " + name, args: "NAME", summary: summary, detail: detail, example: example, flags: flags,
		nargs: 1,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			d, err := app.digestNamed(fs.Arg(0))
			if err != nil {
				return err
			}
			return do(ctx, e, app, d)
		},
	}
}

func digestPreviewCommand() *command {
	var subscriber, format string
	return digestCommand("preview", "render the next edition without creating it",
		"Prints the message the next edition would be, as a sample reader (or --subscriber) would get it.",
		"tidings digest preview daily --format html > preview.html",
		func(fs *flag.FlagSet) {
			fs.StringVar(&subscriber, "subscriber", "", "render as this subscriber gets it")
			fs.StringVar(&format, "format", "text", "text | html | eml")
		},
		func(ctx context.Context, e *env, app *App, d mail.Digest) error {
			if format != "text" && format != "html" && format != "eml" {
				return fmt.Errorf("--format %q: want text, html or eml", format)
			}
			ed, err := app.Ledger.Next(ctx, d)
			if err != nil {
				return err
			}
			if ed == nil {
				// Nothing new: show the empty edition the layout would make,
				// so that templates can be checked any day.
				fmt.Fprintf(e.stderr, "digest %s: no new articles since the last edition, so nothing would be sent (skip_empty); this is how an empty edition looks\n", d.Name)
				d.SkipEmpty = false
				if ed, err = app.Ledger.Next(ctx, d); err != nil {
					return err
				}
			}
			var s *subscribers.Subscriber
			if subscriber != "" {
				if s, err = app.Subscribers.GetByEmail(ctx, subscriber); err != nil {
					return err
				}
			}
			msg, err := app.Renderer.Preview(ed, s)
			if err != nil {
				return err
			}
			return printMessage(e, msg, format)
		})
}

func digestSendCommand() *command {
	var dryRun, wait, queue bool
	return digestCommand("send", "plan an edition now and send it",
		"Freezes the articles no earlier edition carried into a new edition, queues one delivery per confirmed\n"+
			"subscriber, and sends them (and any other due delivery). Interrupted, it stops taking new work, records\n"+
			"what was in flight and exits; run it again, or let serve or run finish the edition. The exit status is 1\n"+
			"when a delivery failed for good, 75 when deliveries are left for a later try (without --wait).\n"+
			"With --queue it plans and queues only, and the running tidings serve instances send: at once on\n"+
			"PostgreSQL (they are told), within 30 seconds on SQLite.",
		"tidings digest send daily",
		func(fs *flag.FlagSet) {
			fs.BoolVar(&dryRun, "dry-run", false, "say what would be sent, create and send nothing")
			fs.BoolVar(&wait, "wait", false, "stay until every delivery is sent or failed, retries included")
			fs.BoolVar(&queue, "queue", false, "plan and queue the edition; leave the sending to tidings serve")
		},
		func(ctx context.Context, e *env, app *App, d mail.Digest) error {
			if dryRun {
				ed, err := app.Ledger.Next(ctx, d)
				if err != nil {
					return err
				}
				subs, err := app.Subscribers.ConfirmedFor(ctx, d.Name)
				if err != nil {
					return err
				}
				if ed == nil {
					fmt.Fprintf(e.stdout, "digest %s: no new articles; nothing would be sent\n", d.Name)
					return nil
				}
				fmt.Fprintf(e.stdout, "digest %s: would send %q (%s) to %s\n", d.Name, ed.Subject, plural(ed.ArticleCount, "article"), plural(len(subs), "subscriber"))
				return nil
			}
			ed, created, err := app.Ledger.Plan(ctx, d, app.Now())
			if err != nil {
				return err
			}
			if ed == nil {
				fmt.Fprintf(e.stdout, "digest %s: no new articles; no edition\n", d.Name)
			} else if created {
				fmt.Fprintf(e.stdout, "digest %s: edition %d, %q, %s\n", d.Name, ed.ID, ed.Subject, plural(ed.ArticleCount, "article"))
				if err := app.DB.Notify(ctx, pass.MailChannel, app.Instance); err != nil {
					app.Logger.Warn("serve instances not told of the edition; they find it within 30 seconds", slog.Any("error", err))
				}
			}
			if queue {
				return nil
			}
			return app.sendDue(ctx, e.stdout, "", wait)
		})
}

func digestTestCommand() *command {
	var to string
	return digestCommand("test", "send one copy of the next edition to an address, outside the ledger",
		"For checking how the digest looks in a real mail client. Nothing is recorded; subscribers get nothing.",
		"tidings digest test daily --to me@example.org",
		func(fs *flag.FlagSet) {
			fs.StringVar(&to, "to", "", "the address to send the test copy to (required)")
		},
		func(ctx context.Context, e *env, app *App, d mail.Digest) error {
			addr, err := netmail.ParseAddress(to)
			if to == "" || err != nil {
				return errors.Join(errUsage, fmt.Errorf("--to %q: want an address", to))
			}
			if err := app.testSend(ctx, d, addr); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "sent a test copy of %s to %s\n", d.Name, addr.Address)
			return nil
		})
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return "localhost"
}

// printMessage writes a previewed message as its text part, its HTML part
// or the whole .eml.
func printMessage(e *env, msg *transport.Message, format string) error {
	switch format {
	case "html":
		fmt.Fprint(e.stdout, msg.HTML)
	case "eml":
		msg.MessageID = transport.NewMessageID(domainOf(msg.From.Address))
		raw, err := msg.Bytes(nil)
		if err != nil {
			return err
		}
		e.stdout.Write(raw)
	default:
		fmt.Fprintf(e.stdout, "Subject: %s\n\n%s", msg.Subject, msg.Text)
	}
	return nil
}
