package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tidings/tidings/feed/upstream"
)

func sourcesListCommand() *command {
	return &command{
		name:    "sources list",
		summary: "show each upstream feed: last fetch, status, ETag, item count, last error",
		example: "tidings sources list",
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			states, err := app.Articles.Sources(ctx)
			if err != nil {
				return err
			}
			byName := map[string]int{}
			for i, st := range states {
				byName[st.Name] = i
			}
			loc := app.Config.Location()
			when := func(t time.Time) string {
				if t.IsZero() {
					return "never"
				}
				return t.In(loc).Format("2006-01-02 15:04")
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tURL\tEVERY\tLAST FETCH\tSTATUS\tITEMS\tETAG\tLAST ERROR")
			for _, src := range app.sources() {
				i, ok := byName[src.Name]
				if !ok {
					fmt.Fprintf(tw, "%s\t%s\t%s\tnever\t-\t0\t-\t-\n", src.Name, src.URL, src.Every())
					continue
				}
				st := states[i]
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", src.Name, src.URL, src.Every(), when(st.LastFetch),
					st.LastStatus, st.ItemCount, st.ETag, st.LastError)
			}
			return tw.Flush()
		},
	}
}

func sourcesCheckCommand() *command {
	var allowPrivate bool
	return &command{
		name:    "sources check",
		args:    "URL",
		summary: "fetch a feed once and show what would be ingested, storing nothing",
		detail: "A URL that a [[sources]] table names is checked with that source's filters and tags;\n" +
			"any other URL as a new source would be. Nothing is stored and no conditional headers are sent.",
		example: "tidings sources check https://partner.example/feed.xml",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&allowPrivate, "allow-private", false, "allow loopback and private addresses (as allow_private does)")
		},
		nargs: 1,
		app: func(ctx context.Context, e *env, app *App, fs *flag.FlagSet) error {
			src := upstream.Source{Name: "check", URL: fs.Arg(0), AllowPrivate: allowPrivate}
			for _, s := range app.sources() {
				if s.URL == fs.Arg(0) {
					src = s
					src.AllowPrivate = src.AllowPrivate || allowPrivate
				}
			}
			articles, res, err := app.fetcher().Check(ctx, src)
			if err != nil {
				return err
			}
			if res.Err != nil {
				return fmt.Errorf("%s: %w", src.URL, res.Err)
			}
			loc := app.Config.Location()
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPUBLISHED\tTAGS\tTITLE")
			for _, a := range articles {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", a.ID, a.Published.In(loc).Format("2006-01-02 15:04"), strings.Join(a.Tags, ","), a.Title)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "%d items would be ingested (HTTP %d, %d skipped)\n", len(articles), res.Status, res.Skipped)
			return nil
		},
	}
}
