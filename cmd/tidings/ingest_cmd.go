package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/tidings/tidings/feed"
	"github.com/tidings/tidings/feed/upstream"
)

func ingestCommand() *command {
	return &command{
		name:    "ingest",
		summary: "scan every content folder once, fetch the due upstream feeds, and report added / updated / removed / rejected",
		detail: "Unchanged files (same size and modification time) are skipped without being read. Each [[sources]] feed\n" +
			"whose interval has passed (or that was never fetched) is fetched, as tidings run and serve fetch it.\n" +
			"Each rejected file is listed with the reason. The exit status is 1 when any file was rejected or a source failed.",
		example: "tidings ingest --config /etc/tidings.toml",
		nargs:   0,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			rep, err := app.pass().Ingest(ctx)
			if err != nil {
				return err
			}
			printScan(e.stdout, rep.Scan)
			if len(app.Config.Sources) > 0 {
				printUpstream(e.stdout, rep.Upstream)
			}
			for _, err := range rep.Errors {
				fmt.Fprintf(e.stdout, "failed: %v\n", err)
			}
			if rep.Failed() {
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

func printUpstream(w io.Writer, res upstream.Result) {
	fmt.Fprintf(w, "upstream: %s fetched, articles added %d, updated %d, skipped %d\n",
		plural(res.Fetched, "source"), res.Added, res.Updated, res.Skipped)
}
