package main

import (
	"context"
	"flag"
	"fmt"
)

func runCommand() *command {
	return &command{
		name:    "run",
		summary: "one pass for the system cron: ingest and build feeds (digests come with the digest issue)",
		detail:  "Scans the content folders once and prints the result. The exit status is 1 when anything failed.",
		example: "*/5 * * * * cd /srv/news && tidings run",
		run: func(ctx context.Context, e *env, fs *flag.FlagSet) error {
			app, err := e.openApp(ctx)
			if err != nil {
				return err
			}
			defer app.Close()
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
			if len(res.Rejected) > 0 {
				return errFailed
			}
			return nil
		},
	}
}
