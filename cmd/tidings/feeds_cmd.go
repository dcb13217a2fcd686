package main

import (
	"context"
	"flag"
	"fmt"
)

func feedsBuildCommand() *command {
	return &command{
		name:    "feeds build",
		summary: "write every feed to the output folder",
		detail: "Builds RSS, Atom and JSON Feed for the site and for each tag under feeds.output_dir,\n" +
			"at the same paths as their URLs. Only feeds whose bytes changed are written; feeds of\n" +
			"tags that are gone are removed. Changed feeds are announced to feeds.websub_hubs.",
		example: "tidings feeds build && rsync -a data/public/ web:/srv/www/",
		nargs:   0,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			closeWebSub := app.announceFeeds(false)
			defer closeWebSub()
			res, err := app.Feeds.Build(ctx)
			fmt.Fprintf(e.stdout, "feeds: written %d, unchanged %d, removed %d (in %s)\n", res.Written, res.Unchanged, res.Removed, app.Config.Feeds.OutputDir)
			return err
		},
	}
}
