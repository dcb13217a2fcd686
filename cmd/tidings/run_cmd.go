package main

import (
	"context"
	"flag"
	"fmt"
)

func runCommand() *command {
	return &command{
		name:    "run",
		summary: "one pass for the system cron: ingest, due upstream feeds, feeds, due digests, pending deliveries",
		detail: "Scans the content folders, builds the feeds, plans every digest whose scheduled moment has passed since\n" +
			"its last run (once, however many were missed) and sends every due delivery. The exit status is 1 when\n" +
			"anything failed: a rejected file, a digest that could not be planned, a delivery that failed for good;\n" +
			"75 when deliveries are left waiting for a later try (the next run sends them). With [inbound.imap] set it\n" +
			"polls that mailbox once first, so that bounces and unsubscribes count before mail goes out; a mailbox that\n" +
			"cannot be read is logged, the pass goes on, and the exit status is 1.",
		example: "*/5 * * * * cd /srv/news && tidings run",
		nargs:   0,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			lock, err := lockInstance(app.Config.Database, "run")
			if err != nil {
				return err
			}
			defer lock.release()
			closeWebSub := app.announceFeeds(false)
			defer closeWebSub()
			mailboxFailed := false
			if p := app.imapPoller(); p != nil {
				r, err := p.Poll(ctx)
				if err != nil {
					app.Logger.Error("imap mailbox not read; the pass goes on", "component", "inbound", "source", "imap", "error", err)
					mailboxFailed = true
				}
				fmt.Fprintf(e.stdout, "imap: handled %d, kept %d, too large %d\n", r.Handled, r.Kept, r.TooLarge)
			}
			// Each step logs its own trouble (rejected files, digests not
			// planned) through the logger; stdout gets one line.
			rep, err := app.pass().Once(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "run: articles added %d, updated %d, removed %d, rejected %d; upstream %d; feeds written %d; editions %d; "+
				"sent %d, failed %d, retrying %d, skipped %d, waiting %d\n",
				rep.Scan.Added, rep.Scan.Updated, rep.Scan.Removed, len(rep.Scan.Rejected), rep.Upstream.Added+rep.Upstream.Updated, rep.Feeds.Written, rep.Editions,
				rep.Sent.Sent, rep.Sent.Failed, rep.Sent.Retried, rep.Sent.Skipped, rep.Waiting)
			switch {
			case rep.Failed() || mailboxFailed:
				// What failed was logged where it happened.
				return errFailed
			case rep.Waiting > 0:
				return errPending
			}
			return nil
		},
	}
}
