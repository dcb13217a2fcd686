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
			"anything failed: a rejected file, a digest that could not be planned, a delivery that failed for good.",
		example: "*/5 * * * * cd /srv/news && tidings run",
		nargs:   0,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			lock, err := lockInstance(app.Config.Database.Path, "run")
			if err != nil {
				return err
			}
			defer lock.release()
			closeWebSub := app.announceFeeds(false)
			defer closeWebSub()
			// Each step logs its own trouble (rejected files, digests not
			// planned) through the logger; stdout gets one line.
			res, err := app.Ingester.Scan(ctx)
			if err != nil {
				return err
			}
			upstream, sourceErr := app.poller().FetchDue(ctx)
			fr, err := app.Feeds.Build(ctx)
			if err != nil {
				return err
			}
			planned, planErr := app.planDigests(ctx)
			rep, err := app.sender().Run(ctx)
			if err != nil {
				return err
			}
			waiting, err := app.Ledger.QueueDepth(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "run: articles added %d, updated %d, removed %d, rejected %d; upstream %d; feeds written %d; editions %d; "+
				"sent %d, failed %d, retrying %d, skipped %d, waiting %d\n",
				res.Added, res.Updated, res.Removed, len(res.Rejected), upstream.Added+upstream.Updated, fr.Written, planned,
				rep.Sent, rep.Failed, rep.Retried, rep.Skipped, waiting)
			if len(res.Rejected) > 0 || sourceErr != nil || planErr != nil || rep.Failed > 0 {
				return errFailed
			}
			return nil
		},
	}
}
