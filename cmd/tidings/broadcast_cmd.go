package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	netmail "net/mail"
	"os"
	"time"

	"github.com/tidings/tidings/feed/content"
	"github.com/tidings/tidings/mail"
	"github.com/tidings/tidings/subscribers"
)

// readBroadcast reads and renders the broadcast file at path.
func (a *App) readBroadcast(path string) (mail.Broadcast, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return mail.Broadcast{}, err
	}
	if int64(len(data)) > a.Config.Content.MaxBytes {
		return mail.Broadcast{}, fmt.Errorf("%s: %d bytes, content.max_bytes is %d", path, len(data), a.Config.Content.MaxBytes)
	}
	r, err := content.NewRenderer(a.Config.Site.BaseURL)
	if err != nil {
		return mail.Broadcast{}, err
	}
	return mail.ParseBroadcast(path, data, r)
}

// broadcastEdition is the edition b would be, not stored: for preview
// and test.
func broadcastEdition(b mail.Broadcast, d mail.Digest, now time.Time) *mail.Edition {
	return &mail.Edition{Digest: d.Name, Kind: mail.EditionBroadcast, Subject: b.Subject, BodyHTML: b.HTML, BodyText: b.Text,
		Preheader: b.Preheader, ScheduledAt: now, CreatedAt: now, State: mail.EditionSending}
}

func broadcastPreviewCommand() *command {
	var format string
	return &command{
		name: "broadcast preview", args: "FILE.md", summary: "render a one-off mail without sending it",
		detail: "FILE.md starts with front matter naming its subject (and a preheader):\n" +
			"  ---\n  subject: We are moving\n  preheader: A new address from May\n  ---\n" +
			"then Markdown. Prints the message a sample reader would get.",
		example: "tidings broadcast preview moving.md --format html > preview.html",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&format, "format", "text", "text | html | eml")
		},
		nargs: 1,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			if format != "text" && format != "html" && format != "eml" {
				return fmt.Errorf("--format %q: want text, html or eml", format)
			}
			b, err := app.readBroadcast(fs.Arg(0))
			if err != nil {
				return err
			}
			msg, err := app.Renderer.Preview(broadcastEdition(b, app.allDigest(), app.Now()), nil)
			if err != nil {
				return err
			}
			return printMessage(e, msg, format)
		},
	}
}

func broadcastSendCommand() *command {
	var digest, at string
	var all, dryRun, again, wait bool
	return &command{
		name: "broadcast send", args: "FILE.md", summary: "send a one-off mail to a digest's subscribers, or to all",
		detail: "Through the same ledger, headers, DKIM, archive and unsubscribe links as a digest. --at TIME\n" +
			"(RFC 3339, or 2006-01-02 15:04 in site.timezone) queues it for later; serve or run send it then.\n" +
			"A file is sent to one target once: a second send is refused unless --again.\n" +
			"The exit status is 75 when deliveries are left for later, as digest send's.",
		example: "tidings broadcast send moving.md --all\ntidings broadcast send offer.md --digest weekly --at \"2026-12-24 09:00\"",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&digest, "digest", "", "send to the confirmed subscribers of this `digest`")
			fs.BoolVar(&all, "all", false, "send to every confirmed subscriber")
			fs.StringVar(&at, "at", "", "send at this `time` instead of now")
			fs.BoolVar(&dryRun, "dry-run", false, "say what would be sent, send nothing")
			fs.BoolVar(&again, "again", false, "send a file that was sent to this target before")
			fs.BoolVar(&wait, "wait", false, "stay until every delivery is sent or failed")
		},
		nargs: 1,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			if all == (digest != "") {
				return errors.Join(errUsage, errors.New("say --digest NAME or --all"))
			}
			d := app.allDigest()
			if !all {
				var err error
				if d, err = app.digestNamed(digest); err != nil {
					return err
				}
			}
			var when time.Time
			if at != "" {
				var err error
				if when, err = content.ParseDate(at, app.Config.Location()); err != nil {
					return fmt.Errorf("--at %q: %w", at, err)
				}
			}
			b, err := app.readBroadcast(fs.Arg(0))
			if err != nil {
				return err
			}
			if dryRun {
				target := d.Name
				if all {
					target = ""
				}
				subs, err := app.Subscribers.ConfirmedFor(ctx, target)
				if err != nil {
					return err
				}
				fmt.Fprintf(e.stdout, "broadcast %q would go to %s (%s)\n", b.Subject, plural(len(subs), "subscriber"), d.Name)
				return nil
			}
			ed, err := app.Ledger.PlanBroadcast(ctx, b, d, when, again)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "broadcast %q: edition %d to %s\n", b.Subject, ed.ID, d.Name)
			if ed.ScheduledAt.After(app.Now().Add(time.Minute)) {
				fmt.Fprintf(e.stdout, "queued for %s: tidings serve, or tidings run from cron, sends it then\n",
					ed.ScheduledAt.In(app.Config.Location()).Format("2006-01-02 15:04 MST"))
				return nil
			}
			return app.sendDue(ctx, e.stdout, "", wait)
		},
	}
}

func broadcastTestCommand() *command {
	var to string
	return &command{
		name: "broadcast test", args: "FILE.md", summary: "send one copy of a one-off mail to an address, outside the ledger",
		example: "tidings broadcast test moving.md --to me@example.org",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&to, "to", "", "the address to send the test copy to (required)")
		},
		nargs: 1,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			addr, err := netmail.ParseAddress(to)
			if to == "" || err != nil {
				return errors.Join(errUsage, fmt.Errorf("--to %q: want an address", to))
			}
			b, err := app.readBroadcast(fs.Arg(0))
			if err != nil {
				return err
			}
			msg, err := app.Renderer.Preview(broadcastEdition(b, app.allDigest(), app.Now()), &subscribers.Subscriber{Email: addr.Address, Name: addr.Name})
			if err != nil {
				return err
			}
			msg.To = *addr
			msg.Subject = "[test] " + msg.Subject
			if err := app.Transport.Send(ctx, msg); err != nil {
				return fmt.Errorf("send test to %s: %w", addr.Address, err)
			}
			fmt.Fprintf(e.stdout, "sent a test copy of %q to %s\n", b.Subject, addr.Address)
			return nil
		},
	}
}
