package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
)

func runCommand() *command {
	return &command{
		name:    "run",
		summary: "one pass for the system cron: ingest, feeds, due digests, pending deliveries",
		detail: "Scans the content folders, builds the feeds, plans every digest whose scheduled moment has passed since\n" +
			"its last run (once, however many were missed) and sends every due delivery. The exit status is 1 when\n" +
			"anything failed: a rejected file, a digest that could not be planned, a delivery that failed for good.",
		example: "*/5 * * * * cd /srv/news && tidings run",
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			app, err := e.openApp(ctx)
			if err != nil {
				return err
			}
			defer app.Close()
			lock, err := lockInstance(app.Config.Database.Path, "run")
			if err != nil {
				return err
			}
			defer lock.release()
			wait := app.announceFeeds(ctx)
			defer wait()
			res, err := app.Ingester.Scan(ctx)
			if err != nil {
				return err
			}
			printScan(e.stdout, res)
			fr, err := app.Feeds.Build(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "feeds: written %d, unchanged %d, removed %d\n", fr.Written, fr.Unchanged, fr.Removed)
			_, planErr := app.planDigests(ctx)
			sendErr := app.sendDue(ctx, e.stdout, "deliveries: ")
			if sendErr != nil && !errors.Is(sendErr, errFailed) {
				return sendErr
			}
			if len(res.Rejected) > 0 || planErr != nil || sendErr != nil {
				return errFailed
			}
			return nil
		},
	}
}
