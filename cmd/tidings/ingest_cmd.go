package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/tidings/tidings/feed"
)

func ingestCommand() *command {
	return &command{
		name:    "ingest",
		summary: "scan every content folder once and report added / updated / removed / rejected",
		detail: "Unchanged files (same size and modification time) are skipped without being read.\n" +
			"Each rejected file is listed with the reason. The exit status is 1 when any file was rejected.",
		example: "tidings ingest --config /etc/tidings.toml",
		nargs:   0,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			res, err := app.Ingester.Scan(ctx)
			if err != nil {
				return err
			}
			printScan(e.stdout, res)
			if len(res.Rejected) > 0 {
				return errFailed
			}
			return nil
		},
	}
}

func printScan(w io.Writer, res feed.ScanResult) {
	fmt.Fprintf(w, "added %d, updated %d, unchanged %d, removed %d, rejected %d\n",
		res.Added, res.Updated, res.Unchanged, res.Removed, len(res.Rejected))
	for _, r := range res.Rejected {
		fmt.Fprintf(w, "rejected %s: %v\n", r.Path, r.Err)
	}
}
