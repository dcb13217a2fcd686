package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"
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
					fmt.Fprintf(tw, "%s\t%s\t%s\tnever\t-\t0\t-\t-\n", src.Name, src.URL, src.Interval)
					continue
				}
				st := states[i]
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\t%s\n", src.Name, src.URL, src.Interval, when(st.LastFetch),
					st.LastStatus, st.ItemCount, st.ETag, st.LastError)
			}
			return tw.Flush()
		},
	}
}
